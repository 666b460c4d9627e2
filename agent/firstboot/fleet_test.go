package firstboot

import (
	"testing"

	"accesskiosk/provisioning/fleetclient/fakefleet"
)

// fleetUnderTest is the fleet the end-to-end test provisions against.
type fleetUnderTest struct {
	URL, Fingerprint, APIToken string
	Enrolled                   func() int
}

// startFleet starts the FAKE fleet (provisioning/fleetclient/fakefleet)
// until the real fleet server lands on main; then it starts the real one.
func startFleet(t *testing.T) fleetUnderTest {
	f := fakefleet.Start(t)
	return fleetUnderTest{URL: f.URL, Fingerprint: f.Fingerprint, APIToken: f.APIToken, Enrolled: f.Enrolled}
}

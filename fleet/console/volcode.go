package console

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
)

// volunteerCodeTTL is how long a volunteer code stays valid from the moment
// it is made: the kiosk's upper bound, since the device may take a report
// interval or two to fetch it.
const volunteerCodeTTL = api.MaxVolunteerCodeSeconds * time.Second

const volunteerCodeExplain = "The console makes a one-time 8-digit code and sends it to the kiosk. " +
	"A volunteer types it on the kiosk's volunteer screen to start an assisted session. " +
	"It works once, for 15 minutes, and you will see it only once: read it out or pass it on straight away."

type volcodeData struct {
	Device  store.Device
	Code    string
	Expires string // local time, "15:04"
	Minutes int
}

// newVolunteerCode returns a uniformly random code of api.VolunteerCodeLen digits.
func newVolunteerCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", fmt.Errorf("make volunteer code: %w", err)
	}
	return fmt.Sprintf("%08d", n.Int64()), nil
}

// volunteerCode issues a volunteer_code command (the confirmation step has
// been passed) and shows the code once. The store keeps the code only until
// the device acknowledges the command; the audit entry never names it, and
// the page is not cached.
func (c *Console) volunteerCode(w http.ResponseWriter, r *http.Request, dev store.Device) {
	code, err := newVolunteerCode()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	secs := int(volunteerCodeTTL / time.Second)
	if err := api.CheckVolunteerCode(code, secs); err != nil {
		c.fail(w, r, err)
		return
	}
	u := user(r)
	issued, err := c.st.IssueCommand(r.Context(), dev.ID, u.Name, api.Command{Kind: api.CommandVolunteerCode, Text: code, Seconds: secs})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), u.Name, "command."+api.CommandVolunteerCode, dev.ID,
		fmt.Sprintf("Volunteer code, valid %d minutes (command %s, %s)", secs/60, issued.ID, dev.Hostname))
	w.Header().Set("Cache-Control", "no-store")
	exp := time.UnixMilli(issued.ExpiresUnixMs)
	c.render(w, r, http.StatusOK, "volcode", page{Title: "Volunteer code for " + dev.Hostname,
		Data: volcodeData{Device: dev, Code: code, Expires: exp.Format("15:04"), Minutes: secs / 60}})
}

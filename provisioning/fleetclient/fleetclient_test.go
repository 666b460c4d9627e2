package fleetclient_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/provisioning/fleetclient"
	"accesskiosk/provisioning/fleetclient/fakefleet"
)

func TestAdminAndEnrol(t *testing.T) {
	ctx := context.Background()
	f := fakefleet.Start(t)
	admin, err := fleetclient.New(f.URL, fleetclient.Options{Fingerprint: f.Fingerprint, APIToken: f.APIToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateSite(ctx, "central", "Central Library"); err != nil {
		t.Fatal(err)
	}
	tok, err := admin.CreateToken(ctx, "central", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := fleetclient.New(f.URL, fleetclient.Options{Fingerprint: f.Fingerprint})
	if err != nil {
		t.Fatal(err)
	}
	req := api.EnrolRequest{Token: tok.Secret, Hostname: "kiosk-abc123", Arch: "amd64", AgentVersion: "test", Capability: api.CapabilityVersion}
	resp, err := dev.Enrol(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Site != "central" || !strings.HasPrefix(resp.Credential, resp.DeviceID+".") {
		t.Errorf("enrol: got %+v", resp)
	}
	if _, err := dev.Enrol(ctx, req); !errors.Is(err, fleetclient.ErrTokenUsed) {
		t.Errorf("second enrol: got %v, want ErrTokenUsed", err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	f := fakefleet.Start(t)
	admin, _ := fleetclient.New(f.URL, fleetclient.Options{Fingerprint: f.Fingerprint, APIToken: f.APIToken})
	if _, err := admin.CreateSite(ctx, "north", ""); err != nil {
		t.Fatal(err)
	}
	tok, err := admin.CreateToken(ctx, "north", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String()
	ln.Close()
	wrongFP := strings.Repeat("ab", 32)

	tests := []struct {
		name  string
		url   string
		fp    string
		apiTk string
		call  func(c *fleetclient.Client) error
		want  error
	}{
		{"wrong fingerprint", f.URL, wrongFP, "", func(c *fleetclient.Client) error {
			_, err := c.Enrol(ctx, api.EnrolRequest{Token: tok.Secret})
			return err
		}, fleetclient.ErrFingerprint},
		{"unreachable", closed, wrongFP, "", func(c *fleetclient.Client) error {
			_, err := c.Enrol(ctx, api.EnrolRequest{Token: tok.Secret})
			return err
		}, fleetclient.ErrUnreachable},
		{"unknown token", f.URL, f.Fingerprint, "", func(c *fleetclient.Client) error {
			_, err := c.Enrol(ctx, api.EnrolRequest{Token: "ake_nothing"})
			return err
		}, fleetclient.ErrTokenUnknown},
		{"bad staff token", f.URL, f.Fingerprint, "akapi_wrong", func(c *fleetclient.Client) error {
			_, err := c.CreateSite(ctx, "south", "")
			return err
		}, fleetclient.ErrUnauthorized},
		{"expired", f.URL, f.Fingerprint, "", func(c *fleetclient.Client) error {
			f.SetNow(func() time.Time { return time.Now().Add(2 * time.Hour) })
			defer f.SetNow(time.Now)
			_, err := c.Enrol(ctx, api.EnrolRequest{Token: tok.Secret})
			return err
		}, fleetclient.ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := fleetclient.New(tt.url, fleetclient.Options{Fingerprint: tt.fp, APIToken: tt.apiTk, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(c)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if f.Enrolled() != 0 {
		t.Errorf("a refused enrolment enrolled a device")
	}
}

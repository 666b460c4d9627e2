package fleetclient_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/realfleet"
	"accesskiosk/internal/fleetclient"
	"accesskiosk/internal/pin"
)

func TestAdmin(t *testing.T) {
	ctx := context.Background()
	f := realfleet.Start(t)
	admin, err := fleetclient.New(fleetclient.Options{BaseURL: f.URL, Pin: f.Pin, APIToken: f.APIToken})
	if err != nil {
		t.Fatal(err)
	}
	s, err := admin.CreateSite(ctx, "central", "Central Library")
	if err != nil || s.ID != "central" || s.Name != "Central Library" {
		t.Fatalf("create site: %+v, %v", s, err)
	}
	tok, err := admin.CreateToken(ctx, "central", 2*time.Hour, 3)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Site != "central" || tok.MaxUses != 3 || !strings.HasPrefix(tok.Secret, "ake_") {
		t.Errorf("token: %+v", tok)
	}
	if left := time.Until(time.UnixMilli(tok.ExpiresUnixMs)); left < 119*time.Minute || left > 2*time.Hour {
		t.Errorf("token expires in %v, want 2h", left)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	f := realfleet.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		name, url, apiToken string
		fp                  pin.Fingerprint
		want                error
	}{
		{"wrong fingerprint", f.URL, f.APIToken, pin.Of([]byte("another certificate")), fleetclient.ErrFingerprint},
		{"unreachable", closed, f.APIToken, f.Pin, fleetclient.ErrUnreachable},
		{"bad staff token", f.URL, "akapi_wrong", f.Pin, fleetclient.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := fleetclient.New(fleetclient.Options{BaseURL: tt.url, Pin: tt.fp, APIToken: tt.apiToken, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateSite(ctx, "south", ""); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

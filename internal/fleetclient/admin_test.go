package fleetclient_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
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

// CheckToken asks the real fleet about an enrolment token's secret without
// spending it.
func TestCheckToken(t *testing.T) {
	ctx := context.Background()
	f := realfleet.Start(t)
	if _, err := f.Admin.CreateSite(ctx, "central", ""); err != nil {
		t.Fatal(err)
	}
	tok, err := f.Admin.CreateToken(ctx, "central", time.Hour, 2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Admin.CheckToken(ctx, tok.Secret)
	if err != nil || got.ID != tok.ID || got.Site != "central" || got.Uses != 0 || got.MaxUses != 2 || got.Revoked || got.Expired {
		t.Fatalf("CheckToken(live token) = %+v, %v", got, err)
	}
	unknown := api.EnrolTokenPrefix + strings.Repeat("x", 52)
	_, err = f.Admin.CheckToken(ctx, unknown)
	var fe *fleetclient.Error
	if !errors.As(err, &fe) || fe.Status != 404 || fe.Code != api.CodeTokenUnknown {
		t.Errorf("CheckToken(unknown) = %v, want 404 %s", err, api.CodeTokenUnknown)
	}
	f.Advance(2 * time.Hour)
	if got, err := f.Admin.CheckToken(ctx, tok.Secret); err != nil || !got.Expired {
		t.Errorf("CheckToken(expired) = %+v, %v; want Expired", got, err)
	}
	if err := f.Admin.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Admin.CheckToken(ctx, tok.Secret); err != nil || !got.Revoked {
		t.Errorf("CheckToken(revoked) = %+v, %v; want Revoked", got, err)
	}
	if toks, _ := f.Admin.Tokens(ctx, "central"); len(toks) != 1 || toks[0].Uses != 0 {
		t.Errorf("checking spent the token: %+v", toks)
	}
}

// Without a pin, a self-signed fleet (what `fleet serve` makes) is refused
// with ErrUntrusted naming the certificate it has, not a raw x509 error.
func TestUntrustedWithoutPin(t *testing.T) {
	f := realfleet.Start(t)
	c, err := fleetclient.New(fleetclient.Options{BaseURL: f.URL, APIToken: f.APIToken, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Devices(context.Background(), "")
	if !errors.Is(err, fleetclient.ErrUntrusted) || !strings.Contains(err.Error(), f.Pin.String()) {
		t.Fatalf("got %v, want ErrUntrusted naming %s", err, f.Pin)
	}
	if strings.Contains(err.Error(), "x509") {
		t.Errorf("raw x509 wording: %v", err)
	}
	pinned, _ := fleetclient.New(fleetclient.Options{BaseURL: f.URL, Pin: f.Pin, APIToken: f.APIToken})
	if _, err := pinned.Devices(context.Background(), ""); err != nil || pinned.ServerPin() != f.Pin {
		t.Errorf("pinned: %v, server pin %v, want %v", err, pinned.ServerPin(), f.Pin)
	}
}

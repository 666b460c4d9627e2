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
	if err != nil || got.ID != tok.ID || got.Site != "central" || got.Uses != 0 || got.MaxUses != 2 || got.Revoked {
		t.Fatalf("CheckToken(live token) = %+v, %v", got, err)
	}
	unknown := api.EnrolTokenPrefix + strings.Repeat("x", 52)
	_, err = f.Admin.CheckToken(ctx, unknown)
	var fe *fleetclient.Error
	if !errors.As(err, &fe) || fe.Status != 404 || fe.Code != api.CodeTokenUnknown {
		t.Errorf("CheckToken(unknown) = %v, want 404 %s", err, api.CodeTokenUnknown)
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

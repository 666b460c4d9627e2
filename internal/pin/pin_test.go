package pin

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	want := Of([]byte("a certificate"))
	h := want.Hex()
	for _, in := range []string{
		h, strings.ToUpper(h), want.String(), "sha256:" + h, "SHA256=" + want.String(),
		"sha256 Fingerprint=" + want.String(), "  " + strings.ReplaceAll(want.String(), ":", " ") + "\n",
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", h[:62], h + "00", strings.Repeat("zz", 32), "sha1:" + h, strings.Repeat("00", 32)} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted it", in)
		}
	}
}

func TestString(t *testing.T) {
	f := Of(nil)
	s := f.String()
	if len(s) != 32*3-1 || strings.Count(s, ":") != 31 || s != strings.ToUpper(s) {
		t.Errorf("String() = %q, want AB:CD:... upper case", s)
	}
	if f.IsZero() || !(Fingerprint{}).IsZero() {
		t.Error("IsZero")
	}
}

func TestTLSConfig(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	good := Of(srv.Certificate().Raw)
	get := func(f Fingerprint) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: f.TLSConfig()}}
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(good); err != nil {
		t.Fatalf("pinned to the server's certificate: %v", err)
	}
	bad := good
	bad[31] ^= 1
	err := get(bad)
	var me *MismatchError
	if !errors.Is(err, ErrMismatch) || !errors.As(err, &me) || me.Got != good {
		t.Fatalf("pinned to another certificate: %v, want a MismatchError naming the server's fingerprint", err)
	}
	if !strings.Contains(err.Error(), good.String()) {
		t.Errorf("error %q does not name the server's fingerprint as `fleet serve` prints it", err)
	}
}

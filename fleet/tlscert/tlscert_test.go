package tlscert

import (
	"crypto/x509"
	"net"
	"strings"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	c1, created, err := LoadOrCreate(dir, []string{"fleet.example", "127.0.0.1"})
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	c2, created, err := LoadOrCreate(dir, nil)
	if err != nil || created {
		t.Fatalf("second: created=%v err=%v", created, err)
	}
	if Fingerprint(c1.Certificate[0]) != Fingerprint(c2.Certificate[0]) {
		t.Error("certificate changed across restarts: pinned devices would break")
	}
	leaf, err := x509.ParseCertificate(c1.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("fleet.example"); err != nil {
		t.Error(err)
	}
	if !leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
		t.Errorf("IPs = %v", leaf.IPAddresses)
	}
	fp := Fingerprint(c1.Certificate[0])
	if len(fp) != 95 || strings.Count(fp, ":") != 31 {
		t.Errorf("fingerprint %q is not 32 colon-separated bytes", fp)
	}
}

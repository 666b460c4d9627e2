package assist

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/tlscert"
)

// TestRelayErrorNamesNoShare: a relay that cannot reach the replica
// holding a share fails with an error that is logged, so it must not
// carry the share id the viewer's URL has.
func TestRelayErrorNamesNoShare(t *testing.T) {
	certPEM, keyPEM, err := tlscert.SelfSigned([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReplicas("127.0.0.1:1", cert)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close() // a replica that died
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id := strings.Repeat("5e", 16)
	_, status, err := r.dial(ctx, gone, internalViewer+id, nil)
	if err == nil || status != 0 {
		t.Fatalf("dial a closed port: %d %v", status, err)
	}
	if strings.Contains(err.Error(), id) {
		t.Errorf("the error names the share: %v", err)
	}
}

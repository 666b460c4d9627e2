// Package realfleet runs the REAL fleet server for tests of its clients
// (provision, agent firstboot, the agent): fleet/server with its SQLite
// store in a temporary directory and a self-signed certificate made by
// fleet/tlscert (what `fleet serve` does), on a loopback listener, with an
// admin user and a staff API token, and a clock the test can move forward
// to expire tokens. (agent/fakefleet is the small fake the agent's own
// fault tests use.)
package realfleet

import (
	"context"
	"crypto/tls"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/tlscert"
	"accesskiosk/internal/fleetclient"
	"accesskiosk/internal/pin"
)

// Fleet is a running fleet server.
type Fleet struct {
	URL         string // https://127.0.0.1:PORT
	Fingerprint string // as the fleet prints it (AB:CD:...)
	Pin         pin.Fingerprint
	APIToken    string // an admin's staff API token
	Admin       *fleetclient.Client
	// Cert is the fleet's certificate, so a test can stand a proxy that
	// devices cannot tell from the fleet in front of it.
	Cert tls.Certificate

	t      testing.TB
	mu     sync.Mutex
	offset time.Duration
}

// Start runs a fleet server until the test ends.
func Start(t testing.TB) *Fleet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	log.SetOutput(testWriter{t})
	f := &Fleet{t: t}
	st, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: filepath.Join(dir, "fleet.db")}, log)
	if err != nil {
		t.Fatal(err)
	}
	st.SetClock(f.now)
	if err := st.CreateUser(ctx, "it-officer", store.RoleAdmin, "not-a-real-hash"); err != nil {
		t.Fatal(err)
	}
	_, apiToken, err := st.CreateAPIToken(ctx, "it-officer")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Log: log, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := tlscert.LoadOrCreate(dir, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- srv.Run(ctx, ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fleet server: %v", err)
		}
		st.Close()
	})
	f.URL = "https://" + ln.Addr().String()
	f.Fingerprint = tlscert.Fingerprint(cert.Certificate[0])
	f.Pin = pin.Of(cert.Certificate[0])
	f.APIToken = apiToken
	f.Cert = cert
	f.Admin, err = fleetclient.New(fleetclient.Options{BaseURL: f.URL, Pin: f.Pin, APIToken: apiToken})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *Fleet) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Add(f.offset)
}

// Advance moves the fleet's clock forward by d.
func (f *Fleet) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offset += d
}

// Enrolled returns how many kiosks the fleet lists through its admin API.
func (f *Fleet) Enrolled() int {
	f.t.Helper()
	devs, err := f.Admin.Devices(context.Background(), "")
	if err != nil {
		f.t.Fatalf("list devices through the admin API: %v", err)
	}
	return len(devs)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

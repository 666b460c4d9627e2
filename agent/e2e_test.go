package agent

import (
	"context"
	"crypto/tls"
	"database/sql"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	_ "modernc.org/sqlite"

	"accesskiosk/agent/enrol"
	"accesskiosk/agent/system/systemdtest"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/credential"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/tlscert"
	"accesskiosk/internal/applog"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

// realFleet is the real fleet server (fleet/server + fleet/store on
// SQLite) on a loopback TLS listener it can stop and start again on the
// same address.
type realFleet struct {
	t      *testing.T
	st     *store.Store
	dbPath string
	addr   string
	tlsCfg *tls.Config
	fp     string
	log    logrus.FieldLogger
	stop   func()
}

func startRealFleet(t *testing.T) *realFleet {
	t.Helper()
	dir := t.TempDir()
	log := logrus.New()
	log.SetOutput(io.Discard)
	f := &realFleet{t: t, dbPath: filepath.Join(dir, "fleet.db"), log: log}
	var err error
	if f.st, err = store.Open(context.Background(), store.Config{Dialect: store.SQLite, Path: f.dbPath}, log); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	cert, _, err := tlscert.LoadOrCreate(filepath.Join(dir, "tls"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	f.tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}}
	f.fp = tlscert.Fingerprint(cert.Certificate[0])
	f.up("127.0.0.1:0")
	t.Cleanup(func() { f.stop() })
	return f
}

func (f *realFleet) up(addr string) {
	f.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		f.t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	srv, err := server.New(server.Config{Store: f.st, Log: f.log, RateBurst: 1000, RatePerSecond: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Run(ctx, ln, f.tlsCfg) }()
	f.stop = func() { cancel(); <-done }
}

func (f *realFleet) url() string { return "https://" + f.addr }

// seqs returns the stored reports' sequence numbers in the order the
// fleet received them, and how many rows there are.
func (f *realFleet) seqs(device string) []int64 {
	f.t.Helper()
	db, err := sql.Open("sqlite", "file:"+f.dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		f.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT seq FROM reports WHERE device_id = ? ORDER BY received_unix_ms, seq`, device)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var s int64
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

// TestEndToEndWithRealFleet: the agent enrols with the real fleet server
// (pinned certificate, single-use token), reports, carries out a command
// issued in the fleet's store on the kiosk's real D-Bus server half, and
// the fleet sees the acknowledgement; then the fleet goes away and comes
// back, and every report made meanwhile is stored once, in order.
func TestEndToEndWithRealFleet(t *testing.T) {
	ctx := context.Background()
	fleet := startRealFleet(t)
	if _, err := fleet.st.CreateSite(ctx, "central", "Central Library"); err != nil {
		t.Fatal(err)
	}
	tok, err := fleet.st.CreateToken(ctx, "central", "admin", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}

	addr := bustest.Start(t)
	sd := systemdtest.Start(t, addr)
	sd.SetUnit("accesskiosk-kiosk.service", "active", "running", 0)
	sh := &shell{}
	srv, err := bus.Serve(bustest.Conn(t, addr), sh)
	if err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(t, fleet.url(), addr)
	cfg.Fleet.Fingerprint = fleet.fp
	os.WriteFile(cfg.Fleet.EnrolTokenFile, []byte(tok.Secret), 0o600)
	log, _ := applog.New(io.Discard, "info")
	actx, cancel := context.WithCancel(ctx)
	a, err := Start(actx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); a.Stop() }()

	var dev store.Device
	waitFor(t, "the device enrolled and reporting", func() bool {
		ds, err := fleet.st.Devices(ctx, store.DeviceFilter{Site: "central"})
		if err != nil || len(ds) != 1 || ds[0].Last == nil {
			return false
		}
		dev = ds[0]
		return dev.Last.Health.KioskState == bus.StateIdle
	})
	if dev.ID != a.Identity().DeviceID || dev.Site != "central" {
		t.Errorf("fleet has %+v, agent is %+v", dev.Device, a.Identity())
	}

	// A session ends; the receipt reaches the fleet's store.
	srv.SessionEnded(bus.ReasonIdle, bus.Receipt{Cleared: []string{bus.ClearedWebView, bus.ClearedWebsiteData}, ResetMs: 310, SessionMs: 240_000})
	waitFor(t, "the receipt in the fleet", func() bool {
		rs, err := fleet.st.Receipts(ctx, dev.ID, 10)
		return err == nil && len(rs) == 1 && rs[0].ResetMs == 310 && rs[0].Reason == bus.ReasonIdle
	})

	// IT staff end the session from the fleet.
	cmd, err := fleet.st.IssueCommand(ctx, dev.ID, "admin", api.Command{Kind: api.CommandEndSession})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the end_session acknowledgement in the fleet", func() bool {
		cs, err := fleet.st.Commands(ctx, dev.ID, 10)
		return err == nil && len(cs) == 1 && cs[0].ID == cmd.ID && cs[0].Status == api.AckDone
	})
	sh.mu.Lock()
	if len(sh.ended) != 1 || sh.ended[0] != bus.ReasonFleetCommand {
		t.Errorf("kiosk EndSession calls = %v", sh.ended)
	}
	sh.mu.Unlock()

	// The fleet goes down for a while, then comes back on the same address.
	fleet.stop()
	down := len(fleet.seqs(dev.ID))
	waitFor(t, "reports queued while the fleet is down", func() bool { return a.Queue().Len() >= 8 })
	fleet.up(fleet.addr)
	waitFor(t, "the queue drained", func() bool { return a.Queue().Len() == 0 })
	seqs := fleet.seqs(dev.ID)
	if len(seqs) < down+8 {
		t.Fatalf("fleet holds %d reports, had %d before the outage; want the 8+ queued ones too", len(seqs), down)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("stored seqs %v: want 1..%d, each once, in the order received", seqs, len(seqs))
		}
	}
	if n, _ := fleet.st.ReportCount(ctx, dev.ID); n != int64(len(seqs)) {
		t.Errorf("report count %d != %d", n, len(seqs))
	}
}

// TestWrongFingerprintIsRefused: an agent provisioned with another
// fingerprint never talks to this fleet: no enrolment, the token unspent.
func TestWrongFingerprintIsRefused(t *testing.T) {
	ctx := context.Background()
	fleet := startRealFleet(t)
	fleet.st.CreateSite(ctx, "central", "Central Library")
	tok, err := fleet.st.CreateToken(ctx, "central", "admin", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	addr := bustest.Start(t)
	cfg := testConfig(t, fleet.url(), addr)
	cfg.Fleet.Fingerprint = strings.Repeat("ab", 32)
	os.WriteFile(cfg.Fleet.EnrolTokenFile, []byte(tok.Secret), 0o600)
	log, _ := applog.New(io.Discard, "info")
	actx, cancel := context.WithCancel(ctx)
	a, err := Start(actx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); a.Stop() }()
	waitFor(t, "the refusal in the warnings", func() bool {
		for _, w := range a.Health().Warnings() {
			if w.Code == "fleet_unreachable" && strings.Contains(w.Text, "fingerprint") {
				return true
			}
		}
		return false
	})
	ts, _ := fleet.st.Tokens(ctx, "central")
	if len(ts) != 1 || ts[0].Uses != 0 {
		t.Errorf("tokens = %+v; want the token unspent", ts)
	}
}

// TestReenrolAfterLostCredential: the agent enrols with the real fleet,
// then loses its credential before it was safely kept (here: the file is
// gone when it starts again). With the same single-use token and its own
// device key it gets the same device back and reports again; the fleet
// lists one kiosk and refuses the lost credential.
func TestReenrolAfterLostCredential(t *testing.T) {
	ctx := context.Background()
	fleet := startRealFleet(t)
	fleet.st.CreateSite(ctx, "central", "Central Library")
	tok, err := fleet.st.CreateToken(ctx, "central", "admin", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	addr := bustest.Start(t)
	cfg := testConfig(t, fleet.url(), addr)
	cfg.Fleet.Fingerprint = fleet.fp
	os.WriteFile(cfg.Fleet.EnrolTokenFile, []byte(tok.Secret), 0o600)
	log, _ := applog.New(io.Discard, "info")
	reporting := func(what string, a *Agent) store.Device {
		t.Helper()
		var dev store.Device
		waitFor(t, what, func() bool {
			ds, err := fleet.st.Devices(ctx, store.DeviceFilter{Site: "central", Revoked: true})
			if err != nil || len(ds) != 1 || ds[0].Last == nil || ds[0].ID != a.Identity().DeviceID {
				return false
			}
			n, _ := fleet.st.ReportCount(ctx, ds[0].ID)
			dev = ds[0]
			return n > 0
		})
		return dev
	}

	actx, cancel := context.WithCancel(ctx)
	a, err := Start(actx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			a.Stop()
		}
	}()
	first := reporting("the first enrolment reporting", a)
	lost := a.Identity().Credential
	cancel()
	a.Stop()
	stopped = true
	if err := os.Remove(filepath.Join(cfg.StateDir, enrol.IdentityFile)); err != nil {
		t.Fatal(err)
	}
	before, _ := fleet.st.ReportCount(ctx, first.ID)

	actx2, cancel2 := context.WithCancel(ctx)
	a2, err := Start(actx2, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel2(); a2.Stop() }()
	waitFor(t, "reports after enrolling again", func() bool {
		n, _ := fleet.st.ReportCount(ctx, first.ID)
		return n > before
	})
	if got := a2.Identity(); got.DeviceID != first.ID || got.Credential == lost {
		t.Errorf("after enrolling again: device %s (credential renewed: %v), want %s with a new credential", got.DeviceID, got.Credential != lost, first.ID)
	}
	if ds, _ := fleet.st.Devices(ctx, store.DeviceFilter{Revoked: true}); len(ds) != 1 {
		t.Errorf("the fleet lists %d kiosks, want 1", len(ds))
	}
	if auth, err := fleet.st.DeviceAuth(ctx, first.ID); err != nil || auth.CredHash == credential.Hash(lost) {
		t.Errorf("the lost credential is still the device's (%v)", err)
	}
}

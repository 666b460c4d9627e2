package agent

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/agent/enrol"
	"accesskiosk/agent/fakefleet"
	"accesskiosk/agent/system/systemdtest"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/applog"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

// shell is the kiosk's D-Bus server half (the real bus.Serve) with a
// recording Service in place of the WebKit shell.
type shell struct {
	mu    sync.Mutex
	ended []string
	msgs  []string
}

func (s *shell) EndSession(reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = append(s.ended, reason)
	return nil
}
func (s *shell) Status() bus.Status { return bus.Status{State: bus.StateIdle, Version: "kiosk-test"} }
func (s *shell) ShowMessage(text string, secs uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, text)
	return nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testConfig(t *testing.T, fleetURL, busAddr string) Config {
	cfg := Defaults()
	cfg.StateDir = t.TempDir()
	cfg.Update.Factory = nil // never the host's /usr/bin
	cfg.Update.Dir = ""      // STATE_DIR/update, never the host's /var/lib
	cfg.Fleet.URL = fleetURL
	tok := filepath.Join(t.TempDir(), "token")
	cfg.Fleet.EnrolTokenFile = tok
	cfg.Kiosk.Bus, cfg.System.Bus = busAddr, busAddr
	cfg.Report.Interval, cfg.Report.Jitter = 300*time.Millisecond, 0
	cfg.Report.BackoffMin, cfg.Report.BackoffMax = 50*time.Millisecond, 500*time.Millisecond
	cfg.Report.Timeout = 5 * time.Second
	cfg.Discovery.Advertise = false // tests keep off the host's networks
	return cfg
}

func lastReport(fs *fakefleet.Server) (api.Report, bool) {
	r := fs.Reports()
	if len(r) == 0 {
		return api.Report{}, false
	}
	return r[len(r)-1], true
}

// TestAgentInProcess runs the whole agent against the fake fleet, the real
// kiosk bus contract on a real dbus-daemon and the systemd/logind fake.
func TestAgentInProcess(t *testing.T) {
	addr := bustest.Start(t)
	sd := systemdtest.Start(t, addr)
	sd.SetUnit("accesskiosk-kiosk.service", "active", "running", 0)
	sh := &shell{}
	srv, err := bus.Serve(bustest.Conn(t, addr), sh)
	if err != nil {
		t.Fatal(err)
	}
	fs := fakefleet.Start(t, false)
	cfg := testConfig(t, fs.URL, addr)
	os.WriteFile(cfg.Fleet.EnrolTokenFile, []byte(fs.Token+"\n"), 0o600)
	log, _ := applog.New(io.Discard, "debug")

	ctx, cancel := context.WithCancel(context.Background())
	a, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a report with the kiosk idle and its unit active", func() bool {
		r, ok := lastReport(fs)
		return ok && r.Health.KioskState == bus.StateIdle && r.Health.KioskUnit == "active"
	})
	r, _ := lastReport(fs)
	if r.Health.KioskVersion != "kiosk-test" || r.Health.MemTotalBytes == 0 || r.Health.DiskTotalBytes == 0 || r.Health.UptimeSeconds == 0 {
		t.Errorf("health = %+v", r.Health)
	}
	if st, err := os.Stat(filepath.Join(cfg.StateDir, enrol.IdentityFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("identity file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}

	// A session ends on the kiosk: its receipt and counts reach the fleet.
	srv.SessionEnded(bus.ReasonIdle, bus.Receipt{Cleared: []string{bus.ClearedWebView, bus.ClearedWebsiteData}, ResetMs: 420, SessionMs: 95_000})
	waitFor(t, "a report with the session", func() bool {
		for _, r := range fs.Reports() {
			if r.Sessions.Ended == 1 && len(r.Receipts) == 1 && r.Receipts[0].ResetMs == 420 {
				return true
			}
		}
		return false
	})

	// Commands from the fleet: end the session, restart the kiosk, a bad one.
	fs.Queue(api.Command{ID: "c1", Kind: api.CommandEndSession})
	fs.Queue(api.Command{ID: "c2", Kind: api.CommandRestartKiosk})
	fs.Queue(api.Command{ID: "c3", Kind: api.CommandShowMessage}) // no text: refused
	waitFor(t, "three acks", func() bool { return len(fs.Acks()) >= 3 })
	got := map[string]string{}
	for _, a := range fs.Acks() {
		got[a.ID] = a.Status
	}
	if got["c1"] != api.AckDone || got["c2"] != api.AckDone || got["c3"] != api.AckRefused {
		t.Errorf("acks = %v", got)
	}
	sh.mu.Lock()
	if len(sh.ended) != 1 || sh.ended[0] != bus.ReasonFleetCommand {
		t.Errorf("kiosk EndSession calls = %v", sh.ended)
	}
	sh.mu.Unlock()
	if rs := sd.Restarts(); len(rs) != 1 || rs[0] != "accesskiosk-kiosk.service" {
		t.Errorf("systemd restarts = %v", rs)
	}

	// Privacy: nothing that looks like a URL or free text in what was sent.
	for _, r := range fs.Reports() {
		b, _ := json.Marshal(r)
		if strings.Contains(string(b), "://") {
			t.Errorf("a report carries something URL-like: %s", b)
		}
	}

	// Restart the agent: no second enrolment (the token is spent), and the
	// sequence carries on.
	cancel()
	a.Stop()
	before := len(fs.Reports())
	lastSeq := fs.Reports()[before-1].Seq
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	a2, err := Start(ctx2, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel2(); a2.Stop() }()
	waitFor(t, "reports after restart", func() bool { return len(fs.Reports()) > before+1 })
	if s := fs.Reports()[before].Seq; s <= lastSeq {
		t.Errorf("seq after restart = %d, want > %d", s, lastSeq)
	}
}

// TestAgentWithoutKioskOrFleet: nothing to talk to; the agent runs, queues
// reports and says why in its warnings.
func TestAgentWithoutKioskOrFleet(t *testing.T) {
	addr := bustest.Start(t)
	cfg := testConfig(t, "", addr)
	cfg.Fleet.Fingerprint = ""
	log, _ := applog.New(io.Discard, "info")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "queued reports and warnings", func() bool {
		h := a.Health()
		return a.Queue().Len() >= 3 && h.Has("kiosk_gone") && h.Has("fleet_unreachable")
	})
	cancel()
	a.Stop()
}

// TestDamagedIdentityIsNotFatal: a damaged or exposed credential file is
// reported, and the agent keeps running.
func TestDamagedIdentityIsNotFatal(t *testing.T) {
	addr := bustest.Start(t)
	for _, tc := range []struct {
		name, body string
		mode       os.FileMode
		wantMode   os.FileMode
	}{
		{"damaged", "{not json", 0o600, 0o600},
		{"exposed", `{"device_id":"d1","credential":"d1.s"}`, 0o644, 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, "", addr)
			p := filepath.Join(cfg.StateDir, enrol.IdentityFile)
			os.WriteFile(p, []byte(tc.body), tc.mode)
			os.Chmod(p, tc.mode)
			log, _ := applog.New(io.Discard, "info")
			ctx, cancel := context.WithCancel(context.Background())
			a, err := Start(ctx, cfg, log)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			defer func() { cancel(); a.Stop() }()
			if !a.Health().Has("identity") {
				t.Errorf("no identity warning: %v", a.Health().Warnings())
			}
			if st, _ := os.Stat(p); st.Mode().Perm() != tc.wantMode {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), tc.wantMode)
			}
		})
	}
}

package volunteer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"accesskiosk/agent"
	"accesskiosk/applog"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/kiosk/volunteer"
)

// kioskService is the shell's side of the D-Bus contract for this test: the
// real bus.Serve with a Service that has nothing to do (no WebKit here).
type kioskService struct{}

func (kioskService) EndSession(string) error { return nil }
func (kioskService) Status() bus.Status {
	return bus.Status{State: bus.StateIdle, Version: "kiosk-e2e"}
}
func (kioskService) ShowMessage(string, uint32) error { return nil }

// Canaries: text a volunteer or resident might type, and a URL they might
// visit. None of them may reach the fleet.
const (
	canaryText = "Mrs Canary at 12 Example Road"
	canaryURL  = "https://canary.example/benefits?nino=QQ123456C"
	testPIN    = "4071"
)

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// session is one session the test plays on the kiosk.
type session struct {
	unlock   string   // "" for an unassisted session
	messages []string // the volunteer screens' script messages, after unlock
	reason   string
	// want in the fleet: assisted, category, outcome.
	assisted          bool
	category, outcome string
}

// TestAssistedSessionsReachFleet plays assisted and unassisted sessions
// through the volunteer rules (volunteer.Assist, as the shell drives it from
// the screens' script messages), emits each receipt on a real dbus-daemon
// through the real bus.Serve, and checks that the real agent (kiosklink,
// queue, report, fleet client) delivers them to the real fleet server and
// SQLite store: assisted flags, categories and outcomes as the volunteer
// tapped them, and nothing else: no URL, no free text, no PIN.
func TestAssistedSessionsReachFleet(t *testing.T) {
	ctx := context.Background()
	// Fleet: real server, real SQLite, loopback.
	dbPath := filepath.Join(t.TempDir(), "fleet.db")
	var srv *server.Server
	st, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: dbPath}, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err = server.New(server.Config{Store: st, Log: storetest.Logger(t), RateBurst: 100, RatePerSecond: 50})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	if _, err := st.CreateSite(ctx, "north-library", "North Library"); err != nil {
		t.Fatal(err)
	}
	tok, err := st.CreateToken(ctx, "north-library", "e2e", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}

	// Kiosk: the D-Bus contract on a real bus.
	addr := bustest.Start(t)
	ks, err := bus.Serve(bustest.Conn(t, addr), kioskService{})
	if err != nil {
		t.Fatal(err)
	}

	// Agent: the real one, in process.
	cfg := agent.Defaults()
	cfg.StateDir = t.TempDir()
	cfg.Fleet.URL = hs.URL
	cfg.Fleet.EnrolTokenFile = filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(cfg.Fleet.EnrolTokenFile, []byte(tok.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Kiosk.Bus, cfg.System.Bus = addr, addr
	cfg.Report.Interval, cfg.Report.Jitter = 200*time.Millisecond, 0
	cfg.Report.BackoffMin, cfg.Report.BackoffMax = 50*time.Millisecond, 500*time.Millisecond
	cfg.Report.Timeout = 5 * time.Second
	cfg.Discovery.Advertise = false
	log, _ := applog.New(io.Discard, "info")
	actx, cancel := context.WithCancel(ctx)
	a, err := agent.Start(actx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); a.Stop() })
	waitFor(t, "the agent to enrol", func() bool { return a.Identity().DeviceID != "" })

	// Volunteer mode as the shell runs it.
	hash, err := volunteer.HashPIN(testPIN, nil)
	if err != nil {
		t.Fatal(err)
	}
	vcfg := volunteer.DefaultConfig()
	vcfg.PINHash = hash
	gate, err := volunteer.NewGate(vcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	assist := volunteer.NewAssist(&vcfg, gate)
	code, _ := volunteer.NewCode(nil)
	if err := gate.AddCode(code, 5*time.Minute); err != nil {
		t.Fatal(err)
	}

	msg := func(action string, kv ...string) string {
		m := map[string]string{"action": action}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	sessions := []session{
		{reason: bus.ReasonIdle},
		{unlock: testPIN, reason: bus.ReasonHandover, assisted: true, category: "council_tax", outcome: volunteer.OutcomeDone,
			messages: []string{msg(volunteer.ActionService, "category", "council_tax"), msg(volunteer.ActionHandover),
				msg(volunteer.ActionOutcome, "category", "council_tax", "outcome", volunteer.OutcomeDone)}},
		{unlock: code, reason: bus.ReasonHandover, assisted: true, category: "benefits", outcome: volunteer.OutcomeFollowUp,
			messages: []string{msg(volunteer.ActionHandover),
				// A page posting free text or a URL is refused; the volunteer's real taps follow.
				msg(volunteer.ActionOutcome, "category", canaryText, "outcome", volunteer.OutcomeDone),
				msg(volunteer.ActionOutcome, "category", canaryURL, "outcome", volunteer.OutcomeDone),
				msg(volunteer.ActionOutcome, "category", "benefits", "outcome", canaryText),
				msg(volunteer.ActionOutcome, "category", "benefits", "outcome", volunteer.OutcomeFollowUp)}},
		{unlock: testPIN, reason: bus.ReasonHandover, assisted: true, // Skip
			messages: []string{msg(volunteer.ActionService, "category", "housing"), msg(volunteer.ActionHandover), msg(volunteer.ActionOutcome)}},
		{unlock: testPIN, reason: bus.ReasonIdle, assisted: true, // the resident walked off; assisted timeout
			messages: []string{msg(volunteer.ActionService, "category", "parking")}},
		{unlock: "0000", reason: bus.ReasonToolbar}, // a wrong PIN: not assisted
		{reason: bus.ReasonDBus},
	}
	ended := time.Now().Add(-time.Hour)
	for i, s := range sessions {
		if s.unlock != "" {
			m, _ := volunteer.ParseMessage([]byte(msg(volunteer.ActionUnlock, "entry", s.unlock)))
			rep, _ := assist.Handle(m)
			if got := rep.Assisted; got != s.assisted {
				t.Fatalf("session %d: unlock assisted = %v, want %v", i, got, s.assisted)
			}
			if s.assisted && rep.IdleTimeout != volunteer.DefaultAssistedIdleTimeout {
				t.Errorf("session %d: assisted idle timeout %v", i, rep.IdleTimeout)
			}
		}
		for _, raw := range s.messages {
			m, err := volunteer.ParseMessage([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := assist.Handle(m)
			if err != nil && strings.Contains(err.Error(), "Canary") {
				t.Errorf("an error repeats what the page sent: %v", err)
			}
			_ = rep
		}
		ended = ended.Add(3 * time.Minute)
		r := bus.Receipt{Cleared: []string{bus.ClearedWebView, bus.ClearedWebsiteData, bus.ClearedClipboard}, ResetMs: int64(300 + i),
			SessionMs: int64(60_000 * (i + 1)), StartedUnixMs: ended.Add(-time.Minute).UnixMilli(), EndedUnixMs: ended.UnixMilli()}
		assist.Finish(&r)
		if err := ks.SessionEnded(s.reason, r); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // let each land in its own place in order
	}
	// A kiosk that does not use volunteer.Assist and puts text into the
	// receipt anyway: the agent must not pass it on.
	ended = ended.Add(3 * time.Minute)
	if err := ks.SessionEnded(bus.ReasonHandover, bus.Receipt{Cleared: []string{bus.ClearedWebView}, ResetMs: 1, SessionMs: 1000,
		EndedUnixMs: ended.UnixMilli(), Assisted: true, Category: canaryText, Outcome: canaryURL}); err != nil {
		t.Fatal(err)
	}

	dev := a.Identity().DeviceID
	var got []store.ReceiptRow
	waitFor(t, "every receipt in the fleet store", func() bool {
		got, err = st.Receipts(ctx, dev, 100)
		return err == nil && len(got) == len(sessions)+1
	})
	sort.Slice(got, func(i, j int) bool { return got[i].EndedUnixMs < got[j].EndedUnixMs })
	for i, s := range sessions {
		g := got[i]
		if g.Reason != s.reason || g.Assisted != s.assisted || g.Category != s.category || g.Outcome != s.outcome || g.SiteID != "north-library" {
			t.Errorf("session %d in the fleet: reason %q assisted %v category %q outcome %q site %q; want %q %v %q %q",
				i, g.Reason, g.Assisted, g.Category, g.Outcome, g.SiteID, s.reason, s.assisted, s.category, s.outcome)
		}
	}
	if g := got[len(got)-1]; !g.Assisted || g.Category != "" || g.Outcome != "" {
		t.Errorf("a text-carrying receipt reached the fleet as %+v", g.Receipt)
	}

	// Totals as a usage report counts them.
	assisted, cats, outs := 0, map[string]int{}, map[string]int{}
	for _, g := range got {
		if g.Assisted {
			assisted++
		}
		if g.Category != "" {
			cats[g.Category]++
		}
		if g.Outcome != "" {
			outs[g.Outcome]++
		}
	}
	if assisted != 5 || fmt.Sprint(cats) != "map[benefits:1 council_tax:1]" || fmt.Sprint(outs) != "map[done:1 needs_follow_up:1]" {
		t.Errorf("fleet figures: assisted %d, categories %v, outcomes %v", assisted, cats, outs)
	}

	// Nothing anywhere in the fleet's database carries a canary, the PIN's
	// hash, a URL or free text: scan the SQLite files themselves.
	cancel()
	a.Stop()
	srv.Close()
	st.Close()
	assertNoCanary(t, dbPath, hash)
}

// assertNoCanary scans every byte the fleet stored (the closed SQLite files).
func assertNoCanary(t *testing.T, dbPath, pinHash string) {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(dbPath + suffix)
		if err != nil {
			continue
		}
		all = append(all, b...)
		for _, c := range []string{"Canary", "canary.example", "QQ123456C", pinHash[len(pinHash)-20:], "nino="} {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("the fleet stored %q in %s", c, filepath.Base(dbPath+suffix))
			}
		}
	}
	// Positive control: the scan sees what the fleet did store.
	for _, c := range []string{"north-library", "needs_follow_up", "council_tax"} {
		if !bytes.Contains(all, []byte(c)) {
			t.Errorf("scan found no %q: it is not reading the fleet's data", c)
		}
	}
}

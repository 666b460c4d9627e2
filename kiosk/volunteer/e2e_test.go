package volunteer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"accesskiosk/agent"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
	"accesskiosk/internal/applog"
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
	con, err := console.New(console.Config{Store: st, Log: storetest.Logger(t), CouncilName: "Anytown Council"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err = server.New(server.Config{Store: st, Log: storetest.Logger(t), RateBurst: 100, RatePerSecond: 50, Console: con})
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

	// The usage report, as the store computes it and as staff download it.
	rows, err := st.Usage(ctx, time.Now().AddDate(0, 0, -7), time.Now().Add(time.Hour), true, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	var u store.UsageRow
	u.CategoryCounts, u.OutcomeCounts = map[string]int{}, map[string]int{}
	for _, r := range rows {
		if r.Site != "north-library" {
			t.Errorf("usage row for site %q", r.Site)
		}
		u.Sessions += r.Sessions
		u.Assisted += r.Assisted
		for k, v := range r.CategoryCounts {
			u.CategoryCounts[k] += v
		}
		for k, v := range r.OutcomeCounts {
			u.OutcomeCounts[k] += v
		}
	}
	if u.Sessions != len(sessions)+1 || u.Assisted != 5 || fmt.Sprint(u.CategoryCounts) != "map[benefits:1 council_tax:1]" ||
		fmt.Sprint(u.OutcomeCounts) != "map[done:1 needs_follow_up:1]" {
		t.Errorf("usage report: %d sessions, %d assisted, categories %v, outcomes %v", u.Sessions, u.Assisted, u.CategoryCounts, u.OutcomeCounts)
	}
	csvBody := usageCSV(t, st, hs.URL)
	checkUsageCSV(t, csvBody, len(sessions)+1, 5)

	// Nothing anywhere in the fleet's database carries a canary, the PIN's
	// hash, a URL or free text: scan the SQLite files themselves.
	cancel()
	a.Stop()
	srv.Close()
	st.Close()
	assertNoCanary(t, dbPath, hash)
}

// usageCSV downloads the console's usage CSV as a signed-in viewer.
func usageCSV(t *testing.T, st *store.Store, base string) string {
	t.Helper()
	ctx := context.Background()
	if err := st.CreateUser(ctx, "vera", store.RoleViewer, "x"); err != nil {
		t.Fatal(err)
	}
	secret, err := st.CreateWebSession(ctx, "vera", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/usage.csv?period=week&days=30", nil)
	req.AddCookie(&http.Cookie{Name: "ak_session", Value: secret})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET /usage.csv: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return string(b)
}

// checkUsageCSV sums the CSV's rows: sessions and assisted as expected,
// categories and outcomes as tapped, and every cell an identifier, a
// number, a date or the site's name: never a URL or free text.
func checkUsageCSV(t *testing.T, body string, sessions, assisted int) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("usage CSV: %v\n%s", err, body)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"sessions", "assisted", "assisted_percent", "help_categories", "outcomes"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("usage CSV has no %q column: %v", h, recs[0])
		}
	}
	// Summed over the rows: the test's sessions may fall in two periods
	// (run just after midnight on a Monday, say).
	gotS, gotA := 0, 0
	cats, outs := map[string]int{}, map[string]int{}
	for _, r := range recs[1:] {
		n, _ := strconv.Atoi(r[col["sessions"]])
		a, _ := strconv.Atoi(r[col["assisted"]])
		gotS, gotA = gotS+n, gotA+a
		if p, _ := strconv.Atoi(r[col["assisted_percent"]]); n > 0 && p != (a*100+n/2)/n {
			t.Errorf("assisted_percent %d for %d of %d", p, a, n)
		}
		addCounts(cats, r[col["help_categories"]])
		addCounts(outs, r[col["outcomes"]])
		for i, cell := range r {
			if i == col["site"] {
				continue
			}
			if !identCell.MatchString(cell) {
				t.Errorf("usage CSV cell %q (%s) is not an identifier, number or date", cell, recs[0][i])
			}
		}
	}
	if gotS != sessions || gotA != assisted {
		t.Errorf("usage CSV: %d sessions, %d assisted; want %d, %d", gotS, gotA, sessions, assisted)
	}
	if fmt.Sprint(cats) != "map[benefits:1 council_tax:1]" || fmt.Sprint(outs) != "map[done:1 needs_follow_up:1]" {
		t.Errorf("usage CSV categories %v outcomes %v", cats, outs)
	}
	if strings.Contains(body, "://") || strings.Contains(body, "Canary") {
		t.Errorf("usage CSV carries a URL or free text:\n%s", body)
	}
}

// addCounts adds a usage CSV cell's "name count, name count" pairs to m.
func addCounts(m map[string]int, cell string) {
	if cell == "" {
		return
	}
	for _, pair := range strings.Split(cell, ", ") {
		name, count, _ := strings.Cut(pair, " ")
		n, _ := strconv.Atoi(count)
		m[name] += n
	}
}

// identCell: a number, a date, or a list of "identifier count" pairs.
var identCell = regexp.MustCompile(`^([0-9-]*|[a-z0-9_.:+-]+( [0-9]+)?(, [a-z0-9_.:+-]+ [0-9]+)*)$`)

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

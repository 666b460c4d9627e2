package shell

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sirupsen/logrus"

	"accesskiosk/agent"
	"accesskiosk/agent/system/systemdtest"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/password"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/tlscert"
	"accesskiosk/internal/applog"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// TestInsightsEndToEnd (issue 20): real kiosk sessions (this shell,
// WebKitGTK under Xvfb, real clicks) open a tile, a guide and high
// contrast; the real agent, on the same private D-Bus the kiosk serves
// on (as dbus-run-session gives them), enrols with the real fleet server
// (fleet/server and its SQLite store, over pinned TLS) and passes the
// receipts' counts on; the fleet counts them in the hour cell the
// sessions started in and in the rankings, by their ids; the console's
// Insights page in real Chromium shows them there once the month has
// ended. A byte scan of the fleet's database finds no address, host or
// port of the service.
func TestInsightsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: kiosk, agent and fleet")
	}
	ctx := context.Background()
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)

	// The fleet.
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "fleet.db")
	st, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: dbPath}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	vocab := api.DefaultVocabulary()
	vocab.Tiles = map[string]string{"pay-council-tax": "Council tax tile"}
	vocab.Services = map[string]string{"council-tax": "Council tax pages"}
	st.SetInsights(store.InsightsConfig{Zone: time.UTC, Vocabulary: vocab})
	if _, err := st.CreateSite(ctx, "central", "Central Library"); err != nil {
		t.Fatal(err)
	}
	tok, err := st.CreateToken(ctx, "central", "admin", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := tlscert.LoadOrCreate(filepath.Join(dir, "tls"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Log: quiet, RateBurst: 1000, RatePerSecond: 100})
	if err != nil {
		t.Fatal(err)
	}
	fctx, stopFleet := context.WithCancel(ctx)
	fleetDone := make(chan struct{})
	go func() { defer close(fleetDone); srv.Run(fctx, ln, &tls.Config{Certificates: []tls.Certificate{cert}}) }()
	t.Cleanup(func() { stopFleet(); <-fleetDone })

	// One private bus for the kiosk, the agent and systemd's stand-in.
	addr := bustest.Start(t)
	systemdtest.Start(t, addr).SetUnit("accesskiosk-kiosk.service", "active", "running", 0)

	// The kiosk.
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, countedPage)
	}))
	y := fmt.Sprintf(`home_url: kiosk://home
allow: [%[1]s]
session: {idle_timeout: 1h, idle_warning: 1m}
council: {name: Test Council}
tiles:
  - {id: pay-council-tax, title: Pay your council tax, url: "%[1]s/pay"}
insights:
  services: {%[1]s: council-tax}
`, svc.URL())
	cfg, err := config.Parse("kiosk.yaml", []byte(y))
	if err != nil {
		t.Fatalf("kiosk config: %v\n%s", err, y)
	}
	pages, err := NewPages(&cfg.UI, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ts := startShell(t, Options{Config: cfg, UI: pages, Bus: bustest.Conn(t, addr)})

	// The agent.
	acfg := agent.Defaults()
	acfg.StateDir = t.TempDir()
	acfg.Update.Factory, acfg.Update.Dir = nil, ""
	acfg.Fleet.URL = "https://" + ln.Addr().String()
	acfg.Fleet.Fingerprint = tlscert.Fingerprint(cert.Certificate[0])
	acfg.Fleet.EnrolTokenFile = filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(acfg.Fleet.EnrolTokenFile, []byte(tok.Secret), 0o600); err != nil {
		t.Fatal(err)
	}
	acfg.Kiosk.Bus, acfg.System.Bus = addr, addr
	acfg.Report.Interval, acfg.Report.Jitter = 300*time.Millisecond, 0
	acfg.Report.BackoffMin, acfg.Report.BackoffMax = 50*time.Millisecond, 500*time.Millisecond
	acfg.Report.Timeout = 5 * time.Second
	acfg.Discovery.Advertise = false
	alog, _ := applog.New(io.Discard, "info")
	actx, stopAgent := context.WithCancel(ctx)
	a, err := agent.Start(actx, acfg, alog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAgent(); a.Stop() })

	// Sessions: a real click on the tile, a guide, high contrast, End session.
	const sessions = 5
	at := func(want string) {
		t.Helper()
		if !waitFor(20*time.Second, func() bool {
			return evalIn(t, ts.service, `document.readyState === "complete" ? location.href : ""`) == jsQuote(want)
		}) {
			t.Fatalf("view at %s, want %s", ts.uri(t), want)
		}
	}
	var first time.Time
	for i := range sessions {
		at("kiosk://home")
		if i == 0 {
			first = time.Now().UTC()
		}
		ts.clickIn(t, ts.service, webkit.PartService, `a.ak-tile__link[href$="/pay"]`)
		at(svc.URL() + "/pay")
		ts.load(t, "kiosk://guides/using-this-kiosk")
		at("kiosk://guides/using-this-kiosk")
		ts.prefsLink(t, "contrast=high")
		if !waitFor(5*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
			t.Fatalf("session %d: state %s", i, ts.state(t))
		}
		webkittest.Do(t, func() { ts.s.endSession(bus.ReasonToolbar) })
		select {
		case <-ts.ended:
		case <-time.After(20 * time.Second):
			t.Fatalf("session %d did not end", i)
		}
	}

	// The fleet counts them.
	from := insights.Date{Year: first.Year(), Month: first.Month(), Day: 1}
	to := insights.DateOf(time.Date(first.Year(), first.Month()+1, 1, 0, 0, 0, 0, time.UTC))
	item := func(dim insights.Dimension, id string) int {
		items, err := st.InsightItems(ctx, "central", dim, from, to)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.ID == id {
				return it.Sessions
			}
		}
		return 0
	}
	deadline := time.Now().Add(60 * time.Second)
	for item(insights.Guides, "using-this-kiosk") < sessions {
		if time.Now().After(deadline) {
			t.Fatalf("the fleet counted the guide in %d sessions, want %d", item(insights.Guides, "using-this-kiosk"), sessions)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range []struct {
		dim insights.Dimension
		id  string
	}{{insights.Tiles, "pay-council-tax"}, {insights.Services, "council-tax"}, {insights.Features, api.FeatureHighContrast}} {
		if n := item(c.dim, c.id); n != sessions {
			t.Errorf("%s %s: %d sessions, want %d", c.dim, c.id, n, sessions)
		}
	}
	cells, err := st.InsightCells(ctx, "central", from, to)
	if err != nil {
		t.Fatal(err)
	}
	weekday := (int(first.Weekday()) + 6) % 7
	total, inHour := 0, 0
	for _, c := range cells {
		total += c.Sessions
		if c.Weekday == weekday && (c.Hour == first.Hour() || c.Hour == (first.Hour()+1)%24) {
			inHour += c.Sessions
		}
	}
	if total != sessions || inHour != sessions {
		t.Errorf("cells %+v: want %d sessions, on weekday %d at %02d:00", cells, sessions, weekday, first.Hour())
	}

	// The Insights figures (what the page, exports and report draw) show
	// them: in the heat map's cell (when no hour ended mid-test) and in
	// each ranking, once the month has ended.
	in, err := st.InsightsInput(ctx, "central", from, to)
	if err != nil {
		t.Fatal(err)
	}
	figs, err := insights.Build(in, insights.Options{Rule: insights.Rule{K: 5}, Site: "central",
		Period: insights.MonthOf(first.Year(), first.Month()), Today: to})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := figs.Sessions.Value(); !ok || n != sessions {
		t.Errorf("figures: %d sessions (shown %v), want %d", n, ok, sessions)
	}
	if len(cells) == 1 {
		if n, ok := figs.Heat[cells[0].Weekday][cells[0].Hour].Value(); !ok || n != sessions || cells[0].Hour != first.Hour() {
			t.Errorf("heat map at weekday %d %02d:00: %d (shown %v), want %d", cells[0].Weekday, cells[0].Hour, n, ok, sessions)
		}
	}
	ranked := map[insights.Dimension]string{insights.Tiles: "pay-council-tax", insights.Services: "council-tax",
		insights.Guides: "using-this-kiosk", insights.Features: api.FeatureHighContrast}
	for _, r := range figs.Rankings {
		id, ok := ranked[r.Dim]
		if !ok {
			continue
		}
		delete(ranked, r.Dim)
		if len(r.Items) != 1 || r.Items[0].ID != id {
			t.Errorf("ranking %s: %+v, want %s alone", r.Dim, r.Items, id)
		} else if n, ok := r.Items[0].Sessions.Value(); !ok || n != sessions {
			t.Errorf("ranking %s: %s in %d sessions (shown %v), want %d", r.Dim, id, n, ok, sessions)
		}
	}
	if len(ranked) > 0 {
		t.Errorf("no ranking for %v", ranked)
	}

	// The console's Insights page in real Chromium, once the month has
	// ended (the console's and the store's clocks a month on), shows them
	// in the heat map's hour and in the rankings, by their labels.
	later := time.Date(first.Year(), first.Month()+1, 1, 9, 0, 0, 0, time.UTC)
	stopAgent()
	a.Stop()
	if len(cells) == 1 {
		insightsPage(t, st, later, first, cells[0].Weekday, cells[0].Hour, sessions)
	}

	// Nothing of the service's address reached the fleet's database.
	for _, f := range []string{dbPath, dbPath + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, secret := range []string{svc.addr, ":" + svc.Port() + "/", "Pay your council tax", "http://127"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q", filepath.Base(f), secret)
			}
		}
	}
}

// insightsPage signs in to the real console (on the fleet's store, its
// clock at now) in headless Chromium and reads the Insights page of
// central for first's month: the heat map's summary names the weekday
// and hour, and the guide, tile, service and feature rankings list what
// the sessions used, by the fleet's labels, with n sessions each.
func insightsPage(t *testing.T, st *store.Store, now, first time.Time, weekday, hour, n int) {
	t.Helper()
	if _, err := exec.LookPath("/usr/bin/chromium"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium missing (%v): run make deps", err)
		}
		t.Logf("chromium missing: the Insights page is not looked at (%v)", err)
		return
	}
	ctx := context.Background()
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	st.SetClock(func() time.Time { return now })
	hash, err := password.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, "alice", store.RoleAdmin, hash); err != nil {
		t.Fatal(err)
	}
	con, err := console.New(console.Config{Store: st, Log: quiet, CouncilName: "Test Council",
		Insights: console.InsightsConfig{Zone: time.UTC}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Log: quiet, Console: con, Insights: con.InsightsExports()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	// Chromium's own home, not the kiosk's private one (TestWipe finds
	// nothing there but what the kiosk itself leaves).
	home := t.TempDir()
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.Env("HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"),
			"XDG_DATA_HOME="+filepath.Join(home, "data")),
		chromedp.Flag("disable-breakpad", true), chromedp.Flag("disable-crash-reporter", true),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	bctx, cancelB := chromedp.NewContext(actx)
	bctx, cancelC := context.WithTimeout(bctx, 3*time.Minute)
	defer func() { cancelC(); cancelB(); cancelA() }()
	period := fmt.Sprintf("%04d-%02d", first.Year(), int(first.Month()))
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900)); err != nil { // starts Chromium on bctx
		t.Fatalf("start chromium: %v", err)
	}
	step := func(what string, wait string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, append(steps, chromedp.WaitVisible(chromedp.ID(wait)))...); err != nil {
			body, _ := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS("body")))
			t.Fatalf("%s in Chromium: %v\npage: %s", what, err, strings.Join(strings.Fields(body), " "))
		}
	}
	step("sign in", "count-online", chromedp.Navigate(hs.URL+"/"), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "alice"), chromedp.SendKeys(chromedp.ID("password"), "correct horse battery staple"),
		chromedp.Click(chromedp.ID("sign-in")))
	step("the Insights page", "ak-demand-summary", chromedp.Navigate(hs.URL+"/insights?site=central&period="+period))
	read := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.Join(strings.Fields(s), " ")
	}
	when := fmt.Sprintf("%s %02d:00–%02d:00", insights.DayNames[weekday], hour, (hour+1)%24)
	if got := read("#ak-demand-summary"); !strings.Contains(got, when) || !strings.Contains(got, fmt.Sprintf("about %d sessions", n)) {
		t.Errorf("heat map summary %q, want %s with about %d sessions", got, when, n)
	}
	// axe-core (from node_modules, as the console's own tests use it):
	// no serious or critical violation on the page.
	if axeSrc, err := os.ReadFile(filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core missing (%v): run make deps", err)
		}
		t.Logf("axe-core missing: the page is not checked with it (%v)", err)
	} else {
		type violation struct{ ID, Impact, Help string }
		var got []violation
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[json.RawMessage](string(axeSrc)+`;
axe.run(document, {resultTypes: ["violations"], runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})
  .then(r => r.violations.map(v => ({ID: v.id, Impact: v.impact || "", Help: v.help})))`, chromedp.EvalAwaitPromise))
		if err == nil {
			err = json.Unmarshal(raw, &got)
		}
		if err != nil {
			t.Fatalf("axe on the Insights page: %v", err)
		}
		t.Logf("axe on the Insights page: %d violations of any impact (%+v)", len(got), got)
		for _, v := range got {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("axe on the Insights page: %s %s: %s", v.Impact, v.ID, v.Help)
			}
		}
	}
	for chart, label := range map[string]string{"guide": "Using this kiosk", "tile": "Council tax tile", "service": "Council tax pages", "feature": "High contrast"} {
		if got := read("#ak-ranking-" + chart); !strings.Contains(got, label) || !strings.Contains(got, fmt.Sprint(n)) {
			t.Errorf("%s ranking %q, want %s in %d sessions", chart, got, label, n)
		}
	}
}

package shell

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent"
	"accesskiosk/agent/system/systemdtest"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/insights"
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
// sessions started in and in the rankings, by their ids. A byte scan of
// the fleet's database finds no address, host or port of the service.
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

	// Nothing of the service's address reached the fleet's database.
	stopAgent()
	a.Stop()
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

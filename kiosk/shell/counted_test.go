package shell

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// countedPage is a service page with a field for the keyboard.
const countedPage = `<!doctype html><html><head><title>Pay</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:20px sans-serif;margin:0 20px} input{font-size:24px;width:16em;padding:8px}</style></head>
<body><h1>Pay your council tax</h1><label for="ref">Reference</label><br><input id="ref" type="text"></body></html>`

// TestCountedSession runs a session in the real shell (WebKitGTK under
// Xvfb, real clicks, the real D-Bus service and signal) and reads what it
// counted from SessionEnded's receipt: the tile a real click opened (by
// its id), the service its page belongs to (by the allow rule's id), two
// guides (one in the service view, one beside the service), the
// on-screen keyboard typing, high contrast, larger text and Welsh, the
// start hour and the length rounded; a tile without an id and a page no
// rule with an id covers count nothing; no address, host or typed text is
// in the receipt. The next session starts from nothing.
func TestCountedSession(t *testing.T) {
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, countedPage)
	}))
	other := startServer(t, "other", "127.0.0.2", http.HandlerFunc(servicePage))
	y := fmt.Sprintf(`home_url: kiosk://home
allow:
  - %[1]s/pay
  - %[1]s
  - %[2]s
session: {idle_timeout: 1h, idle_warning: 1m}
council: {name: Test Council}
tiles:
  - {id: pay-council-tax, title: Pay your council tax, url: "%[1]s/pay/start"}
  - {title: Another service, url: "%[2]s/other"}
insights:
  services:
    %[1]s/pay: council-tax
    %[1]s: council-site
`, svc.URL(), other.URL())
	cfg, err := config.Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, y)
	}
	cfg.UI.Keyboard = ui.KeyboardAlways
	log := logrus.New()
	log.SetOutput(io.Discard)
	pages, err := NewPages(&cfg.UI, log)
	if err != nil {
		t.Fatal(err)
	}
	addr := bustest.Start(t)
	ts := startShell(t, Options{Config: cfg, UI: pages, Bus: bustest.Conn(t, addr)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := bus.NewClient(bustest.Conn(t, addr))
	events, err := client.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := func(want string) {
		t.Helper()
		if !waitFor(10*time.Second, func() bool {
			return strings.Trim(evalIn(t, ts.service, `document.readyState === "complete" ? location.href : ""`), `"`) == want
		}) {
			t.Fatalf("view at %s, want %s", ts.uri(t), want)
		}
	}
	ended := func() bus.Receipt {
		t.Helper()
		for {
			ev := nextEvent(t, events)
			if ev.Kind == bus.EventEnded {
				if ev.Err != nil {
					t.Fatalf("receipt does not parse: %v", ev.Err)
				}
				return ev.Receipt
			}
		}
	}

	// A real click on the counted tile opens the service (and starts the session).
	at("kiosk://home")
	started := time.Now()
	ts.clickIn(t, ts.service, webkit.PartService, `a.ak-tile__link[href$="/pay/start"]`)
	at(svc.URL() + "/pay/start")
	// The keyboard types a letter into the service's field.
	ts.clickIn(t, ts.service, webkit.PartService, "#ref")
	if !waitFor(5*time.Second, func() bool {
		var shown bool
		webkittest.Do(t, func() { shown = ts.s.KeyboardShown() })
		return shown
	}) {
		t.Fatal("the keyboard did not come up")
	}
	ts.tap(t, "q")
	if !waitFor(5*time.Second, func() bool { return evalIn(t, ts.service, `document.getElementById("ref").value`) == `"q"` }) {
		t.Fatal("the keyboard typed nothing")
	}
	// A guide in the service view ("Show me how"), then another beside the service.
	ts.load(t, "kiosk://guides/report-missed-bin")
	at("kiosk://guides/report-missed-bin")
	ts.post(t, fromService, `{"action":"open","url":"`+svc.URL()+`/account","guide":"using-this-kiosk"}`)
	at(svc.URL() + "/account")
	// The pane's own document, not the view's URI (which changes as soon as a load starts).
	if !waitFor(20*time.Second, func() bool {
		return strings.HasPrefix(strings.Trim(evalIn(t, ts.guide, `document.readyState === "complete" ? location.href : ""`), `"`), "kiosk://guides/using-this-kiosk")
	}) {
		t.Fatalf("pane shows %q", ts.paneURI(t))
	}
	// A page of a rule with no id, and the uncounted tile's service.
	ts.load(t, other.URL()+"/other")
	at(other.URL() + "/other")
	// Welsh, high contrast and larger text, from the accessibility page's links.
	ts.load(t, "kiosk://home")
	at("kiosk://home")
	ts.prefsLink(t, "lang=cy&contrast=high&text=1&next=%2Fhome")
	at("kiosk://home")
	if err := client.EndSession(ctx, bus.ReasonFleetCommand); err != nil {
		t.Fatal(err)
	}
	r := ended()
	if r.Counted == nil {
		t.Fatalf("receipt without counted: %+v", r)
	}
	got := *r.Counted
	slices.Sort(got.Features)
	hour, minutes := bus.RoundCounted(r.StartedUnixMs, r.SessionMs)
	want := bus.Counted{StartedHourUnixMs: hour, Minutes: minutes,
		Tiles: []string{"pay-council-tax"}, Guides: []string{"report-missed-bin", "using-this-kiosk"},
		Services: []string{"council-tax", "council-site"},
		Features: []string{bus.FeatureHighContrast, bus.FeatureKeyboard, bus.FeatureLargeText}, Languages: []string{"cy"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counted = %+v\nwant      %+v", got, want)
	}
	if h := started.UnixMilli() - started.UnixMilli()%3_600_000; got.StartedHourUnixMs != h && got.StartedHourUnixMs != h+3_600_000 {
		t.Errorf("started hour %d, want the hour the session started (%d)", got.StartedHourUnixMs, h)
	}
	if got.Minutes != 0 {
		t.Errorf("minutes = %d for a session of %v", got.Minutes, time.Since(started))
	}
	wire := fmt.Sprint(r.Map())
	for _, secret := range []string{"127.0.0", "http", svc.Port(), other.Port(), "Pay your", "q\""} {
		if strings.Contains(wire, secret) {
			t.Errorf("the receipt holds %q: %s", secret, wire)
		}
	}

	// The next session (a real click on the home page, not a link) counts nothing yet.
	at("kiosk://home")
	ts.clickIn(t, ts.service, webkit.PartService, "h1")
	if !waitFor(5*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
		t.Fatalf("no second session; state %s", ts.state(t))
	}
	if err := client.EndSession(ctx, bus.ReasonFleetCommand); err != nil {
		t.Fatal(err)
	}
	r = ended()
	if c := r.Counted; c == nil || len(c.Tiles)+len(c.Guides)+len(c.Services)+len(c.Features)+len(c.Languages) != 0 || c.StartedHourUnixMs == 0 {
		t.Errorf("second session counted %+v, want nothing used", c)
	}

	// A third opens the tile again from the prepared home page (the spare
	// view the last wipe put on screen), and counts it.
	at("kiosk://home")
	ts.clickIn(t, ts.service, webkit.PartService, `a.ak-tile__link[href$="/pay/start"]`)
	at(svc.URL() + "/pay/start")
	if !waitFor(5*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
		t.Fatalf("no third session; state %s", ts.state(t))
	}
	if err := client.EndSession(ctx, bus.ReasonFleetCommand); err != nil {
		t.Fatal(err)
	}
	r = ended()
	if c := r.Counted; c == nil || !reflect.DeepEqual(c.Tiles, []string{"pay-council-tax"}) || !reflect.DeepEqual(c.Services, []string{"council-tax"}) {
		t.Errorf("third session counted %+v, want the tile and its service", c)
	}
}

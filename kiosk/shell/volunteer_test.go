package shell

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/kiosk/guides"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/volunteer"
	"accesskiosk/kiosk/webkit/webkittest"
)

// shiftClock is the shell's clock: real time plus an offset the test moves.
type shiftClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *shiftClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *shiftClock) add(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// TestVolunteerSession runs volunteer mode in the real shell (WebKitGTK
// under Xvfb, real key presses, the real "kiosk" script message handler,
// the real D-Bus service): a wrong PIN, the right PIN typed on the PIN page,
// the assisted idle timeout outlasting the normal one, End session as the
// hand-over, the outcome on the receipt of SessionEnded; then the next
// session is unassisted with the normal timeout.
func TestVolunteerSession(t *testing.T) {
	const pin = "4071"
	hash, err := volunteer.HashPIN(pin, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(servicePage))
	cfg := testConfig(t, []string{svc.URL()}, nil, time.Minute, 30*time.Second)
	cfg.Volunteer = volunteer.DefaultConfig()
	cfg.Volunteer.PINHash = hash
	cfg.Volunteer.AssistedIdleTimeout = 20 * time.Minute
	if err := cfg.Volunteer.Validate(nil, "volunteer", cfg.Session.IdleTimeout); err != nil {
		t.Fatal(err)
	}
	// The council tax guide, pointing at the test's loopback service.
	dir := t.TempDir()
	md := "---\ntitle: Pay your council tax\nlanguage: en\nservice: " + svc.URL() + "/pay\n" +
		"summary: Pay online.\nsteps:\n  - title: Open the service\n    text: Tap Open the service.\n---\n"
	if err := os.WriteFile(filepath.Join(dir, "pay-council-tax.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	lib, err := guides.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	pages, err := ui.New(defaultUIConfig(t), lib, log)
	if err != nil {
		t.Fatal(err)
	}
	pages.SetVolunteer(cfg.Volunteer)

	clk := &shiftClock{}
	addr := bustest.Start(t)
	ts := startShell(t, Options{Config: cfg, Pages: pages, Bus: bustest.Conn(t, addr), Clock: clk.now, Tick: 50 * time.Millisecond})
	client := bus.NewClient(bustest.Conn(t, addr))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := client.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitPane := func(prefix string) {
		t.Helper()
		if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.paneURI(t), prefix) }) {
			t.Fatalf("pane shows %q, want %s…", ts.paneURI(t), prefix)
		}
	}
	waitURI := func(prefix string) {
		t.Helper()
		if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.uri(t), prefix) }) {
			t.Fatalf("view shows %q, want %s…", ts.uri(t), prefix)
		}
	}
	assisted := func() bool {
		var on bool
		webkittest.Do(t, func() { on = ts.s.assisted() })
		return on
	}

	// The volunteer taps Volunteer on the toolbar (this starts a session).
	key(t, "shift")
	if !waitFor(3*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
		t.Fatalf("no session; state %s", ts.state(t))
	}
	if ev := nextEvent(t, events); ev.Kind != bus.EventStarted {
		t.Fatalf("first signal %+v, want SessionStarted", ev)
	}
	webkittest.Do(t, func() { ts.s.button(toolVolunteer) })
	// The PIN page's script takes the keys once it has run (a deferred
	// script: by the time the document is complete). The view's URI
	// changes when a load starts, while the page before is still there to
	// take (and lose) the keys: so ask the document itself.
	scriptRan := func(u string) {
		t.Helper()
		if !waitFor(10*time.Second, func() bool {
			return pollIn(t, ts.service, `document.readyState === "complete" && location.href === `+jsQuote(u)) == "true"
		}) {
			t.Fatalf("the page %s did not finish loading; view on %q", u, ts.uri(t))
		}
	}
	waitURI("kiosk://volunteer")
	scriptRan("kiosk://volunteer")

	// A wrong PIN, typed on the real keyboard: the page says so.
	key(t, "1", "1", "1", "1", "Return")
	waitURI("kiosk://volunteer?left=4&state=wrong")
	if assisted() {
		t.Fatal("assisted after a wrong PIN")
	}
	scriptRan("kiosk://volunteer?left=4&state=wrong")
	key(t, "4", "0", "7", "1", "Return")
	// The service picker opens beside the home page.
	waitURI("kiosk://home")
	waitPane("kiosk://volunteer/services?panel=1")
	if !assisted() {
		t.Fatal("not assisted after the right PIN")
	}

	// Two minutes without input: past the normal 1m timeout, not the assisted 20m.
	clk.add(2 * time.Minute)
	time.Sleep(400 * time.Millisecond)
	if st := ts.state(t); st != bus.StateInSession {
		t.Fatalf("state %s two minutes into an assisted session; want in_session", st)
	}

	// The picker (a click in the pane's page) opens the guide in the pane;
	// its Open the service loads the service beside it; End session hands
	// over to the outcome screen, full width.
	if !waitFor(10*time.Second, func() bool {
		// Complete, so volunteer.js listens: a click before that follows the plain link and records no category.
		return pollIn(t, ts.guide, `document.readyState === "complete" && !!document.querySelector('[data-category="council_tax"]')`) == "true"
	}) {
		t.Fatal("no council tax choice on the picker")
	}
	evalIn(t, ts.guide, `document.querySelector('[data-category="council_tax"]').click(); true`)
	waitPane("kiosk://guides/pay-council-tax?panel=1")
	waitURI("kiosk://home")
	if !waitFor(10*time.Second, func() bool {
		return pollIn(t, ts.guide, `document.readyState === "complete" && !!document.querySelector(".govuk-button--start[data-ak-open]")`) == "true"
	}) {
		t.Fatal("the guide in the pane has no Open the service button")
	}
	evalIn(t, ts.guide, `document.querySelector(".govuk-button--start[data-ak-open]").click(); true`)
	waitURI(svc.URL())
	webkittest.Do(t, func() { ts.s.button(toolEnd) })
	waitURI("kiosk://volunteer/outcome?category=council_tax")
	if shown, _ := ts.split(t); shown {
		t.Error("the pane is still open over the outcome screen")
	}
	if st := ts.state(t); st != bus.StateInSession {
		t.Fatalf("End session during an assisted session ended it at once (state %s); want the outcome screen", st)
	}
	webkittest.Do(t, func() {
		ts.s.bridgeMessage(ts.s.cur, fromService, `{"action":"volunteer_outcome","category":"council_tax","outcome":"done"}`)
	})
	ev := nextEvent(t, events)
	if ev.Kind != bus.EventEnded || ev.Reason != bus.ReasonHandover {
		t.Fatalf("signal %+v, want SessionEnded(handover)", ev)
	}
	if r := ev.Receipt; !r.Assisted || r.Category != "council_tax" || r.Outcome != volunteer.OutcomeDone || len(r.Failed) != 0 {
		t.Errorf("hand-over receipt = %+v", r)
	}
	if assisted() {
		t.Fatal("still assisted after the hand-over wipe")
	}

	// The next resident: unassisted, the normal idle timeout applies.
	if !waitFor(5*time.Second, func() bool { return ts.state(t) == bus.StateIdle }) {
		t.Fatalf("state %s after the wipe", ts.state(t))
	}
	key(t, "shift")
	if !waitFor(3*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
		t.Fatalf("no second session; state %s", ts.state(t))
	}
	nextEvent(t, events) // SessionStarted
	clk.add(2 * time.Minute)
	if !waitFor(3*time.Second, func() bool { return ts.state(t) == bus.StateWarning }) {
		t.Fatalf("no idle warning after 2m in an unassisted session; state %s", ts.state(t))
	}
	webkittest.Do(t, func() { ts.s.endSession(bus.ReasonDBus) })
	ev = nextEvent(t, events)
	if r := ev.Receipt; ev.Kind != bus.EventEnded || r.Assisted || r.Category != "" || r.Outcome != "" {
		t.Errorf("unassisted receipt = %+v (%+v)", r, ev)
	}
}

// TestVolunteerMessagesOnlyFromKioskPages: a message posted while a
// service's page is shown does not unlock anything.
func TestVolunteerMessagesOnlyFromKioskPages(t *testing.T) {
	site := startServer(t, "site", "127.0.0.1", nil)
	cfg := testConfig(t, []string{site.URL()}, nil, time.Hour, time.Minute)
	hash, _ := volunteer.HashPIN("4071", nil)
	cfg.Volunteer = volunteer.DefaultConfig()
	cfg.Volunteer.PINHash = hash
	ts := startShell(t, Options{Config: cfg, NoBus: true})
	ts.load(t, site.URL()+"/page")
	if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.uri(t), site.URL()) }) {
		t.Fatalf("view shows %q", ts.uri(t))
	}
	var on bool
	webkittest.Do(t, func() {
		ts.s.bridgeMessage(ts.s.cur, fromService, `{"action":"volunteer_unlock","entry":"4071"}`)
		on = ts.s.assisted()
	})
	if on {
		t.Error("a service's page unlocked volunteer mode")
	}
}

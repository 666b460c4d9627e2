package shell

import (
	"context"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// TestOneMomentTranslated: "One moment" is in every language the kiosk
// has (it shows in the language the next resident starts in).
func TestOneMomentTranslated(t *testing.T) {
	for _, l := range ui.Languages() {
		for _, k := range []string{"shell.reset.title", "shell.reset.body"} {
			if l != "en" && ui.Message(l, k) == ui.Message("en", k) {
				t.Errorf("%s: %s is not translated: %q", l, k, ui.Message(l, k))
			}
		}
	}
}

// gatedHome is home_url for TestWipeBeforeNextViewReady: its answer waits
// until the test opens the gate, so the next session's view is not ready
// when the session ends, however long the session was.
type gatedHome struct {
	mu   sync.Mutex
	gate chan struct{}
}

func (g *gatedHome) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.gate:
	default:
		close(g.gate)
	}
}

func (g *gatedHome) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = make(chan struct{})
}

func (g *gatedHome) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	select {
	case <-gate:
	case <-r.Context().Done():
		return
	case <-time.After(60 * time.Second):
	}
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, `<!doctype html><title>home</title><style>html{background:#00c000}</style><h1>Home</h1>`)
}

// reportsOf is what the pages reported so far at stage.
func (ws *wipeServer) reportsOf(stage string) []map[string]any {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return append([]map[string]any(nil), ws.reports[stage]...)
}

// screen saves the window as the screen shows it and counts its pixels of
// the write page's magenta and of the gated home's green.
func (ts *testShell) screen(t *testing.T, path string) (magenta, green int) {
	t.Helper()
	var err error
	webkittest.Do(t, func() { err = ts.s.win.Snapshot(path) })
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			switch {
			case r > 0xf0 && g < 0x10 && bl > 0xf0:
				magenta++
			case r < 0x10 && g > 0xb0 && g < 0xd0 && bl < 0x10:
				green++
			}
		}
	}
	return magenta, green
}

// TestWipeBeforeNextViewReady ends sessions before the next session's view
// has loaded home (a sub-second session; here home_url answers only when
// the test lets it, so that holds on a machine of any speed): the wipe is
// whole (the next session's page finds none of the wipe suite's probes),
// the kiosk shows "One moment" until home has loaded, and from the first
// frame painted after End session no frame shows the ended session's
// page: screenshots taken from then until home shows never have a pixel
// of its background, which the screen showed just before.
func TestWipeBeforeNextViewReady(t *testing.T) {
	ws := startWipeServer(t)
	home := &gatedHome{gate: make(chan struct{})}
	close(home.gate)
	homeSrv := startServer(t, "home", "127.0.0.1", home)
	addr := bustest.Start(t)
	cfg := testConfig(t, []string{ws.URL(), homeSrv.URL()}, nil, time.Hour, time.Minute)
	cfg.HomeURL = homeSrv.URL() + "/"
	ts := startShell(t, Options{Config: cfg, Bus: bustest.Conn(t, addr), Tick: 50 * time.Millisecond})
	client := bus.NewClient(bustest.Conn(t, addr))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := client.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	onHome := func() bool { return ts.state(t) == bus.StateIdle && ts.uri(t) == cfg.HomeURL }

	for i, c := range []struct {
		name string
		// written: End session only once the page has written everything
		// (so the probes below find something to look for); otherwise
		// End comes 100 ms after the key press that starts the session.
		written bool
	}{{"after-the-page-wrote", true}, {"sub-second", false}, {"after-the-page-wrote-again", true}} {
		t.Run(c.name, func(t *testing.T) {
			if !waitFor(15*time.Second, onHome) {
				t.Fatalf("home not shown before the session; state %s, view on %q", ts.state(t), ts.uri(t))
			}
			home.shut() // the next session's view waits for home until the gate opens
			defer home.close()
			writes := len(ws.reportsOf("write"))
			key(t, "shift")
			if !waitFor(5*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
				t.Fatalf("no session after a key press; state %s", ts.state(t))
			}
			if ev := nextEvent(t, events); ev.Kind != bus.EventStarted {
				t.Fatalf("want SessionStarted, got %+v", ev)
			}
			started := time.Now()
			ts.load(t, ws.URL()+"/write")
			if c.written {
				w := ws.report(t, "write", writes+1)
				for _, k := range []string{"cookie", "localStorage", "sessionStorage", "indexedDB", "cacheAPI", "serviceWorker", "form"} {
					if w[k] != true {
						t.Errorf("write %s: %v", k, w[k])
					}
				}
				// Control: the probe sees the session's page on the screen.
				if !waitFor(10*time.Second, func() bool { m, _ := ts.screen(t, filepath.Join(dir, "control.png")); return m > 0 }) {
					t.Fatal("control: the write page's magenta never showed on the screen")
				}
			} else {
				time.Sleep(time.Until(started.Add(100 * time.Millisecond)))
			}
			var spareReady bool
			webkittest.Do(t, func() { spareReady = ts.s.spare != nil && ts.s.spare.ready() })
			if spareReady {
				t.Fatal("the next session's view is ready before its home was let through")
			}
			if err := client.EndSession(ctx, bus.ReasonDBus); err != nil {
				t.Fatal(err)
			}
			t.Logf("session ended %v after it started", time.Since(started).Round(time.Millisecond))
			// The screen shows the last frame painted until the next one:
			// from the first frame after the wipe (the receipt's wiped_ms),
			// the session's page must be gone for good.
			painted := make(chan struct{})
			webkittest.Do(t, func() { ts.s.win.AfterPaint(func() { close(painted) }) })
			select {
			case <-painted:
			case <-time.After(10 * time.Second):
				t.Fatal("no frame painted within 10s of End session")
			}

			// Until home shows: "One moment", and never the session's page.
			panel, shots := false, 0
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				var vis bool
				var name, desc, role string
				webkittest.Do(t, func() {
					vis = ts.s.win.PanelVisible()
					name = ts.s.win.AccessibleName(webkit.PartPanel, 0)
					desc, role = ts.s.win.AccessibleAbout(webkit.PartPanel, 0)
				})
				// What a screen reader finds: the title, the text, and a
				// notification (read out when it shows: nothing to focus).
				if vis && !panel && (name != "One moment" || desc != "Getting the kiosk ready for the next person." || role != "notification") {
					t.Errorf("One moment for a screen reader: name %q, description %q, role %q", name, desc, role)
				}
				panel = panel || vis
				if m, _ := ts.screen(t, filepath.Join(dir, "reset.png")); m > 0 {
					t.Fatalf("a screenshot %d after End session shows the ended session's page (%d magenta samples)", shots, m)
				}
				shots++
			}
			if !panel {
				t.Error(`"One moment" never showed while the next view waited for home`)
			}
			if st := ts.state(t); st != bus.StateResetting {
				t.Errorf("state %s while home has not loaded, want %s", st, bus.StateResetting)
			}
			home.close()
			if !waitFor(15*time.Second, onHome) {
				t.Fatalf("home not shown after the gate opened; state %s, view on %q", ts.state(t), ts.uri(t))
			}
			var vis bool
			webkittest.Do(t, func() { vis = ts.s.win.PanelVisible() })
			if vis {
				t.Error(`"One moment" still shows with home loaded`)
			}
			if !waitFor(10*time.Second, func() bool { _, g := ts.screen(t, filepath.Join(dir, "home.png")); return g > 0 }) {
				t.Error("home's green never showed on the screen")
			}
			t.Logf("%d screenshots while waiting, none with the session's page", shots)

			ev := nextEvent(t, events)
			if ev.Kind != bus.EventEnded || ev.Reason != bus.ReasonDBus {
				t.Fatalf("want SessionEnded(%s), got %+v", bus.ReasonDBus, ev)
			}
			r := ev.Receipt
			for _, want := range []string{bus.ClearedWebView, bus.ClearedWebsiteData, bus.ClearedClipboard, bus.ClearedHistory, bus.ClearedSettings} {
				if !contains(r.Cleared, want) {
					t.Errorf("receipt cleared %v, missing %s", r.Cleared, want)
				}
			}
			if len(r.Failed) != 0 || r.WipedMs <= 0 || r.ResetMs < r.WipedMs || r.ResetMs < 3000 {
				t.Errorf("receipt %+v: want nothing failed and 0 < wiped_ms ≤ reset_ms, reset_ms counting the 3 s home was held", r)
			}
			t.Logf("wiped_ms=%d reset_ms=%d", r.WipedMs, r.ResetMs)

			// The next session finds nothing of this one.
			checks := len(ws.reportsOf("check"))
			cached := ws.cachedCount()
			ts.load(t, ws.URL()+"/check")
			got := ws.report(t, "check", checks+1)
			for _, k := range []string{"cookie", "localStorage", "sessionStorage", "indexedDB", "cacheAPI", "form"} {
				if got[k] != "" {
					t.Errorf("after the wipe %s = %v, want nothing", k, got[k])
				}
			}
			if got["serviceWorker"] != float64(0) {
				t.Errorf("after the wipe service workers = %v, want 0", got["serviceWorker"])
			}
			if got["history"] != float64(2) {
				t.Errorf("after the wipe history length = %v, want 2 (home, this page)", got["history"])
			}
			if ws.cachedCount() != cached+1 {
				t.Errorf("after the wipe the cached resource was not fetched again")
			}
			if ck := ws.lastCookie(); ck != "" {
				t.Errorf("after the wipe the server got cookies %q", ck)
			}
			// The check page was a new session's (it started with the load);
			// end it the ordinary way before the next round.
			if i < 2 {
				if err := client.EndSession(ctx, bus.ReasonDBus); err != nil {
					t.Fatal(err)
				}
				for ev := nextEvent(t, events); ev.Kind != bus.EventEnded; ev = nextEvent(t, events) {
				}
				if !waitFor(15*time.Second, onHome) {
					t.Fatalf("home not back; state %s", ts.state(t))
				}
			}
		})
	}
}

package shell

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/volunteer"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// evalIn runs js in the view pick returns (on the GTK loop) and returns
// the result as JSON.
func evalIn(t testing.TB, pick func() *webkit.View, js string) string {
	t.Helper()
	s, err := evalErr(t, pick, js)
	if err != nil {
		t.Fatalf("evaluate %q: %v", js, err)
	}
	return s
}

// pollIn is evalIn for a condition a test waits on: "" (not yet) when
// WebKit had no result to give (webkit.ErrNoResult), which a page met
// while its web process is being replaced or restarted gives; any other
// error still fails the test.
func pollIn(t testing.TB, pick func() *webkit.View, js string) string {
	t.Helper()
	s, err := evalErr(t, pick, js)
	if errors.Is(err, webkit.ErrNoResult) {
		return ""
	}
	if err != nil {
		t.Fatalf("evaluate %q: %v", js, err)
	}
	return s
}

// evalErr runs js in the view pick returns and returns its result as JSON
// or its error.
func evalErr(t testing.TB, pick func() *webkit.View, js string) (string, error) {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	webkittest.Do(t, func() {
		v := pick()
		if v == nil {
			ch <- res{err: fmt.Errorf("no view")}
			return
		}
		v.Eval(js, func(s string, err error) { ch <- res{s, err} })
	})
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(30 * time.Second): // as webkittest.Do: a web process starved on a busy machine answers late
		t.Fatalf("evaluate %q: no answer within 30s", js)
	}
	return "", nil
}

func (ts *testShell) service() *webkit.View { return ts.s.view }

func (ts *testShell) guide() *webkit.View {
	if ts.s.cur == nil {
		return nil
	}
	return ts.s.cur.guide
}

// paneURI is what the pane beside the service shows ("" when closed).
func (ts *testShell) paneURI(t testing.TB) string {
	var u string
	webkittest.Do(t, func() {
		if g := ts.guide(); g != nil {
			u = g.URI()
		}
	})
	return u
}

// rect is where part of the window is on the screen.
func (ts *testShell) rect(t testing.TB, p webkit.Part, id int) (webkit.Rect, bool) {
	var r webkit.Rect
	var ok bool
	webkittest.Do(t, func() { r, ok = ts.s.win.Rect(p, id) })
	return r, ok
}

func (ts *testShell) split(t testing.TB) (shown, stacked bool) {
	webkittest.Do(t, func() { shown, stacked, _ = ts.s.win.Split() })
	return shown, stacked
}

// clickAt clicks the screen at the middle of r with a real (XTEST) mouse.
func clickAt(t testing.TB, r webkit.Rect) {
	t.Helper()
	xdo(t, "mousemove", fmt.Sprint(r.X+r.W/2), fmt.Sprint(r.Y+r.H/2), "click", "1")
}

// guideDir writes a guide for a service on the test's loopback server.
func guideDir(t testing.TB, service, offList string) string {
	t.Helper()
	dir := t.TempDir()
	md := `---
title: Use the local test service
language: en
service: ` + service + `/start
summary: A guide for a service on a loopback test server.
order: 1
steps:
  - title: Open the form
    text: |
      Tap the button to open the form. Other help is on [another site](` + offList + `/elsewhere).
    link: ` + service + `/step2
    see: A form.
  - title: Read more
    text: More is on [the service's help page](` + service + `/help).
---
This guide is for the tests.
`
	if err := os.WriteFile(filepath.Join(dir, "local-service.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func servicePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>Service %s</title><h1>Service page</h1>", r.URL.Path)
}

// splitShell starts a shell with the built-in pages and a guide for svc.
func splitShell(t *testing.T, svc, off *recorder, edit func(*config.Config)) *testShell {
	t.Helper()
	cfg := testConfig(t, []string{svc.URL()}, nil, time.Hour, time.Minute)
	cfg.UI.GuidesDir = guideDir(t, svc.URL(), off.URL())
	if edit != nil {
		edit(cfg)
	}
	return startPagesShell(t, cfg)
}

// TestGuideBesideService opens a guide beside a service in the real
// window: "Open the service" on the guide page (a real click in the page,
// through the page's script and the real script message handler) loads the
// service and puts the guide in a second view beside it; a step's link
// loads in the service view; a link to an off-list site is refused; the
// guide stacks under the service when the window turns portrait; the
// handle is wide enough for a finger; the guide still loads with the
// service's server gone; the native Close button (a real click) closes it;
// and the session's wipe takes the guide view with it.
func TestGuideBesideService(t *testing.T) {
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(servicePage))
	off := startServer(t, "off-list", "127.0.0.2", nil)
	ts := splitShell(t, svc, off, nil)
	at := func(want string) {
		t.Helper()
		if !waitFor(10*time.Second, func() bool {
			return strings.HasPrefix(ts.uri(t), want) &&
				strings.HasPrefix(strings.Trim(pollIn(t, ts.service, `document.readyState === "complete" ? location.href : ""`), `"`), want)
		}) {
			t.Fatalf("service view at %s, want %s", ts.uri(t), want)
		}
	}
	guideURI := func() string {
		var u string
		webkittest.Do(t, func() {
			if g := ts.guide(); g != nil {
				u = g.URI()
			}
		})
		return u
	}
	guideReady := func() {
		t.Helper()
		if !waitFor(10*time.Second, func() bool {
			return strings.HasPrefix(guideURI(), "kiosk://guides/local-service") &&
				pollIn(t, ts.guide, `document.readyState === "complete" && document.querySelectorAll(".ak-step").length`) == "2"
		}) {
			t.Fatalf("guide pane at %q, not showing the guide's two steps", guideURI())
		}
	}

	ts.load(t, "kiosk://guides/local-service")
	at("kiosk://guides/local-service")
	if !waitFor(10*time.Second, func() bool {
		return pollIn(t, ts.service, `!!document.querySelector("[data-ak-guide]")`) == "true"
	}) {
		t.Fatal("the guide page has no Open the service button")
	}
	evalIn(t, ts.service, `document.querySelector("[data-ak-guide]").click(); true`)
	at(svc.URL() + "/start")
	guideReady()
	if got := guideURI(); got != "kiosk://guides/local-service?panel=1" {
		t.Errorf("guide pane shows %q, want the guide's panel page", got)
	}
	webkittest.Do(t, func() {
		for _, c := range []struct {
			part webkit.Part
			id   int
			want string
		}{{webkit.PartGuide, 0, "Guide"}, {webkit.PartButton, toolCloseGuide, "Close guide"}} {
			if got := ts.s.win.AccessibleName(c.part, c.id); got != c.want {
				t.Errorf("accessible name of part %d/%d: %q, want %q", c.part, c.id, got, c.want)
			}
		}
	})
	if shown, stacked := ts.split(t); !shown || stacked {
		t.Fatalf("split: shown=%v stacked=%v, want side by side", shown, stacked)
	}
	sv, ok1 := ts.rect(t, webkit.PartService, 0)
	gv, ok2 := ts.rect(t, webkit.PartGuide, 0)
	if !ok1 || !ok2 {
		t.Fatal("service or guide view not on screen")
	}
	if handle := gv.X - (sv.X + sv.W); gv.X < sv.X+sv.W || handle < 24 {
		t.Errorf("landscape: service %+v, guide %+v: want the guide right of the service with a handle ≥24px (got %dpx)", sv, gv, handle)
	}
	if sv.W < gv.W {
		t.Errorf("landscape: service %dpx wide, guide %dpx: the service should keep the larger part", sv.W, gv.W)
	}

	// The handle, dragged with a real pointer, moves the split; the new
	// share is kept when the window changes size.
	handle := webkit.Rect{X: sv.X + sv.W, Y: sv.Y, W: gv.X - (sv.X + sv.W), H: sv.H}
	xdo(t, "mousemove", fmt.Sprint(handle.X+handle.W/2), fmt.Sprint(handle.Y+handle.H/2), "mousedown", "1")
	for _, x := range []int{handle.X - 100, handle.X - 200, 640} {
		xdo(t, "mousemove", fmt.Sprint(x), fmt.Sprint(handle.Y+handle.H/2))
	}
	xdo(t, "mouseup", "1")
	if !waitFor(5*time.Second, func() bool {
		s, _ := ts.rect(t, webkit.PartService, 0)
		return s.W < sv.W-100
	}) {
		s, _ := ts.rect(t, webkit.PartService, 0)
		t.Fatalf("dragging the handle left: service still %dpx wide (was %d)", s.W, sv.W)
	}
	var dragged webkit.Rect
	waitFor(3*time.Second, func() bool { // the last motion events may still be on their way
		a, _ := ts.rect(t, webkit.PartService, 0)
		time.Sleep(200 * time.Millisecond)
		dragged, _ = ts.rect(t, webkit.PartService, 0)
		return a == dragged
	})
	webkittest.Do(t, func() { ts.s.win.Resize(1200, 800) })
	waitFor(5*time.Second, func() bool { r, _ := ts.rect(t, webkit.PartToolbar, 0); return r.W == 1200 })
	webkittest.Do(t, func() { ts.s.win.Resize(1280, 800) })
	if !waitFor(5*time.Second, func() bool {
		r, _ := ts.rect(t, webkit.PartToolbar, 0)
		s, _ := ts.rect(t, webkit.PartService, 0)
		return r.W == 1280 && s.W >= dragged.W-4 && s.W <= dragged.W+4
	}) {
		s, _ := ts.rect(t, webkit.PartService, 0)
		t.Errorf("after a resize and back the service is %dpx wide; it was dragged to %d", s.W, dragged.W)
	}

	// A step's "Open this page" link goes to the service view.
	evalIn(t, ts.guide, `document.querySelector(".ak-step [data-ak-open]").click(); true`)
	at(svc.URL() + "/step2")
	// A link in the step's text to an allowed page, too (a navigation the
	// guide view refuses and hands over).
	evalIn(t, ts.guide, `document.querySelector('.ak-md a[href$="/help"]').click(); true`)
	at(svc.URL() + "/help")
	if g := guideURI(); !strings.HasPrefix(g, "kiosk://guides/local-service") {
		t.Errorf("after following its links the guide pane shows %q", g)
	}
	// A link to an off-list site goes nowhere.
	evalIn(t, ts.guide, `document.querySelector('a[href*="/elsewhere"]').click(); true`)
	evalIn(t, ts.guide, `location.href = `+jsQuote(off.URL()+"/direct")+`; true`)
	time.Sleep(time.Second)
	if n := len(off.requests()); n != 0 {
		t.Errorf("the off-list server got %d requests from the guide pane", n)
	}
	if g := guideURI(); !strings.HasPrefix(g, "kiosk://guides/local-service") {
		t.Errorf("an off-list link moved the guide pane to %q", g)
	}
	at(svc.URL() + "/help")

	// Portrait: stacked, guide under the service; and back.
	webkittest.Do(t, func() { ts.s.win.Resize(800, 1280) })
	if !waitFor(10*time.Second, func() bool { _, st := ts.split(t); return st }) {
		t.Fatal("the split did not stack when the window turned portrait")
	}
	if !waitFor(5*time.Second, func() bool {
		sv, _ = ts.rect(t, webkit.PartService, 0)
		gv, _ = ts.rect(t, webkit.PartGuide, 0)
		return gv.Y >= sv.Bottom()+24 && sv.W == gv.W && sv.W == 800
	}) {
		t.Errorf("portrait: service %+v, guide %+v: want the guide under the service, as wide, below a handle ≥24px", sv, gv)
	}
	webkittest.Do(t, func() { ts.s.win.Resize(1280, 800) })
	if !waitFor(10*time.Second, func() bool { _, st := ts.split(t); return !st }) {
		t.Fatal("the split did not go side by side again in landscape")
	}
	// Back in landscape, the service has its 60 % again.
	if !waitFor(5*time.Second, func() bool {
		s, _ := ts.rect(t, webkit.PartService, 0)
		g, _ := ts.rect(t, webkit.PartGuide, 0)
		share := float64(s.W) / float64(s.W+g.W+28)
		return share > 0.57 && share < 0.63
	}) {
		s, _ := ts.rect(t, webkit.PartService, 0)
		g, _ := ts.rect(t, webkit.PartGuide, 0)
		t.Errorf("landscape again: service %dpx, guide %dpx; want the service at 60%%", s.W, g.W)
	}

	// Offline: the guide is built in; it reloads with the service gone.
	svc.srv.Close()
	evalIn(t, ts.guide, `window.akOld = true`) // to tell the reloaded page from this one
	webkittest.Do(t, func() { ts.guide().Reload() })
	if !waitFor(10*time.Second, func() bool { return pollIn(t, ts.guide, `window.akOld === true`) == "false" }) {
		t.Fatal("the guide pane did not reload")
	}
	guideReady()

	// The native Close button, clicked for real.
	var closeBtn webkit.Rect
	if !waitFor(5*time.Second, func() bool {
		var ok bool
		closeBtn, ok = ts.rect(t, webkit.PartButton, toolCloseGuide)
		return ok
	}) {
		t.Fatal("the guide pane's Close button is not on screen")
	}
	clickAt(t, closeBtn)
	if !waitFor(5*time.Second, func() bool { s, _ := ts.split(t); return !s && ts.guide() == nil }) {
		t.Fatal("the Close button did not close the guide")
	}
	at(svc.URL() + "/help")

	// The guide belongs to the session: the wipe closes it, and its web
	// process goes with it. (The real click above started a session, which
	// pre-warms the next session's view in a process of its own: wait for
	// it, so as not to take it for the guide's.)
	if !waitFor(10*time.Second, func() bool {
		var ok bool
		webkittest.Do(t, func() { ok = ts.s.spare != nil && ts.s.spare.loaded })
		return ok
	}) {
		t.Fatal("no spare view was prepared after the session started")
	}
	before := webProcesses()
	webkittest.Do(t, func() {
		if !ts.s.openGuide(ts.s.cur, "local-service") {
			t.Error("openGuide refused a known guide")
		}
	})
	guideReady()
	var guideProcs []int
	for _, p := range webProcesses() {
		if !contains(before, p) {
			guideProcs = append(guideProcs, p)
		}
	}
	if len(guideProcs) == 0 {
		t.Log("the guide view shares a web process with the service view")
	}
	webkittest.Do(t, func() { ts.s.endSession(bus.ReasonToolbar) })
	select {
	case ev := <-ts.ended:
		if !ev.whole {
			t.Error("the wipe reported failures")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("session did not end")
	}
	if shown, _ := ts.split(t); shown || ts.guide() != nil {
		t.Error("the guide pane is still there after the session ended")
	}
	if !waitFor(10*time.Second, func() bool {
		now := webProcesses()
		for _, p := range guideProcs {
			if contains(now, p) {
				return false
			}
		}
		return true
	}) {
		t.Errorf("the guide's web process %v outlived the wipe", guideProcs)
	}
}

// TestGuideOpenRefused: an "open" message for a refused URL opens no
// guide, and a guide id that is not a plain name is refused.
func TestGuideOpenRefused(t *testing.T) {
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(servicePage))
	off := startServer(t, "off-list", "127.0.0.2", nil)
	ts := splitShell(t, svc, off, nil)
	ts.load(t, "kiosk://guides/local-service")
	if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.uri(t), "kiosk://guides/local-service") }) {
		t.Fatal("guide page not shown")
	}
	for _, body := range []string{
		`{"action":"open","url":"` + off.URL() + `/","guide":"local-service"}`,
		`{"action":"open","url":"` + svc.URL() + `/","guide":"../home"}`,
		`{"action":"open","url":"` + svc.URL() + `/","guide":"x?panel=0"}`,
	} {
		ts.post(t, fromService, body)
		time.Sleep(300 * time.Millisecond)
		if ts.guide() != nil {
			t.Errorf("message %s opened a guide", body)
			webkittest.Do(t, func() { ts.s.closeGuide(ts.s.cur) })
		}
	}
	if n := len(off.requests()); n != 0 {
		t.Errorf("the off-list server got %d requests", n)
	}
}

func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestVolunteerButtonReachable: the toolbar's Volunteer button (a real
// click) opens the volunteer sign-in screen, and the volunteer screens show
// the kiosk config's own categories (the vocabulary volunteer mode accepts).
func TestVolunteerButtonReachable(t *testing.T) {
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(servicePage))
	off := startServer(t, "off-list", "127.0.0.2", nil)
	ts := splitShell(t, svc, off, func(c *config.Config) {
		c.Volunteer.Categories = append(volunteer.DefaultCategories()[:1:1],
			volunteer.Category{ID: "blue_badge", Label: "Blue badge parking", Guide: "apply-parking-permit"})
	})
	var btn webkit.Rect
	if !waitFor(5*time.Second, func() bool {
		var ok bool
		btn, ok = ts.rect(t, webkit.PartButton, toolVolunteer)
		return ok
	}) {
		t.Fatal("no Volunteer button on the toolbar")
	}
	clickAt(t, btn)
	title := func() string {
		var s string
		webkittest.Do(t, func() { s = ts.s.view.Title() })
		return s
	}
	if !waitFor(10*time.Second, func() bool {
		return ts.uri(t) == "kiosk://volunteer" && strings.HasPrefix(title(), "Volunteer sign-in")
	}) {
		t.Fatalf("after the Volunteer button: at %s, titled %q; want the volunteer sign-in screen", ts.uri(t), title())
	}
	webkittest.Do(t, func() { ts.s.loadPrivileged("kiosk://volunteer/services") })
	if !waitFor(10*time.Second, func() bool {
		return pollIn(t, ts.service, `document.body !== null && document.body.textContent.indexOf("Blue badge parking") >= 0`) == "true"
	}) {
		t.Error("the volunteer services screen does not show the config's categories")
	}
}

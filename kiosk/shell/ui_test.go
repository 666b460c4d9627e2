package shell

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit/webkittest"
)

// TestPrefsInRealView drives the built-in pages (kiosk/ui) in the real
// WebKit view: the toolbar's text size button and the accessibility page's
// settings change what kiosk:// pages show and the zoom; ending the session
// puts everything back.
func TestPrefsInRealView(t *testing.T) {
	cfg := testConfig(t, []string{"https://www.example.gov.uk"}, nil, time.Hour, time.Minute)
	ts := startPagesShell(t, cfg)

	title := func() string {
		var s string
		webkittest.Do(t, func() { s = ts.s.view.Title() })
		return s
	}
	zoom := func() float64 {
		var z float64
		webkittest.Do(t, func() { z = ts.s.view.Zoom() })
		return z
	}
	waitTitle := func(want string) {
		t.Helper()
		if !waitFor(10*time.Second, func() bool { return title() == want }) {
			t.Fatalf("page title %q, want %q", title(), want)
		}
	}
	waitTitle("What do you want to do? – Test Council")

	ts.prefsLink(t, "lang=cy&contrast=high&next=%2Fhome")
	waitTitle("Beth ydych chi eisiau ei wneud? – Test Council")
	webkittest.Do(t, func() { ts.s.button(toolText); ts.s.button(toolText) })
	if got, want := zoom(), cfg.Zoom*ui.TextScale(2); got != want {
		t.Errorf("zoom after two text size taps: got %v, want %v", got, want)
	}
	var prefs ui.Prefs
	webkittest.Do(t, func() { prefs = ts.s.prefs })
	if want := (ui.Prefs{Lang: "cy", TextSize: 2, HighContrast: true}); prefs != want {
		t.Errorf("prefs: got %+v, want %+v", prefs, want)
	}
	var hc bool
	webkittest.Do(t, func() { hc = ts.s.win.HighContrast() })
	if !hc {
		t.Error("high contrast chosen, but the native toolbar is not in high contrast")
	}

	// The accessibility page's links reach the shell through the bridge.
	ts.prefsLink(t, "lang=pl&text=1&next=%2Fhome")
	waitTitle("Co chcesz zrobić? – Test Council")
	if got, want := zoom(), cfg.Zoom*ui.TextScale(1); !waitFor(5*time.Second, func() bool { return zoom() == want }) {
		t.Errorf("zoom after text=1: got %v, want %v", got, want)
	}
	if u := ts.uri(t); u != "kiosk://home" {
		t.Errorf("after settings: at %s, want kiosk://home", u)
	}

	// Ending the session resets language, contrast and text size.
	webkittest.Do(t, func() { ts.s.endSession(bus.ReasonToolbar) })
	select {
	case <-ts.ended:
	case <-time.After(20 * time.Second):
		t.Fatal("session did not end")
	}
	waitTitle("What do you want to do? – Test Council")
	webkittest.Do(t, func() { prefs, hc = ts.s.prefs, ts.s.win.HighContrast() })
	if hc {
		t.Error("the native toolbar is still in high contrast after the session ended")
	}
	if want := (ui.Prefs{Lang: "en"}); prefs != want {
		t.Errorf("prefs after the session: got %+v, want %+v", prefs, want)
	}
	if got := zoom(); got != cfg.Zoom {
		t.Errorf("zoom after the session: got %v, want %v", got, cfg.Zoom)
	}
}

// TestPageButtons: the built-in pages' Back and "Open the service" buttons
// (script messages, see kiosk/ui) act in the real view, and "open" goes
// through the allow list like any navigation.
func TestPageButtons(t *testing.T) {
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><title>Council service</title><h1>Pay</h1>")
	}))
	off := startServer(t, "off-list", "127.0.0.2", nil)
	cfg := testConfig(t, []string{svc.URL()}, nil, time.Hour, time.Minute)
	ts := startPagesShell(t, cfg)
	at := func(want string) {
		t.Helper()
		// The view's URI changes as soon as a load starts; the page's own
		// location only once it has committed.
		if !waitFor(10*time.Second, func() bool {
			return strings.HasPrefix(ts.uri(t), want) &&
				strings.HasPrefix(strings.Trim(pollIn(t, ts.service, `document.readyState === "complete" ? location.href : ""`), `"`), want)
		}) {
			t.Fatalf("view at %s, want %s", ts.uri(t), want)
		}
	}
	msg := func(body string) {
		before := ts.refused(t)
		ts.post(t, fromService, body)
		if ts.refused(t) != before {
			t.Errorf("message %s refused", body)
		}
	}

	ts.load(t, svc.URL()+"/pay")
	at(svc.URL() + "/pay")
	ts.load(t, "kiosk://block?site=x.example")
	at("kiosk://block")
	var back bool
	webkittest.Do(t, func() { back = ts.s.view.CanGoBack() })
	msg(`{"action":"back"}`)
	if back {
		at(svc.URL() + "/pay")
	} else {
		// WebKit may keep no entry before a page loaded over a refused
		// navigation: Back then goes home rather than nowhere.
		at("kiosk://home")
	}

	ts.load(t, "kiosk://guides/pay-council-tax")
	at("kiosk://guides/pay-council-tax")
	msg(`{"action":"open","url":"` + svc.URL() + `/start","guide":"pay-council-tax"}`)
	at(svc.URL() + "/start")

	ts.load(t, "kiosk://guides/pay-council-tax")
	at("kiosk://guides/pay-council-tax")
	msg(`{"action":"open","url":"` + off.URL() + `/"}`)
	time.Sleep(time.Second)
	if u := ts.uri(t); !strings.HasPrefix(u, "kiosk://") {
		t.Errorf("an open message to an off-list site left the view at %s", u)
	}
	if n := len(off.requests()); n != 0 {
		t.Errorf("off-list server got %d requests from an open message", n)
	}
	before := ts.refused(t)
	ts.post(t, fromService, `{"action":"no-such-button"}`)
	if ts.refused(t) != before+1 {
		t.Error("a message with an unknown action was not refused")
	}
}

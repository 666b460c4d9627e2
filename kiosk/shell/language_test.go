package shell

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// nativeText is what the native parts show and say, read from the real
// GTK widgets (labels, tooltips and ATK names, which AT-SPI reads).
type nativeText struct {
	EndLabel, EndName, EndTip    string
	HomeLabel, HomeName          string
	BackLabel, VolLabel, VolName string
	TextName                     string
	Toolbar, Keyboard            string
}

func (ts *testShell) native(t testing.TB) nativeText {
	var n nativeText
	webkittest.Do(t, func() {
		w := ts.s.win
		n = nativeText{
			EndLabel: w.Label(webkit.PartButton, toolEnd), EndName: w.AccessibleName(webkit.PartButton, toolEnd), EndTip: w.Tooltip(toolEnd),
			HomeLabel: w.Label(webkit.PartButton, toolHome), HomeName: w.AccessibleName(webkit.PartButton, toolHome),
			BackLabel: w.Label(webkit.PartButton, toolBack), VolLabel: w.Label(webkit.PartButton, toolVolunteer),
			VolName: w.AccessibleName(webkit.PartButton, toolVolunteer), TextName: w.AccessibleName(webkit.PartButton, toolText),
			Toolbar:  w.AccessibleName(webkit.PartToolbar, 0),
			Keyboard: w.AccessibleName(webkit.PartKeyboard, 0),
		}
	})
	return n
}

var (
	nativeEN = nativeText{
		EndLabel: "End session", EndName: "End session: clear everything and start again", EndTip: "End session: clear everything and start again",
		HomeLabel: "Home", HomeName: "Home: go to the start page",
		BackLabel: "Back", VolLabel: "Volunteer", VolName: "Volunteer: sign in to help a resident",
		TextName: "Text size: make the words bigger; after the biggest, back to normal",
		Toolbar:  "Kiosk toolbar", Keyboard: "On-screen keyboard",
	}
	nativeCY = nativeText{
		EndLabel: "Gorffen y sesiwn", EndName: "Gorffen y sesiwn: clirio popeth a dechrau eto", EndTip: "Gorffen y sesiwn: clirio popeth a dechrau eto",
		HomeLabel: "Hafan", HomeName: "Hafan: mynd i'r dudalen gyntaf",
		BackLabel: "Yn ôl", VolLabel: "Gwirfoddolwr", VolName: "Gwirfoddolwr: mewngofnodi i helpu preswylydd",
		TextName: "Maint testun: gwneud y geiriau'n fwy; ar ôl y mwyaf, yn ôl i'r arfer",
		Toolbar:  "Bar offer y ciosg", Keyboard: "Bysellfwrdd ar y sgrin",
	}
	nativePL = nativeText{
		EndLabel: "Zakończ sesję", EndName: "Zakończ sesję: usuń wszystko i zacznij od nowa", EndTip: "Zakończ sesję: usuń wszystko i zacznij od nowa",
		HomeLabel: "Start", HomeName: "Start: przejdź do strony startowej",
		BackLabel: "Wstecz", VolLabel: "Wolontariusz", VolName: "Wolontariusz: zaloguj się, aby pomóc mieszkańcowi",
		TextName: "Rozmiar tekstu: powiększ litery; po największym wraca do zwykłego",
		Toolbar:  "Pasek narzędzi kiosku", Keyboard: "Klawiatura ekranowa",
	}
)

// wantNative waits until the native parts show want.
func (ts *testShell) wantNative(t testing.TB, what string, want nativeText) {
	t.Helper()
	var got nativeText
	if !waitFor(10*time.Second, func() bool { got = ts.native(t); return got == want }) {
		t.Fatalf("%s: native labels and names\n got %+v\nwant %+v", what, got, want)
	}
}

// clickIn clicks the middle of the element sel in the view pick returns,
// with a real (XTEST) mouse click, once the page has loaded it.
func (ts *testShell) clickIn(t testing.TB, pick func() *webkit.View, part webkit.Part, sel string) {
	t.Helper()
	q := strconv.Quote(sel)
	if !waitFor(10*time.Second, func() bool {
		return pollIn(t, pick, `document.readyState === "complete" && !!document.querySelector(`+q+`)`) == "true"
	}) {
		t.Fatalf("no %s on the page", sel)
	}
	s := evalIn(t, pick, `(function(){var e=document.querySelector(`+q+`);e.scrollIntoView({block:"center"});
var r=e.getBoundingClientRect();return (r.left+r.width/2)+","+(r.top+r.height/2)})()`)
	xy := strings.Split(strings.Trim(s, `"`), ",")
	x, _ := strconv.ParseFloat(xy[0], 64)
	y, _ := strconv.ParseFloat(xy[1], 64)
	var zoom float64
	webkittest.Do(t, func() { zoom = pick().Zoom() })
	r, ok := ts.rect(t, part, 0)
	if !ok {
		t.Fatalf("part %d not on screen", part)
	}
	xdo(t, "mousemove", fmt.Sprint(r.X+int(x*zoom)), fmt.Sprint(r.Y+int(y*zoom)), "click", "1")
}

// settledRect waits until part is on screen and has stopped moving (a
// panel just shown is laid out after it is made), and returns where it is.
func (ts *testShell) settledRect(t testing.TB, p webkit.Part, id int) webkit.Rect {
	t.Helper()
	var r webkit.Rect
	if !waitFor(5*time.Second, func() bool {
		a, ok := ts.rect(t, p, id)
		time.Sleep(150 * time.Millisecond)
		b, ok2 := ts.rect(t, p, id)
		r = b
		return ok && ok2 && a == b
	}) {
		t.Fatalf("part %d/%d not settled on screen (%+v)", p, id, r)
	}
	return r
}

// TestNativeLabelsFollowLanguage: the shell's native parts (toolbar
// labels, tooltips and AT-SPI names, the guide bar, the on-screen
// keyboard, the End session panel) follow the language the resident picks
// on the built-in pages, switch again when they change it, and go back to
// the kiosk's default language at the session's end. The guide bar shows
// the guide's own title in the session's language.
func TestNativeLabelsFollowLanguage(t *testing.T) {
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/form" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<!doctype html><title>Form</title><label for="f">Postcode</label> <input id="f" style="font-size:24px">`)
			return
		}
		servicePage(w, r)
	}))
	off := startServer(t, "off-list", "127.0.0.2", nil)
	ts := splitShell(t, svc, off, func(c *config.Config) {
		c.UI.Keyboard = ui.KeyboardAlways
		// The test guide in Welsh too.
		cy := `---
title: Defnyddio'r gwasanaeth prawf lleol
language: cy
service: ` + svc.URL() + `/start
steps:
  - title: Agor y ffurflen
    text: Tapiwch y botwm i agor y ffurflen.
---
Mae'r canllaw hwn ar gyfer y profion.
`
		if err := os.WriteFile(filepath.Join(c.UI.GuidesDir, "local-service.cy.md"), []byte(cy), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	ts.wantNative(t, "at start", nativeEN)

	// The resident picks Cymraeg on the home page (a real click on the
	// page's own language link).
	ts.clickIn(t, ts.service, webkit.PartService, `.ak-lang a[hreflang="cy"]`)
	ts.wantNative(t, "after picking Cymraeg", nativeCY)

	// A guide beside the service: the bar shows the guide's own title.
	ts.load(t, "kiosk://guides/local-service")
	ts.clickIn(t, ts.service, webkit.PartService, "[data-ak-guide]")
	bar := func() (shown bool, title, closeLabel, closeName, pane string) {
		webkittest.Do(t, func() {
			w := ts.s.win
			shown = ts.s.GuideShown()
			title, closeLabel = w.Label(webkit.PartGuide, 0), w.Label(webkit.PartButton, toolCloseGuide)
			closeName, pane = w.AccessibleName(webkit.PartButton, toolCloseGuide), w.AccessibleName(webkit.PartGuide, 0)
		})
		return
	}
	wantBar := func(what, title, closeLabel, pane string) {
		t.Helper()
		var shown bool
		var gt, gc, gn, gp string
		if !waitFor(10*time.Second, func() bool {
			shown, gt, gc, gn, gp = bar()
			return shown && gt == title && gc == closeLabel && gn == closeLabel && gp == pane
		}) {
			t.Fatalf("%s: guide bar %q, Close %q (name %q), pane %q; want %q, %q, %q", what, gt, gc, gn, gp, title, closeLabel, pane)
		}
	}
	wantBar("Welsh guide", "Defnyddio'r gwasanaeth prawf lleol", "Cau'r canllaw", "Canllaw")

	// The on-screen keyboard, brought up by a real click on a field. The
	// guide's link may still be taking the service view to the service
	// (a navigation the GTK loop finishes when it will), which would
	// replace the form: load it again until the view is on it.
	form := svc.URL() + "/form"
	if !waitFor(20*time.Second, func() bool {
		var uri string
		webkittest.Do(t, func() { uri = ts.s.view.URI() })
		if uri != form {
			ts.load(t, form)
			return false
		}
		return pollIn(t, ts.service, `document.readyState === "complete" && !!document.querySelector("#f")`) == "true"
	}) {
		t.Fatal("the form did not stay in the service view")
	}
	ts.clickIn(t, ts.service, webkit.PartService, "#f")
	if !waitFor(5*time.Second, func() bool {
		var up bool
		webkittest.Do(t, func() { up = ts.s.KeyboardShown() && ts.s.win.KeyboardVisible() })
		return up
	}) {
		t.Fatal("the keyboard did not come up for the field")
	}
	keyText := func(do string) (label, name string) {
		webkittest.Do(t, func() {
			for i, k := range ts.s.kb.keys {
				if k.do == do {
					label = ts.s.win.Label(webkit.PartButton, kbBase+i)
					name = ts.s.win.AccessibleName(webkit.PartButton, kbBase+i)
				}
			}
		})
		return
	}
	for _, c := range []struct{ do, label, name string }{
		{"Backspace", "Dileu", "Dileu'r nod cynt"},
		{"hide", "Cuddio ⌄", "Cuddio'r bysellfwrdd"},
		{"symbols", "123", "Rhifau a symbolau"},
	} {
		if l, n := keyText(c.do); l != c.label || n != c.name {
			t.Errorf("key %s: label %q, name %q; want %q, %q", c.do, l, n, c.label, c.name)
		}
	}
	ts.wantNative(t, "keyboard up in Welsh", nativeCY)
	// Welsh letters are a tap away, for one letter.
	ts.tap(t, "ŵŷ")
	ts.tap(t, "ŵ")
	ts.tap(t, "y")
	if !waitFor(5*time.Second, func() bool { return pollIn(t, ts.service, `document.getElementById("f").value`) == `"ŵy"` }) {
		t.Errorf("field holds %s after accents, ŵ, y; want \"ŵy\"", evalIn(t, ts.service, `document.getElementById("f").value`))
	}

	// The resident changes language again (the accessibility page's
	// link): everything follows at once, the keyboard and guide bar too.
	// This guide has no Polish version: its English title shows.
	ts.prefsLink(t, "lang=pl")
	ts.wantNative(t, "after picking Polski", nativePL)
	wantBar("guide in Polish", "Use the local test service", "Zamknij instrukcję", "Instrukcja")

	// End session (real clicks on the toolbar and on the panel): the
	// panel is in the session's language, and afterwards everything is
	// back in the kiosk's default language.
	clickAt(t, ts.settledRect(t, webkit.PartButton, toolEnd))
	var yes string
	if !waitFor(5*time.Second, func() bool {
		webkittest.Do(t, func() { yes = ts.s.win.Label(webkit.PartButton, panelConfirmEnd) })
		return yes != ""
	}) {
		t.Fatal("End session did not ask for confirmation")
	}
	if yes != "Tak, zakończ sesję" {
		t.Errorf("End session panel's button %q, want Polish", yes)
	}
	clickAt(t, ts.settledRect(t, webkit.PartButton, panelConfirmEnd))
	select {
	case <-ts.ended:
	case <-time.After(20 * time.Second):
		t.Fatal("session did not end")
	}
	ts.wantNative(t, "after the session ended", nativeEN)
	if l, n := keyText("Backspace"); l != "" && (l != "Delete" || n != "Delete the character before") {
		t.Errorf("after the session: keyboard key %q (%q), want English", l, n)
	}

	// The next resident's guide bar is in the default language too.
	ts.load(t, "kiosk://guides/local-service")
	ts.clickIn(t, ts.service, webkit.PartService, "[data-ak-guide]")
	wantBar("next session's guide", "Use the local test service", "Close guide", "Guide")
}

// TestNativeLabelsDefaultLanguage: on a kiosk whose default language is
// not English (the config's first language), the native parts start in it
// and go back to it at the session's end.
func TestNativeLabelsDefaultLanguage(t *testing.T) {
	cfg := testConfig(t, []string{"https://www.example.gov.uk"}, nil, time.Hour, time.Minute)
	cfg.UI.Languages = []string{"pl", "en", "cy"}
	ts := startPagesShell(t, cfg)
	ts.wantNative(t, "at start", nativePL)
	ts.prefsLink(t, "lang=cy")
	ts.wantNative(t, "after picking Cymraeg", nativeCY)
	webkittest.Do(t, func() { ts.s.endSession("toolbar") })
	select {
	case <-ts.ended:
	case <-time.After(20 * time.Second):
		t.Fatal("session did not end")
	}
	ts.wantNative(t, "after the session ended", nativePL)
}

// TestCountdownInLanguage: the idle panel's countdown is in the session's
// language, with the one-second form apart.
func TestCountdownInLanguage(t *testing.T) {
	for _, c := range []struct {
		lang string
		left time.Duration
		want string
	}{
		{"en", 30 * time.Second, "This session will end and everything will be cleared in 30 seconds.\nTouch the screen to carry on."},
		{"en", 800 * time.Millisecond, "This session will end and everything will be cleared in 1 second.\nTouch the screen to carry on."},
		{"cy", 12 * time.Second, "Bydd y sesiwn hon yn dod i ben a bydd popeth yn cael ei glirio mewn 12 eiliad.\nCyffyrddwch â'r sgrin i barhau."},
		{"pl", 5 * time.Second, "Sesja zakończy się, a wszystko zostanie usunięte za 5 s.\nDotknij ekranu, aby kontynuować."},
		{"xx", 2 * time.Second, "This session will end and everything will be cleared in 2 seconds.\nTouch the screen to carry on."},
	} {
		s := &Shell{prefs: ui.Prefs{Lang: c.lang}}
		if got := s.countdown(c.left); got != c.want {
			t.Errorf("%s, %v left: got %q, want %q", c.lang, c.left, got, c.want)
		}
	}
}

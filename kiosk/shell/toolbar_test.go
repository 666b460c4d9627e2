package shell

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// toolbarScreenEnv, in the test binary run again by TestToolbarFitsScreen,
// is the screen it runs on (WxH): its Xvfb is that size.
const toolbarScreenEnv = "ACCESSKIOSK_TOOLBAR_SCREEN"

// TestToolbarFitsScreen: on a portrait kiosk (a real 800×1280 screen) and
// a landscape one (1280×800), in English, Welsh and Polish, with every toolbar
// button the shell has (Home, Back, Aa, Your files, Print, Get help,
// Volunteer, End session), the window is no wider than the screen, Home
// and End session are on the bar, and every action is reachable (on the
// bar, or in the More panel) and works when tapped there with a real
// (XTEST) tap, with its label and accessible name in the session's
// language. The keyboard reaches More and the buttons in its panel in the
// bar's order, and high contrast turns the More panel black.
//
// Each screen size runs in a test binary of its own, on an Xvfb of that
// size (the package's other tests share a 1280×1280 screen, where a window
// too wide for a portrait screen would still fit).
func TestToolbarFitsScreen(t *testing.T) {
	if s := os.Getenv(toolbarScreenEnv); s != "" {
		var w, h int
		if _, err := fmt.Sscanf(s, "%dx%d", &w, &h); err != nil {
			t.Fatalf("%s=%q: %v", toolbarScreenEnv, s, err)
		}
		toolbarOnScreen(t, w, h)
		return
	}
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Skip("xdotool not installed")
	}
	for _, size := range []string{"800x1280", "1280x800"} {
		t.Run(size, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestToolbarFitsScreen$", "-test.v", "-test.count=1", "-test.timeout=5m")
			cmd.Env = append(os.Environ(), toolbarScreenEnv+"="+size, webkittest.ScreenEnv+"="+size+"x24")
			cmd.Dir = t.TempDir()
			out, err := cmd.CombinedOutput()
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, "toolbar_test.go") {
					t.Log(strings.TrimSpace(l))
				}
			}
			if err != nil {
				t.Fatalf("on a %s screen: %v\n%s", size, err, out)
			}
		})
	}
}

// toolbarShell starts a shell on a window the size of the screen, with
// every toolbar button: built-in pages (Aa), a printer (Print), remote
// help (Get help), and a file in the session (Your files).
func toolbarShell(t *testing.T, sw, sh int, svc *recorder) *testShell {
	t.Helper()
	y := fmt.Sprintf(`home_url: kiosk://home
allow:
  - %s
session:
  idle_timeout: 1h
  idle_warning: 1m
council:
  name: Test Council
printing:
  printer: ipp://127.0.0.1:9/ipp/print
`, svc.URL())
	cfg, err := config.Parse("toolbar-test.yaml", []byte(y))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, y)
	}
	cfg.Assist = assist.Config{Enabled: true, Socket: filepath.Join(t.TempDir(), "assist.sock"),
		Phone: "020 7974 4444", Hours: "Monday to Friday, 9am to 5pm"}
	cfg.UI.Keyboard = ui.KeyboardNever
	log := logrus.New()
	log.SetOutput(io.Discard)
	pages, err := NewPages(&cfg.UI, log)
	if err != nil {
		t.Fatal(err)
	}
	return startShell(t, Options{Config: cfg, NoBus: true, UI: pages, Width: sw, Height: sh})
}

// toolAction is a toolbar button, what it says, and how to see it work.
type toolAction struct {
	id          int
	label, name string // message keys of its label and accessible name
	fixed       string // its label when it is not translated (Aa)
	// before puts the shell where the tap shows; done says whether the
	// tap did its work (polled on the GTK loop); after undoes it (on the
	// GTK loop).
	before, after func(ts *testShell)
	done          func(ts *testShell) bool
}

func toolbarOnScreen(t *testing.T, sw, sh int) {
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(servicePage))
	ts := toolbarShell(t, sw, sh, svc)
	s := ts.s

	// A resident starts a session (a real tap on the page) and has a file.
	click(t)
	if !waitFor(10*time.Second, func() bool {
		var st string
		webkittest.Do(t, func() { st = s.state })
		return st == bus.StateInSession
	}) {
		t.Fatal("a tap did not start a session")
	}
	webkittest.Do(t, func() {
		if _, err := s.cur.files.Add(KindDownload, "letter.pdf", "application/pdf", strings.NewReader("%PDF-1.4\n")); err != nil {
			t.Fatal(err)
		}
		s.showFiles("") // as a download does: the panel, and Your files on the toolbar
		s.win.HideFiles()
	})

	// open loads u in the service view and waits until it is there.
	open := func(u string) {
		t.Helper()
		ts.load(t, u)
		if !waitFor(10*time.Second, func() bool {
			return pollIn(t, ts.service, `location.href + " " + document.readyState`) == fmt.Sprintf("%q", u+" complete")
		}) {
			t.Fatalf("%s did not load", u)
		}
	}
	uriIs := func(want string) func(ts *testShell) bool {
		return func(ts *testShell) bool { return ts.s.view != nil && ts.s.view.URI() == want }
	}
	var textSize int
	actions := []toolAction{
		{id: toolHome, label: "shell.home", name: "shell.home.name",
			before: func(ts *testShell) { open(svc.URL() + "/a") },
			done:   func(ts *testShell) bool { return strings.HasPrefix(ts.s.view.URI(), "kiosk://home") }},
		{id: toolBack, label: "shell.back", name: "shell.back.name",
			before: func(ts *testShell) { open(svc.URL() + "/a"); open(svc.URL() + "/b") },
			done:   uriIs(svc.URL() + "/a")},
		{id: toolText, fixed: "Aa", name: "shell.text.name",
			before: func(ts *testShell) { webkittest.Do(t, func() { textSize = ts.s.prefs.TextSize }) },
			done:   func(ts *testShell) bool { return ts.s.prefs.TextSize != textSize }},
		{id: toolFiles, label: "files.tool", name: "files.tool.name",
			done:  func(ts *testShell) bool { return ts.s.win.FilesShown() },
			after: func(ts *testShell) { ts.s.win.HideFiles() }},
		{id: toolPrint, label: "shell.print", name: "shell.print.name",
			done:  func(ts *testShell) bool { return ts.s.cur.print != nil && ts.s.win.SheetShown() },
			after: func(ts *testShell) { ts.s.closePrint(ts.s.cur) }},
		{id: toolAssist, label: "assist.tool", name: "assist.tool.name",
			done: uriIs("kiosk://assist")},
		{id: toolVolunteer, label: "shell.volunteer", name: "shell.volunteer.name",
			done: uriIs("kiosk://volunteer")},
		{id: toolEnd, label: "shell.end", name: "shell.end.name",
			done: func(ts *testShell) bool {
				return ts.s.win.PanelVisible() && ts.s.win.Label(webkit.PartButton, panelCancel) == ts.s.tr("shell.end.no")
			}},
	}

	for _, lang := range []string{"en", "cy", "pl"} {
		ts.prefsLink(t, "lang="+lang)
		var end string
		if !waitFor(10*time.Second, func() bool {
			webkittest.Do(t, func() { end = s.win.Label(webkit.PartButton, toolEnd) })
			return end == ui.Message(lang, "shell.end")
		}) {
			t.Fatalf("%s: End session says %q", lang, end)
		}
		// The window is laid out at the screen's width, no wider.
		var ww, wh, scw, sch, tmin, tnat int
		if !waitFor(10*time.Second, func() bool {
			webkittest.Do(t, func() {
				ww, wh, scw, sch = s.win.Size()
				tmin, tnat = s.win.ToolbarWidth()
			})
			return scw == sw && sch == sh && ww == sw && wh == sh
		}) {
			t.Fatalf("%s on %dx%d: window %dx%d on a %dx%d screen (toolbar minimum %d px, natural %d px)", lang, sw, sh, ww, wh, scw, sch, tmin, tnat)
		}
		settled := ts.settledRect(t, webkit.PartToolbar, 0)
		if settled.W > scw {
			t.Errorf("%s: toolbar %d px wide on a %d px screen", lang, settled.W, scw)
		}
		places := map[int]webkit.ToolPlace{}
		var inMore []string
		webkittest.Do(t, func() {
			for _, a := range actions {
				places[a.id] = s.win.ToolPlace(a.id)
				if places[a.id] == webkit.ToolInMore {
					inMore = append(inMore, s.win.Label(webkit.PartButton, a.id))
				}
			}
		})
		t.Logf("%dx%d %s: toolbar minimum %d px, natural %d px (every button on the bar, and the council's name at 1000 px and wider); window %d px on a %d px screen; in More: %q",
			sw, sh, lang, tmin, tnat, ww, scw, inMore)
		if places[toolHome] != webkit.ToolOnBar || places[toolEnd] != webkit.ToolOnBar {
			t.Errorf("%s: Home %v, End session %v; want both on the bar", lang, places[toolHome], places[toolEnd])
		}
		_, moreShown := ts.rect(t, webkit.PartButton, webkit.ToolMore)
		if moreShown != (len(inMore) > 0) {
			t.Errorf("%s: More on the bar %v with %d buttons off it", lang, moreShown, len(inMore))
		}
		if moreShown {
			var label, name string
			webkittest.Do(t, func() {
				label, name = s.win.Label(webkit.PartButton, webkit.ToolMore), s.win.AccessibleName(webkit.PartButton, webkit.ToolMore)
			})
			if label != ui.Message(lang, "shell.more") || name != ui.Message(lang, "shell.more.name") {
				t.Errorf("%s: More says %q, named %q", lang, label, name)
			}
		}

		for _, a := range actions {
			where := "bar"
			switch places[a.id] {
			case webkit.ToolOnBar:
			case webkit.ToolInMore:
				where = "More"
				clickAt(t, ts.settledRect(t, webkit.PartButton, webkit.ToolMore))
				if !waitFor(5*time.Second, func() bool {
					var ok bool
					webkittest.Do(t, func() { ok = s.win.MoreShown() })
					return ok
				}) {
					t.Fatalf("%s: a tap on More did not open its panel", lang)
				}
				var pn string
				webkittest.Do(t, func() { pn = s.win.AccessibleName(webkit.PartMore, 0) })
				if pn != ui.Message(lang, "shell.more") {
					t.Errorf("%s: More panel named %q", lang, pn)
				}
			default:
				t.Errorf("%s: button %d is %v: not reachable", lang, a.id, places[a.id])
				continue
			}
			r := ts.settledRect(t, webkit.PartButton, a.id)
			if r.X < 0 || r.X+r.W > scw || r.Y < 0 || r.Y+r.H > sch {
				t.Errorf("%s: button %d (%s) at %+v, off the %dx%d screen", lang, a.id, where, r, scw, sch)
			}
			var label, name string
			webkittest.Do(t, func() {
				label, name = s.win.Label(webkit.PartButton, a.id), s.win.AccessibleName(webkit.PartButton, a.id)
			})
			wantLabel := a.fixed
			if a.label != "" {
				wantLabel = ui.Message(lang, a.label)
			}
			if label != wantLabel || name != ui.Message(lang, a.name) {
				t.Errorf("%s: button %d on the %s says %q, named %q; want %q, %q", lang, a.id, where, label, name, wantLabel, ui.Message(lang, a.name))
			}
			if a.before != nil {
				a.before(ts)
			}
			clickAt(t, r)
			if !waitFor(10*time.Second, func() bool {
				var ok bool
				webkittest.Do(t, func() { ok = a.done(ts) })
				return ok
			}) {
				t.Errorf("%s: a tap on button %d (%q, on the %s) did not work", lang, a.id, label, where)
			}
			var open bool
			webkittest.Do(t, func() { open = s.win.MoreShown() })
			if open {
				t.Errorf("%s: the More panel stayed open after a tap on %q in it", lang, label)
			}
			if a.id == toolEnd {
				clickAt(t, ts.settledRect(t, webkit.PartButton, panelCancel))
				if !waitFor(5*time.Second, func() bool {
					var v bool
					webkittest.Do(t, func() { v = s.win.PanelVisible() })
					return !v
				}) {
					t.Fatal("No on the End session panel did not close it")
				}
			}
			if a.after != nil {
				webkittest.Do(t, func() { a.after(ts) })
			}
		}
		select {
		case e := <-ts.ended:
			t.Fatalf("%s: the session ended (%s)", lang, e.reason)
		default:
		}

		if !moreShown {
			continue
		}
		toolbarKeyboard(t, ts, lang)
		toolbarContrast(t, ts, lang, sw, sh)
		toolbarClosing(t, ts, lang)
	}
}

// toolbarClosing: a tap elsewhere (on the page) closes the More panel, and
// so does the session's end (the next resident starts with it closed).
func toolbarClosing(t *testing.T, ts *testShell, lang string) {
	t.Helper()
	s := ts.s
	moreOpen := func() (open bool) {
		webkittest.Do(t, func() { open = s.win.MoreShown() })
		return
	}
	openMore := func() {
		t.Helper()
		clickAt(t, ts.settledRect(t, webkit.PartButton, webkit.ToolMore))
		if !waitFor(5*time.Second, moreOpen) {
			t.Fatalf("%s: a tap on More did not open its panel", lang)
		}
	}
	openMore()
	page := ts.settledRect(t, webkit.PartService, 0)
	xdo(t, "mousemove", fmt.Sprint(page.X+40), fmt.Sprint(page.Bottom()-40), "click", "1")
	if !waitFor(5*time.Second, func() bool { return !moreOpen() }) {
		t.Errorf("%s: a tap on the page left the More panel open", lang)
	}
	if lang != "pl" { // the end resets the language: last
		return
	}
	openMore()
	webkittest.Do(t, func() { s.endSession("toolbar") })
	select {
	case <-ts.ended:
	case <-time.After(20 * time.Second):
		t.Fatal("the session did not end")
	}
	if moreOpen() {
		t.Error("the More panel is still open for the next resident")
	}
}

// toolbarKeyboard: Tab walks the bar left to right (More among the
// buttons), Enter on More opens its panel with the focus on its first
// button, Tab walks the panel, and its Close (or Escape) gives the focus
// back to More.
func toolbarKeyboard(t *testing.T, ts *testShell, lang string) {
	t.Helper()
	s := ts.s
	// The bar's buttons left to right, as the screen shows them.
	type onBar struct {
		id int
		x  int
	}
	var bar []onBar
	for _, id := range []int{toolHome, toolBack, toolText, toolFiles, toolPrint, toolAssist, toolVolunteer, webkit.ToolMore, toolEnd} {
		if r, ok := ts.rect(t, webkit.PartButton, id); ok {
			bar = append(bar, onBar{id, r.X})
		}
	}
	for i := range bar {
		for j := i + 1; j < len(bar); j++ {
			if bar[j].x < bar[i].x {
				bar[i], bar[j] = bar[j], bar[i]
			}
		}
	}
	focused := func() (id int, inMore, ok bool) {
		webkittest.Do(t, func() { id, inMore, ok = s.win.FocusedButton() })
		return
	}
	waitFocus := func(what string, id int, inMore bool) {
		t.Helper()
		var gid int
		var gm, ok bool
		if !waitFor(5*time.Second, func() bool { gid, gm, ok = focused(); return ok && gid == id && gm == inMore }) {
			t.Fatalf("%s: %s: focus on %d (in More %v, any %v), want %d (in More %v)", lang, what, gid, gm, ok, id, inMore)
		}
	}
	// The first button on the bar takes the focus from a real click
	// (Home: the page goes home, which changes nothing here).
	clickAt(t, ts.settledRect(t, webkit.PartButton, bar[0].id))
	waitFocus("after a click on the first button", bar[0].id, false)
	for _, b := range bar[1:] {
		key(t, "Tab")
		waitFocus("Tab along the bar", b.id, false)
		if b.id == webkit.ToolMore {
			break
		}
	}
	key(t, "Return")
	var twins []int
	if !waitFor(5*time.Second, func() bool {
		webkittest.Do(t, func() {
			twins = twins[:0]
			if !s.win.MoreShown() {
				return
			}
			for _, id := range []int{toolBack, toolText, toolFiles, toolPrint, toolVolunteer, toolAssist} {
				if s.win.ToolPlace(id) == webkit.ToolInMore {
					twins = append(twins, id)
				}
			}
		})
		return len(twins) > 0
	}) {
		t.Fatalf("%s: Enter on More did not open its panel", lang)
	}
	// The panel's buttons in the bar's order: by their place on the screen.
	ys := map[int]int{}
	for _, id := range twins {
		ys[id] = ts.settledRect(t, webkit.PartButton, id).Y
	}
	for i := range twins {
		for j := i + 1; j < len(twins); j++ {
			if ys[twins[j]] < ys[twins[i]] {
				twins[i], twins[j] = twins[j], twins[i]
			}
		}
	}
	waitFocus("More's panel opened", twins[0], true)
	for _, id := range twins[1:] {
		key(t, "Tab")
		waitFocus("Tab in the More panel", id, true)
	}
	key(t, "Tab")
	waitFocus("Tab to the panel's Close", webkit.ToolMoreClose, true)
	key(t, "Return")
	waitFocus("Close", webkit.ToolMore, false)
	var open bool
	webkittest.Do(t, func() { open = s.win.MoreShown() })
	if open {
		t.Errorf("%s: Close left the More panel open", lang)
	}
	// Escape closes it too.
	key(t, "Return")
	waitFocus("More's panel opened again", twins[0], true)
	key(t, "Escape")
	waitFocus("Escape", webkit.ToolMore, false)
	webkittest.Do(t, func() { open = s.win.MoreShown() })
	if open {
		t.Errorf("%s: Escape left the More panel open", lang)
	}
}

// toolbarContrast: the More panel is white, and black in high contrast.
func toolbarContrast(t *testing.T, ts *testShell, lang string, sw, sh int) {
	t.Helper()
	s := ts.s
	pixel := func(what string) (r, g, b uint32) {
		t.Helper()
		clickAt(t, ts.settledRect(t, webkit.PartButton, webkit.ToolMore))
		p := ts.settledRect(t, webkit.PartMore, 0)
		win := ts.settledRect(t, webkit.PartToolbar, 0) // the window's top left
		path := filepath.Join(t.TempDir(), "more.png")
		var err error
		webkittest.Do(t, func() { err = s.win.Snapshot(path) })
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("KIOSK_SCREENSHOTS"); dir != "" { // make screenshots-kiosk-shell
			name := fmt.Sprintf("kiosk-shell-more-%dx%d-%s-%s.png", sw, sh, lang, what)
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Error(err)
			}
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		// Inside the panel's 4 px border, left of its buttons.
		r, g, b, _ = img.At(p.X-win.X+8, p.Y-win.Y+p.H/2).RGBA()
		clickAt(t, ts.settledRect(t, webkit.PartButton, webkit.ToolMore)) // closes it
		if !waitFor(5*time.Second, func() bool {
			var open bool
			webkittest.Do(t, func() { open = s.win.MoreShown() })
			return !open
		}) {
			t.Fatalf("%s: %s: a second tap on More did not close its panel", lang, what)
		}
		return r >> 8, g >> 8, b >> 8
	}
	if r, g, b := pixel("standard"); r < 0xf0 || g < 0xf0 || b < 0xf0 {
		t.Errorf("%s: the More panel is #%02x%02x%02x, want white", lang, r, g, b)
	}
	ts.prefsLink(t, "contrast=high")
	if !waitFor(5*time.Second, func() bool {
		var hc bool
		webkittest.Do(t, func() { hc = s.win.HighContrast() })
		return hc
	}) {
		t.Fatal("high contrast did not reach the native parts")
	}
	if r, g, b := pixel("hc"); r > 0x10 || g > 0x10 || b > 0x10 {
		t.Errorf("%s: in high contrast the More panel is #%02x%02x%02x, want black", lang, r, g, b)
	}
	ts.prefsLink(t, "contrast=standard")
}

package shell

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/volunteer"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// councilForm is the local stand-in for a council service in screenshots.
const councilForm = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Report a missed bin collection</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:0;color:#0b0c0c;background:#fff}
header{background:#005ea5;color:#fff;padding:16px 24px;font-size:24px;font-weight:bold}
main{max-width:640px;padding:16px 24px}
h1{font-size:36px;margin:16px 0}
label{display:block;font-size:20px;font-weight:bold;margin:20px 0 6px}
.hint{color:#505a5f;font-size:18px;margin:0 0 6px}
input,select{font-size:22px;padding:8px;border:2px solid #0b0c0c;width:100%;box-sizing:border-box}
input:focus{outline:3px solid #ffdd00;box-shadow:inset 0 0 0 2px}
button{font-size:22px;padding:12px 20px;margin-top:24px;background:#00703c;color:#fff;border:0;box-shadow:0 2px 0 #002d18}
</style></head><body><header>Example Council</header><main>
<h1>Report a missed bin collection</h1>
<p style="font-size:20px">Tell us which bin was missed. We will collect it within 2 working days.</p>
<form action="/sent" method="get">
<label for="bin">Which bin was missed?</label>
<select id="bin" name="bin"><option>General waste (black)</option><option>Recycling (blue)</option><option>Garden waste (green)</option></select>
<label for="postcode">Postcode</label><p class="hint">For example, SW1A 2AA</p>
<input id="postcode" name="postcode" type="text" autocomplete="off">
<label for="street">Street and house number</label>
<input id="street" name="street" type="text" autocomplete="off">
<label for="email">Email address</label><p class="hint">We will send you a reference number</p>
<input id="email" name="email" type="email" autocomplete="off">
<button>Continue</button>
</form></main></body></html>`

// TestScreenshotsShell saves the real kiosk window (toolbar, views, native
// keyboard) at 1280×800 and 800×1280 into $KIOSK_SCREENSHOTS (make
// screenshots sets it): a guide beside a service, the keyboard up over a
// form, each also in high contrast, in Welsh and in Polish (the native
// parts in the session's language; the keyboard's Welsh and Polish letters). A tool more than a test: without the
// variable it skips.
func TestScreenshotsShell(t *testing.T) {
	dir := os.Getenv("KIOSK_SCREENSHOTS")
	if dir == "" {
		t.Skip("set KIOSK_SCREENSHOTS=DIR to save screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, councilForm)
	}))
	cfg := testConfig(t, []string{svc.URL()}, nil, time.Hour, time.Minute)
	cfg.Council.Name = "Example Council"
	cfg.UI.Council.Name = "Example Council"
	cfg.UI.Keyboard = ui.KeyboardAlways
	hash, err := volunteer.HashPIN("4071", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Volunteer = volunteer.DefaultConfig()
	cfg.Volunteer.PINHash = hash
	ts := startPagesShell(t, cfg)

	loaded := func(pick func() *webkit.View, what string) {
		t.Helper()
		if !waitFor(15*time.Second, func() bool {
			return pollIn(t, pick, `document.readyState === "complete" && document.body !== null && document.body.children.length > 0`) == "true"
		}) {
			t.Fatalf("%s did not finish loading", what)
		}
	}
	// The pointer rests where nothing reacts to it, as on a touch screen:
	// Xvfb's starts in the middle of the screen, where the keyboard coming
	// up puts the guide's Close button, whose tooltip then showed over
	// the guide in every portrait picture.
	ts.parkPointer(t)
	snap := func(name string, w, h int) {
		t.Helper()
		time.Sleep(300 * time.Millisecond) // let WebKit start painting after the last change
		if r, ok := ts.rect(t, webkit.PartToolbar, 0); !ok || r.W != w {
			t.Errorf("%s: the window is %dpx wide, want %d: something does not fit", name, r.W, w)
		}
		// What a resident sees: the window once two pictures in a row are
		// the same (a blinking caret may keep it from settling: then the last).
		img, moved, ok := ts.settledShot(t, 3*time.Second, image.Rectangle{})
		if !ok {
			t.Logf("%s: the window did not settle within 3s (%v still changing); saving the last picture", name, moved)
		}
		out := filepath.Join(dir, fmt.Sprintf("kiosk-shell-%s-%dx%d.png", name, w, h))
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			f.Close()
			t.Fatalf("save %s: %v", out, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s", out)
	}
	size := func(w, h int) {
		t.Helper()
		webkittest.Do(t, func() { ts.s.win.Resize(w, h) })
		if !waitFor(10*time.Second, func() bool {
			r, ok := ts.rect(t, webkit.PartToolbar, 0)
			return ok && r.W == w
		}) {
			t.Fatalf("window did not become %dx%d", w, h)
		}
	}
	focus := func(id string) {
		t.Helper()
		evalIn(t, ts.service, `document.getElementById("`+id+`").focus(); true`)
		if !waitFor(5*time.Second, func() bool {
			var up bool
			webkittest.Do(t, func() { up = ts.s.KeyboardShown() })
			return up
		}) {
			t.Fatal("keyboard did not come up")
		}
	}

	// Standard, high contrast, and the native parts in Welsh and Polish
	// (longer labels: the toolbar must still fit 800px portrait).
	for _, v := range []struct{ suffix, settings, lang string }{
		{"", "", "en"},
		{"-high-contrast", "contrast=high", "en"},
		{"-cy", "contrast=standard&lang=cy", "cy"},
		{"-pl", "lang=pl", "pl"},
	} {
		suffix := v.suffix
		if v.settings != "" {
			ts.load(t, "kiosk://home")
			ts.prefsLink(t, v.settings)
			if !waitFor(10*time.Second, func() bool { return ts.uri(t) == "kiosk://home" }) {
				t.Fatal("settings did not return home")
			}
		}
		space := strings.ToLower(ui.Message(v.lang, "kb.space"))
		for _, sz := range [][2]int{{1280, 800}, {800, 1280}} {
			size(sz[0], sz[1])
			// A guide beside the service.
			ts.load(t, svc.URL()+"/report")
			loaded(ts.service, "service page")
			webkittest.Do(t, func() { ts.s.openGuide(ts.s.cur, "report-missed-bin") })
			loaded(ts.guide, "guide")
			snap("guide-beside-service"+suffix, sz[0], sz[1])
			// The keyboard up over the form, with the guide still there.
			focus("postcode")
			for _, k := range []string{"⇧ Shift", "S", "⇧ Shift", "W", "123", "1", "ABC", space} {
				ts.press(t, k)
			}
			snap("keyboard-guide"+suffix, sz[0], sz[1])
			webkittest.Do(t, func() { ts.s.closeGuide(ts.s.cur) })
			focus("email")
			for _, k := range []string{"s", "a", "m", "@"} {
				ts.press(t, k)
			}
			snap("keyboard-email"+suffix, sz[0], sz[1])
			if a, ok := kbAccents[v.lang]; ok {
				ts.press(t, a.label) // the language's own letters
				snap("keyboard-accents"+suffix, sz[0], sz[1])
			}
			evalIn(t, ts.service, `document.activeElement.blur(); true`)
			waitFor(5*time.Second, func() bool {
				var up bool
				webkittest.Do(t, func() { up = ts.s.KeyboardShown() })
				return !up
			})
		}
		size(1280, 800)
	}
	// A volunteer signed in: the service picker beside the home page.
	ts.prefsLink(t, "contrast=standard&lang=en")
	webkittest.Do(t, func() { ts.s.loadPrivileged("kiosk://volunteer") })
	if !waitFor(10*time.Second, func() bool { return ts.uri(t) == "kiosk://volunteer" }) {
		t.Fatal("volunteer page not shown")
	}
	for _, sz := range [][2]int{{1280, 800}, {800, 1280}} {
		size(sz[0], sz[1])
		webkittest.Do(t, func() { ts.s.bridgeMessage(ts.s.cur, fromService, `{"action":"volunteer_unlock","entry":"4071"}`) })
		if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.paneURI(t), "kiosk://volunteer/services") }) {
			t.Fatal("the service picker did not open beside the home page")
		}
		loaded(ts.guide, "service picker")
		loaded(ts.service, "home")
		snap("volunteer-picker-beside-home", sz[0], sz[1])
	}
	size(1280, 800)
	if got := len(strings.Split(strings.TrimSpace(listShots(t, dir)), "\n")); got < 30 {
		t.Errorf("saved %d shell screenshots, want 30", got)
	}
}

func listShots(t testing.TB, dir string) string {
	m, err := filepath.Glob(filepath.Join(dir, "kiosk-shell-*.png"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(m, "\n")
}

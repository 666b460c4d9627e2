package shell

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

func TestKeyboardLayout(t *testing.T) {
	for _, mode := range []string{"text", "email", "url", "number", "tel"} {
		for _, layer := range []int{layerLetters, layerShift, layerSymbols} {
			rows := keyboardLayout("en", mode, layer)
			var labels []string
			for i, row := range rows {
				cols := 0
				for _, k := range row {
					cols += k.width
					if k.label != "" && k.name == "" {
						t.Errorf("%s/%d: key %q has no name for screen readers", mode, layer, k.label)
					}
					labels = append(labels, k.label)
				}
				if cols != 23 {
					t.Errorf("%s/%d row %d: %d columns, want 23", mode, layer, i, cols)
				}
			}
			all := " " + strings.Join(labels, " ") + " "
			want := []string{"Delete", "Enter ↵", "Hide ⌄"}
			switch layer {
			case layerLetters:
				want = append(want, " q ", " m ", "⇧ Shift", "123")
			case layerShift:
				want = append(want, " Q ", " M ", "⇧ Shift")
			case layerSymbols:
				want = append(want, " 1 ", " 0 ", " @ ", "ABC")
			}
			if mode == "email" {
				want = append(want, " @ ", " .com ", " . ")
			}
			for _, w := range want {
				if !strings.Contains(all, w) {
					t.Errorf("%s/%d: no key %q in %s", mode, layer, w, all)
				}
			}
		}
	}
	// The session's language adds its letters on an accents layer.
	for _, c := range []struct {
		lang, key string
		want      []string
	}{
		{"en", "", nil},
		{"cy", "ŵŷ", []string{" â ", " ŵ ", " ŷ ", " Ŵ ", " Â ", " ' ", "ABC"}},
		{"pl", "ąę", []string{" ą ", " ł ", " ż ", " Ł ", " Ś ", "ABC"}},
	} {
		for _, layer := range []int{layerLetters, layerShift, layerSymbols, layerAccents} {
			var labels []string
			for i, row := range keyboardLayout(c.lang, "text", layer) {
				cols := 0
				for _, k := range row {
					cols += k.width
					if k.label != "" && k.name == "" {
						t.Errorf("%s/%d: key %q has no name", c.lang, layer, k.label)
					}
					if k.label != "" && k.width < 1 {
						t.Errorf("%s/%d: key %q has no width", c.lang, layer, k.label)
					}
					labels = append(labels, k.label)
				}
				if cols != 23 {
					t.Errorf("%s/%d row %d: %d columns, want 23", c.lang, layer, i, cols)
				}
			}
			all := " " + strings.Join(labels, " ") + " "
			hasKey := c.key != "" && strings.Contains(all, " "+c.key+" ")
			if want := c.key != "" && layer != layerSymbols && layer != layerAccents; hasKey != want {
				t.Errorf("%s/%d: accents key %q shown %v, want %v (%s)", c.lang, layer, c.key, hasKey, want, all)
			}
			if layer != layerAccents {
				continue
			}
			if c.want == nil && !strings.Contains(all, " q ") {
				t.Errorf("%s: the accents layer of a language without accents should be the letters: %s", c.lang, all)
			}
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("%s accents: no key %q in %s", c.lang, w, all)
				}
			}
		}
	}
	for _, c := range []struct {
		mode string
		want int
	}{{"text", layerLetters}, {"email", layerLetters}, {"number", layerSymbols}, {"tel", layerSymbols}} {
		if got := startLayer(c.mode); got != c.want {
			t.Errorf("startLayer(%s) = %d, want %d", c.mode, got, c.want)
		}
	}
	for _, c := range []struct {
		setting string
		want    bool
	}{{ui.KeyboardAlways, true}, {ui.KeyboardNever, false}} {
		if got := keyboardEnabled(c.setting); got != c.want {
			t.Errorf("keyboardEnabled(%q) = %v, want %v", c.setting, got, c.want)
		}
	}
}

// keyID is the id of the key labelled label in the layout on screen.
func (ts *testShell) keyID(t testing.TB, label string) int {
	t.Helper()
	id := 0
	// A tap that changes the layer (shift, 123, accents) is an X event the
	// loop handles after the tap returns: wait for the new layout.
	waitFor(5*time.Second, func() bool {
		webkittest.Do(t, func() {
			for i, k := range ts.s.kb.keys {
				if k.label == label {
					id = kbBase + i
					return
				}
			}
		})
		return id != 0
	})
	if id == 0 {
		t.Fatalf("no key %q on the keyboard", label)
	}
	return id
}

// taps taps the keys labelled labels, in order.
func (ts *testShell) taps(t testing.TB, labels ...string) {
	t.Helper()
	for _, l := range labels {
		ts.tap(t, l)
	}
}

// tap clicks a key of the native keyboard with a real (XTEST) mouse click.
// The click reaches the GTK loop some time after xdotool returns, so a tap
// that changes the layout (shift, 123, ABC, the accents key, a letter on
// the one-letter shift or accents layer) waits until the new layout is on
// the keyboard: the next tap looks its key up there. Taps that only type
// need no wait: their clicks reach the keys in order.
func (ts *testShell) tap(t testing.TB, label string) {
	t.Helper()
	id := ts.keyID(t, label)
	var before string
	var relayout bool
	webkittest.Do(t, func() {
		k := ts.s.kb.keys[id-kbBase]
		switch k.do {
		case "shift", "symbols", "letters", "accents":
			relayout = true
		case "":
			relayout = ts.s.kb.layer == layerShift || ts.s.kb.layer == layerAccents
		}
		before = ts.layout()
	})
	var r webkit.Rect
	if !waitFor(3*time.Second, func() bool { // a new layout is laid out on the next frame
		var ok bool
		r, ok = ts.rect(t, webkit.PartButton, id)
		return ok
	}) {
		t.Fatalf("key %q is not on screen", label)
	}
	clickAt(t, r)
	if !relayout {
		return
	}
	var after string
	if !waitFor(10*time.Second, func() bool {
		webkittest.Do(t, func() { after = ts.layout() })
		return after != before
	}) {
		t.Fatalf("tapped %q: the keyboard still shows %s", label, after)
	}
}

// layout is the labels of the keys on the keyboard (GTK thread).
func (ts *testShell) layout() string {
	var b strings.Builder
	for _, k := range ts.s.kb.keys {
		b.WriteString(k.label + " ")
	}
	return b.String()
}

// press presses a key through the binding (as a tap does).
func (ts *testShell) press(t testing.TB, label string) {
	t.Helper()
	id := ts.keyID(t, label)
	webkittest.Do(t, func() {
		if !ts.s.win.Press(id) {
			t.Errorf("key %q could not be pressed", label)
		}
	})
}

const formPage = `<!doctype html><html><head><title>Form</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:20px sans-serif;margin:0 20px} input{font-size:24px;width:20em;padding:8px}</style></head>
<body><h1>Report a missed bin</h1><div style="height:520px;background:#eee">Some text above the form.</div>
<form action="/submitted" method="get">
<label for="name">Your name</label><br><input id="name" name="name" type="text"><br>
<label for="email">Email</label><br><input id="email" name="email" type="email"><br>
<button>Send</button></form><div style="height:900px"></div></body></html>`

// TestKeyboardTypesIntoPage uses the native on-screen keyboard in the real
// window on a real form from a loopback server: a real click on a field
// shows the keyboard under the page, which shrinks the page instead of
// being covered, and the field is scrolled into view above it; real clicks
// on its keys (and the binding's press) type into the field, with shift,
// numbers and the email keys; nothing typed reaches the log; moving focus
// off the field hides the keyboard; Enter submits the form; the wipe hides
// it too.
func TestKeyboardTypesIntoPage(t *testing.T) {
	var mu sync.Mutex
	var submitted []string
	svc := startServer(t, "form", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/submitted" {
			mu.Lock()
			submitted = append(submitted, r.URL.RawQuery)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, formPage)
	}))
	cfg := testConfig(t, []string{svc.URL()}, nil, time.Hour, time.Minute)
	ts, log := keyboardShell(t, cfg)
	ts.load(t, svc.URL()+"/form")
	if !waitFor(10*time.Second, func() bool {
		return pollIn(t, ts.service, `document.readyState === "complete" && !!document.getElementById("name")`) == "true"
	}) {
		t.Fatal("form page not loaded")
	}
	value := func(id string) string {
		return evalIn(t, ts.service, `document.getElementById("`+id+`").value`)
	}
	fieldRect := func(id string) (top, bottom float64) {
		s := evalIn(t, ts.service, `(function(){var r=document.getElementById("`+id+`").getBoundingClientRect();return r.top+","+r.bottom})()`)
		parts := strings.Split(strings.Trim(s, `"`), ",")
		top, _ = strconv.ParseFloat(parts[0], 64)
		bottom, _ = strconv.ParseFloat(parts[1], 64)
		return top, bottom
	}
	var zoom float64
	webkittest.Do(t, func() { zoom = ts.s.view.Zoom() })
	clickField := func(id string) {
		t.Helper()
		// Wait for the layout to settle (the keyboard just went or came).
		var sv webkit.Rect
		var top, bottom float64
		waitFor(3*time.Second, func() bool {
			s1, _ := ts.rect(t, webkit.PartService, 0)
			t1, b1 := fieldRect(id)
			time.Sleep(150 * time.Millisecond)
			sv, _ = ts.rect(t, webkit.PartService, 0)
			top, bottom = fieldRect(id)
			return s1 == sv && t1 == top && b1 == bottom
		})
		if bottom*zoom > float64(sv.H) {
			t.Fatalf("field %s at %v–%v CSS px is off the %dpx view before the keyboard is up", id, top, bottom, sv.H)
		}
		xdo(t, "mousemove", fmt.Sprint(sv.X+int(100*zoom)), fmt.Sprint(sv.Y+int((top+bottom)/2*zoom)), "click", "1")
	}
	kbUp := func(want bool) {
		t.Helper()
		if !waitFor(5*time.Second, func() bool {
			var shown, visible bool
			webkittest.Do(t, func() { shown, visible = ts.s.KeyboardShown(), ts.s.win.KeyboardVisible() })
			return shown == want && visible == want
		}) {
			t.Fatalf("keyboard shown: want %v", want)
		}
	}
	typed := func(id, want string) {
		t.Helper()
		if !waitFor(5*time.Second, func() bool { return value(id) == `"`+want+`"` }) {
			t.Fatalf("field %s holds %s, want %q", id, value(id), want)
		}
	}

	clickField("name")
	kbUp(true)
	// The keyboard is under the page, never over it, and the field is in
	// view above it.
	var sv, kb webkit.Rect
	if !waitFor(5*time.Second, func() bool {
		sv, _ = ts.rect(t, webkit.PartService, 0)
		kb, _ = ts.rect(t, webkit.PartKeyboard, 0)
		_, bottom := fieldRect("name")
		return kb.H > 100 && kb.Y >= sv.Bottom() && bottom*zoom <= float64(sv.H) && top0(fieldRect("name")) >= 0
	}) {
		top, bottom := fieldRect("name")
		t.Fatalf("field at %v–%v CSS px (zoom %v) in the view %+v, keyboard %+v: covered or overlapping", top, bottom, zoom, sv, kb)
	}
	if kb.W < sv.W {
		t.Errorf("keyboard %dpx wide, narrower than the %dpx view", kb.W, sv.W)
	}

	// Every key, and the keyboard itself, has a name for screen readers (AT-SPI).
	webkittest.Do(t, func() {
		if n := ts.s.win.AccessibleName(webkit.PartKeyboard, 0); n != "On-screen keyboard" {
			t.Errorf("keyboard's accessible name %q", n)
		}
		for i, k := range ts.s.kb.keys {
			if got := ts.s.win.AccessibleName(webkit.PartButton, kbBase+i); got != k.name || got == "" {
				t.Errorf("key %q: accessible name %q, want %q", k.label, got, k.name)
			}
		}
	})

	ts.taps(t, "h", "i", "⇧ Shift")
	ts.tap(t, "J") // the shifted layout shows capitals
	typed("name", "hiJ")
	ts.keyID(t, "j") // shift is for one letter: back to small letters
	ts.tap(t, "Delete")
	typed("name", "hi")
	ts.tap(t, "123")
	ts.tap(t, "4")
	typed("name", "hi4") // the click is on its way; the binding's press would overtake it
	ts.press(t, "2")
	ts.press(t, "ABC")
	ts.press(t, "space")
	ts.press(t, "o")
	typed("name", "hi42 o")

	// The email field gets the email keys.
	clickField("email")
	kbUp(true)
	var mode string
	if !waitFor(5*time.Second, func() bool {
		webkittest.Do(t, func() { mode = ts.s.kb.mode })
		return mode == "email"
	}) {
		t.Fatalf("keyboard mode for an email field: %q", mode)
	}
	ts.tap(t, "a")
	ts.tap(t, "@")
	typed("email", "a@")
	ts.press(t, "b")
	ts.tap(t, ".com")
	typed("email", "a@b.com")

	// Focus leaves the fields: the keyboard goes.
	evalIn(t, ts.service, `document.activeElement.blur(); true`)
	kbUp(false)
	var sv2 webkit.Rect
	if !waitFor(3*time.Second, func() bool { sv2, _ = ts.rect(t, webkit.PartService, 0); return sv2.H > sv.H }) {
		t.Errorf("the page did not get its height back: %dpx with the keyboard, %dpx without", sv.H, sv2.H)
	}

	// Hide, then touching the focused field brings it back; Enter submits.
	clickField("email")
	kbUp(true)
	ts.tap(t, "Hide ⌄")
	kbUp(false)
	clickField("email")
	kbUp(true)
	ts.tap(t, "Enter ↵")
	if !waitFor(5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(submitted) > 0 }) {
		t.Error("Enter on the keyboard did not submit the form")
	} else {
		mu.Lock()
		got := submitted[0]
		mu.Unlock()
		if !strings.Contains(got, "email=a%40b.com") {
			t.Errorf("form submitted %q", got)
		}
	}

	// The wipe hides the keyboard.
	ts.load(t, svc.URL()+"/form")
	if !waitFor(10*time.Second, func() bool {
		return pollIn(t, ts.service, `document.readyState === "complete" && !!document.getElementById("name")`) == "true"
	}) {
		t.Fatal("form page not loaded again")
	}
	kbUp(false) // a new page: the field that asked for it is gone
	clickField("name")
	kbUp(true)
	webkittest.Do(t, func() { ts.s.endSession(bus.ReasonToolbar) })
	select {
	case <-ts.ended:
	case <-time.After(20 * time.Second):
		t.Fatal("session did not end")
	}
	kbUp(false)

	log.holdsNone(t, "hi42", "a@b.com", "a%40b.com", "hiJ")
}

func top0(top, _ float64) float64 { return top }

// TestKeyboardNever: with ui.keyboard never, focusing a field shows nothing
// and the pages get no keyboard script.
func TestKeyboardNever(t *testing.T) {
	svc := startServer(t, "form", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, formPage)
	}))
	cfg := testConfig(t, []string{svc.URL()}, nil, time.Hour, time.Minute)
	cfg.UI.Keyboard = ui.KeyboardNever
	ts := startShell(t, Options{Config: cfg, NoBus: true})
	ts.load(t, svc.URL()+"/form")
	if !waitFor(10*time.Second, func() bool {
		return pollIn(t, ts.service, `document.readyState === "complete" && !!document.getElementById("name")`) == "true"
	}) {
		t.Fatal("form page not loaded")
	}
	var script string
	webkittest.Do(t, func() { script = ts.s.userScript() })
	if script != "" {
		t.Errorf("keyboard script injected with keyboard: never (%d bytes)", len(script))
	}
	evalIn(t, ts.service, `document.getElementById("name").focus(); true`)
	time.Sleep(500 * time.Millisecond)
	var shown bool
	webkittest.Do(t, func() { shown = ts.s.KeyboardShown() || ts.s.win.KeyboardVisible() })
	if shown {
		t.Error("keyboard shown with keyboard: never")
	}
}

// capturedLog is what a shell logged (at debug level), for tests that
// check nothing typed reaches the log.
type capturedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *capturedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// holdsNone fails t for each secret found in the log.
func (l *capturedLog) holdsNone(t testing.TB, secrets ...string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, secret := range secrets {
		if strings.Contains(l.b.String(), secret) {
			t.Errorf("the log holds typed text %q", secret)
		}
	}
}

// keyboardShell starts a shell on cfg with the on-screen keyboard always
// on and its log captured at debug level.
func keyboardShell(t testing.TB, cfg *config.Config) (*testShell, *capturedLog) {
	t.Helper()
	cfg.UI.Keyboard = ui.KeyboardAlways
	captured := &capturedLog{}
	log := logrus.New()
	log.SetOutput(captured)
	log.SetLevel(logrus.DebugLevel)
	pages, err := NewPages(&cfg.UI, log)
	if err != nil {
		t.Fatal(err)
	}
	return startShell(t, Options{Config: cfg, NoBus: true, UI: pages, Log: log}), captured
}

// framesPage is a top page with a field of its own, a same-origin iframe
// and a cross-origin iframe, each with a one-field form. It counts every
// key, input and message event its own window sees, and every call to the
// functions it hooks, so the test can tell whether anything typed into a
// frame showed up where the top page's scripts can read it.
const framesPage = `<!doctype html><html><head><title>Pay</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:20px sans-serif;margin:0 20px} input{font-size:24px;width:12em;padding:8px}
iframe{border:0;width:460px;height:110px;display:block;margin:10px 0;background:#eef}</style></head>
<body><h1>Pay for a parking permit</h1>
<p id="plain">Some text to tap that is not a field.</p>
<label for="top">Reference</label><br><input id="top" type="text">
<iframe id="same" src="/inner?mode=text" title="Same-origin form"></iframe>
SPACER<iframe id="cross" src="CROSS/inner?mode=email" title="Card payment"></iframe>
<div style="height:900px"></div>
<script>
window.seen = 0;
// A hostile page would hook whatever a relay through it might call:
// postMessage (the user script gives it nothing else to hook).
(function () {
  var pm = window.postMessage;
  window.postMessage = function () { window.seen++; return pm.apply(window, arguments); };
})();
["keydown","keypress","keyup","beforeinput","input","message"].forEach(function (t) {
  window.addEventListener(t, function (ev) {
    if (ev.type === "message" || !document.getElementById("top").contains(ev.target)) window.seen++;
  }, true);
});
</script></body></html>`

// innerPage is a frame's form: its field sits at the frame's top left, and
// Enter sends it to the frame's own server.
const innerPage = `<!doctype html><html><head><title>Inner</title>
<style>body{margin:0;font:20px sans-serif} input{font-size:24px;width:16em;padding:8px;margin:0;height:40px;box-sizing:border-box}</style></head>
<body><form action="/sent" method="get"><input id="f" name="v" type="MODE"></form></body></html>`

// TestKeyboardTypesIntoFrames uses the native keyboard on fields inside a
// same-origin iframe and a cross-origin iframe (another loopback address,
// allowed only as a frame): a real click into each field shows the
// keyboard with the field's mode, real clicks on its keys type into it,
// Delete deletes, Hide hides it until the field is touched again, Enter sends the frame's form to the frame's own server,
// the top page's scripts see none of the keys, a tap on the top page
// outside any field hides the keyboard, moving between a frame's field
// and the top page's field keeps it up, a frame the keyboard would cover
// is scrolled into view above it, and nothing typed is logged.
func TestKeyboardTypesIntoFrames(t *testing.T) {
	var mu sync.Mutex
	sent := map[string][]string{}
	serve := func(name string, page string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			switch r.URL.Path {
			case "/sent":
				mu.Lock()
				sent[name] = append(sent[name], r.URL.RawQuery)
				mu.Unlock()
				io.WriteString(w, "<!doctype html><title>Sent</title><p>Thank you")
			case "/inner":
				io.WriteString(w, strings.Replace(innerPage, "MODE", r.URL.Query().Get("mode"), 1))
			default:
				spacer := "" // ?low=1 puts the cross-origin frame where the keyboard will cover it
				if r.URL.Query().Get("low") == "1" {
					spacer = `<div style="height:240px"></div>`
				}
				io.WriteString(w, strings.Replace(page, "SPACER", spacer, 1))
			}
		})
	}
	cross := startServer(t, "cross", "127.0.0.2", serve("cross", ""))
	top := startServer(t, "top", "127.0.0.1", serve("same", strings.Replace(framesPage, "CROSS", cross.URL(), 1)))
	cfg := testConfig(t, []string{top.URL()}, []string{cross.URL()}, time.Hour, time.Minute)
	ts, log := keyboardShell(t, cfg)
	ts.load(t, top.URL()+"/pay")
	// Both frames loaded: the same-origin one is readable from the top;
	// the cross-origin one's form is seen by its server only, so wait for
	// its field to take up room (its load event in the top page).
	if !waitFor(15*time.Second, func() bool {
		return pollIn(t, ts.service, `(function(){
			var s = document.getElementById("same"), c = document.getElementById("cross");
			if (document.readyState !== "complete" || !s || !c) return false;
			var d = s.contentDocument;
			return !!(d && d.readyState === "complete" && d.getElementById("f"));
		})()`) == "true" && cross.count("GET /inner") > 0
	}) {
		t.Fatalf("frames page not loaded (cross server saw %v)", cross.requests())
	}
	time.Sleep(300 * time.Millisecond) // the cross-origin frame's document, after its request

	var zoom float64
	webkittest.Do(t, func() { zoom = ts.s.view.Zoom() })
	// clickEl clicks the element with id at (dx, dy) CSS px from its top
	// left corner (in a frame: that point of the frame's page), with a
	// real mouse click.
	clickEl := func(id string, dx, dy float64) {
		t.Helper()
		var sv webkit.Rect
		var x, y float64
		waitFor(3*time.Second, func() bool { // the layout settles (the keyboard came or went)
			s1, _ := ts.rect(t, webkit.PartService, 0)
			p1 := evalIn(t, ts.service, `(function(){var r=document.getElementById("`+id+`").getBoundingClientRect();return r.left+","+r.top})()`)
			time.Sleep(150 * time.Millisecond)
			sv, _ = ts.rect(t, webkit.PartService, 0)
			p2 := evalIn(t, ts.service, `(function(){var r=document.getElementById("`+id+`").getBoundingClientRect();return r.left+","+r.top})()`)
			parts := strings.Split(strings.Trim(p2, `"`), ",")
			x, _ = strconv.ParseFloat(parts[0], 64)
			y, _ = strconv.ParseFloat(parts[1], 64)
			return s1 == sv && p1 == p2
		})
		px, py := sv.X+int((x+dx)*zoom), sv.Y+int((y+dy)*zoom)
		if py >= sv.Bottom() || py < sv.Y {
			t.Fatalf("%s at %v,%v CSS px is off the view %+v", id, x, y, sv)
		}
		xdo(t, "mousemove", fmt.Sprint(px), fmt.Sprint(py), "click", "1")
	}
	kbUp := func(want bool, mode string) {
		t.Helper()
		var shown, visible bool
		var got string
		if !waitFor(5*time.Second, func() bool {
			webkittest.Do(t, func() { shown, visible, got = ts.s.KeyboardShown(), ts.s.win.KeyboardVisible(), ts.s.kb.mode })
			return shown == want && visible == want && (!want || got == mode)
		}) {
			t.Fatalf("keyboard shown %v visible %v mode %q: want shown %v mode %q", shown, visible, got, want, mode)
		}
	}
	sameValue := func() string {
		return evalIn(t, ts.service, `document.getElementById("same").contentDocument.getElementById("f").value`)
	}
	seen := func() string { return evalIn(t, ts.service, `window.seen`) }

	// The same-origin frame's text field.
	clickEl("same", 60, 20)
	kbUp(true, "text")
	ts.taps(t, "c", "⇧ Shift", "A", "x", "Delete", "t", "space", "123", "7")
	ts.tap(t, "£") // not on the X server's US keymap: a key event with no hardware key
	if !waitFor(5*time.Second, func() bool { return sameValue() == `"cAt 7£"` }) {
		t.Fatalf("same-origin frame's field holds %s, want \"cAt 7£\"", sameValue())
	}
	if got := evalIn(t, ts.service, `document.getElementById("top").value`); got != `""` {
		t.Errorf("the top page's field holds %s: keys meant for the frame went to it", got)
	}

	// Tapping the top page outside any field hides the keyboard.
	clickEl("plain", 10, 10)
	kbUp(false, "")

	// The cross-origin frame's email field: the email keys, typed through
	// to the field, sent with Enter to the frame's own server.
	clickEl("cross", 60, 20)
	kbUp(true, "email")
	ts.taps(t, "a", "@", "b", "z", "Delete", ".com")
	// The top page saw none of it (nor of the same-origin frame's keys).
	if got := seen(); got != "0" {
		t.Errorf("the top page's scripts saw %s key, input or message events typed into its frames", got)
	}

	// From the frame's field to the top page's field and back: the
	// keyboard stays up, and types into each in turn.
	clickEl("top", 60, 20)
	kbUp(true, "text")
	time.Sleep(400 * time.Millisecond) // longer than the frames' hide delay
	kbUp(true, "text")
	ts.taps(t, "r", "w", "123", "8")
	if !waitFor(5*time.Second, func() bool { return pollIn(t, ts.service, `document.getElementById("top").value`) == `"rw8"` }) {
		t.Fatalf("top field holds %s, want \"rw8\"", evalIn(t, ts.service, `document.getElementById("top").value`))
	}
	clickEl("cross", 60, 20)
	kbUp(true, "email")
	time.Sleep(400 * time.Millisecond)
	kbUp(true, "email")
	// Hide, then touching the frame's focused field brings it back.
	ts.tap(t, "Hide ⌄")
	kbUp(false, "")
	clickEl("cross", 120, 20)
	kbUp(true, "email")
	ts.tap(t, "Enter ↵")
	var got []string
	if !waitFor(5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); got = sent["cross"]; return len(got) > 0 }) {
		t.Fatal("Enter did not send the cross-origin frame's form")
	}
	if len(got) != 1 || got[0] != "v=a%40b.com" {
		t.Errorf("the cross-origin frame sent %q, want [v=a%%40b.com]", got)
	}
	// Its field is gone with the frame's page: the keyboard goes.
	kbUp(false, "")
	if got := seen(); got != "0" {
		t.Errorf("the top page's scripts saw %s key, input or message events typed into its frames", got)
	}

	// A frame low on the page, which the keyboard would cover, is
	// scrolled up into view above it, and its field still takes the keys.
	ts.load(t, top.URL()+"/pay?low=1")
	if !waitFor(15*time.Second, func() bool {
		return pollIn(t, ts.service, `document.readyState === "complete" && !!document.getElementById("cross")`) == "true" &&
			cross.count("GET /inner") > 1
	}) {
		t.Fatal("low frames page not loaded")
	}
	time.Sleep(300 * time.Millisecond)
	kbUp(false, "")
	clickEl("cross", 60, 20)
	kbUp(true, "email")
	frameBox := func() string {
		return evalIn(t, ts.service, `(function(){var r=document.getElementById("cross").getBoundingClientRect();
			return r.top >= 0 && r.bottom <= window.innerHeight ? "in view" : r.top+"–"+r.bottom+" of "+window.innerHeight})()`)
	}
	if !waitFor(5*time.Second, func() bool { return frameBox() == `"in view"` }) {
		t.Errorf("the focused frame is at %s CSS px: covered by the keyboard", frameBox())
	}
	ts.taps(t, "d", "@", "e")
	ts.tap(t, ".com") // a valid address, or the field refuses to be sent
	ts.tap(t, "Enter ↵")
	if !waitFor(5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); got = sent["cross"]; return len(got) > 1 }) {
		t.Fatalf("Enter did not send the low cross-origin frame's form: cross server saw %v; active %s", cross.requests(), evalIn(t, ts.service, `document.activeElement.id + " " + document.hasFocus()`))
	}
	if got[1] != "v=d%40e.com" {
		t.Errorf("the low cross-origin frame sent %q, want v=d%%40e.com", got[1])
	}

	log.holdsNone(t, "cAt", "a@b.com", "a%40b.com", "rw8")
}

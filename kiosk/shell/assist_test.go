package shell

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/assist/assisttest"
	"accesskiosk/kiosk/assist/link"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// The shell's remote help against the real kiosk/assist sharer, over the
// real kiosk↔agent socket (kiosk/assist/link), with the test standing where
// the agent is: it sends the offers, acknowledges frames as a viewer would
// and rebuilds the screen from them (assisttest.Viewer, as viewer.js does).
// The whole chain (real agent, fleet and console in Chromium) is
// TestRemoteHelpWholeChain.

// Colours of the test page: the marker staff must see, and the background
// of every field that must stay black.
var (
	markerRGB = [3]uint8{0xFF, 0x00, 0xFF}
	secretRGB = [3]uint8{0x00, 0xFF, 0xFF}
)

// assistPage is a service form: a marker, a password field, a card number
// (a mask selector), a cross-origin payment iframe with a card field, and
// a plain name field, every secret on a cyan background.
func assistPage(payURL string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Form</title></head>
<body style="margin:0;background:#fff;font:20px sans-serif">
<div id="marker" style="position:absolute;left:40px;top:40px;width:160px;height:80px;background:#ff00ff"></div>
<input id="name" style="position:absolute;left:40px;top:150px;width:300px;height:40px;font-size:24px" value="Alex">
<input id="pw" type="password" style="position:absolute;left:40px;top:220px;width:300px;height:40px;font-size:24px;background:#00ffff;border:0">
<input id="card" autocomplete="cc-number" style="position:absolute;left:40px;top:290px;width:300px;height:40px;font-size:24px;background:#00ffff;border:0" value="4929 1234 5678 9012">
<iframe id="pay" src="` + payURL + `" style="position:absolute;left:420px;top:40px;width:320px;height:160px;border:0"></iframe>
</body></html>`
}

const payPage = `<!doctype html><body style="margin:0;background:#00ffff"><input autocomplete="cc-csc" style="margin:20px;width:120px;height:40px;background:#00ffff;border:0" value="123"></body>`

// Places on the page (CSS px in the view).
var (
	pageMarker = image.Rect(40, 40, 200, 120)
	pageName   = image.Rect(40, 150, 340, 190)
	pagePW     = image.Rect(40, 220, 340, 260)
	pageCard   = image.Rect(40, 290, 340, 330)
	pagePay    = image.Rect(420, 40, 740, 200)
)

// fakeAgent is the agent's side of the kiosk socket, driven by the test.
type fakeAgent struct {
	t      *testing.T
	ln     *link.Listener
	conns  chan *link.Conn
	conn   *link.Conn
	msgs   chan *wire.Msg
	frames chan []byte
}

func startFakeAgent(t *testing.T, socket string) *fakeAgent {
	t.Helper()
	ln, err := link.Listen(link.ListenOptions{Path: socket, Group: -1})
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAgent{t: t, ln: ln, conns: make(chan *link.Conn, 4)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, _, err := ln.Accept()
			if err != nil {
				if errors.Is(err, link.ErrPeerRefused) {
					continue
				}
				return
			}
			a.conns <- c
		}
	}()
	return a
}

// accept waits for the kiosk to dial and starts reading from it.
func (a *fakeAgent) accept() {
	a.t.Helper()
	select {
	case c := <-a.conns:
		if a.conn != nil {
			a.conn.Close()
		}
		a.conn = c
	case <-time.After(30 * time.Second):
		a.t.Fatal("the kiosk did not dial the agent's socket within 30 s")
	}
	a.msgs, a.frames = make(chan *wire.Msg, 64), make(chan []byte, 64)
	msgs, frames, c := a.msgs, a.frames, a.conn
	go func() {
		defer close(msgs)
		for {
			p, err := c.Read()
			if err != nil {
				return
			}
			if p.Frame != nil {
				select {
				case frames <- p.Frame:
				default: // the test is not reading frames now: drop, as a hop would
				}
				continue
			}
			msgs <- p.Msg
		}
	}()
}

func (a *fakeAgent) send(m *wire.Msg) {
	a.t.Helper()
	if err := a.conn.WriteMsg(m); err != nil {
		a.t.Fatalf("send %s to the kiosk: %v", m.Type, err)
	}
}

// expect waits for a message of type typ from the kiosk (others are skipped).
func (a *fakeAgent) expect(typ string, d time.Duration) *wire.Msg {
	a.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-a.msgs:
			if !ok {
				a.t.Fatalf("the kiosk closed its socket while the test waited for %q", typ)
			}
			if m.Type == typ {
				return m
			}
		case <-deadline:
			a.t.Fatalf("no %q message from the kiosk within %v", typ, d)
			return nil
		}
	}
}

// drain forgets frames already sent.
func (a *fakeAgent) drain() {
	for {
		select {
		case <-a.frames:
		default:
			return
		}
	}
}

// noFrame checks that no frame arrives for d.
func (a *fakeAgent) noFrame(d time.Duration) {
	a.t.Helper()
	select {
	case <-a.frames:
		a.t.Fatal("a frame was sent")
	case <-time.After(d):
	}
}

// screen applies frames (acknowledging each, as a viewer) until ok says
// the rebuilt screen is what the test waits for, or d passes.
func (a *fakeAgent) screen(v *assisttest.Viewer, d time.Duration, ok func(*image.RGBA) bool) (*image.RGBA, int) {
	a.t.Helper()
	deadline := time.After(d)
	n := 0
	for {
		select {
		case b := <-a.frames:
			if err := v.Apply(b); err != nil {
				a.t.Fatalf("frame: %v", err)
			}
			n++
			a.send(&wire.Msg{Type: wire.TypeAck, Seq: v.Seq})
			if ok(v.Screen) {
				return v.Screen, n
			}
		case <-deadline:
			if v.Screen != nil {
				p := filepath.Join(a.t.TempDir(), "last.png")
				f, _ := os.Create(p)
				png.Encode(f, v.Screen)
				f.Close()
				a.t.Logf("last screen rebuilt: %s", p)
			}
			a.t.Fatalf("the frames did not show what was expected within %v (%d frames)", d, n)
			return nil, n
		}
	}
}

// assistShell starts the kiosk with remote help on and the fake agent,
// and shows the test form; place is where the service view is in the
// window (the capture's grid).
type assistRig struct {
	ts       *testShell
	agent    *fakeAgent
	place    image.Rectangle
	page     string
	pages    map[string]string // more pages the service serves, by path
	receipts chan bus.Receipt
}

func startAssist(t *testing.T, tweak func(*config.Config)) *assistRig {
	t.Helper()
	return startAssistOn(t, tweak, "")
}

// startAssistOn is startAssist with the kiosk dialling socket, where a
// real agent listens; "" starts the fake agent (rig.agent) on a socket of
// its own.
func startAssistOn(t *testing.T, tweak func(*config.Config), socket string) *assistRig {
	t.Helper()
	pay := startServer(t, "pay", "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, payPage)
	}))
	pages := map[string]string{}
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if p, ok := pages[r.URL.Path]; ok {
			io.WriteString(w, p)
			return
		}
		io.WriteString(w, assistPage(pay.URL()+"/pay"))
	}))
	cfg := testConfig(t, []string{svc.URL()}, []string{pay.URL()}, time.Hour, time.Minute)
	fake := socket == ""
	if fake {
		socket = filepath.Join(t.TempDir(), "assist.sock")
	}
	cfg.Assist = assist.Config{Enabled: true, Socket: socket, Phone: "020 7974 4444", Hours: "Monday to Friday, 9am to 5pm",
		MaskSelectors: []string{"input[autocomplete^=cc-]"}, TimeLimit: wire.TimeLimit, MaxFPS: 8}
	cfg.UI.Keyboard = ui.KeyboardAlways
	if tweak != nil {
		tweak(cfg)
	}
	var agent *fakeAgent
	if fake {
		agent = startFakeAgent(t, socket)
	}
	ts := startPagesShell(t, cfg)
	if fake {
		agent.accept()
	}
	r := &assistRig{ts: ts, agent: agent, page: svc.URL() + "/", pages: pages, receipts: make(chan bus.Receipt, 8)}
	webkittest.Do(t, func() {
		prev := ts.s.opts.Observer.SessionEnded
		ts.s.opts.Observer.SessionEnded = func(reason string, rc bus.Receipt) {
			select {
			case r.receipts <- rc:
			default:
			}
			prev(reason, rc)
		}
	})
	r.show(t, r.page)
	return r
}

// show loads u in the service view and waits for its reporters.
func (r *assistRig) show(t *testing.T, u string) {
	t.Helper()
	r.ts.load(t, u)
	if !waitFor(30*time.Second, func() bool {
		return evalOK(t, r.ts.service, fmt.Sprintf(`location.href === %q && document.readyState === "complete" && !!document.getElementById("marker")`, u))
	}) {
		t.Fatalf("%s did not load", u)
	}
	webkittest.Do(t, func() { r.place, _ = r.ts.s.win.ViewPlace(r.ts.s.view) })
}

// evalOK evaluates a boolean expression; an error (a page being replaced) is false.
func evalOK(t testing.TB, pick func() *webkit.View, js string) bool {
	ch := make(chan bool, 1)
	webkittest.Do(t, func() {
		v := pick()
		if v == nil {
			ch <- false
			return
		}
		v.Eval(js, func(s string, err error) { ch <- err == nil && s == "true" })
	})
	select {
	case ok := <-ch:
		return ok
	case <-time.After(30 * time.Second):
		return false
	}
}

// at is where a page rectangle is in the capture.
func (r *assistRig) at(rc image.Rectangle) image.Rectangle { return rc.Add(r.place.Min) }

// shown is what the shell shows of remote help now.
func (r *assistRig) shown(t testing.TB) (s assistShown) {
	webkittest.Do(t, func() { s = r.ts.s.assistShownNow() })
	return s
}

// tap clicks the window's button with id where it is on the screen, with
// a real (XTEST) pointer.
func (r *assistRig) tap(t *testing.T, id int) {
	t.Helper()
	var rc webkit.Rect
	ok := waitFor(10*time.Second, func() bool {
		var shown bool
		webkittest.Do(t, func() { rc, shown = r.ts.s.win.Rect(webkit.PartButton, id) })
		return shown
	})
	if !ok {
		t.Fatalf("button %d is not on the screen", id)
	}
	xdo(t, "mousemove", strconv.Itoa(rc.X+rc.W/2), strconv.Itoa(rc.Y+rc.H/2), "click", "1")
}

// clickPage clicks a point of the page (CSS px) with a real pointer.
func (r *assistRig) clickPage(t *testing.T, p image.Point) {
	t.Helper()
	var origin image.Point
	webkittest.Do(t, func() {
		if rc, ok := r.ts.s.win.Rect(webkit.PartService, 0); ok {
			origin = image.Pt(rc.X, rc.Y)
		}
	})
	xdo(t, "mousemove", strconv.Itoa(origin.X+p.X), strconv.Itoa(origin.Y+p.Y), "click", "1")
}

// offer makes the agent offer help and waits for the consent prompt.
func (r *assistRig) offer(t *testing.T) {
	t.Helper()
	r.agent.send(&wire.Msg{Type: wire.TypeOffer})
	if !waitFor(10*time.Second, func() bool { return r.shown(t).Prompting }) {
		t.Fatal("no consent prompt within 10 s of the offer")
	}
}

// allow offers, taps Allow for real and waits for the consent.
func (r *assistRig) allow(t *testing.T) {
	t.Helper()
	r.offer(t)
	r.tap(t, panelAssistAllow)
	if m := r.agent.expect(wire.TypeConsent, 10*time.Second); !m.Granted {
		t.Fatal("consent not granted")
	}
}

func black(img *image.RGBA, rc image.Rectangle) bool { return assisttest.MaxChannel(img, rc) < 40 }

func centre(rc image.Rectangle) image.Point {
	return image.Pt((rc.Min.X+rc.Max.X)/2, (rc.Min.Y+rc.Max.Y)/2)
}

// TestAssistShare: an offer shows the native consent prompt (named for
// screen readers), a real tap on Allow starts the share, and the frames
// the agent gets show the marker where it is on the kiosk's screen while
// the password field, the card number and the cross-origin payment frame
// are black, also while the resident types a password (and the on-screen
// keyboard is black while the password field has the focus); a staff
// point draws the ring there (seen in a screenshot of the X display);
// Stop sharing, tapped for real, ends it; No thanks sends nothing; the end
// of the session ends a share first and the receipt says so.
func TestAssistShare(t *testing.T) {
	r := startAssist(t, nil)
	ts := r.ts

	// The prompt, its names.
	r.offer(t)
	var name, allowName, noName string
	webkittest.Do(t, func() {
		w := ts.s.win
		name = w.PanelName()
		allowName, noName = w.AccessibleName(webkit.PartButton, panelAssistAllow), w.AccessibleName(webkit.PartButton, panelAssistNo)
	})
	if !strings.Contains(name, "Test Council digital support would like to see this screen to help you") || !strings.Contains(name, "cannot type or click") {
		t.Errorf("consent prompt's accessible name %q", name)
	}
	if allowName != "Allow" || noName != "No thanks" {
		t.Errorf("buttons named %q and %q, want Allow and No thanks", allowName, noName)
	}
	r.agent.noFrame(500 * time.Millisecond) // nothing before the tap
	shots := os.Getenv("SCREENSHOTS")       // make screenshots-assist
	if shots != "" {
		webkittest.Do(t, func() { ts.s.win.Snapshot(filepath.Join(shots, "kiosk-assist-consent.png")) })
	}

	// A real tap on Allow.
	r.tap(t, panelAssistAllow)
	if m := r.agent.expect(wire.TypeConsent, 10*time.Second); !m.Granted {
		t.Fatal("consent not granted")
	}
	if !waitFor(5*time.Second, func() bool { return r.shown(t).Bar != "" }) {
		t.Fatal("no sharing bar")
	}
	if bar := r.shown(t).Bar; bar != "Test Council support can see this screen" {
		t.Errorf("bar says %q", bar)
	}
	var barName, stopName string
	webkittest.Do(t, func() { barName, stopName = ts.s.win.AssistBarNames() })
	if barName == "" || !strings.Contains(stopName, "Stop sharing") {
		t.Errorf("bar named %q, its button %q", barName, stopName)
	}
	// The bar pushed the view down: where the page is now.
	webkittest.Do(t, func() { r.place, _ = ts.s.win.ViewPlace(ts.s.view) })

	v := &assisttest.Viewer{}
	mk := r.at(pageMarker)
	img, n := r.agent.screen(v, 10*time.Second, func(img *image.RGBA) bool {
		return assisttest.Near(img, centre(mk).X, centre(mk).Y, markerRGB, 40)
	})
	t.Logf("marker seen after %d frames (%v in the window)", n, mk)
	for what, rc := range map[string]image.Rectangle{"password field": pagePW, "card number": pageCard, "payment frame": pagePay} {
		if !black(img, r.at(rc)) {
			t.Errorf("the %s is not black in the frames (max channel %d)", what, assisttest.MaxChannel(img, r.at(rc)))
		}
	}
	if black(img, r.at(pageName).Inset(4)) {
		t.Error("the name field (not secret) is black")
	}

	// The resident types a password: it stays black, and so does the
	// on-screen keyboard while the field has the focus.
	r.clickPage(t, centre(pagePW))
	if !waitFor(10*time.Second, func() bool {
		var shown bool
		webkittest.Do(t, func() { shown = ts.s.win.KeyboardVisible() })
		return shown
	}) {
		t.Fatal("the on-screen keyboard did not come up for the password field")
	}
	key(t, "s", "e", "c", "r", "e", "t")
	if !waitFor(10*time.Second, func() bool {
		return evalOK(t, ts.service, `document.getElementById("pw").value === "secret"`)
	}) {
		t.Fatal("the password was not typed")
	}
	var kb image.Rectangle
	webkittest.Do(t, func() { kb, _ = ts.s.win.KeyboardPlace() })
	webkittest.Do(t, func() { r.place, _ = ts.s.win.ViewPlace(ts.s.view) })
	img, _ = r.agent.screen(v, 10*time.Second, func(img *image.RGBA) bool {
		return img.Bounds().Dy() > 0 && black(img, kb) && assisttest.Near(img, centre(r.at(pageMarker)).X, centre(r.at(pageMarker)).Y, markerRGB, 40)
	})
	if !black(img, r.at(pagePW)) {
		t.Errorf("the password field with text in it is not black (max %d)", assisttest.MaxChannel(img, r.at(pagePW)))
	}

	// Staff point: the ring is drawn on the kiosk's screen there.
	pt := centre(r.at(pageMarker))
	r.agent.send(&wire.Msg{Type: wire.TypePoint, X: pt.X, Y: pt.Y, Text: "Tap here"})
	if !waitFor(5*time.Second, func() bool {
		var x, y int
		var ok bool
		webkittest.Do(t, func() { x, y, ok = ts.s.win.RingShown() })
		return ok && x == pt.X && y == pt.Y
	}) {
		t.Fatal("no ring at the point")
	}
	shot := filepath.Join(t.TempDir(), "ring.png")
	var ringOK bool
	waitFor(5*time.Second, func() bool {
		webkittest.Do(t, func() { ts.s.win.Snapshot(shot) })
		img, err := loadPNG(shot)
		if err != nil {
			return false
		}
		// The ring's yellow is on a circle of radius 34 around the point.
		ringOK = assisttest.Near(img, pt.X+34, pt.Y, [3]uint8{0xFF, 0xDD, 0x00}, 30) && assisttest.Near(img, pt.X, pt.Y-34, [3]uint8{0xFF, 0xDD, 0x00}, 30)
		return ringOK
	})
	if !ringOK {
		t.Errorf("no yellow ring around %v in a screenshot of the display (%s)", pt, shot)
	}
	if shots != "" {
		webkittest.Do(t, func() { ts.s.win.Snapshot(filepath.Join(shots, "kiosk-assist-sharing.png")) })
	}

	// Stop sharing, tapped for real.
	r.tap(t, toolAssistStop)
	if m := r.agent.expect(wire.TypeEnd, 5*time.Second); m.Reason != wire.ReasonStop {
		t.Errorf("ended with %q, want stop", m.Reason)
	}
	if s := r.shown(t); s.Sharing || s.Bar != "" {
		t.Errorf("still sharing after Stop: %+v", s)
	}

	// No thanks: nothing is sent.
	r.agent.drain()
	r.offer(t)
	r.tap(t, panelAssistNo)
	if m := r.agent.expect(wire.TypeEnd, 5*time.Second); m.Reason != wire.ReasonRefused {
		t.Errorf("No thanks ended with %q, want refused", m.Reason)
	}
	r.agent.noFrame(time.Second)

	// The session ends (End session): the share ends first, the receipt says so.
	r.allow(t)
	if !waitFor(5*time.Second, func() bool { return r.shown(t).Sharing }) {
		t.Fatal("not sharing")
	}
	time.Sleep(300 * time.Millisecond) // a measurable share
	webkittest.Do(t, func() { ts.s.endSession(bus.ReasonToolbar) })
	if m := r.agent.expect(wire.TypeEnd, 5*time.Second); m.Reason != wire.ReasonSessionEnd {
		t.Errorf("End session ended the share with %q, want session_end", m.Reason)
	}
	select {
	case rc := <-r.receipts:
		if !rc.RemoteHelp || rc.RemoteHelpMs < 300 {
			t.Errorf("receipt says assist %v for %d ms, want true and at least 300", rc.RemoteHelp, rc.RemoteHelpMs)
		}
		if rc.Counted == nil || rc.Counted.Assists != 2 {
			t.Errorf("receipt counts %+v, want 2 assists (the shares of this session: Stop, then End session)", rc.Counted)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no receipt")
	}
}

func loadPNG(path string) (*image.RGBA, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, err
	}
	out := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			out.Set(x, y, img.At(x, y))
		}
	}
	return out, nil
}

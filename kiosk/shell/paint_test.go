package shell

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// shot is the kiosk window as the screen shows it (Window.Snapshot),
// decoded.
func (ts *testShell) shot(t testing.TB) image.Image {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shot.png")
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
		t.Fatalf("decode the window's snapshot: %v", err)
	}
	return img
}

// settledShot waits (at most d) until two pictures of the window taken
// 200ms apart are the same in r (window coordinates; the whole window
// when empty) and returns the last; when it never settled (a caret
// blinking in r, a page still moving), false and where the last two
// differed.
func (ts *testShell) settledShot(t testing.TB, d time.Duration, r image.Rectangle) (image.Image, image.Rectangle, bool) {
	t.Helper()
	end := time.Now().Add(d)
	last := ts.shot(t)
	for {
		time.Sleep(200 * time.Millisecond)
		img := ts.shot(t)
		area := r
		if area.Empty() {
			area = img.Bounds()
		}
		var moved image.Rectangle
		if img.Bounds() != last.Bounds() {
			moved = img.Bounds()
		} else {
			_, moved = differing(last, img, area, area.Min)
		}
		last = img
		if moved.Empty() {
			return img, moved, true
		}
		if time.Now().After(end) {
			return img, moved, false
		}
	}
}

// differing counts the pixels of a in ra that differ from b's at the same
// place relative to bMin, and bounds them (in a's coordinates).
func differing(a, b image.Image, ra image.Rectangle, bMin image.Point) (int, image.Rectangle) {
	n := 0
	var box image.Rectangle
	pa, okA := a.(*image.RGBA) // what image/png gives for the snapshots
	pb, okB := b.(*image.RGBA)
	for y := ra.Min.Y; y < ra.Max.Y; y++ {
		by := bMin.Y + y - ra.Min.Y
		if okA && okB && image.Pt(ra.Max.X-1, y).In(pa.Rect) && image.Pt(bMin.X+ra.Dx()-1, by).In(pb.Rect) &&
			image.Pt(ra.Min.X, y).In(pa.Rect) && image.Pt(bMin.X, by).In(pb.Rect) &&
			bytes.Equal(pa.Pix[pa.PixOffset(ra.Min.X, y):pa.PixOffset(ra.Max.X-1, y)+4], pb.Pix[pb.PixOffset(bMin.X, by):pb.PixOffset(bMin.X+ra.Dx()-1, by)+4]) {
			continue // the same row, alpha included
		}
		for x := ra.Min.X; x < ra.Max.X; x++ {
			bx := bMin.X + x - ra.Min.X
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(bx, by).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				n++
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return n, box
}

// parkPointer puts the pointer where nothing reacts to it: on the
// toolbar's background, in the window's top left corner, as on a touch
// screen, where nothing hovers. Xvfb starts it in the middle of the
// screen, where it may rest on a button and bring up its tooltip. (Off
// the window, the window would lose the keyboard focus: with no window
// manager, X gives it to the window under the pointer.)
func (ts *testShell) parkPointer(t testing.TB) {
	t.Helper()
	r, ok := ts.rect(t, webkit.PartToolbar, 0)
	if !ok {
		t.Fatal("no toolbar on screen")
	}
	xdo(t, "mousemove", fmt.Sprint(r.X+3), fmt.Sprint(r.Y+3))
}

// guideBar is where the guide pane's bar (title and Close button) is, in
// window coordinates: from the Close button's top to the guide view's.
func (ts *testShell) guideBar(t testing.TB) image.Rectangle {
	t.Helper()
	win := ts.settledRect(t, webkit.PartToolbar, 0)
	g := ts.settledRect(t, webkit.PartGuide, 0)
	c := ts.settledRect(t, webkit.PartButton, toolCloseGuide)
	if c.Y >= g.Y || c.Bottom() > g.Y {
		t.Fatalf("the Close button %+v is not above the guide view %+v", c, g)
	}
	return image.Rect(g.X-win.X, c.Y-win.Y, g.X+g.W-win.X, g.Y-win.Y)
}

// TestGuideBarWithKeyboard: in portrait with a guide under the service,
// the keyboard coming up (and going) moves the guide bar, and the screen
// shows the bar exactly as before, with nothing of the service page over
// it; a tooltip the pointer brings up over it is in the screenshot as it
// is on the screen, and the bar is whole again once it goes.
func TestGuideBarWithKeyboard(t *testing.T) {
	svc := startServer(t, "service", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, councilForm)
	}))
	cfg := testConfig(t, []string{svc.URL()}, nil, time.Hour, time.Minute)
	cfg.UI.Keyboard = ui.KeyboardAlways
	pages, err := NewPages(&cfg.UI, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := startShell(t, Options{Config: cfg, NoBus: true, UI: pages})
	webkittest.Do(t, func() { ts.s.win.Resize(800, 1280) })
	if !waitFor(10*time.Second, func() bool { r, ok := ts.rect(t, webkit.PartToolbar, 0); return ok && r.W == 800 }) {
		t.Fatal("window did not become 800x1280")
	}
	loaded := func(pick func() *webkit.View, what string) {
		t.Helper()
		if !waitFor(15*time.Second, func() bool {
			return pollIn(t, pick, `document.readyState === "complete" && document.body !== null && document.body.children.length > 0`) == "true"
		}) {
			t.Fatalf("%s did not finish loading", what)
		}
	}
	keyboard := func(want bool) {
		t.Helper()
		if !waitFor(5*time.Second, func() bool {
			var up bool
			webkittest.Do(t, func() { up = ts.s.KeyboardShown() })
			return up == want
		}) {
			t.Fatalf("keyboard shown is not %v", want)
		}
	}
	ts.load(t, svc.URL()+"/report")
	loaded(ts.service, "service page")
	webkittest.Do(t, func() { ts.s.openGuide(ts.s.cur, "report-missed-bin") })
	loaded(ts.guide, "guide")
	if _, stacked := ts.split(t); !stacked {
		t.Fatal("the guide is not under the service in portrait")
	}
	ts.parkPointer(t)

	// The bar with no keyboard: what it must look like wherever it is.
	bar0 := ts.guideBar(t)
	before, moved, ok := ts.settledShot(t, 5*time.Second, bar0)
	if !ok {
		t.Fatalf("the guide bar did not settle without the keyboard (%v still changing)", moved)
	}
	barSame := func(what string) {
		t.Helper()
		bar := ts.guideBar(t)
		if bar.Dx() != bar0.Dx() || bar.Dy() != bar0.Dy() {
			t.Fatalf("%s: the guide bar is %v, was %v: a different size", what, bar, bar0)
		}
		img, moved, ok := ts.settledShot(t, 5*time.Second, bar)
		if !ok {
			t.Errorf("%s: the guide bar at %v did not settle within 5s (%v still changing)", what, bar, moved)
		}
		if n, box := differing(before, img, bar0, bar.Min); n != 0 {
			out := filepath.Join(t.ArtifactDir(), fmt.Sprintf("window-%d.png", bar.Min.Y))
			if f, err := os.Create(out); err == nil {
				png.Encode(f, img)
				f.Close()
			}
			t.Errorf("%s: %d of the guide bar's %d pixels (%v) differ from the bar without the keyboard (%v), within %v; the window: %s (kept with go test -artifacts)",
				what, n, bar.Dx()*bar.Dy(), bar, bar0, box.Add(bar.Min.Sub(bar0.Min)), out)
		}
	}

	evalIn(t, ts.service, `document.getElementById("postcode").focus(); true`)
	keyboard(true)
	if bar := ts.guideBar(t); bar.Min.Y >= bar0.Min.Y {
		t.Fatalf("the keyboard did not move the guide bar up: %v, was %v", bar, bar0)
	}
	barSame("keyboard up")

	// The pointer resting on the Close button brings up its tooltip over
	// the guide: the screenshot shows it, as the screen does.
	c := ts.settledRect(t, webkit.PartButton, toolCloseGuide)
	px, py := c.X+c.W/2, c.Y+c.H/2
	xdo(t, "mousemove", fmt.Sprint(px), fmt.Sprint(py))
	band := image.Rect(max(px-100, 0), py+25, min(px+100, bar0.Max.X-10), py+30) // the tooltip's top, under the pointer
	var dark, all int
	if !waitFor(5*time.Second, func() bool {
		img := ts.shot(t)
		dark, all = 0, 0
		for y := band.Min.Y; y < band.Max.Y; y++ {
			for x := band.Min.X; x < band.Max.X; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				if max(r, g, b)>>8 < 80 {
					dark++
				}
				all++
			}
		}
		return dark*10 >= all*8
	}) {
		t.Errorf("the Close button's tooltip (dark, under the pointer at %d,%d) is not in the screenshot: %d of %d pixels in %v dark", px, py, dark, all, band)
	}
	ts.parkPointer(t)
	barSame("keyboard up, after the tooltip")

	ts.press(t, ui.Message("en", "kb.hide.short")+" ⌄")
	keyboard(false)
	barSame("keyboard hidden")
}

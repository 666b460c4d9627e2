package assist_test

import (
	"image"
	"testing"
	"time"

	"accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/assist/assisttest"
)

// encodeOne masks, diffs and encodes img as frame seq, and returns what a
// viewer rebuilds from it.
func encodeOne(t *testing.T, v *assisttest.Viewer, d *assist.Differ, e *assist.Encoder, img *image.RGBA, m assist.Masks, seq uint32) (sent bool, size int) {
	t.Helper()
	assist.Paint(img, m)
	rects, key := d.Changed(img)
	if len(rects) == 0 {
		return false, 0
	}
	b, err := e.Encode(img, rects, seq, key, assist.DefaultQuality)
	if err != nil {
		t.Fatalf("encode frame %d: %v", seq, err)
	}
	if err := v.Apply(b); err != nil {
		t.Fatalf("apply frame %d: %v", seq, err)
	}
	d.Commit(img, rects, key)
	return true, len(b)
}

// TestMaskedFieldsAreBlackInTheEncodedFrame runs a real capture (a form
// with a typed password and a card number, from Chromium) through the
// masks, change detection and the JPEG encoder, decodes the frame as the
// viewer does, and checks pixels: the password and card fields are black,
// everything else is still there.
func TestMaskedFieldsAreBlackInTheEncodedFrame(t *testing.T) {
	img, form, err := assisttest.LoadForm()
	if err != nil {
		t.Fatal(err)
	}
	if assisttest.MaxChannel(img, form.Password.Inset(3)) < 200 {
		t.Fatal("the capture's password field is not visible before masking: the test would prove nothing")
	}
	tr := assist.NewTracker()
	tr.Report("top", []image.Rectangle{form.Password})
	tr.Report("payment-iframe", []image.Rectangle{form.Card})
	var v assisttest.Viewer
	var d assist.Differ
	var e assist.Encoder
	if sent, _ := encodeOne(t, &v, &d, &e, img, tr.Masks(), 1); !sent {
		t.Fatal("the first frame was not sent")
	}
	for name, r := range map[string]image.Rectangle{"password": form.Password, "card": form.Card} {
		if m := assisttest.MaxChannel(v.Screen, r); m > 24 {
			t.Errorf("%s field %v: brightest channel %d in the decoded frame, want black (≤ 24)", name, r, m)
		}
	}
	mk := form.Marker
	if !assisttest.Near(v.Screen, mk.Min.X+mk.Dx()/2, mk.Min.Y+mk.Dy()/2, assisttest.Magenta, 40) {
		t.Errorf("marker centre decoded as %v, want magenta", v.Screen.RGBAAt(mk.Min.X+mk.Dx()/2, mk.Min.Y+mk.Dy()/2))
	}
	if assisttest.MaxChannel(v.Screen, form.Name.Inset(3)) < 200 {
		t.Error("the name field (not masked) lost its white")
	}

	// Typing into the masked password field changes pixels the mask covers:
	// no frame at all may result (no timing signal either).
	next, _, _ := assisttest.LoadForm()
	for y := form.Password.Min.Y + 10; y < form.Password.Min.Y+25; y++ {
		for x := form.Password.Min.X + 340; x < form.Password.Min.X+360; x++ {
			next.Pix[next.PixOffset(x, y)] = 0x40
		}
	}
	if sent, _ := encodeOne(t, &v, &d, &e, next, tr.Masks(), 2); sent {
		t.Error("typing into a masked field produced a frame")
	}

	// The field moves (the page scrolled by 50 px) and reports its new
	// place: the old and the new places are both black in the next frame.
	// The old place stays masked for PrevKeep after the report, so the
	// capture is loaded first and the masks taken right after the report
	// (loading the image can take longer than that on a busy machine).
	moved := form.Password.Add(image.Pt(0, 50))
	third, _, _ := assisttest.LoadForm()
	tr.Report("top", []image.Rectangle{moved})
	masks := tr.Masks()
	if sent, _ := encodeOne(t, &v, &d, &e, third, masks, 3); !sent {
		t.Fatal("no frame after the masks moved")
	}
	for _, r := range []image.Rectangle{form.Password, moved.Intersect(third.Bounds())} {
		if m := assisttest.MaxChannel(v.Screen, r); m > 24 {
			t.Errorf("rectangle %v: brightest %d after the field moved, want black", r, m)
		}
	}
}

// TestKeyboardMaskedWhileMaskedFieldHasFocus: the on-screen keyboard's
// region is black only while a masked field has the focus.
func TestKeyboardMaskedWhileMaskedFieldHasFocus(t *testing.T) {
	img, _, err := assisttest.LoadForm()
	if err != nil {
		t.Fatal(err)
	}
	kb := image.Rect(0, 600, 1280, 800) // where the shell packs the keyboard
	for _, focus := range []bool{false, true} {
		tr := assist.NewTracker()
		tr.SetKeyboard(kb, focus)
		cp := image.NewRGBA(img.Bounds())
		copy(cp.Pix, img.Pix)
		var v assisttest.Viewer
		var d assist.Differ
		var e assist.Encoder
		encodeOne(t, &v, &d, &e, cp, tr.Masks(), 1)
		black := assisttest.MaxChannel(v.Screen, kb) <= 24
		if black != focus {
			t.Errorf("masked focus %v: keyboard region black = %v", focus, black)
		}
	}
}

// TestBlindMasksEverything: between a navigation and the new page's first
// reports, nothing of the screen is sent.
func TestBlindMasksEverything(t *testing.T) {
	img, _, err := assisttest.LoadForm()
	if err != nil {
		t.Fatal(err)
	}
	tr := assist.NewTracker()
	tr.Reset()
	var v assisttest.Viewer
	var d assist.Differ
	var e assist.Encoder
	encodeOne(t, &v, &d, &e, img, tr.Masks(), 1)
	if m := assisttest.MaxChannel(v.Screen, v.Screen.Bounds()); m > 24 {
		t.Errorf("blind frame: brightest %d, want all black", m)
	}
}

// TestOnlyChangedRegionsAreSent: typing one character sends one tile-sized
// region, a fraction of the key frame, and the viewer's picture matches.
func TestOnlyChangedRegionsAreSent(t *testing.T) {
	w, err := assisttest.NewWorkload()
	if err != nil {
		t.Fatal(err)
	}
	var v assisttest.Viewer
	var d assist.Differ
	var e assist.Encoder
	first := w.Next()
	_, keySize := encodeOne(t, &v, &d, &e, first, assist.Masks{}, 1)
	img := w.Next()
	assist.Paint(img, assist.Masks{})
	rects, key := d.Changed(img)
	if key || len(rects) != 1 {
		t.Fatalf("one typed character: %d regions (key %v), want 1", len(rects), key)
	}
	if r := rects[0]; r.Dx() > 2*assist.Tile || r.Dy() > assist.Tile {
		t.Errorf("region %v is bigger than two tiles", r)
	}
	b, err := e.Encode(img, rects, 2, false, assist.DefaultQuality)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)*10 > keySize {
		t.Errorf("delta frame is %d bytes, key frame %d: want under a tenth", len(b), keySize)
	}
	if err := v.Apply(b); err != nil {
		t.Fatal(err)
	}
	d.Commit(img, rects, false)
	// The typed glyph is dark in the viewer's picture.
	r := rects[0]
	if m := darkest(v.Screen, r); m > 60 {
		t.Errorf("the typed character did not arrive (darkest %d in %v)", m, r)
	}
}

func darkest(img *image.RGBA, r image.Rectangle) uint8 {
	m := uint8(255)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.RGBAAt(x, y)
			m = min(m, max(c.R, c.G, c.B))
		}
	}
	return m
}

// TestMovedFieldLeavesNoGhost: a field's old place is masked for PrevKeep
// after it reported a new one (covering a capture taken in between), and
// then no longer.
func TestMovedFieldLeavesNoGhost(t *testing.T) {
	tr := assist.NewTracker()
	old, moved := image.Rect(10, 10, 100, 40), image.Rect(10, 60, 100, 90)
	tr.Report("top", []image.Rectangle{old})
	tr.Report("top", []image.Rectangle{moved})
	has := func(r image.Rectangle) bool {
		for _, m := range tr.Masks().Rects {
			if m == r {
				return true
			}
		}
		return false
	}
	if !has(old) || !has(moved) {
		t.Fatal("right after the move, both places must be masked")
	}
	deadline := time.Now().Add(5 * time.Second)
	for has(old) {
		if time.Now().After(deadline) {
			t.Fatal("the old place is still masked 5 s after the move")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !has(moved) {
		t.Error("the field's new place is not masked")
	}
}

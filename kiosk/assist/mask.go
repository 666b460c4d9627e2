package assist

import (
	"image"
	"sync"
)

// MaskPad is how far, in frame pixels, every masked rectangle is grown on
// each side: a field's focus ring, shadow and a pixel of rounding stay
// inside the black.
const MaskPad = 4

// Masks is what must be black in one captured frame, in frame pixels
// (the capture's own grid, top-left origin). The shell builds it from the
// user script's reports (every frame, iframes of any origin included):
// the rectangles of password fields and of elements matching
// assist.mask_selectors, moved into the top view's coordinates.
type Masks struct {
	// Rects are the sensitive fields.
	Rects []image.Rectangle
	// Keyboard is the on-screen keyboard's region; it is masked while
	// MaskedFocus is true, so the keys a resident taps cannot be read.
	Keyboard image.Rectangle
	// MaskedFocus: a masked field has the focus.
	MaskedFocus bool
	// Blind: the shell cannot say where the sensitive fields are (a
	// navigation has committed and its frames have not reported yet, or a
	// frame failed to report): the whole frame is painted black.
	Blind bool
}

// Regions lists the rectangles Paint blackens inside bounds.
func (m Masks) Regions(bounds image.Rectangle) []image.Rectangle {
	if m.Blind {
		return []image.Rectangle{bounds}
	}
	out := make([]image.Rectangle, 0, len(m.Rects)+1)
	for _, r := range m.Rects {
		r = r.Canon()
		if r.Empty() {
			continue
		}
		r = image.Rect(r.Min.X-MaskPad, r.Min.Y-MaskPad, r.Max.X+MaskPad, r.Max.Y+MaskPad).Intersect(bounds)
		if !r.Empty() {
			out = append(out, r)
		}
	}
	if m.MaskedFocus {
		if k := m.Keyboard.Canon().Intersect(bounds); !k.Empty() {
			out = append(out, k)
		}
	}
	return out
}

// Paint blackens m's regions in img, in place. It runs on every frame
// before change detection and encoding, so nothing under a mask is ever
// compared, encoded or sent.
func Paint(img *image.RGBA, m Masks) {
	for _, r := range m.Regions(img.Bounds()) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
			for i := 0; i < len(row); i += 4 {
				row[i], row[i+1], row[i+2], row[i+3] = 0, 0, 0, 0xFF
			}
		}
	}
}

// Tracker gathers the user script's per-frame reports into Masks. Each
// document frame (the shell names it by an id of its own, such as WebKit's
// frame id) reports its sensitive rectangles whenever they change (load,
// scroll, resize, DOM change); the tracker keeps each frame's last two
// reports and masks both, so a field that moved between the report and
// the capture is black at its old and its new place. Safe for concurrent
// use.
type Tracker struct {
	mu       sync.Mutex
	frames   map[string]*frameRects
	keyboard image.Rectangle
	focus    bool
	blind    bool
}

type frameRects struct{ cur, prev []image.Rectangle }

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{frames: map[string]*frameRects{}} }

// Report sets frame's sensitive rectangles (already in frame pixels).
func (t *Tracker) Report(frame string, rects []image.Rectangle) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.frames[frame]
	if f == nil {
		f = &frameRects{}
		t.frames[frame] = f
	}
	f.prev, f.cur = f.cur, append([]image.Rectangle(nil), rects...)
}

// Forget drops a frame that went away (its document was replaced).
func (t *Tracker) Forget(frame string) {
	t.mu.Lock()
	delete(t.frames, frame)
	t.mu.Unlock()
}

// Reset forgets every frame (a new top document) and sets blind until
// SetBlind(false): nothing is sent before the new page's frames report.
func (t *Tracker) Reset() {
	t.mu.Lock()
	clear(t.frames)
	t.blind = true
	t.mu.Unlock()
}

// SetBlind sets or clears Masks.Blind.
func (t *Tracker) SetBlind(b bool) {
	t.mu.Lock()
	t.blind = b
	t.mu.Unlock()
}

// SetKeyboard sets the on-screen keyboard's region and whether a masked
// field has the focus.
func (t *Tracker) SetKeyboard(r image.Rectangle, maskedFocus bool) {
	t.mu.Lock()
	t.keyboard, t.focus = r, maskedFocus
	t.mu.Unlock()
}

// Masks returns what must be black now.
func (t *Tracker) Masks() Masks {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := Masks{Keyboard: t.keyboard, MaskedFocus: t.focus, Blind: t.blind}
	for _, f := range t.frames {
		m.Rects = append(m.Rects, f.cur...)
		m.Rects = append(m.Rects, f.prev...)
	}
	return m
}

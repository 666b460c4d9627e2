package assist

import (
	"image"
	"sync"
	"time"
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

// Tracker gathers what the page reports into Masks. Each document frame
// (the shell names it by WebKit's own frame identity) reports either a
// FrameReport from MaskScript (ReportFrame: CSS pixels, placed and
// composed here) or rectangles already in frame pixels (Report). The
// tracker masks each frame's last two reports (the previous one for
// PrevKeep), so a field that moved between a report and the capture is
// black at its old and its new place. Safe for concurrent use.
type Tracker struct {
	mu       sync.Mutex
	frames   map[string]*frameRects
	reports  map[string]*frameReports
	keyboard image.Rectangle
	focus    bool
	blind    bool
	origin   image.Point
	scale    float64
}

type frameRects struct {
	cur, prev []image.Rectangle
	at        time.Time // when cur came
}

type frameReports struct {
	cur, prev *FrameReport
	at        time.Time
}

// PrevKeep is how long a frame's previous report stays masked after a new
// one: long enough for a capture taken before the new report to be sent,
// short enough that a field that moved does not leave a black ghost.
const PrevKeep = 500 * time.Millisecond

// NewTracker returns an empty tracker (scale 1, origin 0,0).
func NewTracker() *Tracker {
	return &Tracker{frames: map[string]*frameRects{}, reports: map[string]*frameReports{}, scale: 1}
}

// Report sets frame's sensitive rectangles (already in frame pixels).
func (t *Tracker) Report(frame string, rects []image.Rectangle) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.frames[frame]
	if f == nil {
		f = &frameRects{}
		t.frames[frame] = f
	}
	f.prev, f.cur, f.at = f.cur, append([]image.Rectangle(nil), rects...), time.Now()
}

// ReportFrame records a MaskScript report from frame. The main frame's
// first report after Reset ends the blindness.
func (t *Tracker) ReportFrame(frame string, r FrameReport) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.reports[frame]
	if f == nil {
		f = &frameReports{}
		t.reports[frame] = f
	}
	f.prev, f.cur, f.at = f.cur, &r, time.Now()
	if r.Main && !r.Error {
		t.blind = false
	}
}

// SetGeometry says where the web view's top-left is in the capture and
// how many capture pixels a CSS pixel is (device scale × page zoom).
func (t *Tracker) SetGeometry(origin image.Point, scale float64) {
	t.mu.Lock()
	if scale > 0 {
		t.origin, t.scale = origin, scale
	}
	t.mu.Unlock()
}

// Forget drops a frame that went away (its document was replaced).
func (t *Tracker) Forget(frame string) {
	t.mu.Lock()
	delete(t.frames, frame)
	delete(t.reports, frame)
	t.mu.Unlock()
}

// Reset forgets every frame (a new top document) and is blind until the
// new main frame reports (or SetBlind(false)): nothing of a new page is
// sent before its frames say where their fields are.
func (t *Tracker) Reset() {
	t.mu.Lock()
	clear(t.frames)
	clear(t.reports)
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
// field has the focus (frame reports can say so too).
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
	now := time.Now()
	for _, f := range t.frames {
		m.Rects = append(m.Rects, f.cur...)
		if now.Sub(f.at) < PrevKeep {
			m.Rects = append(m.Rects, f.prev...)
		}
	}
	if len(t.reports) > 0 {
		cur := make([]FrameReport, 0, len(t.reports))
		prev := make([]FrameReport, 0, len(t.reports))
		for _, f := range t.reports {
			cur = append(cur, *f.cur)
			if f.prev != nil && now.Sub(f.at) < PrevKeep {
				prev = append(prev, *f.prev)
			} else {
				prev = append(prev, *f.cur)
			}
		}
		for _, set := range [][]FrameReport{cur, prev} {
			rects, focus, blind := compose(set, t.origin, t.scale)
			m.Rects = append(m.Rects, rects...)
			m.MaskedFocus = m.MaskedFocus || focus
			m.Blind = m.Blind || blind
		}
	}
	return m
}

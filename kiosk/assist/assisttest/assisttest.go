// Package assisttest has helpers for tests of remote help in any package:
// the real capture of a form page (testdata/form.png, taken by headless
// Chromium) with its layout, and a Go "viewer" that applies wire frames to
// an image the way the console's viewer.js draws them on its canvas.
package assisttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"

	"accesskiosk/fleet/assist/wire"
)

// Form is the layout of the form capture, in image pixels.
type Form struct {
	Password image.Rectangle // the password field (holding 28 typed characters)
	Card     image.Rectangle // a card-number field (an assist.mask_selectors match)
	Marker   image.Rectangle // a magenta (#ff00ff) box
	Name     image.Rectangle // an ordinary text field
}

// Magenta is the marker's colour.
var Magenta = [3]uint8{0xFF, 0x00, 0xFF}

func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// LoadForm returns a fresh copy of the form capture (1280×800) and its
// layout.
func LoadForm() (*image.RGBA, Form, error) {
	f, err := os.Open(filepath.Join(dir(), "form.png"))
	if err != nil {
		return nil, Form{}, err
	}
	defer f.Close()
	src, err := png.Decode(f)
	if err != nil {
		return nil, Form{}, err
	}
	img := image.NewRGBA(src.Bounds())
	draw.Draw(img, img.Bounds(), src, image.Point{}, draw.Src)
	b, err := os.ReadFile(filepath.Join(dir(), "form.json"))
	if err != nil {
		return nil, Form{}, err
	}
	var raw struct{ Password, Card, Marker, Name [4]int }
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, Form{}, err
	}
	r := func(a [4]int) image.Rectangle { return image.Rect(a[0], a[1], a[0]+a[2], a[1]+a[3]) }
	return img, Form{Password: r(raw.Password), Card: r(raw.Card), Marker: r(raw.Marker), Name: r(raw.Name)}, nil
}

// Viewer rebuilds the screen from frames, as viewer.js does.
type Viewer struct {
	Screen *image.RGBA
	Seq    uint32
}

// Apply parses frame b, decodes its JPEGs and draws them. A frame whose
// size differs from the screen must be a key frame.
func (v *Viewer) Apply(b []byte) error {
	f, err := wire.ParseFrame(b)
	if err != nil {
		return err
	}
	if v.Screen == nil || v.Screen.Bounds().Dx() != f.Width || v.Screen.Bounds().Dy() != f.Height {
		if !f.Key {
			return fmt.Errorf("frame %d: a new size without a key frame", f.Seq)
		}
		v.Screen = image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	}
	for i, r := range f.Regions {
		var img image.Image
		var err error
		if wire.IsPNG(r.Image) {
			img, err = png.Decode(bytes.NewReader(r.Image))
		} else {
			img, err = jpeg.Decode(bytes.NewReader(r.Image))
		}
		if err != nil {
			return fmt.Errorf("frame %d region %d: %w", f.Seq, i, err)
		}
		if img.Bounds().Dx() != r.W || img.Bounds().Dy() != r.H {
			return fmt.Errorf("frame %d region %d: image is %v, region %d×%d", f.Seq, i, img.Bounds(), r.W, r.H)
		}
		draw.Draw(v.Screen, image.Rect(r.X, r.Y, r.X+r.W, r.Y+r.H), img, img.Bounds().Min, draw.Src)
	}
	v.Seq = f.Seq
	return nil
}

// MaxChannel is the brightest channel value inside r of img: near 0 means
// black (JPEG leaves a few levels of noise at edges).
func MaxChannel(img *image.RGBA, r image.Rectangle) uint8 {
	var m uint8
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.RGBAAt(x, y)
			m = max(m, c.R, c.G, c.B)
		}
	}
	return m
}

// Near reports whether the pixel at (x, y) is within tol of rgb on every channel.
func Near(img *image.RGBA, x, y int, rgb [3]uint8, tol int) bool {
	c := img.RGBAAt(x, y)
	d := func(a, b uint8) int {
		if a > b {
			return int(a - b)
		}
		return int(b - a)
	}
	return d(c.R, rgb[0]) <= tol && d(c.G, rgb[1]) <= tol && d(c.B, rgb[2]) <= tol
}

// Workload is "a typical form page" for tests and benchmarks: the form
// capture with a resident typing into the name field (one character-sized
// change per frame, the caret moving), and every ScrollEvery frames the
// page scrolling by 40 pixels (a change of nearly the whole screen).
type Workload struct {
	base, cur   *image.RGBA
	form        Form
	n           int
	ScrollEvery int // 0 means 40
}

// NewWorkload starts the workload on the form capture.
func NewWorkload() (*Workload, error) {
	img, f, err := LoadForm()
	if err != nil {
		return nil, err
	}
	cur := image.NewRGBA(img.Bounds())
	copy(cur.Pix, img.Pix)
	return &Workload{base: img, cur: cur, form: f}, nil
}

// Form is the layout (before any scrolling).
func (w *Workload) Form() Form { return w.form }

// Next returns the next screen as a new image (the caller owns it).
func (w *Workload) Next() *image.RGBA {
	every := w.ScrollEvery
	if every <= 0 {
		every = 40
	}
	w.n++
	if w.n%every == 0 {
		// Scroll: shift by 40 px, alternating up and back.
		dy := 40
		if (w.n/every)%2 == 0 {
			dy = 0
		}
		b := w.base.Bounds()
		for y := 0; y < b.Dy(); y++ {
			sy := min(y+dy, b.Dy()-1)
			copy(w.cur.Pix[y*w.cur.Stride:(y+1)*w.cur.Stride], w.base.Pix[sy*w.base.Stride:(sy+1)*w.base.Stride])
		}
	} else {
		// Type: a dark 9×15 glyph-sized block after "Alex Example", wrapping.
		f := w.form.Name
		i := w.n % 24
		x := f.Min.X + 150 + i*11
		y := f.Min.Y + 12
		if i == 0 { // the field was cleared: restore it from the base
			draw.Draw(w.cur, f, w.base, f.Min, draw.Src)
		}
		for yy := y; yy < y+15; yy++ {
			for xx := x; xx < x+9 && xx < f.Max.X-4; xx++ {
				o := w.cur.PixOffset(xx, yy)
				w.cur.Pix[o], w.cur.Pix[o+1], w.cur.Pix[o+2] = 0x0b, 0x0c, 0x0c
			}
		}
	}
	out := image.NewRGBA(w.cur.Bounds())
	copy(out.Pix, w.cur.Pix)
	return out
}

package assist

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"accesskiosk/fleet/assist/wire"
)

// Quality bounds of the JPEG encoder (image/jpeg's 1..100 scale).
const (
	MinQuality     = 20
	MaxQuality     = 80
	DefaultQuality = 55
)

// FlatColours is the most distinct colours a region may have to be sent
// as a PNG (lossless: text stays sharp, and a typed character or a flat
// form costs a fraction of a JPEG); regions with more (photographs,
// gradients, anti-aliased images) go as JPEG at the controller's quality.
const FlatColours = 64

// Encoder turns the changed regions of a masked frame into one wire frame.
// It reuses its buffers: one Encoder per share, used from one goroutine.
type Encoder struct {
	jbuf bytes.Buffer
	out  []byte
	regs []wire.Region
	png  png.Encoder
	pool pngPool
	// JPEGOnly sends every region as JPEG (for comparison in benchmarks).
	JPEGOnly bool
	// Counts of regions sent each way.
	JPEGRegions, PNGRegions int
}

type pngPool struct{ b *png.EncoderBuffer }

func (p *pngPool) Get() *png.EncoderBuffer  { return p.b }
func (p *pngPool) Put(b *png.EncoderBuffer) { p.b = b }

// flat reports whether r of img has at most FlatColours colours.
func flat(img *image.RGBA, r image.Rectangle) bool {
	var seen [FlatColours]uint32
	n := 0
	last := uint32(1 << 31) // no colour: runs of one colour skip the search
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
	px:
		for i := 0; i < len(row); i += 4 {
			c := uint32(row[i])<<16 | uint32(row[i+1])<<8 | uint32(row[i+2])
			if c == last {
				continue
			}
			last = c
			for _, s := range seen[:n] {
				if s == c {
					continue px
				}
			}
			if n == FlatColours {
				return false
			}
			seen[n] = c
			n++
		}
	}
	return true
}

// Encode encodes rects of img (which must already be masked), each as a
// PNG when it is flat and a JPEG at quality q otherwise, into a wire frame with seq and key. The returned slice is valid
// until the next call. A frame that would be over wire.MaxFrameBytes is an
// error (the caller lowers the quality and sends a key frame).
func (e *Encoder) Encode(img *image.RGBA, rects []image.Rectangle, seq uint32, key bool, q int) ([]byte, error) {
	q = min(max(q, 1), 100)
	b := img.Bounds()
	e.regs = e.regs[:0]
	e.jbuf.Reset()
	offs := make([]int, 0, len(rects)+1)
	for _, r := range rects {
		r = r.Intersect(b)
		if r.Empty() {
			continue
		}
		offs = append(offs, e.jbuf.Len())
		if !e.JPEGOnly && flat(img, r) {
			e.png.CompressionLevel, e.png.BufferPool = png.BestSpeed, &e.pool
			if err := e.png.Encode(&e.jbuf, img.SubImage(r)); err != nil {
				return nil, fmt.Errorf("encode region %v: %w", r, err)
			}
			e.PNGRegions++
		} else {
			if err := jpeg.Encode(&e.jbuf, img.SubImage(r), &jpeg.Options{Quality: q}); err != nil {
				return nil, fmt.Errorf("encode region %v: %w", r, err)
			}
			e.JPEGRegions++
		}
		e.regs = append(e.regs, wire.Region{X: r.Min.X - b.Min.X, Y: r.Min.Y - b.Min.Y, W: r.Dx(), H: r.Dy()})
	}
	offs = append(offs, e.jbuf.Len())
	all := e.jbuf.Bytes()
	for i := range e.regs {
		e.regs[i].Image = all[offs[i]:offs[i+1]]
	}
	f := wire.Frame{Key: key, Width: b.Dx(), Height: b.Dy(), Seq: seq, Regions: e.regs}
	out, err := wire.AppendFrame(e.out[:0], &f)
	if err != nil {
		return nil, err
	}
	e.out = out
	return out, nil
}

package assist

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"

	"accesskiosk/fleet/assist/wire"
)

// Quality bounds of the JPEG encoder (image/jpeg's 1..100 scale).
const (
	MinQuality     = 20
	MaxQuality     = 80
	DefaultQuality = 55
)

// Encoder turns the changed regions of a masked frame into one wire frame.
// It reuses its buffers: one Encoder per share, used from one goroutine.
type Encoder struct {
	jbuf bytes.Buffer
	out  []byte
	regs []wire.Region
}

// Encode encodes rects of img (which must already be masked) as JPEGs at
// quality q into a wire frame with seq and key. The returned slice is valid
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
		if err := jpeg.Encode(&e.jbuf, img.SubImage(r), &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("encode region %v: %w", r, err)
		}
		e.regs = append(e.regs, wire.Region{X: r.Min.X - b.Min.X, Y: r.Min.Y - b.Min.Y, W: r.Dx(), H: r.Dy()})
	}
	offs = append(offs, e.jbuf.Len())
	all := e.jbuf.Bytes()
	for i := range e.regs {
		e.regs[i].JPEG = all[offs[i]:offs[i+1]]
	}
	f := wire.Frame{Key: key, Width: b.Dx(), Height: b.Dy(), Seq: seq, Regions: e.regs}
	out, err := wire.AppendFrame(e.out[:0], &f)
	if err != nil {
		return nil, err
	}
	e.out = out
	return out, nil
}

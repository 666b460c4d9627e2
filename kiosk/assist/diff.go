package assist

import (
	"bytes"
	"image"
)

// Tile is the side of the squares change detection compares, in pixels:
// a multiple of the JPEG's 16-pixel macroblock, small enough that a caret
// blinking costs one tile.
const Tile = 32

// maxRegions is how many rectangles a frame may have before they are
// merged into their bounding box (each region costs a JPEG header).
const maxRegions = 48

// Differ finds what changed on screen since the frame the viewer has: it
// keeps a copy of the last frame sent (after masking) and compares the next
// one with it tile by tile. Memory: one frame.
type Differ struct {
	ref   *image.RGBA
	valid bool
}

// Reset forgets the reference: the next Changed returns the whole frame
// (a key frame).
func (d *Differ) Reset() { d.valid = false }

// Changed returns the rectangles of cur that differ from the reference,
// tile-aligned (clipped to the frame), merged into horizontal runs and
// then into blocks of runs with the same columns; the whole frame when
// there is no reference or the size changed. key says it is a key frame.
func (d *Differ) Changed(cur *image.RGBA) (rects []image.Rectangle, key bool) {
	b := cur.Bounds()
	if !d.valid || d.ref == nil || d.ref.Bounds() != b {
		return []image.Rectangle{b}, true
	}
	tw := (b.Dx() + Tile - 1) / Tile
	th := (b.Dy() + Tile - 1) / Tile
	var prevRuns, runs []image.Rectangle
	var out []image.Rectangle
	for ty := range th {
		y0 := b.Min.Y + ty*Tile
		y1 := min(y0+Tile, b.Max.Y)
		runs = runs[:0]
		start := -1
		for tx := 0; tx <= tw; tx++ {
			changed := tx < tw && d.tileChanged(cur, b.Min.X+tx*Tile, y0, y1)
			switch {
			case changed && start < 0:
				start = tx
			case !changed && start >= 0:
				runs = append(runs, image.Rect(b.Min.X+start*Tile, y0, min(b.Min.X+tx*Tile, b.Max.X), y1))
				start = -1
			}
		}
		// Extend a block from the row above when its columns are the same.
		next := make([]image.Rectangle, 0, len(runs))
		for _, r := range runs {
			merged := false
			for i, p := range prevRuns {
				if p.Min.X == r.Min.X && p.Max.X == r.Max.X && p.Max.Y == r.Min.Y {
					prevRuns[i].Max.Y = r.Max.Y
					next = append(next, prevRuns[i])
					prevRuns[i] = image.Rectangle{}
					merged = true
					break
				}
			}
			if !merged {
				next = append(next, r)
			}
		}
		for _, p := range prevRuns {
			if !p.Empty() {
				out = append(out, p)
			}
		}
		prevRuns = next
	}
	out = append(out, prevRuns...)
	if len(out) > maxRegions {
		u := out[0]
		for _, r := range out[1:] {
			u = u.Union(r)
		}
		out = []image.Rectangle{u}
	}
	return out, false
}

func (d *Differ) tileChanged(cur *image.RGBA, x0, y0, y1 int) bool {
	x1 := min(x0+Tile, cur.Rect.Max.X)
	for y := y0; y < y1; y++ {
		a := cur.Pix[cur.PixOffset(x0, y):cur.PixOffset(x1, y)]
		r := d.ref.Pix[d.ref.PixOffset(x0, y):d.ref.PixOffset(x1, y)]
		if !bytes.Equal(a, r) {
			return true
		}
	}
	return false
}

// Commit records that the viewer now has cur's pixels in rects (what was
// just sent). With key set the reference is replaced whole.
func (d *Differ) Commit(cur *image.RGBA, rects []image.Rectangle, key bool) {
	b := cur.Bounds()
	if key || d.ref == nil || d.ref.Bounds() != b {
		if d.ref == nil || d.ref.Bounds() != b {
			d.ref = image.NewRGBA(b)
		}
		copy(d.ref.Pix, cur.Pix)
		d.valid = true
		return
	}
	for _, r := range rects {
		r = r.Intersect(b)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			copy(d.ref.Pix[d.ref.PixOffset(r.Min.X, y):d.ref.PixOffset(r.Max.X, y)], cur.Pix[cur.PixOffset(r.Min.X, y):cur.PixOffset(r.Max.X, y)])
		}
	}
}

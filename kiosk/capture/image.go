package capture

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
)

// JPEG qualities and the preview size.
const (
	// PageQuality is the JPEG quality of a page's full-size image: text at
	// 200 dpi stays crisp, a colour A4 page is about 0.5-1 MB.
	PageQuality = 85
	// PreviewQuality is the JPEG quality of previews.
	PreviewQuality = 70
	// PreviewSize is the long side of a preview, in pixels: enough for a
	// page thumbnail on a 1280×800 screen, small enough to re-encode at
	// once when the resident rotates a page.
	PreviewSize = 800
)

// NewPage encodes img (as decoded from a device: *image.Gray for a
// greyscale page, *image.RGBA otherwise) into a Page with a full-size JPEG
// and a preview. dpi is the scan resolution (0 for a photo). It takes a
// context because a large page takes a noticeable time on a Raspberry Pi;
// run it off the GTK loop.
func NewPage(ctx context.Context, img image.Image, src Source, dpi int) (*Page, error) {
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("new page: empty image")
	}
	colour := true
	if _, ok := img.(*image.Gray); ok {
		colour = false
	}
	var full bytes.Buffer
	if err := jpeg.Encode(&full, img, &jpeg.Options{Quality: PageQuality}); err != nil {
		return nil, fmt.Errorf("new page: encode: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prev, err := EncodePreview(img)
	if err != nil {
		return nil, err
	}
	return &Page{
		ID: NewID(), Source: src, Width: b.Dx(), Height: b.Dy(), DPI: dpi, Colour: colour,
		Preview: prev, data: full.Bytes(), size: int64(full.Len()),
	}, nil
}

// NewPageFromJPEG makes a Page of an encoded JPEG as it is (a scanner's or
// a camera's), adding only a preview; it takes data (does not copy it).
// Decoding for the preview is most of its cost (about 0.1 s for a 200 dpi
// A4 page on a desktop, several times that on a Raspberry Pi); run it off
// the GTK loop.
func NewPageFromJPEG(data []byte, src Source, dpi int) (*Page, error) {
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("new page: decode JPEG: %w", err)
	}
	prev, err := EncodePreview(img)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	_, grey := img.(*image.Gray)
	return &Page{
		ID: NewID(), Source: src, Width: b.Dx(), Height: b.Dy(), DPI: dpi, Colour: !grey,
		Preview: prev, data: data, size: int64(len(data)),
	}, nil
}

// EncodePreview scales img down so its long side is at most PreviewSize and
// encodes it as JPEG.
func EncodePreview(img image.Image) ([]byte, error) {
	small := Downscale(img, PreviewSize)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: PreviewQuality}); err != nil {
		return nil, fmt.Errorf("encode preview: %w", err)
	}
	return buf.Bytes(), nil
}

// Downscale returns img scaled by an area average (a box filter, which
// keeps thin text strokes visible) so that its long side is at most
// maxSide; an image already small enough comes back as it is. The result
// is *image.Gray for a grey image, *image.YCbCr (4:4:4) for a decoded
// colour JPEG, scaled plane by plane without converting to RGB, and
// *image.RGBA otherwise.
func Downscale(img image.Image, maxSide int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if max(w, h) <= maxSide {
		return img
	}
	var nw, nh int
	if w >= h {
		nw, nh = maxSide, max(1, h*maxSide/w)
	} else {
		nw, nh = max(1, w*maxSide/h), maxSide
	}
	if g, ok := img.(*image.Gray); ok {
		out := image.NewGray(image.Rect(0, 0, nw, nh))
		boxScale(g.Pix[g.PixOffset(b.Min.X, b.Min.Y):], g.Stride, w, h, 1, out.Pix, out.Stride, nw, nh)
		return out
	}
	if y, ok := img.(*image.YCbCr); ok && b.Min == (image.Point{}) {
		out := image.NewYCbCr(image.Rect(0, 0, nw, nh), image.YCbCrSubsampleRatio444)
		boxScale(y.Y, y.YStride, w, h, 1, out.Y, out.YStride, nw, nh)
		cw, ch := chromaSize(y.SubsampleRatio, w, h)
		boxScale(y.Cb, y.CStride, cw, ch, 1, out.Cb, out.CStride, nw, nh)
		boxScale(y.Cr, y.CStride, cw, ch, 1, out.Cr, out.CStride, nw, nh)
		return out
	}
	src := toRGBA(img)
	out := image.NewRGBA(image.Rect(0, 0, nw, nh))
	boxScale(src.Pix, src.Stride, w, h, 4, out.Pix, out.Stride, nw, nh)
	return out
}

// chromaSize is the size of a w×h YCbCr image's chroma planes.
func chromaSize(r image.YCbCrSubsampleRatio, w, h int) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

// boxScale averages each destination pixel's source rectangle, for n
// interleaved 8-bit channels. Each destination pixel covers at least one
// source pixel, so it also stretches (a chroma plane smaller than the
// result).
func boxScale(src []byte, sstride, sw, sh, n int, dst []byte, dstride, dw, dh int) {
	x0s := make([]int, dw+1)
	for x := range x0s {
		x0s[x] = x * sw / dw
	}
	x1s := make([]int, dw)
	for x := range x1s {
		x1s[x] = min(max(x0s[x+1], x0s[x]+1), sw)
	}
	acc := make([]uint32, dw*n)
	for y := range dh {
		y0 := y * sh / dh
		y1 := min(max((y+1)*sh/dh, y0+1), sh)
		clear(acc)
		for sy := y0; sy < y1; sy++ {
			row := src[sy*sstride:]
			if n == 1 { // grey and YCbCr planes: the common case, kept simple for the compiler
				row = row[:sw]
				for x, a := range acc {
					var sum uint32
					for _, v := range row[x0s[x]:x1s[x]] {
						sum += uint32(v)
					}
					acc[x] = a + sum
				}
				continue
			}
			for x := range dw {
				a := acc[x*n : x*n+n]
				for sx := x0s[x]; sx < x1s[x]; sx++ {
					p := row[sx*n : sx*n+n]
					for c := range n {
						a[c] += uint32(p[c])
					}
				}
			}
		}
		drow := dst[y*dstride:]
		for x := range dw {
			cnt := uint32((x1s[x] - x0s[x]) * (y1 - y0))
			for c := range n {
				drow[x*n+c] = byte((acc[x*n+c] + cnt/2) / cnt)
			}
		}
	}
}

func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, img, b.Min, draw.Src)
	return out
}

// Rotate returns img turned clockwise by turns quarter turns (any integer;
// taken modulo 4). The result is *image.Gray for a grey image and
// *image.RGBA otherwise.
func Rotate(img image.Image, turns int) image.Image {
	turns = ((turns % 4) + 4) % 4
	if turns == 0 {
		return img
	}
	if g, ok := img.(*image.Gray); ok {
		b := g.Bounds()
		out := image.NewGray(rotRect(b.Dx(), b.Dy(), turns))
		rotatePix(g.Pix[g.PixOffset(b.Min.X, b.Min.Y):], g.Stride, b.Dx(), b.Dy(), 1, out.Pix, out.Stride, turns)
		return out
	}
	src := toRGBA(img)
	out := image.NewRGBA(rotRect(src.Rect.Dx(), src.Rect.Dy(), turns))
	rotatePix(src.Pix, src.Stride, src.Rect.Dx(), src.Rect.Dy(), 4, out.Pix, out.Stride, turns)
	return out
}

func rotRect(w, h, turns int) image.Rectangle {
	if turns%2 == 1 {
		return image.Rect(0, 0, h, w)
	}
	return image.Rect(0, 0, w, h)
}

func rotatePix(src []byte, sstride, w, h, n int, dst []byte, dstride, turns int) {
	for y := range h {
		row := src[y*sstride:]
		for x := range w {
			var dx, dy int
			switch turns {
			case 1: // clockwise: (x, y) → (h-1-y, x)
				dx, dy = h-1-y, x
			case 2:
				dx, dy = w-1-x, h-1-y
			case 3: // anticlockwise: (x, y) → (y, w-1-x)
				dx, dy = y, w-1-x
			}
			copy(dst[dy*dstride+dx*n:dy*dstride+dx*n+n], row[x*n:x*n+n])
		}
	}
}

package webkit

import "image"

// Frame is a capture of the window (Window.Capture): W×H pixels, Stride
// bytes a row, each pixel 4 bytes in cairo's RGB24 order (blue, green,
// red, unused). It is in memory only.
type Frame struct {
	Pix          []byte
	W, H, Stride int
}

// RGBA turns f into an opaque image in place (f.Pix becomes the image's
// pixels): run it off the GTK loop.
func (f Frame) RGBA() *image.RGBA {
	p := f.Pix
	for i := 0; i+3 < len(p); i += 4 {
		p[i], p[i+2], p[i+3] = p[i+2], p[i], 0xFF
	}
	return &image.RGBA{Pix: p, Stride: f.Stride, Rect: image.Rect(0, 0, f.W, f.H)}
}

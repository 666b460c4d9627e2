package scan

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"io"
	"strconv"

	"accesskiosk/kiosk/capture"
)

// pnmHeader is the header scanimage writes before the pixels (Netpbm: P4
// bitmap, P5 greymap, P6 pixmap; maxval 255 or 65535, samples big-endian).
type pnmHeader struct {
	magic  byte // '4', '5' or '6'
	w, h   int
	maxval int
}

func readPNMHeader(r *bufio.Reader) (pnmHeader, error) {
	var h pnmHeader
	b0, err := r.ReadByte()
	if err != nil {
		return h, err
	}
	b1, err := r.ReadByte()
	if err != nil {
		return h, err
	}
	if b0 != 'P' || (b1 != '4' && b1 != '5' && b1 != '6') {
		return h, fmt.Errorf("not a PNM image from the scanner (starts %q)", []byte{b0, b1})
	}
	h.magic = b1
	fields := 3
	if h.magic == '4' {
		fields = 2
		h.maxval = 1
	}
	vals := make([]int, 0, 3)
	for len(vals) < fields {
		tok, err := pnmToken(r)
		if err != nil {
			return h, fmt.Errorf("PNM header: %w", err)
		}
		n, err := strconv.Atoi(tok)
		if err != nil || n <= 0 || n > 1<<20 {
			return h, fmt.Errorf("PNM header: bad number %q", tok)
		}
		vals = append(vals, n)
	}
	h.w, h.h = vals[0], vals[1]
	if fields == 3 {
		h.maxval = vals[2]
		if h.maxval > 65535 {
			return h, fmt.Errorf("PNM header: maxval %d", h.maxval)
		}
	}
	// Exactly one whitespace byte ends the header.
	if _, err := r.ReadByte(); err != nil {
		return h, fmt.Errorf("PNM header: %w", err)
	}
	return h, nil
}

// pnmToken reads the next header token, skipping whitespace and # comments.
func pnmToken(r *bufio.Reader) (string, error) {
	var tok []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '#' && len(tok) == 0:
			if _, err := r.ReadString('\n'); err != nil {
				return "", err
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if len(tok) > 0 {
				return string(tok), r.UnreadByte()
			}
		default:
			tok = append(tok, c)
			if len(tok) > 12 {
				return "", errors.New("token too long")
			}
		}
	}
}

// readPNMPixels reads h's pixels into *image.Gray (when grey is asked for,
// or the scan is grey or a bitmap) or *image.RGBA. progress is called with
// the rows read so far, about every 2%. A short read is an error wrapping
// io.ErrUnexpectedEOF.
func readPNMPixels(r io.Reader, h pnmHeader, grey bool, progress func(rows int)) (image.Image, error) {
	var rowBytes, samples int
	switch h.magic {
	case '4':
		rowBytes = (h.w + 7) / 8
	case '5':
		samples = 1
	case '6':
		samples = 3
	}
	wide := h.maxval > 255
	if samples > 0 {
		rowBytes = h.w * samples
		if wide {
			rowBytes *= 2
		}
	}
	colour := h.magic == '6' && !grey
	var gray *image.Gray
	var rgba *image.RGBA
	if colour {
		rgba = image.NewRGBA(image.Rect(0, 0, h.w, h.h))
	} else {
		gray = image.NewGray(image.Rect(0, 0, h.w, h.h))
	}
	row := make([]byte, rowBytes)
	step := max(1, h.h/50)
	for y := range h.h {
		if _, err := io.ReadFull(r, row); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			clearImage(gray, rgba)
			return nil, err
		}
		sample := func(i int) uint32 { // sample i of the row, scaled to 0..255
			if wide {
				v := uint32(row[2*i])<<8 | uint32(row[2*i+1])
				return v * 255 / uint32(h.maxval)
			}
			if h.maxval == 255 {
				return uint32(row[i])
			}
			return uint32(row[i]) * 255 / uint32(h.maxval)
		}
		plain := !wide && h.maxval == 255
		switch {
		case plain && samples == 1:
			copy(gray.Pix[y*gray.Stride:], row)
		case plain && colour:
			out := rgba.Pix[y*rgba.Stride:]
			for x := range h.w {
				o, i := out[4*x:4*x+4:4*x+4], row[3*x:3*x+3:3*x+3]
				o[0], o[1], o[2], o[3] = i[0], i[1], i[2], 255
			}
		case h.magic == '4':
			out := gray.Pix[y*gray.Stride:]
			for x := range h.w {
				if row[x/8]&(0x80>>(x%8)) != 0 { // 1 is black
					out[x] = 0
				} else {
					out[x] = 255
				}
			}
		case samples == 1:
			out := gray.Pix[y*gray.Stride:]
			for x := range h.w {
				out[x] = byte(sample(x))
			}
		case colour:
			out := rgba.Pix[y*rgba.Stride:]
			for x := range h.w {
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = byte(sample(3*x)), byte(sample(3*x+1)), byte(sample(3*x+2)), 255
			}
		default: // a colour scan made grey (the device has no grey mode)
			out := gray.Pix[y*gray.Stride:]
			for x := range h.w {
				out[x] = byte((299*sample(3*x) + 587*sample(3*x+1) + 114*sample(3*x+2) + 500) / 1000)
			}
		}
		if progress != nil && ((y+1)%step == 0 || y+1 == h.h) {
			progress(y + 1)
		}
	}
	clear(row)
	if colour {
		return rgba, nil
	}
	return gray, nil
}

// clearImage zeroes pixel buffers no longer needed, so that a page's image
// does not linger in the kiosk's memory after it is encoded or dropped.
func clearImage(gray *image.Gray, rgba *image.RGBA) {
	if gray != nil {
		clear(gray.Pix)
	}
	if rgba != nil {
		clear(rgba.Pix)
	}
}

// scrub zeroes img's pixels if it is one of the types this package makes.
func scrub(img image.Image) {
	switch m := img.(type) {
	case *image.Gray:
		clear(m.Pix)
	case *image.RGBA:
		clear(m.Pix)
	}
}

// pixelsOK checks h against the page limit.
func pixelsOK(h pnmHeader, maxPixels int64) error {
	if int64(h.w)*int64(h.h) > maxPixels {
		return &capture.LimitError{Limit: capture.LimitPagePixels, Max: maxPixels}
	}
	return nil
}

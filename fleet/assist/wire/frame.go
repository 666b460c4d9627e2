// Package wire is the contract of remote help (issue 17) on every hop that
// reaches the fleet: the binary frame format the kiosk encodes and the
// console's viewer draws, unchanged on every hop (kiosk → agent → fleet →
// viewer), and the JSON control messages of the agent's and the viewer's
// WebSockets. Like fleet/api, it imports no deployable: the kiosk, the agent
// and the fleet all import it, and it is meant to move into fleet/api when
// remote help is wired in (capability 5).
//
// # Frame (binary, big-endian)
//
//	offset size  field
//	0      4     magic "AKF1"
//	4      1     flags: bit 0 = key frame (every region of the screen is sent;
//	             a viewer may start from it), other bits 0
//	5      1     reserved, 0
//	6      2     width of the screen in pixels (1..MaxDimension)
//	8      2     height (1..MaxDimension)
//	10     4     seq: per share, increasing by 1 from 1
//	14     2     n: number of regions (0..MaxRegions)
//	16     ...   n regions, each: x u16, y u16, w u16, h u16, len u32, then
//	             len bytes of an image of exactly w×h pixels, a baseline JPEG
//	             (photographs, gradients) or a PNG (text and flat colours,
//	             lossless), told apart by their signatures, drawn with its
//	             top-left corner at (x, y); regions lie inside the screen and
//	             are drawn in order
//
// A whole frame is at most MaxFrameBytes. A frame with no regions is a
// heartbeat (nothing changed) and still carries its seq so it is acked.
// Frames hold pixels after masking: password fields and the configured
// selectors are already black in them.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Frame format limits.
const (
	// Magic starts every frame.
	Magic = "AKF1"
	// HeaderLen is the size of the fixed header before the regions.
	HeaderLen = 16
	// RegionHeaderLen is the size of a region's header before its JPEG.
	RegionHeaderLen = 12
	// MaxDimension bounds the screen's width and height.
	MaxDimension = 4096
	// MaxRegions bounds the regions of one frame.
	MaxRegions = 1024
	// MaxFrameBytes bounds a whole frame on every hop: a kiosk that
	// produces more is refused by the agent, a device that sends more is
	// cut off by the fleet.
	MaxFrameBytes = 2 << 20
)

// FlagKey marks a key frame.
const FlagKey = 1

// Region is one changed rectangle of the screen and its image (JPEG or PNG).
type Region struct {
	X, Y, W, H int
	Image      []byte
}

// IsJPEG reports whether b starts like a JPEG (SOI then a marker).
func IsJPEG(b []byte) bool { return len(b) >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF }

// IsPNG reports whether b starts with the PNG signature.
func IsPNG(b []byte) bool { return len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n" }

// Frame is a decoded frame header with its regions. The Image slices of a
// parsed frame alias the bytes it was parsed from.
type Frame struct {
	Key           bool
	Width, Height int
	Seq           uint32
	Regions       []Region
}

// ErrFrame is wrapped by every error of ParseFrame and AppendFrame.
var ErrFrame = errors.New("bad assist frame")

func frameErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFrame, fmt.Sprintf(format, args...))
}

// Size is the encoded length of f.
func (f *Frame) Size() int {
	n := HeaderLen
	for _, r := range f.Regions {
		n += RegionHeaderLen + len(r.Image)
	}
	return n
}

// check validates f's header and region geometry.
func (f *Frame) check() error {
	if f.Width < 1 || f.Width > MaxDimension || f.Height < 1 || f.Height > MaxDimension {
		return frameErr("screen %d×%d is outside 1..%d", f.Width, f.Height, MaxDimension)
	}
	if len(f.Regions) > MaxRegions {
		return frameErr("%d regions, at most %d", len(f.Regions), MaxRegions)
	}
	for i, r := range f.Regions {
		if r.W < 1 || r.H < 1 || r.X < 0 || r.Y < 0 || r.X+r.W > f.Width || r.Y+r.H > f.Height {
			return frameErr("region %d (%d,%d %d×%d) is not inside the %d×%d screen", i, r.X, r.Y, r.W, r.H, f.Width, f.Height)
		}
	}
	return nil
}

// AppendFrame appends the encoding of f to dst. It refuses a frame that
// ParseFrame would refuse.
func AppendFrame(dst []byte, f *Frame) ([]byte, error) {
	if err := f.check(); err != nil {
		return dst, err
	}
	if n := f.Size(); n > MaxFrameBytes {
		return dst, frameErr("%d bytes, at most %d", n, MaxFrameBytes)
	}
	var flags byte
	if f.Key {
		flags |= FlagKey
	}
	dst = append(dst, Magic...)
	dst = append(dst, flags, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(f.Width))
	dst = binary.BigEndian.AppendUint16(dst, uint16(f.Height))
	dst = binary.BigEndian.AppendUint32(dst, f.Seq)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(f.Regions)))
	for _, r := range f.Regions {
		dst = binary.BigEndian.AppendUint16(dst, uint16(r.X))
		dst = binary.BigEndian.AppendUint16(dst, uint16(r.Y))
		dst = binary.BigEndian.AppendUint16(dst, uint16(r.W))
		dst = binary.BigEndian.AppendUint16(dst, uint16(r.H))
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(r.Image)))
		dst = append(dst, r.Image...)
	}
	return dst, nil
}

// ParseFrame decodes b, checking every length and every region's place
// against the screen. It does not decode the images (the viewer does).
func ParseFrame(b []byte) (*Frame, error) {
	if len(b) > MaxFrameBytes {
		return nil, frameErr("%d bytes, at most %d", len(b), MaxFrameBytes)
	}
	if len(b) < HeaderLen {
		return nil, frameErr("%d bytes, shorter than the %d-byte header", len(b), HeaderLen)
	}
	if string(b[:4]) != Magic {
		return nil, frameErr("does not start with %q", Magic)
	}
	if b[4]&^FlagKey != 0 || b[5] != 0 {
		return nil, frameErr("unknown flags %#x %#x", b[4], b[5])
	}
	f := &Frame{
		Key:    b[4]&FlagKey != 0,
		Width:  int(binary.BigEndian.Uint16(b[6:])),
		Height: int(binary.BigEndian.Uint16(b[8:])),
		Seq:    binary.BigEndian.Uint32(b[10:]),
	}
	n := int(binary.BigEndian.Uint16(b[14:]))
	if n > MaxRegions {
		return nil, frameErr("%d regions, at most %d", n, MaxRegions)
	}
	f.Regions = make([]Region, 0, n)
	p := b[HeaderLen:]
	for i := range n {
		if len(p) < RegionHeaderLen {
			return nil, frameErr("region %d: header cut short", i)
		}
		r := Region{
			X: int(binary.BigEndian.Uint16(p)), Y: int(binary.BigEndian.Uint16(p[2:])),
			W: int(binary.BigEndian.Uint16(p[4:])), H: int(binary.BigEndian.Uint16(p[6:])),
		}
		l := binary.BigEndian.Uint32(p[8:])
		p = p[RegionHeaderLen:]
		if uint64(l) > uint64(len(p)) {
			return nil, frameErr("region %d: says %d bytes, %d left", i, l, len(p))
		}
		if !IsJPEG(p[:l]) && !IsPNG(p[:l]) {
			return nil, frameErr("region %d is neither a JPEG nor a PNG", i)
		}
		r.Image = p[:l:l]
		p = p[l:]
		f.Regions = append(f.Regions, r)
	}
	if len(p) != 0 {
		return nil, frameErr("%d bytes after the last region", len(p))
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

// PeekHeader reads only the fixed header of an encoded frame: its seq and
// whether it is a key frame. Relays use it to ack and resynchronise
// without parsing regions; it checks the magic and length only.
func PeekHeader(b []byte) (seq uint32, key bool, err error) {
	if len(b) < HeaderLen || string(b[:4]) != Magic {
		return 0, false, frameErr("no frame header")
	}
	if len(b) > MaxFrameBytes {
		return 0, false, frameErr("%d bytes, at most %d", len(b), MaxFrameBytes)
	}
	return binary.BigEndian.Uint32(b[10:]), b[4]&FlagKey != 0, nil
}

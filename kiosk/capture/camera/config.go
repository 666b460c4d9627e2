package camera

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/capture"
)

// Config is the `camera:` section of the kiosk config. Every field's
// comment says what its zero value means; the zero Config is "no camera".
// Decode the file over it, then call Validate.
type Config struct {
	// Device is the camera's V4L2 device node. Prefer the stable link
	// udev makes, /dev/v4l/by-id/usb-VENDOR_MODEL_SERIAL-video-index0
	// (index0 is the picture; a UVC camera's index1 is metadata), over
	// /dev/videoN, whose number can change between boots. "test" shows
	// GStreamer's test picture (videotestsrc), for demos and tests. ""
	// means no camera: the picker leaves "Take a photo" out and says why.
	Device string `yaml:"device"`
	// Width and Height are the photo's size in pixels, a size the camera
	// offers (`v4l2-ctl -d DEVICE --list-formats-ext`); both or neither.
	// 0 means 1280 × 720, which nearly every USB camera offers.
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
	// PreviewWidth is the live preview's width in pixels (its height
	// follows the photo's shape), 160 to 1280 and at most Width; 0 means
	// 640.
	PreviewWidth int `yaml:"preview_width"`
	// PreviewFPS is the live preview's frames per second, 1 to 15; 0 means
	// 5. Frames beyond it are dropped before they are decoded.
	PreviewFPS int `yaml:"preview_fps"`
	// MaxFileSize bounds a photo's file, e.g. "5MB", between 100kB and
	// 100MB; 0 means capture.DefaultMaxFileSize (10 MB).
	MaxFileSize capture.ByteSize `yaml:"max_file_size"`
}

// Defaults and bounds.
const (
	DefaultWidth        = 1280
	DefaultHeight       = 720
	DefaultPreviewWidth = 640
	DefaultPreviewFPS   = 5
	// TestDevice is the Device value that shows GStreamer's test picture.
	TestDevice = "test"
)

// Validate checks c as decoded from a file. doc is the file's Doc (nil for
// a Config built in code) and prefix the key c sits under ("camera").
// Errors name the file, line and key: "kiosk.yaml:40: camera.width: ...".
func (c *Config) Validate(doc *confile.Doc, prefix string) error {
	key := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	if c.Device != "" && c.Device != TestDevice {
		if err := checkDevicePath(c.Device); err != nil {
			return doc.Errorf(key("device"), "%v", err)
		}
	}
	switch {
	case (c.Width == 0) != (c.Height == 0):
		k, other := "width", "height" // the one given, the one missing
		if c.Width == 0 {
			k, other = other, k
		}
		return doc.Errorf(key(k), "give %s too, or neither (for %d × %d)", other, DefaultWidth, DefaultHeight)
	case c.Width != 0 && (c.Width < 160 || c.Width > 3840):
		return doc.Errorf(key("width"), "%d is out of range: between 160 and 3840", c.Width)
	case c.Height != 0 && (c.Height < 120 || c.Height > 2160):
		return doc.Errorf(key("height"), "%d is out of range: between 120 and 2160", c.Height)
	case c.Width%2 != 0 || c.Height%2 != 0:
		return doc.Errorf(key("width"), "%d × %d: cameras give even sizes", c.Width, c.Height)
	}
	if pw := c.PreviewWidth; pw != 0 {
		if pw < 160 || pw > 1280 {
			return doc.Errorf(key("preview_width"), "%d is out of range: between 160 and 1280 (0 for the default, %d)", pw, DefaultPreviewWidth)
		}
		if pw > c.width() {
			return doc.Errorf(key("preview_width"), "%d is wider than the photo (%d)", pw, c.width())
		}
	}
	if f := c.PreviewFPS; f < 0 || f > 15 {
		return doc.Errorf(key("preview_fps"), "%d is out of range: between 1 and 15 (0 for the default, %d)", f, DefaultPreviewFPS)
	}
	if s := c.MaxFileSize; s != 0 && (s < 100_000 || s > 100_000_000) {
		return doc.Errorf(key("max_file_size"), "%v is out of range: between 100 kB and 100 MB (0 for the default, %v)", s, capture.ByteSize(capture.DefaultMaxFileSize))
	}
	return nil
}

func checkDevicePath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/dev/"):
		return fmt.Errorf("want a V4L2 device such as /dev/v4l/by-id/usb-...-video-index0 or /dev/video0 (or %q), got %q", TestDevice, p)
	case filepath.Clean(p) != p:
		return fmt.Errorf("%q is not a clean path (write %q)", p, filepath.Clean(p))
	case strings.ContainsFunc(p, func(r rune) bool {
		return unicode.IsControl(r) || unicode.IsSpace(r) || strings.ContainsRune(`"'\!`, r)
	}):
		return fmt.Errorf("%q has spaces, quotes or control characters; use its /dev/v4l/by-path link instead", p)
	case len(p) > 200:
		return fmt.Errorf("a device path is at most 200 characters")
	}
	return nil
}

// Configured reports whether the config names a camera.
func (c Config) Configured() bool { return c.Device != "" }

// Limits is the document limits for photos, for capture.NewDocument.
func (c Config) Limits() capture.Limits { return capture.Limits{MaxFileSize: c.MaxFileSize} }

func (c Config) width() int {
	if c.Width == 0 {
		return DefaultWidth
	}
	return c.Width
}

func (c Config) height() int {
	if c.Height == 0 {
		return DefaultHeight
	}
	return c.Height
}

func (c Config) previewSize() (int, int) {
	w := c.PreviewWidth
	if w == 0 {
		w = min(DefaultPreviewWidth, c.width())
	}
	h := c.height() * w / c.width()
	return w, h &^ 1
}

func (c Config) fps() int {
	if c.PreviewFPS == 0 {
		return DefaultPreviewFPS
	}
	return c.PreviewFPS
}

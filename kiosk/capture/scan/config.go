package scan

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/capture"
)

// Config is the `scanner:` section of the kiosk config. Every field's
// comment says what its zero value means; the zero Config is "no scanner".
// Decode the file over it, then call Validate.
type Config struct {
	// Device is the SANE device name as `scanimage -L` prints it, e.g.
	// "epson2:libusb:001:004", "airscan:e0:Brother MFC-L2710DW" or "test"
	// (SANE's test backend, for demos). "" means no scanner: the picker
	// leaves "Scan a document" out and says why.
	Device string `yaml:"device"`
	// Resolution is the scan resolution in dpi, between 75 and 600; 0 means
	// DefaultResolution (200, what forms ask of evidence). A device that
	// cannot do it exactly scans at the nearest resolution it can.
	Resolution int `yaml:"resolution"`
	// Mode is what a scan starts as: "color" (or "colour") or "gray" (or
	// "grey"); the resident can switch. "" means color.
	Mode string `yaml:"mode"`
	// Source is the device's SANE source option, e.g. "Flatbed" or
	// "Automatic Document Feeder" (see `scanimage -d DEVICE -A`); "" means
	// the device's default.
	Source string `yaml:"source"`
	// PageTimeout is the longest one page may take before the scan is
	// stopped, between 10s and 10m; 0 means DefaultPageTimeout (2m).
	PageTimeout time.Duration `yaml:"page_timeout"`
	// MaxPages is how many pages one document may have, 1 to 100; 0 means
	// capture.DefaultMaxPages (20).
	MaxPages int `yaml:"max_pages"`
	// MaxMegapixels bounds one page's width × height, 1 to 100 megapixels;
	// 0 means DefaultMaxMegapixels (16: A4 at 300 dpi is 8.7). A larger
	// page is refused as soon as the scanner says its size.
	MaxMegapixels float64 `yaml:"max_megapixels"`
	// MaxFileSize bounds the file handed to a form (the PDF of the whole
	// document, or each image), e.g. "10MB"; between 100kB and 100MB; 0
	// means capture.DefaultMaxFileSize (10 MB).
	MaxFileSize capture.ByteSize `yaml:"max_file_size"`
}

// Defaults and bounds.
const (
	DefaultResolution    = 200
	MinResolution        = 75
	MaxResolution        = 600
	DefaultPageTimeout   = 2 * time.Minute
	DefaultMaxMegapixels = 16
	maxPagesBound        = 100
	maxMegapixelsBound   = 100
	minFileSize          = 100 * 1000
	maxFileSize          = 100 * 1000 * 1000
	maxDeviceName        = 200
)

// Mode is colour or greyscale.
type Mode string

const (
	Colour Mode = "color"
	Grey   Mode = "gray"
)

func parseMode(s string) (Mode, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "color", "colour":
		return Colour, true
	case "gray", "grey", "greyscale", "grayscale":
		return Grey, true
	}
	return "", false
}

// Validate checks c as decoded from a file. doc is the file's Doc (nil for
// a Config built in code) and prefix the key c sits under ("scanner").
// Errors name the file, line and key: "kiosk.yaml:31: scanner.resolution:
// ...".
func (c *Config) Validate(doc *confile.Doc, prefix string) error {
	key := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	if c.Device != "" {
		if err := checkDeviceName(c.Device); err != nil {
			return doc.Errorf(key("device"), "%v", err)
		}
	}
	if r := c.Resolution; r != 0 && (r < MinResolution || r > MaxResolution) {
		return doc.Errorf(key("resolution"), "%d dpi is out of range: between %d and %d (0 for the default, %d)", r, MinResolution, MaxResolution, DefaultResolution)
	}
	if _, ok := parseMode(c.Mode); !ok {
		return doc.Errorf(key("mode"), "want color or gray, got %q", c.Mode)
	}
	if strings.TrimSpace(c.Source) != c.Source || strings.ContainsFunc(c.Source, unicode.IsControl) || len(c.Source) > 100 {
		return doc.Errorf(key("source"), "%q is not a SANE source name (see scanimage -d DEVICE -A)", c.Source)
	}
	if t := c.PageTimeout; t != 0 && (t < 10*time.Second || t > 10*time.Minute) {
		return doc.Errorf(key("page_timeout"), "%v is out of range: between 10s and 10m (0 for the default, %v)", t, DefaultPageTimeout)
	}
	if n := c.MaxPages; n < 0 || n > maxPagesBound {
		return doc.Errorf(key("max_pages"), "%d is out of range: between 1 and %d (0 for the default, %d)", n, maxPagesBound, capture.DefaultMaxPages)
	}
	if mp := c.MaxMegapixels; mp != 0 && (mp < 1 || mp > maxMegapixelsBound) {
		return doc.Errorf(key("max_megapixels"), "%v is out of range: between 1 and %d (0 for the default, %d)", mp, maxMegapixelsBound, DefaultMaxMegapixels)
	}
	if s := c.MaxFileSize; s != 0 && (s < minFileSize || s > maxFileSize) {
		return doc.Errorf(key("max_file_size"), "%v is out of range: between %v and %v (0 for the default, %v)", s, capture.ByteSize(minFileSize), capture.ByteSize(maxFileSize), capture.ByteSize(capture.DefaultMaxFileSize))
	}
	return nil
}

// checkDeviceName refuses what cannot be a SANE device name. Names are
// passed to scanimage as one argument (--device-name=NAME), so this is
// about catching typos, not about quoting.
func checkDeviceName(s string) error {
	switch {
	case len(s) > maxDeviceName:
		return fmt.Errorf("a SANE device name is at most %d characters", maxDeviceName)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%q has spaces at an end", s)
	case strings.HasPrefix(s, "-"):
		return fmt.Errorf("%q is not a SANE device name (it starts with -)", s)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%q has control characters", s)
	case strings.HasPrefix(s, "/"):
		return fmt.Errorf("%q is a path; want a SANE device name as `scanimage -L` prints it, such as epson2:libusb:001:004", s)
	}
	return nil
}

// Configured reports whether the config names a scanner.
func (c Config) Configured() bool { return c.Device != "" }

// Limits is the document limits this config sets, for capture.NewDocument.
func (c Config) Limits() capture.Limits {
	return capture.Limits{MaxPages: c.MaxPages, MaxFileSize: c.MaxFileSize}
}

func (c *Config) resolution() int {
	if c.Resolution == 0 {
		return DefaultResolution
	}
	return c.Resolution
}

func (c *Config) mode() Mode {
	m, _ := parseMode(c.Mode)
	return m
}

func (c *Config) pageTimeout() time.Duration {
	if c.PageTimeout == 0 {
		return DefaultPageTimeout
	}
	return c.PageTimeout
}

func (c *Config) maxPixels() int64 {
	mp := c.MaxMegapixels
	if mp == 0 {
		mp = DefaultMaxMegapixels
	}
	return int64(mp * 1e6)
}

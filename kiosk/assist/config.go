package assist

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/internal/confile"
)

// Config is the `assist:` section of the kiosk config (remote help from
// council staff). Decode the file over the zero value, then call
// Validate, which checks every key and fills in the defaults. A field's
// comment says what its zero value means.
type Config struct {
	// Enabled shows "Get help from the council" on the home page and the
	// toolbar, and lets staff offer help. false (the zero value): remote
	// help is off and every other key must be absent.
	Enabled bool `yaml:"enabled"`
	// Socket is the agent's assist socket; "" means link.DefaultSocket.
	Socket string `yaml:"socket"`
	// Phone and Hours are shown beside the help code ("" means the
	// council's phone from council.phone, and no hours line).
	Phone string `yaml:"phone"`
	Hours string `yaml:"hours"`
	// MaskSelectors are CSS selectors of elements blacked out before a
	// frame is encoded, in every frame and iframe, besides password fields
	// (always masked): card numbers, dates of birth, ... At most
	// MaxMaskSelectors, each at most 200 characters. A selector a page's
	// engine refuses makes that frame blind (all black), never unmasked.
	MaskSelectors []string `yaml:"mask_selectors"`
	// TimeLimit ends a share; 0 means wire.TimeLimit (30 minutes), which
	// is also the most.
	TimeLimit time.Duration `yaml:"time_limit"`
	// MaxFPS caps the frame rate; 0 means 8, at most 15.
	MaxFPS int `yaml:"max_fps"`
}

// MaxMaskSelectors bounds assist.mask_selectors.
const MaxMaskSelectors = 32

// Validate checks c and fills in defaults; errors name the file, line and
// key (prefix is the section's key, "assist").
func (c *Config) Validate(doc *confile.Doc, prefix string) error {
	key := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	if !c.Enabled {
		if c.Socket != "" || c.Phone != "" || c.Hours != "" || len(c.MaskSelectors) > 0 || c.TimeLimit != 0 || c.MaxFPS != 0 {
			return doc.Errorf(key("enabled"), "is false (or absent) but other assist keys are set: set enabled: true to turn remote help on")
		}
		return nil
	}
	if c.Socket != "" && !strings.HasPrefix(c.Socket, "/") {
		return doc.Errorf(key("socket"), "%q is not an absolute path", c.Socket)
	}
	for k, v := range map[string]string{"phone": c.Phone, "hours": c.Hours} {
		if utf8.RuneCountInString(v) > 100 || strings.ContainsFunc(v, unicode.IsControl) {
			return doc.Errorf(key(k), "must be one line of at most 100 characters")
		}
	}
	if len(c.MaskSelectors) > MaxMaskSelectors {
		return doc.Errorf(key("mask_selectors"), "%d selectors, at most %d", len(c.MaskSelectors), MaxMaskSelectors)
	}
	for i, s := range c.MaskSelectors {
		k := key("mask_selectors") + "[" + strconv.Itoa(i) + "]"
		switch {
		case strings.TrimSpace(s) == "":
			return doc.Errorf(k, "is empty")
		case len(s) > 200:
			return doc.Errorf(k, "is longer than 200 characters")
		case strings.ContainsFunc(s, unicode.IsControl) || strings.ContainsAny(s, "{};"):
			return doc.Errorf(k, "%q is not a CSS selector (no braces, semicolons or control characters)", s)
		}
	}
	switch {
	case c.TimeLimit < 0 || c.TimeLimit > wire.TimeLimit:
		return doc.Errorf(key("time_limit"), "%v is out of range: at most %v (0 for %v)", c.TimeLimit, wire.TimeLimit, wire.TimeLimit)
	case c.TimeLimit == 0:
		c.TimeLimit = wire.TimeLimit
	case c.TimeLimit < time.Minute:
		return doc.Errorf(key("time_limit"), "%v is too short to help anyone: at least 1m", c.TimeLimit)
	}
	switch {
	case c.MaxFPS < 0 || c.MaxFPS > 15:
		return doc.Errorf(key("max_fps"), "%d is out of range: 1 to 15 (0 for 8)", c.MaxFPS)
	case c.MaxFPS == 0:
		c.MaxFPS = 8
	}
	return nil
}

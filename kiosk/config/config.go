// Package config is the kiosk shell's configuration: the YAML file IT staff
// edit (bin/kiosk --config FILE) and the embedded default a bare bin/kiosk
// runs on. Files are decoded strictly by confile and then validated here, so
// that a bad file is refused before any window opens, with the file, the
// line and the key.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/capture/camera"
	"accesskiosk/kiosk/capture/scan"
	"accesskiosk/kiosk/policy"
	"accesskiosk/kiosk/printing"
	"accesskiosk/kiosk/ui"

	"accesskiosk/kiosk/volunteer"
)

// DefaultHomeURL is the built-in home page.
const DefaultHomeURL = "kiosk://home"

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML is the embedded default config file, comments and all.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Config is the kiosk shell's whole configuration.
type Config struct {
	// HomeURL is where every session starts; "" means DefaultHomeURL. It
	// must be a kiosk:// page or a URL the allow list allows.
	HomeURL string `yaml:"home_url"`
	// Allow lists the rules for what a resident may open (main page and frames).
	Allow []string `yaml:"allow"`
	// AllowFrames lists rules for origins allowed only inside a frame of an
	// allowed page (payment pages, captchas), never as the page itself.
	AllowFrames []string `yaml:"allow_frames"`
	Session     Session  `yaml:"session"`
	// DBus is the bus the kiosk serves org.accesskiosk.Kiosk1 on: "session"
	// (the default when ""), "system", or a D-Bus address (unix:path=...).
	DBus    string  `yaml:"dbus"`
	Council Council `yaml:"council"`
	// Tiles are the home page's services, in order.
	Tiles []Tile `yaml:"tiles"`
	// UI is what the built-in pages show (see package kiosk/ui); keys it
	// leaves out come from council and tiles above.
	UI ui.Config `yaml:"ui"`
	// Zoom is the page zoom every session starts at; 0 means 1.0 (100%).
	Zoom float64 `yaml:"zoom"`
	// WebGL lets pages draw with WebGL (maps built on it, 3D). Off (the
	// default), the web processes load no GL driver (kiosk/webkit/nogl):
	// a page asking for WebGL gets none, as on a machine without a GPU,
	// and with WebKitGTK 2.50 each web process is about 25 MiB smaller
	// (2.54 loads no driver without WebGL anyway). Pages are painted on
	// the CPU either way.
	WebGL bool `yaml:"webgl"`
	// LogLevel is a logrus level name; "" means info.
	LogLevel string `yaml:"log_level"`
	// OfflineCheck is an http(s) URL the kiosk asks (HEAD, every 20s; every
	// 3s while offline) to know whether the internet works; any answer
	// means online. When it stops answering, the offline page shows, and
	// the resident is taken back when it answers again. "" means no check:
	// only a page that fails to load shows the offline page.
	OfflineCheck string `yaml:"offline_check"`

	// Assist is remote help from council staff (package kiosk/assist has
	// the keys); absent means off.
	Assist assist.Config `yaml:"assist"`

	// Volunteer is volunteer mode: the PIN hash, the assisted idle timeout,
	// lockout and the service categories (package volunteer). Absent means
	// no PIN (one-time codes only) and the built-in categories.
	Volunteer volunteer.Config `yaml:"volunteer"`

	// Scanner and Camera are the file picker's devices (package
	// kiosk/capture/scan and /camera have the keys); absent means none,
	// and the picker leaves that choice out. Files limits the session's
	// files folder (files.go).
	Scanner scan.Config   `yaml:"scanner"`
	Camera  camera.Config `yaml:"camera"`
	Files   Files         `yaml:"files"`

	// Insights names allow rules for the fleet's Insights (insights.go).
	Insights Insights `yaml:"insights"`

	// Printing is the printer (package kiosk/printing has the keys):
	// absent means no printer, no Print button, and window.print() does
	// nothing.
	Printing printing.Config `yaml:"printing"`

	// Parsed by Validate.
	AllowList *policy.List `yaml:"-"`
	FrameList *policy.List `yaml:"-"`
}

// Session configures the idle timer.
type Session struct {
	// IdleTimeout is how long without a touch or key before the warning; required.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// IdleWarning is how long the "Are you still there?" countdown shows; required.
	IdleWarning time.Duration `yaml:"idle_warning"`
}

// Council says whose kiosk this is.
type Council struct {
	Name  string `yaml:"name"`  // shown on the toolbar and home page; required
	Phone string `yaml:"phone"` // shown on help and block pages; "" for none
}

// Tile is one service on the home page.
type Tile struct {
	// ID names the tile in what the kiosk counts (ui.Tile.ID); optional.
	ID          string `yaml:"id"`
	Title       string `yaml:"title"`
	URL         string `yaml:"url"`
	Description string `yaml:"description"`
}

// Default returns the embedded default config, validated.
func Default() (*Config, error) {
	var c Config
	doc, err := confile.Decode("<embedded default>", defaultYAML, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(doc); err != nil {
		return nil, err
	}
	return &c, nil
}

// Load reads, decodes and validates the config file at path. Problems are
// *confile.Error values naming the file, line and key.
func Load(path string) (*Config, error) {
	var c Config
	doc, err := confile.Load(path, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(doc); err != nil {
		return nil, err
	}
	return &c, nil
}

// Parse decodes and validates data as if read from a file called name.
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	doc, err := confile.Decode(name, data, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(doc); err != nil {
		return nil, err
	}
	return &c, nil
}

// Limits on values that would make a kiosk unusable.
const (
	MinIdleTimeout = 30 * time.Second
	MaxIdleTimeout = 4 * time.Hour
	MinIdleWarning = 5 * time.Second
	MaxIdleWarning = 10 * time.Minute
)

// Validate checks c after decoding, fills in defaults and parses the rule
// lists. doc gives errors their line; it may be nil.
func (c *Config) Validate(doc *confile.Doc) error {
	if len(c.Allow) == 0 {
		return doc.Errorf("allow", "is required: list at least one rule such as https://www.example.gov.uk")
	}
	allow, err := parseRules(doc, "allow", c.Allow)
	if err != nil {
		return err
	}
	frames, err := parseRules(doc, "allow_frames", c.AllowFrames)
	if err != nil {
		return err
	}
	c.AllowList, c.FrameList = allow, frames

	if c.HomeURL == "" {
		c.HomeURL = DefaultHomeURL
	}
	if err := checkURL(c.HomeURL); err != nil {
		return doc.Errorf("home_url", "%v", err)
	}
	if d := allow.Decide(c.HomeURL); !d.Allow {
		return doc.Errorf("home_url", "is not allowed by any rule in allow (%s); add a rule for it or use %s", d.Reason, DefaultHomeURL)
	}

	s := c.Session
	switch {
	case s.IdleTimeout == 0:
		return doc.Errorf("session.idle_timeout", "is required: a duration such as 5m")
	case s.IdleTimeout < MinIdleTimeout || s.IdleTimeout > MaxIdleTimeout:
		return doc.Errorf("session.idle_timeout", "must be between %v and %v, got %v", MinIdleTimeout, MaxIdleTimeout, s.IdleTimeout)
	case s.IdleWarning == 0:
		return doc.Errorf("session.idle_warning", "is required: a duration such as 30s")
	case s.IdleWarning < MinIdleWarning || s.IdleWarning > MaxIdleWarning:
		return doc.Errorf("session.idle_warning", "must be between %v and %v, got %v", MinIdleWarning, MaxIdleWarning, s.IdleWarning)
	}
	if err := c.Volunteer.Validate(doc, "volunteer", s.IdleTimeout); err != nil {
		return err
	}
	if err := c.Assist.Validate(doc, "assist"); err != nil {
		return err
	}

	switch {
	case c.DBus == "":
		c.DBus = "session"
	case c.DBus == "session" || c.DBus == "system":
	case strings.Contains(c.DBus, ":") && strings.Contains(c.DBus, "="):
	default:
		return doc.Errorf("dbus", "want session, system or a D-Bus address such as unix:path=/run/kiosk/bus, got %q", c.DBus)
	}

	if strings.TrimSpace(c.Council.Name) == "" {
		return doc.Errorf("council.name", "is required: the council's name, shown on every page")
	}
	for i, t := range c.Tiles {
		key := fmt.Sprintf("tiles[%d]", i)
		if strings.TrimSpace(t.Title) == "" {
			return doc.Errorf(key+".title", "is required")
		}
		if err := checkURL(t.URL); err != nil {
			return doc.Errorf(key+".url", "%v", err)
		}
		if d := allow.Decide(t.URL); !d.Allow {
			return doc.Errorf(key+".url", "is not allowed by any rule in allow (%s)", d.Reason)
		}
	}
	if c.OfflineCheck != "" {
		if u, err := url.Parse(c.OfflineCheck); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return doc.Errorf("offline_check", "want an http(s) URL such as https://www.example.gov.uk/, got %q", c.OfflineCheck)
		}
	}
	if err := c.validateUI(doc); err != nil {
		return err
	}
	if err := c.Insights.validate(doc, allow); err != nil {
		return err
	}
	if err := c.Scanner.Validate(doc, "scanner"); err != nil {
		return err
	}
	if err := c.Camera.Validate(doc, "camera"); err != nil {
		return err
	}
	if err := c.Files.Validate(doc, "files"); err != nil {
		return err
	}
	if err := c.Printing.Validate(doc, "printing"); err != nil {
		return err
	}
	switch {
	case c.Zoom == 0:
		c.Zoom = 1
	case c.Zoom < 0.5 || c.Zoom > 3:
		return doc.Errorf("zoom", "must be between 0.5 and 3 (1 is 100%%), got %v", c.Zoom)
	}
	return nil
}

func parseRules(doc *confile.Doc, key string, rules []string) (*policy.List, error) {
	l, err := policy.Parse(rules)
	if err == nil {
		return l, nil
	}
	var re *policy.RuleError
	if errors.As(err, &re) {
		return nil, doc.Errorf(fmt.Sprintf("%s[%d]", key, re.Index), "%s", re.Msg)
	}
	return nil, doc.Errorf(key, "%v", err)
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("want a URL such as %s or https://www.example.gov.uk/, got %q", DefaultHomeURL, s)
	}
	return nil
}

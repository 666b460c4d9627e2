package printing

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"accesskiosk/internal/confile"
	"accesskiosk/internal/ipp"
	"accesskiosk/internal/pin"
)

// Config is the `printing:` section of the kiosk config (and, for printer
// health, of the agent config). Decode the file over the zero value (or over
// a Config with a printer set), then call Validate, which checks every key
// and fills the defaults in, so that after it each field holds the value in
// force. A field's comment says what its zero value means.
type Config struct {
	// Printer is the printer's IPP URI: an IPP Everywhere printer
	// (ipp://printer.local/ipp/print, ipps://...) or a CUPS queue
	// (ipp://localhost:631/printers/NAME). "" means printing is off; every
	// other key then must be absent.
	Printer string `yaml:"printer"`
	// MaxCopies is the most copies a resident may ask for at once;
	// 0 means DefaultMaxCopies. Between 1 and 20.
	MaxCopies int `yaml:"max_copies"`
	// PagesPerSession bounds the pages (document pages × copies) one
	// session may print; 0 means DefaultPagesPerSession. At most 500.
	PagesPerSession int `yaml:"pages_per_session"`
	// PagesPerDay bounds the pages this kiosk prints in a day, counted in
	// the kiosk's state directory so that a restart does not reset it;
	// 0 means DefaultPagesPerDay. At least PagesPerSession, at most 10000.
	PagesPerDay int `yaml:"pages_per_day"`
	// JobsPerMinute bounds the jobs the kiosk sends in any minute, whatever
	// a page does (a page calling window.print() in a loop); 0 means
	// DefaultJobsPerMinute. At most 30.
	JobsPerMinute int `yaml:"jobs_per_minute"`
	// Color is "auto" (offer colour when the printer has it; the default
	// when "") or "never" (always print in black and white).
	Color string `yaml:"color"`
	// Release is "now" (print at once; the default when "") or "pin": jobs
	// are held on the printer and the resident gets a 4-digit code to
	// release them at the desk; held jobs not released by the end of the
	// session are cancelled. "pin" needs a printer or CUPS queue that holds
	// jobs (job-hold-until) and has Release-Job.
	Release string `yaml:"release"`
	// Cost is the cost line the print panel shows, in English ("Free for
	// council services", "10p a page at the desk"); "" shows none.
	Cost string `yaml:"cost"`
	// Collect says where the printout comes out; "" means DefaultCollect.
	Collect string `yaml:"collect"`
	// Translations of Cost and Collect by language code (cy, pl); a
	// missing one shows the English text.
	Translations map[string]Text `yaml:"translations"`
	// JobName is the job-name every job carries (the kiosk's own, never a
	// page title or a file name); "" means DefaultJobName. With release
	// "pin" the code is appended ("Access Kiosk 4821") so that desk staff
	// can find the job in the queue.
	JobName string `yaml:"job_name"`
	// User is the requesting-user-name every job carries; "" means
	// DefaultUser. A CUPS queue must let this user cancel its own jobs.
	User string `yaml:"user"`
	// TLSSHA256 pins an ipps:// printer's certificate by the SHA-256 of its
	// DER bytes (hex, colons allowed: what `openssl x509 -fingerprint
	// -sha256` prints). "" means the certificate must be trusted by the
	// system's roots, which a printer's self-signed certificate is not.
	TLSSHA256 string `yaml:"tls_sha256"`
	// Timeout bounds each request to the printer (a document upload gets
	// more time in proportion to its size); 0 means DefaultTimeout.
	// Between 2s and 5m.
	Timeout time.Duration `yaml:"timeout"`
}

// Text is one language's version of the panel's texts.
type Text struct {
	Cost    string `yaml:"cost"`
	Collect string `yaml:"collect"`
}

// Defaults and bounds of Config.
const (
	DefaultMaxCopies       = 3
	DefaultPagesPerSession = 20
	DefaultPagesPerDay     = 300
	DefaultJobsPerMinute   = 3
	DefaultJobName         = ipp.DefaultJobName
	DefaultUser            = ipp.DefaultUser
	DefaultCollect         = "Collect your printout from the printer."
	DefaultTimeout         = ipp.DefaultTimeout

	maxMaxCopies       = 20
	maxPagesPerSession = 500
	maxPagesPerDay     = 10000
	maxJobsPerMinute   = 30
	maxPanelText       = 200
	maxIPPName         = 127 // job-name and requesting-user-name are name(127) in practice
	minTimeout         = 2 * time.Second
	maxTimeout         = 5 * time.Minute
)

// Release modes and colour settings.
const (
	ReleaseNow  = "now"
	ReleasePIN  = "pin"
	ColorAuto   = "auto"
	ColorNever  = "never"
	defaultLang = "en"
)

var langRE = regexp.MustCompile(`^[a-z]{2,3}$`)

// Enabled says whether printing is configured.
func (c *Config) Enabled() bool { return c.Printer != "" }

// Validate checks c as decoded from a file and fills in the defaults.
// doc is the file's Doc (nil for a Config built in code) and prefix the key
// c sits under ("printing"); errors read "FILE:LINE: printing.KEY: what is
// wrong".
func (c *Config) Validate(doc *confile.Doc, prefix string) error {
	key := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	if c.Printer == "" {
		if set := c.setKeys(); len(set) > 0 {
			return doc.Errorf(key("printer"), "is required when %s is set: the printer's IPP URI, such as ipp://printer.local/ipp/print", key(set[0]))
		}
		return nil
	}
	if err := ipp.CheckURI(c.Printer); err != nil {
		return doc.Errorf(key("printer"), "%v", err)
	}

	type bound struct {
		name     string
		v        *int
		def, max int
	}
	for _, b := range []bound{
		{"max_copies", &c.MaxCopies, DefaultMaxCopies, maxMaxCopies},
		{"pages_per_session", &c.PagesPerSession, DefaultPagesPerSession, maxPagesPerSession},
		{"pages_per_day", &c.PagesPerDay, DefaultPagesPerDay, maxPagesPerDay},
		{"jobs_per_minute", &c.JobsPerMinute, DefaultJobsPerMinute, maxJobsPerMinute},
	} {
		switch {
		case *b.v < 0 || *b.v > b.max:
			return doc.Errorf(key(b.name), "%d is out of range: between 1 and %d (0 for the default, %d)", *b.v, b.max, b.def)
		case *b.v == 0:
			*b.v = b.def
		}
	}
	if c.PagesPerDay < c.PagesPerSession {
		return doc.Errorf(key("pages_per_day"), "%d is less than pages_per_session (%d): one session could never print its allowance", c.PagesPerDay, c.PagesPerSession)
	}

	switch c.Color {
	case "":
		c.Color = ColorAuto
	case ColorAuto, ColorNever:
	default:
		return doc.Errorf(key("color"), "want auto or never, got %q", c.Color)
	}
	switch c.Release {
	case "":
		c.Release = ReleaseNow
	case ReleaseNow, ReleasePIN:
	default:
		return doc.Errorf(key("release"), "want now or pin, got %q", c.Release)
	}

	if err := c.validateText(doc, key); err != nil {
		return err
	}
	return c.validateJob(doc, key)
}

// setKeys lists the keys other than printer that hold a value.
func (c *Config) setKeys() []string {
	var set []string
	add := func(name string, isSet bool) {
		if isSet {
			set = append(set, name)
		}
	}
	add("max_copies", c.MaxCopies != 0)
	add("pages_per_session", c.PagesPerSession != 0)
	add("pages_per_day", c.PagesPerDay != 0)
	add("jobs_per_minute", c.JobsPerMinute != 0)
	add("color", c.Color != "")
	add("release", c.Release != "")
	add("cost", c.Cost != "")
	add("collect", c.Collect != "")
	add("translations", len(c.Translations) > 0)
	add("job_name", c.JobName != "")
	add("user", c.User != "")
	add("tls_sha256", c.TLSSHA256 != "")
	add("timeout", c.Timeout != 0)
	return set
}

// CostText is the cost line in language lang, falling back to English.
func (c *Config) CostText(lang string) string {
	if t, ok := c.Translations[lang]; ok && t.Cost != "" {
		return t.Cost
	}
	return c.Cost
}

// CollectText says where to collect the printout, in language lang,
// falling back to English.
func (c *Config) CollectText(lang string) string {
	if t, ok := c.Translations[lang]; ok && t.Collect != "" {
		return t.Collect
	}
	return c.Collect
}

func checkPanelText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > maxPanelText {
		return fmt.Errorf("is %d characters; at most %d (it must fit on the print panel)", n, maxPanelText)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("has a control character (%U); write it on one line", r)
		}
	}
	return nil
}

func checkIPPName(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("is blank")
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	if len(s) > maxIPPName {
		return fmt.Errorf("is %d bytes; at most %d", len(s), maxIPPName)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("has a control character (%U)", r)
		}
	}
	return nil
}

// validateText checks the panel's cost and collect lines and their
// translations.
func (c *Config) validateText(doc *confile.Doc, key func(string) string) error {
	if err := checkPanelText(c.Cost); err != nil {
		return doc.Errorf(key("cost"), "%v", err)
	}
	if c.Collect == "" {
		c.Collect = DefaultCollect
	}
	if err := checkPanelText(c.Collect); err != nil {
		return doc.Errorf(key("collect"), "%v", err)
	}
	for lang, t := range c.Translations {
		tk := key("translations." + lang)
		if !langRE.MatchString(lang) || lang == defaultLang {
			return doc.Errorf(tk, "want a language code such as cy or pl (English is cost and collect themselves), got %q", lang)
		}
		if err := checkPanelText(t.Cost); err != nil {
			return doc.Errorf(tk+".cost", "%v", err)
		}
		if err := checkPanelText(t.Collect); err != nil {
			return doc.Errorf(tk+".collect", "%v", err)
		}
		if t.Cost != "" && c.Cost == "" {
			return doc.Errorf(tk+".cost", "is a translation of cost, which is not set")
		}
	}
	return nil
}

// validateJob checks what goes to the printer with each job: its name, the
// user, the certificate pin and the timeout.
func (c *Config) validateJob(doc *confile.Doc, key func(string) string) error {
	if c.JobName == "" {
		c.JobName = DefaultJobName
	}
	if err := checkIPPName(c.JobName); err != nil {
		return doc.Errorf(key("job_name"), "%v", err)
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if err := checkIPPName(c.User); err != nil {
		return doc.Errorf(key("user"), "%v", err)
	}

	if c.TLSSHA256 != "" {
		if !strings.HasPrefix(c.Printer, "ipps://") {
			return doc.Errorf(key("tls_sha256"), "pins the certificate of an ipps:// printer, but printer is %s", strings.SplitN(c.Printer, ":", 2)[0]+"://")
		}
		if _, err := pin.Parse(c.TLSSHA256); err != nil {
			return doc.Errorf(key("tls_sha256"), "%v", err)
		}
	}
	switch t := c.Timeout; {
	case t == 0:
		c.Timeout = DefaultTimeout
	case t < minTimeout || t > maxTimeout:
		return doc.Errorf(key("timeout"), "%v is out of range: between %v and %v (0 for the default, %v)", t, minTimeout, maxTimeout, DefaultTimeout)
	}
	return nil
}

// Package agent is the Access Kiosk management daemon: it reports the
// device's health to the fleet through a crash-safe on-disk queue, carries
// out the fleet's commands on the kiosk (through its D-Bus contract) and on
// the system (systemd and logind), and announces itself and finds the fleet
// by mDNS. bin/agent is a thin main around LoadConfig and Run.
package agent

import (
	_ "embed"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent/assist"
	"accesskiosk/agent/update"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/pin"
)

//go:embed defaults.yaml
var defaultsYAML []byte

// Config is bin/agent's config file. Every field's zero value is described
// in its comment; Defaults gives the embedded defaults (defaults.yaml).
type Config struct {
	// LogLevel is a logrus level name; "" means info.
	LogLevel string `yaml:"log_level"`
	// StateDir holds the credential, the queue and the command journal.
	StateDir  string          `yaml:"state_dir"`
	Fleet     FleetConfig     `yaml:"fleet"`
	Report    ReportConfig    `yaml:"report"`
	Queue     QueueConfig     `yaml:"queue"`
	Kiosk     KioskConfig     `yaml:"kiosk"`
	System    SystemConfig    `yaml:"system"`
	Discovery DiscoveryConfig `yaml:"discovery"`
	Health    HealthConfig    `yaml:"health"`
	Update    UpdateConfig    `yaml:"update"`
	// Assist is remote help's relay (agent/assist): the kiosk's socket,
	// relayed to the fleet over the agent's pinned TLS. Off unless enabled.
	Assist  assist.Config `yaml:"assist"`
	Printer PrinterConfig `yaml:"printer"`
}

// PrinterConfig is the printer whose health the agent reports
// (printer_offline, printer_needs_paper, ...; printer.go): the printer
// the kiosk config's printing.printer names.
type PrinterConfig struct {
	// URI is the printer's IPP URI (ipp://printer.local/ipp/print, a CUPS
	// queue ipp://HOST:631/printers/NAME, or ipps://); "" means no printer
	// and no printer warnings.
	URI string `yaml:"uri"`
	// TLSSHA256 pins an ipps:// printer's certificate (what the kiosk's
	// printing.tls_sha256 says); "" means the system's roots decide.
	TLSSHA256 string `yaml:"tls_sha256"`
	// Interval is how often the printer is asked; 0 means report.interval.
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds each question; 0 means 10s. At most the interval.
	Timeout time.Duration `yaml:"timeout"`
	// KioskConfig is the kiosk's own config file (IT's, like this one):
	// with uri "" the agent watches the printer its printing.printer names
	// (and printing.tls_sha256 pins), so IT name the printer once; "" means
	// it is not read.
	KioskConfig string `yaml:"kiosk_config"`
}

// UpdateConfig turns on signed updates (agent/update).
type UpdateConfig struct {
	// RepoURL is the TUF repository base (metadata/ and targets/ under it);
	// "" means updates are off and desired releases are ignored; "fleet"
	// means the fleet's own repository, FLEET/release, of the fleet this
	// device is configured for or enrolled with (its pinned certificate
	// trusted for it too).
	RepoURL string `yaml:"repo_url"`
	// TrustedRoot is the root.json the image carries; required with repo_url.
	TrustedRoot string `yaml:"trusted_root"`
	// Dir is the update directory; "" means STATE_DIR/update. The units run
	// its current/bin/* through release-exec (images/deb), which looks in
	// /var/lib/accesskiosk/update, the default.
	Dir string `yaml:"dir"`
	// Window is the daily maintenance window ("02:00-05:00"); "" means any time.
	Window string `yaml:"window"`
	// Factory maps bundle paths (bin/agent, units/NAME) to the files the
	// packages installed: the release laid down when the update directory
	// holds no usable one (agent/update Seed). Missing files are left out.
	Factory map[string]string `yaml:"factory"`
	// FactoryUnits are the factory release's units to restart after
	// switching back to it, in order.
	FactoryUnits []string `yaml:"factory_units"`
}

// FleetConfig says where the fleet server is and how to trust it.
type FleetConfig struct {
	// URL is the fleet's base URL; "" means discover it by mDNS.
	URL string `yaml:"url"`
	// Fingerprint is the SHA-256 of the fleet's TLS certificate in hex
	// (colons allowed); "" means the system CA roots decide (and mDNS
	// discovery is refused, since nothing would vouch for what it finds).
	Fingerprint string `yaml:"fingerprint"`
	// EnrolToken is an enrolment token given inline; "" means read
	// EnrolTokenFile.
	EnrolToken string `yaml:"enrol_token"`
	// EnrolTokenFile holds the token; "" means no token (the device must
	// already hold a credential).
	EnrolTokenFile string `yaml:"enrol_token_file"`
}

// ReportConfig is the report schedule and the retry policy.
type ReportConfig struct {
	Interval   time.Duration `yaml:"interval"`    // between reports; must be > 0
	Jitter     time.Duration `yaml:"jitter"`      // random extra delay up to this; 0 means none
	Timeout    time.Duration `yaml:"timeout"`     // per HTTP request; must be > 0
	Retries    int           `yaml:"retries"`     // quick retries inside one attempt; 0 means none
	BackoffMin time.Duration `yaml:"backoff_min"` // first wait after a failed attempt; must be > 0
	BackoffMax time.Duration `yaml:"backoff_max"` // longest wait; must be >= backoff_min
}

// QueueConfig bounds the on-disk queue.
type QueueConfig struct {
	MaxBytes int64         `yaml:"max_bytes"` // 0 means 16 MiB
	MaxAge   time.Duration `yaml:"max_age"`   // 0 means 7 days
}

// KioskConfig says where the kiosk shell is.
type KioskConfig struct {
	// Bus is "system", "session" or a D-Bus address; "" means system.
	Bus string `yaml:"bus"`
	// Unit is the kiosk's systemd unit, restarted by restart_kiosk; "" disables that command.
	Unit string `yaml:"unit"`
}

// SystemConfig says how to reach systemd and logind.
type SystemConfig struct {
	// Bus is "system" or a D-Bus address; "" means system.
	Bus string `yaml:"bus"`
	// AllowReboot lets the fleet reboot the device; false refuses reboot commands.
	AllowReboot bool `yaml:"allow_reboot"`
}

// DiscoveryConfig is the mDNS side.
type DiscoveryConfig struct {
	// Advertise announces _accesskiosk._tcp; false keeps the device quiet.
	Advertise bool `yaml:"advertise"`
	// Port goes into the SRV record; 0 means 9.
	Port int `yaml:"port"`
	// Interfaces limits mDNS to these names; empty means all multicast interfaces.
	Interfaces []string `yaml:"interfaces"`
	// Recheck is how often addresses are compared; 0 means 30s.
	Recheck time.Duration `yaml:"recheck"`
}

// HealthConfig holds warning thresholds.
type HealthConfig struct {
	DiskLowPercent float64 `yaml:"disk_low_percent"` // 0 means 10
	HotCelsius     float64 `yaml:"hot_celsius"`      // 0 means 80
}

// Defaults returns the embedded default config.
func Defaults() Config {
	var c Config
	if _, err := confile.Decode("<embedded default>", defaultsYAML, &c); err != nil {
		panic(fmt.Sprintf("agent: embedded defaults do not decode: %v", err)) // a build bug
	}
	return c
}

// LoadConfig returns the embedded defaults when path is "", or the file at
// path decoded over them, validated. Errors are *confile.Error (exit 2).
func LoadConfig(path string) (Config, error) {
	c := Defaults()
	if path == "" {
		return c, c.validate(nil)
	}
	doc, err := confile.Load(path, &c)
	if err != nil {
		return c, err
	}
	return c, c.validate(doc)
}

func (c *Config) validate(doc *confile.Doc) error {
	if c.StateDir == "" {
		return doc.Errorf("state_dir", "must name a directory")
	}
	if c.Fleet.URL != "" {
		u, err := url.Parse(c.Fleet.URL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return doc.Errorf("fleet.url", "want an http(s) URL such as https://fleet.example.org:8443, got %q", c.Fleet.URL)
		}
		if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
			return doc.Errorf("fleet.url", "plain http is only allowed to loopback; use https")
		}
	}
	if c.Fleet.Fingerprint != "" {
		if _, err := pin.Parse(c.Fleet.Fingerprint); err != nil {
			return doc.Errorf("fleet.fingerprint", "%v", err)
		}
	}
	if _, err := logrus.ParseLevel(c.LogLevel); c.LogLevel != "" && err != nil {
		return doc.Errorf("log_level", "want one of panic, fatal, error, warn, info, debug, trace; got %q", c.LogLevel)
	}
	r := c.Report
	switch {
	case r.Interval <= 0:
		return doc.Errorf("report.interval", "must be more than 0")
	case r.Jitter < 0:
		return doc.Errorf("report.jitter", "must not be negative")
	case r.Timeout <= 0:
		return doc.Errorf("report.timeout", "must be more than 0")
	case r.Retries < 0 || r.Retries > 10:
		return doc.Errorf("report.retries", "must be 0 to 10")
	case r.BackoffMin <= 0:
		return doc.Errorf("report.backoff_min", "must be more than 0")
	case r.BackoffMax < r.BackoffMin:
		return doc.Errorf("report.backoff_max", "must be at least backoff_min (%s)", r.BackoffMin)
	case c.Queue.MaxBytes < 0:
		return doc.Errorf("queue.max_bytes", "must not be negative")
	case c.Queue.MaxAge < 0:
		return doc.Errorf("queue.max_age", "must not be negative")
	case c.Discovery.Port < 0 || c.Discovery.Port > 65535:
		return doc.Errorf("discovery.port", "must be 0 to 65535")
	case c.Discovery.Recheck < 0:
		return doc.Errorf("discovery.recheck", "must not be negative")
	case c.Health.DiskLowPercent < 0 || c.Health.DiskLowPercent > 100:
		return doc.Errorf("health.disk_low_percent", "must be 0 to 100")
	}
	if u := c.Update.RepoURL; u != "" && u != "fleet" {
		pu, err := url.Parse(u)
		if err != nil || pu.Host == "" || (pu.Scheme != "https" && !(pu.Scheme == "http" && isLoopbackHost(pu.Hostname()))) {
			return doc.Errorf("update.repo_url", "want an https URL (http only to loopback), got %q", u)
		}
	}
	if c.Update.RepoURL != "" {
		if c.Update.TrustedRoot == "" {
			return doc.Errorf("update.trusted_root", "is required with update.repo_url (the root.json the image carries)")
		}
	}
	if _, err := update.ParseWindow(c.Update.Window); err != nil {
		return doc.Errorf("update.window", "%v", err)
	}
	if err := c.Assist.Validate(doc, "assist"); err != nil {
		return err
	}
	if err := c.Printer.validate(doc, c.Report.Interval); err != nil {
		return err
	}
	for _, k := range []struct{ key, v string }{{"kiosk.bus", c.Kiosk.Bus}, {"system.bus", c.System.Bus}} {
		if k.v != "" && k.v != "system" && k.v != "session" && !strings.Contains(k.v, ":") {
			return doc.Errorf(k.key, "want system, session or a D-Bus address such as unix:path=/run/dbus/system_bus_socket, got %q", k.v)
		}
	}
	return nil
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

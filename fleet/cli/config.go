package cli

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/confile"
)

// Config is the optional YAML file given with `fleet serve --config FILE`.
// Every field has a default; a field's comment says what its zero value means.
type Config struct {
	// CouncilName is shown in the console header (default "Access Kiosk").
	CouncilName string `yaml:"council_name"`
	// ReportInterval is how often devices are told to report (default 30s).
	ReportInterval time.Duration `yaml:"report_interval"`
	// Retention is how long reports and receipts are kept (default 30 days).
	Retention time.Duration `yaml:"retention"`
	// SessionTTL is how long a console login lasts (default 8h).
	SessionTTL time.Duration `yaml:"session_ttl"`
	// RatePerSecond and RateBurst bound each device's requests (defaults 2, 60).
	RatePerSecond float64 `yaml:"rate_per_second"`
	RateBurst     int     `yaml:"rate_burst"`
	Alerts        Alerts  `yaml:"alerts"`
	// Assist is remote help (issue 17): staff see a kiosk's screen and
	// point, only while its resident allows it.
	Assist Assist `yaml:"assist"`
	// Insights configures the console's Insights figures.
	Insights Insights `yaml:"insights"`
}

// Assist configures remote help on the fleet server.
type Assist struct {
	// Enabled mounts remote help: the agents' assist WebSocket, the
	// console's Remote help page, Offer help and the viewer. Default off.
	Enabled bool `yaml:"enabled"`
	// Roles have the assist permission (default [admin]).
	Roles []string `yaml:"roles"`
}

// Insights configures what the fleet counts of sessions and how it shows
// it (the console's Insights page, its exports and reports).
type Insights struct {
	// K is the small-number threshold: a count under it is shown only as
	// "fewer than K" (default 5; 3 to 100).
	K int `yaml:"k"`
	// TimeZone is the council's IANA time zone, for local dates and hours
	// ("Europe/London"; "" means the server's own).
	TimeZone string `yaml:"time_zone"`
	// YearStart is the month the financial year starts ("april", the
	// default, or "january" ...).
	YearStart string `yaml:"year_start"`
	// KeepMonths is how many months of counts are kept, this one included
	// (default 36; at least 24).
	KeepMonths int `yaml:"keep_months"`
	// Vocabulary is what the kiosks are configured with, per kind: only
	// these identifiers are counted; a receipt's other identifiers are
	// dropped (and counted as dropped). A kind left out keeps the default
	// (the kiosk's embedded defaults: its built-in guides, volunteer
	// categories, Welsh and Polish; no tiles or services).
	Vocabulary api.Vocabulary `yaml:"vocabulary"`
}

var monthNames = map[string]time.Month{}

func init() {
	for m := time.January; m <= time.December; m++ {
		monthNames[strings.ToLower(m.String())] = m
	}
}

// Zone is the configured time zone (the server's when none is given).
func (i Insights) Zone() *time.Location {
	if i.TimeZone == "" {
		return time.Local
	}
	loc, err := time.LoadLocation(i.TimeZone)
	if err != nil {
		return time.Local // validate refused it already
	}
	return loc
}

// FinancialYearStart is the month the financial year starts.
func (i Insights) FinancialYearStart() time.Month { return monthNames[strings.ToLower(i.YearStart)] }

// Alerts configures when a kiosk needs attention.
type Alerts struct {
	// OfflineAfter: no report for this long raises "offline" (default 10m).
	OfflineAfter time.Duration `yaml:"offline_after"`
	// DiskLowPercent: free disk below this percentage raises "disk_low" (default 10).
	DiskLowPercent float64 `yaml:"disk_low_percent"`
	// HotCelsius: a temperature at or above this raises "too_hot" (default 80).
	HotCelsius float64 `yaml:"hot_celsius"`
	// CrashLoopRestarts: this many kiosk restarts in an hour raise "crash_loop" (default 3).
	CrashLoopRestarts int `yaml:"crash_loop_restarts"`
	// WebhookURL receives a JSON POST when an alert opens or closes; "" means none.
	WebhookURL string `yaml:"webhook_url"`
	// Interval is how often alerts are evaluated (default 30s).
	Interval time.Duration `yaml:"interval"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		CouncilName:    "Access Kiosk",
		ReportInterval: 30 * time.Second,
		Retention:      30 * 24 * time.Hour,
		SessionTTL:     8 * time.Hour,
		RatePerSecond:  2,
		RateBurst:      60,
		Alerts: Alerts{
			OfflineAfter:      10 * time.Minute,
			DiskLowPercent:    10,
			HotCelsius:        80,
			CrashLoopRestarts: 3,
			Interval:          30 * time.Second,
		},
		Insights: Insights{K: 5, YearStart: "april", KeepMonths: 36, Vocabulary: api.DefaultVocabulary()},
	}
}

// LoadConfig reads path over the defaults and validates it.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	doc, err := confile.Load(path, &cfg)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.validate(doc)
}

func (c *Config) validate(doc *confile.Doc) error {
	switch {
	case c.CouncilName == "" || len(c.CouncilName) > 80:
		return doc.Errorf("council_name", "must be 1 to 80 characters")
	case c.ReportInterval < 5*time.Second || c.ReportInterval > time.Hour:
		return doc.Errorf("report_interval", "must be between 5s and 1h, not %s", c.ReportInterval)
	case c.Retention < 24*time.Hour:
		return doc.Errorf("retention", "must be at least 24h (usage reports need a day), not %s", c.Retention)
	case c.SessionTTL < 5*time.Minute || c.SessionTTL > 7*24*time.Hour:
		return doc.Errorf("session_ttl", "must be between 5m and 168h, not %s", c.SessionTTL)
	case c.RatePerSecond <= 0 || c.RatePerSecond > 1000:
		return doc.Errorf("rate_per_second", "must be more than 0 and at most 1000")
	case c.RateBurst < 1 || c.RateBurst > 10000:
		return doc.Errorf("rate_burst", "must be between 1 and 10000")
	case c.Alerts.OfflineAfter < time.Minute:
		return doc.Errorf("alerts.offline_after", "must be at least 1m, not %s", c.Alerts.OfflineAfter)
	case c.Alerts.DiskLowPercent <= 0 || c.Alerts.DiskLowPercent >= 100:
		return doc.Errorf("alerts.disk_low_percent", "must be between 0 and 100")
	case c.Alerts.HotCelsius < 30 || c.Alerts.HotCelsius > 150:
		return doc.Errorf("alerts.hot_celsius", "must be between 30 and 150")
	case c.Alerts.CrashLoopRestarts < 1:
		return doc.Errorf("alerts.crash_loop_restarts", "must be at least 1")
	case c.Alerts.Interval < time.Second:
		return doc.Errorf("alerts.interval", "must be at least 1s")
	}
	for _, r := range c.Assist.Roles {
		if r != store.RoleAdmin && r != store.RoleViewer {
			return doc.Errorf("assist.roles", "want admin or viewer, not %q", r)
		}
	}
	switch in := c.Insights; {
	case in.K < 3 || in.K > 100:
		return doc.Errorf("insights.k", "must be 3 to 100, not %d", in.K)
	case in.KeepMonths < 24 || in.KeepMonths > 240:
		return doc.Errorf("insights.keep_months", "must be 24 to 240 (two years or more: a financial year and the one before), not %d", in.KeepMonths)
	case monthNames[strings.ToLower(in.YearStart)] == 0:
		return doc.Errorf("insights.year_start", "must be a month, such as april, not %q", in.YearStart)
	}
	if tz := c.Insights.TimeZone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			return doc.Errorf("insights.time_zone", "%q is not a time zone such as Europe/London", tz)
		}
	}
	if err := c.Insights.Vocabulary.Check(); err != nil {
		var ve *api.ValidationError
		if errors.As(err, &ve) {
			return doc.Errorf("insights.vocabulary."+ve.Field, "%s", ve.Msg)
		}
		return doc.Errorf("insights.vocabulary", "%v", err)
	}
	if c.Alerts.WebhookURL != "" {
		u, err := url.Parse(c.Alerts.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return doc.Errorf("alerts.webhook_url", "must be an http:// or https:// URL")
		}
	}
	return nil
}

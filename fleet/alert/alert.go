// Package alert decides which kiosks need attention (offline too long, disk
// low, too hot, crash-looping, a wipe failed), keeps the open alerts in the
// store, and announces each alert opening and closing to a JSON webhook.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/store"
	"accesskiosk/internal/backoff"
)

// Alert kinds.
const (
	Offline    = "offline"
	DiskLow    = "disk_low"
	TooHot     = "too_hot"
	CrashLoop  = "crash_loop"
	WipeFailed = "wipe_failed"
	// DeviceFlooding: the fleet refused or dropped some of what the device
	// sent in the last hour for being more than one kiosk can produce (a
	// stolen credential, or a broken agent).
	DeviceFlooding = "device_flooding"
)

// Kinds lists every kind, in the order the console shows them.
var Kinds = []string{WipeFailed, DeviceFlooding, CrashLoop, Offline, TooHot, DiskLow}

// Title is a short description of a kind for people.
func Title(kind string) string {
	switch kind {
	case Offline:
		return "Offline"
	case DiskLow:
		return "Disk nearly full"
	case TooHot:
		return "Too hot"
	case CrashLoop:
		return "Kiosk keeps restarting"
	case WipeFailed:
		return "Session wipe failed"
	case DeviceFlooding:
		return "Sending more than a kiosk can"
	}
	return kind
}

// Rules are the thresholds.
type Rules struct {
	OfflineAfter      time.Duration
	DiskLowPercent    float64
	HotCelsius        float64
	CrashLoopRestarts int
}

// Finding is one alert condition that holds for a device now.
type Finding struct {
	Kind   string
	Detail string
}

// Evaluate returns the conditions that hold for d at now. wipeFailures is
// the device's wipe failures reported in the last 24 hours.
func (r Rules) Evaluate(d store.Device, wipeFailures int, now time.Time) []Finding {
	var out []Finding
	if d.Revoked {
		return nil
	}
	if d.LastSeenUnixMs > 0 {
		if gone := now.Sub(time.UnixMilli(d.LastSeenUnixMs)); gone >= r.OfflineAfter {
			out = append(out, Finding{Offline, "no report for " + since(gone)})
		}
	}
	warn := map[string]bool{}
	if d.Last != nil {
		for _, w := range d.Last.Warnings {
			warn[w.Code] = true
		}
		h := d.Last.Health
		if h.DiskTotalBytes > 0 {
			pct := float64(h.DiskFreeBytes) / float64(h.DiskTotalBytes) * 100
			if pct < r.DiskLowPercent {
				out = append(out, Finding{DiskLow, fmt.Sprintf("%.1f%% of the disk free", pct)})
			}
		} else if warn["disk_low"] {
			out = append(out, Finding{DiskLow, "the agent reports the disk low"})
		}
		if h.TempCelsius >= r.HotCelsius {
			out = append(out, Finding{TooHot, fmt.Sprintf("%.0f °C", h.TempCelsius)})
		} else if warn["hot"] || warn["too_hot"] {
			out = append(out, Finding{TooHot, "the agent reports it is too hot"})
		}
		if h.KioskRestarts >= r.CrashLoopRestarts {
			out = append(out, Finding{CrashLoop, fmt.Sprintf("the kiosk restarted %d times in the last hour", h.KioskRestarts)})
		} else if warn["kiosk_crash_loop"] || warn["crash_loop"] {
			out = append(out, Finding{CrashLoop, "the agent reports the kiosk is crash-looping"})
		}
	}
	if d.FloodingUnixMs > 0 && now.Sub(time.UnixMilli(d.FloodingUnixMs)) < time.Hour {
		out = append(out, Finding{DeviceFlooding, d.FloodingDetail})
	}
	if wipeFailures > 0 {
		out = append(out, Finding{WipeFailed, fmt.Sprintf("%d session wipe(s) failed in the last 24 hours", wipeFailures)})
	} else if warn["wipe_failed"] {
		out = append(out, Finding{WipeFailed, "the agent reports a failed wipe"})
	}
	return out
}

func since(d time.Duration) string {
	switch {
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// Event is the JSON body POSTed to the webhook.
type Event struct {
	Event    string `json:"event"` // "opened" or "closed"
	Kind     string `json:"kind"`
	Title    string `json:"title"`
	DeviceID string `json:"device_id"`
	Hostname string `json:"hostname"`
	Site     string `json:"site"`
	Detail   string `json:"detail"`
	UnixMs   int64  `json:"unix_ms"`
}

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	Store      *store.Store
	Rules      Rules
	WebhookURL string // "" for none
	Log        logrus.FieldLogger
	Registry   *prometheus.Registry // nil: no metrics
	Client     *http.Client         // nil: a client with a 10s timeout
	Now        func() time.Time
	// Leader, when set, is the role a replica must hold to run the checks
	// (store.Leadership "alerts"): with several replicas on one
	// PostgreSQL one of them checks and posts each event once; the others
	// wait and take over should it go. nil: this process always checks.
	Leader *store.Leadership
}

// Watcher evaluates the rules over every device periodically.
type Watcher struct {
	cfg    WatcherConfig
	open   *prometheus.GaugeVec
	leader prometheus.Gauge
	hooks  chan Event
}

// NewWatcher makes a watcher; start it with Run.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Watcher{cfg: cfg, hooks: make(chan Event, 1000)}
	w.open = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fleet_alerts_open", Help: "Open alerts by kind."}, []string{"kind"})
	w.leader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "fleet_alerts_leader", Help: "1 while this replica runs the alert checks and posts the webhook (one replica of several does)."})
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{w.open, w.leader} {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// Run checks every interval until ctx is done, and delivers webhook events.
func (w *Watcher) Run(ctx context.Context, interval time.Duration) {
	go w.deliver(ctx)
	t := time.NewTicker(interval)
	defer t.Stop()
	leading := w.cfg.Leader == nil // one process: no news to log
	if w.cfg.Leader != nil {
		defer w.cfg.Leader.Release()
	}
	for {
		now, err := w.leading(ctx)
		if err != nil && ctx.Err() == nil {
			w.cfg.Log.WithError(err).Warn("cannot tell whether this replica runs the alert checks")
		}
		if leading || now {
			w.leader.Set(b2f(now))
		}
		if now != leading {
			leading = now
			if leading {
				w.cfg.Log.Info("this replica runs the alert checks")
			} else {
				w.cfg.Log.Info("another replica runs the alert checks")
				w.open.Reset() // that replica exports the open alerts
			}
		}
		if leading {
			if err := w.Check(ctx); err != nil && ctx.Err() == nil {
				w.cfg.Log.WithError(err).Warn("alert check failed")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *Watcher) leading(ctx context.Context) (bool, error) {
	if w.cfg.Leader == nil {
		return true, nil
	}
	return w.cfg.Leader.Leading(ctx)
}

// Check evaluates every device once, opening and closing alerts in the
// store, and queues webhook events for the changes. It returns the events.
func (w *Watcher) Check(ctx context.Context) error {
	_, err := w.check(ctx)
	return err
}

func (w *Watcher) check(ctx context.Context) ([]Event, error) {
	st := w.cfg.Store
	now := w.cfg.Now()
	devs, err := st.Devices(ctx, store.DeviceFilter{})
	if err != nil {
		return nil, err
	}
	wipes, err := st.WipeFailuresSince(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	open, err := st.OpenAlerts(ctx)
	if err != nil {
		return nil, err
	}
	type key struct{ dev, kind string }
	have := map[key]store.AlertRow{}
	for _, a := range open {
		have[key{a.DeviceID, a.Kind}] = a
	}
	want := map[key]bool{}
	var events []Event
	counts := map[string]int{}
	byID := map[string]store.Device{}
	for _, d := range devs {
		byID[d.ID] = d
		for _, f := range w.cfg.Rules.Evaluate(d, wipes[d.ID], now) {
			k := key{d.ID, f.Kind}
			want[k] = true
			counts[f.Kind]++
			if _, ok := have[k]; ok {
				continue
			}
			opened, err := st.OpenAlert(ctx, store.AlertRow{DeviceID: d.ID, Kind: f.Kind, OpenedUnixMs: now.UnixMilli(), Detail: f.Detail})
			if err != nil {
				return nil, err
			}
			if !opened {
				continue // opened meanwhile (by another replica): its event is that one's
			}
			events = append(events, Event{Event: "opened", Kind: f.Kind, Title: Title(f.Kind), DeviceID: d.ID,
				Hostname: d.Hostname, Site: d.Site, Detail: f.Detail, UnixMs: now.UnixMilli()})
		}
	}
	for k, a := range have {
		if want[k] {
			continue
		}
		if err := st.CloseAlert(ctx, k.dev, k.kind, now.UnixMilli()); err != nil {
			return nil, err
		}
		d := byID[k.dev]
		events = append(events, Event{Event: "closed", Kind: k.kind, Title: Title(k.kind), DeviceID: k.dev,
			Hostname: d.Hostname, Site: d.Site, Detail: a.Detail, UnixMs: now.UnixMilli()})
	}
	sort.Slice(events, func(i, j int) bool { return events[i].DeviceID+events[i].Kind < events[j].DeviceID+events[j].Kind })
	for _, k := range Kinds {
		w.open.WithLabelValues(k).Set(float64(counts[k]))
	}
	if w.cfg.WebhookURL != "" {
		for _, e := range events {
			select {
			case w.hooks <- e:
			default:
				w.cfg.Log.WithField("kind", e.Kind).Warn("webhook queue full; event dropped")
			}
		}
	}
	return events, nil
}

// deliver POSTs queued events to the webhook, retrying each a few times.
func (w *Watcher) deliver(ctx context.Context) {
	for {
		var e Event
		select {
		case <-ctx.Done():
			return
		case e = <-w.hooks:
		}
		body, _ := json.Marshal(e)
		retry := backoff.Backoff{Min: time.Second, Max: 16 * time.Second}
		for attempt := 1; attempt <= 5; attempt++ {
			err := w.post(ctx, body)
			if err == nil {
				break
			}
			w.cfg.Log.WithError(err).WithField("attempt", attempt).Warn("webhook delivery failed")
			if attempt < 5 && retry.Wait(ctx) != nil {
				return
			}
		}
	}
}

func (w *Watcher) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "accesskiosk-fleet")
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

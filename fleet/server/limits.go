package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/store"
)

// Limits bound what anonymous clients and each enrolled device can make
// the server do. Zero fields take DefaultLimits'.
type Limits struct {
	// EnrolGlobal bounds enrolment attempts from every address together
	// (each address is also held to the device request rate).
	EnrolGlobal throttle.Rule
	// DeviceReports bounds the reports one device may have stored: a
	// bucket refilled by the hour. A kiosk back from a long time offline
	// sends its queue at this pace; the rest waits (429, Retry-After).
	DeviceReports throttle.Rule
	// SessionsPerHour bounds one device's sessions (wipe receipts, or the
	// session counts of its reports where larger): this many received in
	// any hour, and this many stored for any clock hour by when they
	// ended. One kiosk has one screen, and a session takes at least
	// MinSession.
	SessionsPerHour int
	// FilesPerHour bounds one device's downloads, uploads and print jobs
	// (each; capability 7's counts): this many an hour, up to
	// api.MaxCountedFiles at once (one session's most). Counts beyond it
	// are not counted (the sessions are). Remote help is bounded by the
	// clock: one screen is shared at most all the time, up to a day at
	// once.
	FilesPerHour int
	// PagesPerHour bounds one device's pages printed and pages scanned or
	// photographed (each): this many an hour, up to api.MaxCountedPages
	// at once (one session's most). Pages beyond it are not counted.
	PagesPerHour int
}

// MinSession is the least time a real session takes: a touch to start it,
// End session and its confirmation, and the reset.
const MinSession = 2 * time.Second

// DefaultLimits are a server's limits when its Config leaves them zero.
var DefaultLimits = Limits{
	EnrolGlobal: throttle.Rule{Rate: 5, Burst: 100},
	// One report every 2.5 s: the shortest report interval the fleet
	// tells devices (5 s) and a report when a session starts and ends.
	DeviceReports:   throttle.Rule{Rate: 1440.0 / 3600, Burst: 1440},
	SessionsPerHour: int(time.Hour / MinSession),
	// A file or a print job takes at least a tap: one per MinSession.
	FilesPerHour: int(time.Hour / MinSession),
	// A fast office printer or scanner does 30 pages a minute.
	PagesPerHour: 1800,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.EnrolGlobal.Rate > 0 && l.EnrolGlobal.Burst > 0 {
		d.EnrolGlobal = l.EnrolGlobal
	}
	if l.DeviceReports.Rate > 0 && l.DeviceReports.Burst > 0 {
		d.DeviceReports = l.DeviceReports
	}
	if l.SessionsPerHour > 0 {
		d.SessionsPerHour = l.SessionsPerHour
	}
	if l.FilesPerHour > 0 {
		d.FilesPerHour = l.FilesPerHour
	}
	if l.PagesPerHour > 0 {
		d.PagesPerHour = l.PagesPerHour
	}
	return d
}

// Throttle keys.
const (
	keyEnrolAddr   = "enrol:"      // + client address
	keyEnrolGlobal = "enrol:*"     //
	keyAdminAddr   = "admin:"      // + client address
	keyReport      = "report:"     // + device id: requests
	keyFloodMark   = "flood-mark:" // + device id: at most one MarkFlooding a minute
)

// limited takes n tokens from key's bucket in st; when there are not
// enough it answers 429 with Retry-After and msg and returns false. A
// failing st answers 503.
func (s *Server) limited(w http.ResponseWriter, r *http.Request, st throttle.State, key string, rule throttle.Rule, n float64, msg string) bool {
	ok, wait, err := st.Take(r.Context(), key, rule, n)
	if err != nil {
		s.log.WithError(err).Error("rate limit state")
		retryAfter(w, 5*time.Second)
		writeError(w, http.StatusServiceUnavailable, api.CodeInternal, "the server cannot check its limits right now; try again")
		return true
	}
	if !ok {
		retryAfter(w, wait)
		writeError(w, http.StatusTooManyRequests, api.CodeRateLimited, msg)
		return true
	}
	return false
}

// clampTimes dates a batch's reports and receipts that are more than
// store.ClockAhead ahead of now as now: a kiosk's clock may be wrong, and
// a future date would hold a report "newest" and keep a receipt from ever
// being pruned.
func clampTimes(b *api.ReportBatch, now time.Time) {
	latest := now.Add(store.ClockAhead).UnixMilli()
	for i := range b.Reports {
		r := &b.Reports[i]
		if r.CreatedUnixMs > latest {
			r.CreatedUnixMs = now.UnixMilli()
		}
		for j := range r.Receipts {
			if r.Receipts[j].EndedUnixMs > latest {
				r.Receipts[j].EndedUnixMs = now.UnixMilli()
			}
		}
	}
}

// usageBudget is a device's budget for capability 7's counts under l.
func usageBudget(l Limits) store.UsageBudget {
	return store.UsageBudget{
		Files:    store.Budget{PerSecond: float64(l.FilesPerHour) / 3600, Burst: float64(api.MaxCountedFiles)},
		AssistMs: store.Budget{PerSecond: 1000, Burst: float64(api.MaxAssistMs(api.MaxCountedMinutes))},
		Pages:    store.Budget{PerSecond: float64(l.PagesPerHour) / 3600, Burst: float64(api.MaxCountedPages)},
	}
}

// overBudget answers 429 to a batch the device's budgets could not pay
// for (nothing of it was stored) and marks the device flooding.
func (s *Server) overBudget(w http.ResponseWriter, r *http.Request, id string, b *api.ReportBatch, wait time.Duration) {
	lim := s.cfg.Limits
	s.flooding(r.Context(), id, fmt.Sprintf("sent %d reports and %d sessions at once, more than one kiosk produces; refused (it may send %.0f reports an hour and %d sessions)",
		len(b.Reports), store.BatchSessions(b), lim.DeviceReports.Burst, lim.SessionsPerHour))
	retryAfter(w, wait)
	writeError(w, http.StatusTooManyRequests, api.CodeRateLimited,
		"this kiosk is sending more reports or sessions than one kiosk produces; the rest must wait: send it again later")
}

// flooding records (at most once a minute per device) that the device
// sent more than one kiosk can produce: the log, the metric and the
// device_flooding alert.
func (s *Server) flooding(ctx context.Context, id, detail string) {
	s.metrics.floods.Inc()
	if ok, _, _ := s.devices.Take(ctx, keyFloodMark+id, throttle.Rule{Rate: 1.0 / 60, Burst: 1}, 1); !ok {
		return
	}
	s.log.WithField("device", id).Warn("device flooding: " + detail)
	if err := s.store.MarkFlooding(ctx, id, detail); err != nil {
		s.log.WithError(err).Error("mark a device flooding")
	}
}

package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"accesskiosk/fleet/store"
)

type metrics struct {
	reports    prometheus.Counter
	duplicates prometheus.Counter
	acks       prometheus.Counter
	enrolments prometheus.Counter
	// reenrolments: devices that enrolled again with their key and token.
	reenrolments prometheus.Counter
	latency      *prometheus.HistogramVec
	// panics: handlers that panicked (answered 400, logged with the stack).
	panics prometheus.Counter
	// floods: device batches refused or cut for being more than one kiosk
	// can produce.
	floods prometheus.Counter
	// uncounted: identifiers in receipts outside the Insights vocabulary
	// (dropped, never stored).
	uncounted prometheus.Counter
	// commits and groups: each group commit's time and how many batches it took.
	commits, groups prometheus.Histogram
}

func newMetrics(reg *prometheus.Registry, st *store.Store) (*metrics, error) {
	m := &metrics{
		reports: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleet_reports_ingested_total", Help: "Reports stored (not counting replays of reports already held).",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleet_reports_duplicate_total", Help: "Reports received again that were already held (accepted, not stored twice).",
		}),
		acks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleet_command_acks_total", Help: "Command acknowledgements received.",
		}),
		enrolments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleet_enrolments_total", Help: "Devices enrolled.",
		}),
		reenrolments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleet_reenrolments_total", Help: "Devices that enrolled again with the same device key and token (a first boot cut off after enrolling); each got a fresh credential.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fleet_http_request_duration_seconds",
			Help:    "HTTP request latency by route and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "code"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleet_http_panics_total", Help: "Requests whose handler panicked (answered 400; the stack is in the log). Always a bug.",
		}),
		floods: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleet_device_floods_total", Help: "Device report batches refused or cut for being more than one kiosk can produce (see the device_flooding alert).",
		}),
		uncounted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleet_insights_uncounted_total", Help: "Identifiers in wipe receipts that are not in the Insights vocabulary: dropped, never stored (the Insights page lists them per kiosk).",
		}),
		commits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "fleet_ingest_commit_seconds", Help: "Time of each group commit of report batches (one database transaction).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		groups: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "fleet_ingest_group_batches", Help: "Report batches committed together in one transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
	}
	for _, c := range []prometheus.Collector{m.reports, m.duplicates, m.acks, m.enrolments, m.reenrolments, m.latency, m.panics, m.floods, m.uncounted, m.commits, m.groups,
		&deviceCollector{st: st}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// route is a request's label: the pattern of the ServeMux route that
// served it, without the method ("/api/v1/report", "/kiosks/{id}"), so
// the label has as many values as there are routes, whatever paths
// clients send. The pattern is the innermost mux's (the console's own for
// its pages), read after serving. Catch-alls, redirects and refusals
// before any route count as "other".
func route(r *http.Request) string {
	p := r.Pattern
	if _, path, ok := strings.Cut(p, " "); ok {
		p = path
	}
	switch p {
	case "", "/", "/api/":
		return "other"
	case "/{$}":
		return "/"
	}
	return p
}

var devicesDesc = prometheus.NewDesc("fleet_devices", "Enrolled devices by site and state (online, offline, never_reported, in_session).",
	[]string{"site", "state"}, nil)

type deviceCollector struct{ st *store.Store }

func (c *deviceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- devicesDesc }

func (c *deviceCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.st.DeviceStates(ctx, time.Now().Add(-store.OnlineWindow))
	if err != nil {
		ch <- prometheus.NewInvalidMetric(devicesDesc, err)
		return
	}
	for _, sc := range counts {
		ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, float64(sc.Online), sc.Site, "online")
		ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, float64(sc.Offline), sc.Site, "offline")
		ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, float64(sc.Never), sc.Site, "never_reported")
		ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, float64(sc.InSession), sc.Site, "in_session")
	}
}

package server

import (
	"context"
	"net/http"
	"strconv"
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
	}
	for _, c := range []prometheus.Collector{m.reports, m.duplicates, m.acks, m.enrolments, m.reenrolments, m.latency,
		&deviceCollector{st: st}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// route names a request for the latency label without unbounded values
// (no device ids or tokens in labels).
func route(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/"):
		if strings.HasPrefix(p, "/api/v1/admin/tokens/") {
			return "/api/v1/admin/tokens/{id}"
		}
		return p
	case p == "/healthz" || p == "/metrics":
		return p
	case strings.HasPrefix(p, "/static/"):
		return "/static/"
	case strings.HasPrefix(p, "/kiosks/"):
		return "/kiosks/{id}"
	default:
		for _, known := range []string{"/", "/login", "/logout", "/kiosks", "/sites", "/audit", "/usage", "/usage.csv", "/users", "/api-tokens", "/alerts"} {
			if p == known {
				return p
			}
		}
		return "other"
	}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument times every request; mux is unused but keeps the call site
// honest about what is wrapped.
func (m *metrics) instrument(_ *http.ServeMux, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		m.latency.WithLabelValues(route(r), strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
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

package assist

import (
	"github.com/prometheus/client_golang/prometheus"

	"accesskiosk/fleet/assist/wire"
)

// metrics are counts only: no staff names, device ids or share ids in
// labels.
type metrics struct {
	started        *prometheus.CounterVec // via
	ended          *prometheus.CounterVec // reason
	consented      prometheus.Counter
	shared         prometheus.Histogram
	claims         *prometheus.CounterVec // result
	waiting        prometheus.Counter
	frames         prometheus.Counter
	bytes          prometheus.Counter
	dropped        prometheus.Counter
	points         prometheus.Counter
	pointsDropped  prometheus.Counter
	viewersRefused prometheus.Counter
	viewerBad      prometheus.Counter
	deviceBad      prometheus.Counter
	// With replicas: WebSockets relayed to the replica holding their
	// share (viewer, device), and requests to the internal hop refused.
	relayed         *prometheus.CounterVec
	internalRefused prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, h *Hub) (*metrics, error) {
	m := &metrics{
		started:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fleet_assist_requests_total", Help: "Remote help started by staff, by how (code or offer)."}, []string{"via"}),
		ended:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fleet_assist_ended_total", Help: "Remote help shares ended, by reason."}, []string{"reason"}),
		consented: prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_consented_total", Help: "Shares the resident allowed."}),
		shared: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fleet_assist_shared_seconds", Help: "How long screens were shared (Allow to end).",
			Buckets: []float64{30, 60, 120, 300, 600, 900, 1200, 1800}}),
		claims:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fleet_assist_code_claims_total", Help: "Help codes entered by staff, by result (ok, wrong, rate_limited)."}, []string{"result"}),
		waiting:        prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_codes_registered_total", Help: "Help codes kiosks registered (residents who asked)."}),
		frames:         prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_frames_relayed_total", Help: "Frames relayed to viewers (in memory; never stored)."}),
		bytes:          prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_frame_bytes_relayed_total", Help: "Bytes of frames relayed to viewers."}),
		dropped:        prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_frames_dropped_total", Help: "Frames dropped (no viewer yet, viewer behind, waiting for a key frame)."}),
		points:         prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_points_total", Help: "Pointer events passed to kiosks."}),
		pointsDropped:  prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_points_dropped_total", Help: "Pointer events over the rate limit."}),
		viewersRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_viewers_refused_total", Help: "Viewer connections refused (a second viewer, another staff user)."}),
		viewerBad:      prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_viewer_protocol_errors_total", Help: "Viewers cut off for breaking the protocol."}),
		deviceBad:      prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_device_protocol_errors_total", Help: "Agents cut off for breaking the protocol."}),
		relayed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fleet_assist_relayed_total",
			Help: "WebSockets relayed to the replica holding their share, by side (viewer, device)."}, []string{"side"}),
		internalRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "fleet_assist_internal_refused_total",
			Help: "Requests to the replicas' internal hop refused (no replica certificate)."}),
	}
	for _, side := range []string{"viewer", "device"} {
		m.relayed.WithLabelValues(side)
	}
	for _, r := range wire.Reasons {
		m.ended.WithLabelValues(r)
	}
	for _, v := range []string{wire.ViaCode, wire.ViaOffer} {
		m.started.WithLabelValues(v)
	}
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fleet_assist_active", Help: "Shares live now (offered, asking or sharing)."},
		func() float64 { return float64(h.Active()) })
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.started, m.ended, m.consented, m.shared, m.claims, m.waiting, m.frames, m.bytes,
		m.dropped, m.points, m.pointsDropped, m.viewersRefused, m.viewerBad, m.deviceBad, m.relayed, m.internalRefused, active} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

package assist

import (
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/assist/wire"
)

// share is one staff member helping one kiosk. Its fields are guarded by
// Hub.mu.
type share struct {
	id, staff, device, via string

	state   string // wire.State*, or "ended"
	created time.Time
	asked   time.Time // offer sent to the device
	started time.Time // consent
	ended   bool
	reason  string // why it ended

	dev    *devConn
	viewer *peer
	// viewerGone is when the viewer last went or the share began without
	// one; zero while a viewer is connected.
	viewerGone time.Time

	lastSeq  uint32 // the last frame passed to the viewer
	lastAck  uint32 // the last ack passed to the device
	needKey  bool   // a frame was dropped: pass nothing but a key frame
	lastKeyQ time.Time
	frames   int
	bytes    int64
	dropped  int

	timer *time.Timer
}

const stateEnded = "ended"

func (h *Hub) newShareLocked(id, staff, device, via string, now time.Time) *share {
	s := &share{id: id, staff: staff, device: device, via: via, state: wire.StateWaitingDevice,
		created: now, viewerGone: now, needKey: true}
	h.shares[s.id] = s
	h.byDev[device] = s
	s.timer = time.AfterFunc(time.Hour, func() { h.check(s) })
	h.armLocked(s, now)
	return s
}

// attachLocked gives s its device connection and sends the offer.
func (h *Hub) attachLocked(s *share, d *devConn, now time.Time) {
	s.dev = d
	d.share = s
	s.state, s.asked = wire.StateWaitingConsent, now
	d.p.send(&wire.Msg{Type: wire.TypeOffer})
	h.stateLocked(s)
	h.armLocked(s, now)
}

// stateLocked tells the viewer the share's state.
func (h *Hub) stateLocked(s *share) {
	if s.viewer != nil && s.state != stateEnded {
		s.viewer.send(&wire.Msg{Type: wire.TypeState, State: s.state})
	}
}

// deadline is when s must end unless something happens first, and why.
func (h *Hub) deadline(s *share) (time.Time, string) {
	var at time.Time
	var why string
	switch s.state {
	case wire.StateWaitingDevice:
		at, why = s.created.Add(h.cfg.OfferTTL), wire.ReasonExpired
	case wire.StateWaitingConsent:
		at, why = s.asked.Add(h.cfg.ConsentWait), wire.ReasonNoAnswer
	case wire.StateSharing:
		at, why = s.started.Add(h.cfg.TimeLimit), wire.ReasonTimeLimit
	default:
		return time.Time{}, ""
	}
	if !s.viewerGone.IsZero() {
		if v := s.viewerGone.Add(h.cfg.ViewerWait); v.Before(at) {
			at, why = v, wire.ReasonStaffClosed
		}
	}
	return at, why
}

func (h *Hub) armLocked(s *share, now time.Time) {
	at, _ := h.deadline(s)
	if at.IsZero() {
		s.timer.Stop()
		return
	}
	s.timer.Reset(max(at.Sub(now), time.Millisecond))
}

// check ends s when its deadline has passed.
func (h *Hub) check(s *share) {
	now := h.cfg.Now()
	h.mu.Lock()
	at, why := h.deadline(s)
	if s.ended || at.IsZero() || now.Before(at) {
		if !s.ended {
			h.armLocked(s, now)
		}
		h.mu.Unlock()
		return
	}
	h.mu.Unlock()
	h.end(s, why, true, true)
}

// end ends s once: the end message goes to whichever side did not say it,
// both WebSockets close, the audit event and metrics are written.
func (h *Hub) end(s *share, reason string, tellDev, tellViewer bool) {
	now := h.cfg.Now()
	h.mu.Lock()
	if s.ended {
		h.mu.Unlock()
		return
	}
	s.ended, s.state, s.reason = true, stateEnded, reason
	s.timer.Stop()
	delete(h.shares, s.id)
	h.rememberLocked(s, now)
	if h.byDev[s.device] == s {
		delete(h.byDev, s.device)
	}
	dev, viewer := s.dev, s.viewer
	frames, bytes, dropped := s.frames, s.bytes, s.dropped
	ev := Event{Action: "assist.end", Staff: s.staff, DeviceID: s.device, ShareID: s.id, Via: s.via,
		Asked: s.created, Started: s.started, Ended: now, Reason: reason}
	h.mu.Unlock()
	// The other replicas know it ended before either side hears it.
	h.dirEnd(s.id, reason)
	endMsg := &wire.Msg{Type: wire.TypeEnd, Reason: reason}
	if dev != nil {
		if tellDev {
			dev.p.end(endMsg)
		} else {
			dev.p.end(nil)
		}
	}
	if viewer != nil {
		if tellViewer {
			viewer.end(endMsg)
		} else {
			viewer.end(nil)
		}
	}
	h.m.ended.WithLabelValues(reason).Inc()
	if !s.started.IsZero() {
		h.m.shared.Observe(now.Sub(s.started).Seconds())
	}
	h.log.WithFields(logrus.Fields{"staff": s.staff, "device": s.device, "via": s.via, "reason": reason,
		"frames": frames, "bytes": bytes, "dropped": dropped}).Info("assist: share ended")
	h.cfg.Audit(ev)
}

// consent is the device's answer.
func (h *Hub) consent(s *share, granted bool) {
	now := h.cfg.Now()
	h.mu.Lock()
	if s.ended || s.state != wire.StateWaitingConsent {
		h.mu.Unlock()
		return
	}
	if !granted {
		h.mu.Unlock()
		h.end(s, wire.ReasonRefused, true, true)
		return
	}
	s.state, s.started = wire.StateSharing, now
	h.stateLocked(s)
	h.armLocked(s, now)
	h.mu.Unlock()
	h.m.consented.Inc()
}

// frame relays one frame from the device to the viewer, or drops it.
func (h *Hub) frame(s *share, b []byte, seq uint32, key bool) (protocolError bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.ended || s.state != wire.StateSharing || s.viewer == nil {
		s.needKey = true
		h.m.dropped.Inc()
		return false
	}
	// A device far ahead of what the viewer acknowledged ignores the
	// window: it is broken or hostile.
	if seq > s.lastAck+16*wire.Window && seq > s.lastSeq {
		return true
	}
	if s.needKey && !key {
		h.m.dropped.Inc()
		return false
	}
	if !s.viewer.frame(b) {
		// The viewer is behind: drop, and ask for a key frame once (again
		// on its next ack if the key frame is dropped too).
		if !s.needKey {
			s.lastKeyQ = h.cfg.Now()
			s.dev.p.send(&wire.Msg{Type: wire.TypeKeyframe})
		}
		s.needKey = true
		s.dropped++
		h.m.dropped.Inc()
		return false
	}
	s.needKey = false
	s.lastSeq = seq
	s.frames++
	s.bytes += int64(len(b))
	h.m.frames.Inc()
	h.m.bytes.Add(float64(len(b)))
	return false
}

// ack passes the viewer's ack on, once per new seq.
func (h *Hub) ack(s *share, seq uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.ended || s.dev == nil || seq <= s.lastAck || seq > s.lastSeq {
		return
	}
	s.lastAck = seq
	s.dev.p.send(&wire.Msg{Type: wire.TypeAck, Seq: seq})
	if now := h.cfg.Now(); s.needKey && s.state == wire.StateSharing && now.Sub(s.lastKeyQ) >= time.Second {
		s.lastKeyQ = now
		s.dev.p.send(&wire.Msg{Type: wire.TypeKeyframe})
	}
}

// keyframe passes a viewer's request for a key frame on, at most once a second.
func (h *Hub) keyframe(s *share) {
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.ended || s.dev == nil || s.state != wire.StateSharing || now.Sub(s.lastKeyQ) < time.Second {
		return
	}
	s.lastKeyQ = now
	s.needKey = true
	s.dev.p.send(&wire.Msg{Type: wire.TypeKeyframe})
}

// point passes a pointer event on (already validated and rate-limited).
func (h *Hub) point(s *share, m *wire.Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.ended || s.dev == nil || s.state != wire.StateSharing {
		return
	}
	if s.dev.p.send(&wire.Msg{Type: wire.TypePoint, X: m.X, Y: m.Y, Text: wire.CleanText(m.Text)}) {
		h.m.points.Inc()
	}
}

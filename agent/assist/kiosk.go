package assist

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/kiosk/assist/link"
)

// kioskConn is one kiosk connection and its share (at most one).
type kioskConn struct {
	r *Relay
	c *link.Conn

	mu    sync.Mutex
	share *share

	tokens float64
	last   time.Time
}

func newKioskConn(r *Relay, c *link.Conn) *kioskConn {
	return &kioskConn{r: r, c: c, tokens: 4 * r.opts.ControlRate}
}

func (k *kioskConn) close() { k.c.Close() }

// allow is the kiosk's control-message token bucket.
func (k *kioskConn) allow(now time.Time) bool {
	rate := k.r.opts.ControlRate
	if !k.last.IsZero() {
		k.tokens = min(4*rate, k.tokens+now.Sub(k.last).Seconds()*rate)
	}
	k.last = now
	if k.tokens < 1 {
		return false
	}
	k.tokens--
	return true
}

func (k *kioskConn) current() *share {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.share
}

// run reads the kiosk until it closes, then ends its share (kiosk_gone).
func (k *kioskConn) run(ctx context.Context) {
	defer func() {
		k.c.Close()
		if s := k.current(); s != nil {
			s.finish(wire.ReasonKioskGone, false, true)
		}
	}()
	stop := context.AfterFunc(ctx, func() {
		if s := k.current(); s != nil {
			s.finish(wire.ReasonShutdown, true, true)
		}
		k.c.Close()
	})
	defer stop()
	for {
		p, err := k.c.Read()
		if err != nil {
			if errors.Is(err, link.ErrProtocol) {
				k.r.log.WithError(err).Warn("assist: the kiosk broke the link's protocol; closing it")
				if s := k.current(); s != nil {
					s.finish(wire.ReasonProtocol, false, true)
				}
			} else if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				k.r.log.WithError(err).Warn("assist: kiosk link closed")
			}
			return
		}
		if p.Frame != nil {
			k.frame(p.Frame)
			continue
		}
		m := p.Msg
		// An end always passes: Stop must work whatever came before it.
		if m.Type != wire.TypeEnd && !k.allow(time.Now()) {
			k.r.count(func(s *Stats) { s.ControlDropped++ })
			continue
		}
		switch m.Type {
		case wire.TypeHello:
			if m.Via != wire.ViaCode {
				continue // offers come from the fleet, not the kiosk
			}
			if s := k.current(); s != nil {
				s.finish(wire.ReasonStop, false, true) // a new code replaces the old request
			}
			if err := k.start(ctx, m); err != nil {
				k.r.log.WithError(err).Warn("assist: could not reach the fleet for a help request")
				k.c.WriteMsg(&wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonFleetGone})
			}
		case wire.TypeConsent, wire.TypeEnd:
			s := k.current()
			if s == nil {
				continue
			}
			if m.Type == wire.TypeEnd {
				s.finish(m.Reason, false, true)
				continue
			}
			s.control(m)
		default:
			// offer, ack, point, keyframe and state never come from a kiosk.
		}
	}
}

// frame passes one kiosk frame to the fleet, or drops it.
func (k *kioskConn) frame(b []byte) {
	s := k.current()
	if s == nil || !s.consented() {
		k.r.count(func(st *Stats) { st.FramesDropped++ })
		return
	}
	f, err := wire.ParseFrame(b)
	if err != nil {
		k.r.log.WithError(err).Warn("assist: the kiosk sent a bad frame; share ended")
		s.finish(wire.ReasonProtocol, true, true)
		return
	}
	if s.tooFarAhead(f.Seq) {
		k.r.log.Warn("assist: the kiosk sends frames far beyond the window; share ended")
		s.finish(wire.ReasonProtocol, true, true)
		return
	}
	if !s.pass(f.Key) {
		k.r.count(func(st *Stats) { st.FramesDropped++ })
		return
	}
	select {
	case s.frames <- b:
	default:
		// Beyond the window: drop rather than queue, and resynchronise
		// (asked once here, again on the next ack if need be).
		if s.dropped() {
			k.c.WriteMsg(&wire.Msg{Type: wire.TypeKeyframe})
		}
		k.r.count(func(st *Stats) { st.FramesDropped++ })
	}
}

// start opens the fleet's WebSocket with hello and runs the share.
func (k *kioskConn) start(ctx context.Context, hello *wire.Msg) error {
	ws, err := k.r.dialFleet(ctx, hello)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &share{k: k, ws: ws, ctx: sctx, cancel: cancel, started: time.Now(), via: hello.Via,
		frames: make(chan []byte, wire.Window), ctl: make(chan *wire.Msg, 16)}
	k.mu.Lock()
	old := k.share
	k.share = s
	k.mu.Unlock()
	if old != nil {
		old.finish(wire.ReasonStop, false, true)
	}
	k.r.count(func(st *Stats) { st.Shares++ })
	go s.write()
	go s.read()
	go s.ping(k.r.opts.PingEvery)
	return nil
}

// share is one share's fleet WebSocket.
type share struct {
	k       *kioskConn
	ws      *websocket.Conn
	ctx     context.Context
	cancel  context.CancelFunc
	started time.Time
	via     string

	frames chan []byte
	ctl    chan *wire.Msg

	mu        sync.Mutex
	granted   bool
	sentOffer bool
	needKey   bool
	lastAck   uint32
	lastKeyQ  time.Time
	ended     bool
	nFrames   int
	nBytes    int64
	nDropped  int
	endReason string
}

// offered reports whether the fleet has sent this share's offer on (the
// resident is being asked, or sharing).
func (s *share) offered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentOffer && !s.ended
}

func (s *share) consented() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.granted && !s.ended
}

// tooFarAhead says whether seq is so far beyond the viewer's last ack that
// the kiosk cannot be keeping to the window.
func (s *share) tooFarAhead(seq uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return seq > s.lastAck+16*wire.Window
}

// acked records the viewer's cumulative ack.
func (s *share) acked(seq uint32) {
	s.mu.Lock()
	s.lastAck = max(s.lastAck, seq)
	s.mu.Unlock()
}

// pass says whether a frame may go on: after a drop only a key frame may.
func (s *share) pass(key bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.needKey && !key {
		return false
	}
	s.needKey = false
	return true
}

// dropped records a dropped frame; it reports whether a key frame should
// be asked for now (the first drop since the last key frame passed).
func (s *share) dropped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !s.needKey
	s.needKey = true
	s.nDropped++
	if first {
		s.lastKeyQ = time.Now()
	}
	return first
}

// resync: the fleet asked for a key frame; pass nothing else until one comes.
func (s *share) resync() {
	s.mu.Lock()
	s.needKey = true
	s.lastKeyQ = time.Now()
	s.mu.Unlock()
}

// askAgain reports whether to ask the kiosk for a key frame again: one is
// still awaited and the last request is a second old (it may have been
// dropped too).
func (s *share) askAgain(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.needKey || now.Sub(s.lastKeyQ) < time.Second {
		return false
	}
	s.lastKeyQ = now
	return true
}

// control queues a consent for the fleet.
func (s *share) control(m *wire.Msg) {
	if m.Type == wire.TypeConsent {
		s.mu.Lock()
		s.granted = m.Granted
		s.mu.Unlock()
	}
	select {
	case s.ctl <- m:
	default:
	}
}

func (s *share) write() {
	for {
		var typ websocket.MessageType
		var b []byte
		select {
		case <-s.ctx.Done():
			return
		case m := <-s.ctl:
			typ = websocket.MessageText
			b, _ = m.Encode()
		case f := <-s.frames:
			typ, b = websocket.MessageBinary, f
		}
		wctx, cancel := context.WithTimeout(s.ctx, link.WriteTimeout)
		err := s.ws.Write(wctx, typ, b)
		cancel()
		if err != nil {
			s.finish(wire.ReasonFleetGone, true, false)
			return
		}
		if typ == websocket.MessageBinary {
			s.mu.Lock()
			s.nFrames++
			s.nBytes += int64(len(b))
			s.mu.Unlock()
			s.k.r.count(func(st *Stats) { st.FramesRelayed++; st.BytesRelayed += int64(len(b)) })
		}
	}
}

func (s *share) read() {
	for {
		typ, b, err := s.ws.Read(s.ctx)
		if err != nil {
			s.finish(wire.ReasonFleetGone, true, false)
			return
		}
		if typ != websocket.MessageText {
			s.finish(wire.ReasonProtocol, true, true)
			return
		}
		m, err := wire.Decode(b)
		if err != nil {
			s.k.r.log.WithError(err).Warn("assist: the fleet sent a bad message; share ended")
			s.finish(wire.ReasonProtocol, true, true)
			return
		}
		switch m.Type {
		case wire.TypeOffer, wire.TypeAck, wire.TypePoint, wire.TypeKeyframe:
			switch m.Type {
			case wire.TypeOffer:
				s.mu.Lock()
				s.sentOffer = true
				s.mu.Unlock()
			case wire.TypeKeyframe:
				s.resync() // frames in flight are void until a key frame
			case wire.TypeAck:
				s.acked(m.Seq)
			}
			if err := s.k.c.WriteMsg(m); err != nil {
				s.finish(wire.ReasonKioskGone, false, true)
				return
			}
			if m.Type == wire.TypeAck && s.askAgain(time.Now()) {
				s.k.c.WriteMsg(&wire.Msg{Type: wire.TypeKeyframe})
			}
		case wire.TypeEnd:
			s.finish(m.Reason, true, false)
			return
		}
	}
}

func (s *share) ping(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(s.ctx, every)
			err := s.ws.Ping(pctx)
			cancel()
			if err != nil {
				s.finish(wire.ReasonFleetGone, true, false)
				return
			}
		}
	}
}

// finish ends the share once: tells the kiosk and/or the fleet, closes the
// WebSocket, and logs counts.
func (s *share) finish(reason string, tellKiosk, tellFleet bool) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended, s.endReason = true, reason
	frames, bytes, dropped := s.nFrames, s.nBytes, s.nDropped
	s.mu.Unlock()
	k := s.k
	k.mu.Lock()
	if k.share == s {
		k.share = nil
	}
	k.mu.Unlock()
	if tellFleet {
		if b, err := (&wire.Msg{Type: wire.TypeEnd, Reason: reason}).Encode(); err == nil {
			wctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			s.ws.Write(wctx, websocket.MessageText, b)
			cancel()
		}
		s.ws.Close(websocket.StatusNormalClosure, "")
	}
	s.cancel()
	s.ws.CloseNow()
	if tellKiosk {
		k.c.WriteMsg(&wire.Msg{Type: wire.TypeEnd, Reason: reason})
	}
	k.r.count(func(st *Stats) { st.Ends[reason]++ })
	k.r.log.WithFields(logrus.Fields{"reason": reason, "via": s.via, "ms": time.Since(s.started).Milliseconds(),
		"frames": frames, "bytes": bytes, "dropped": dropped}).Info("assist: share ended")
}

package assist

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/internal/backoff"
	"accesskiosk/kiosk/assist/link"
)

// Events is what the shell does for the sharer. Methods are called from
// the sharer's goroutine, one at a time; each must return at once (hand the
// work to the GTK loop).
type Events interface {
	// Offer: council staff are waiting (via wire.ViaCode or wire.ViaOffer):
	// show the full-screen consent prompt, then call Sharer.Answer.
	Offer(via string)
	// Sharing: the resident allowed: show the banner no page can cover,
	// with Stop sharing; capture frames when Want says so.
	Sharing()
	// Ended: the share, the offer or the waiting help code is over, for
	// reason (a wire.Reason*): take the prompt, banner or code panel down.
	// s has the counts and durations for the session's receipt.
	Ended(reason string, s Summary)
	// Point: draw a ring at p for PointShow, with p.Text beside it.
	Point(p Point)
	// Link: whether the agent is reachable (when not, the help panel says
	// remote help is not available now and shows the phone number).
	Link(up bool)
}

// Options configure a Sharer.
type Options struct {
	// Socket is the agent's assist socket; "" means link.DefaultSocket.
	Socket string
	Events Events
	Log    logrus.FieldLogger
	// TimeLimit ends a share after this long (0 or more than
	// wire.TimeLimit means wire.TimeLimit).
	TimeLimit time.Duration
	// MaxFPS caps the frame rate (0 means 8).
	MaxFPS float64
	// RedialMin and RedialMax bound the wait between dials of the agent
	// (0 means 500 ms and 10 s).
	RedialMin, RedialMax time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnFrame, when set, is called after each frame is sent with its seq,
	// size and kind (for benchmarks and counters; never the pixels).
	OnFrame func(seq uint32, bytes int, key bool)
}

// Errors of the shell-facing methods.
var (
	ErrNoAgent = errors.New("remote help is not available: the agent is not reachable")
	ErrBusy    = errors.New("remote help is already in progress")
	ErrClosed  = errors.New("remote help has stopped")
)

// Sharer is the kiosk's side of remote help: it keeps the link to the
// agent, runs the share's state machine, and turns the frames the shell
// captures into masked, change-only, rate-adapted JPEG frames. Nothing it
// handles is written to disk or logged; its log lines carry reasons,
// counts and durations.
//
// The shell:
//
//	s := assist.New(opts)            // opts.Events is the shell
//	go s.Run(ctx)
//	s.RequestHelp()                  // the resident asked: show the code it returns
//	s.Answer(true)                   // the resident tapped Allow (false: No thanks)
//	for range s.Want() { s.Submit(capture(), tracker.Masks()) }
//	s.Stop(wire.ReasonStop)          // Stop sharing; wire.ReasonSessionEnd before every wipe
type Sharer struct {
	opts Options
	log  logrus.FieldLogger

	cmds    chan func()
	done    chan struct{}
	wake    chan struct{}
	want    chan struct{}
	pkts    chan pkt
	lost    chan struct{}
	running sync.Once

	mu      sync.Mutex
	pending *image.RGBA
	masks   Masks
	skipped int
	askedAt time.Time // when a capture was last asked for; zero once it came

	// Owned by Run's goroutine.
	conn   *link.Conn
	gen    int
	sess   *Session
	code   *HelpCode
	ctrl   Controller
	diff   Differ
	enc    Encoder
	gate   PointGate
	seq    uint32
	w, h   int
	timer  *time.Timer
	wantAt time.Time // when to ask for the next capture of a still screen
	stats  Stats
}

type pkt struct {
	gen int
	p   link.Packet
	err error
}

// Stats are the sharer's counts since it started.
type Stats struct {
	Shares    int
	Frames    int
	KeyFrames int
	Bytes     int64
	Skipped   int           // captures replaced before they could be sent
	Busy      time.Duration // time spent masking, comparing and encoding
	Quality   int
	RateBps   float64
}

// New returns a sharer; start it with Run.
func New(opts Options) *Sharer {
	if opts.Socket == "" {
		opts.Socket = link.DefaultSocket
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RedialMin <= 0 {
		opts.RedialMin = 500 * time.Millisecond
	}
	if opts.RedialMax <= 0 {
		opts.RedialMax = 10 * time.Second
	}
	if opts.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		opts.Log = l
	}
	s := &Sharer{
		opts: opts, log: opts.Log.WithField("component", "assist"),
		cmds: make(chan func()), done: make(chan struct{}),
		wake: make(chan struct{}, 1), want: make(chan struct{}, 1),
		pkts: make(chan pkt, 16), lost: make(chan struct{}, 1),
	}
	s.ctrl.MaxFPS = opts.MaxFPS
	return s
}

// Want delivers a token whenever the sharer would send a frame now and has
// none waiting: the shell captures the screen then and calls Submit.
func (s *Sharer) Want() <-chan struct{} { return s.want }

// Submit hands the sharer the latest capture and the masks for that
// moment. The sharer owns img from now on (it paints the masks into it).
// It never blocks: a capture not yet sent is replaced (dropped, counted),
// never queued.
func (s *Sharer) Submit(img *image.RGBA, m Masks) {
	s.mu.Lock()
	if s.pending != nil {
		s.skipped++
	}
	s.pending, s.masks = img, m
	s.askedAt = time.Time{} // the capture asked for came
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// do runs f on the loop and waits for it.
func (s *Sharer) do(f func()) error {
	ran := make(chan struct{})
	select {
	case s.cmds <- func() { f(); close(ran) }:
		<-ran
		return nil
	case <-s.done:
		return ErrClosed
	}
}

// RequestHelp makes a help code, registers its hash with the fleet through
// the agent and returns the code and its expiry for the screen. Calling it
// again replaces the code.
func (s *Sharer) RequestHelp() (code string, expires time.Time, err error) {
	if e := s.do(func() {
		switch {
		case s.conn == nil:
			err = ErrNoAgent
			return
		case s.sess != nil:
			err = ErrBusy
			return
		}
		var hc *HelpCode
		code, hc, err = NewHelpCode(s.opts.Now())
		if err != nil {
			return
		}
		if err = s.conn.WriteMsg(hc.Hello()); err != nil {
			s.linkLost()
			err = ErrNoAgent
			return
		}
		s.code, expires = hc, hc.Expires()
		s.arm()
	}); e != nil {
		return "", time.Time{}, e
	}
	return code, expires, err
}

// Answer is the resident's tap on the consent prompt: Allow (true) or No
// thanks (false).
func (s *Sharer) Answer(allow bool) error {
	var err error
	if e := s.do(func() {
		if s.sess == nil || s.sess.State() != StateAsking {
			err = errors.New("assist: no consent prompt is waiting")
			return
		}
		if !allow {
			s.end(wire.ReasonRefused, true)
			return
		}
		now := s.opts.Now()
		s.sess.Allow(now)
		if err = s.conn.WriteMsg(&wire.Msg{Type: wire.TypeConsent, Granted: true}); err != nil {
			s.linkLost()
			return
		}
		s.stats.Shares++
		s.mu.Lock()
		s.pending, s.askedAt = nil, time.Time{} // never send a capture made before Allow
		s.sess.dropped = s.skipped
		s.mu.Unlock()
		s.ctrl = Controller{MaxFPS: s.opts.MaxFPS}
		s.diff.Reset()
		s.seq, s.gate = 0, PointGate{}
		s.opts.Events.Sharing()
		s.arm()
		s.signalWant()
	}); e != nil {
		return e
	}
	return err
}

// Stop ends whatever is in progress (a share, an offer or a waiting code)
// with reason: wire.ReasonStop for Stop sharing, wire.ReasonSessionEnd
// before every wipe (call it first, so nothing of the next session is
// ever captured). It is a no-op when nothing is in progress.
func (s *Sharer) Stop(reason string) error {
	if !wire.KnownReason(reason) {
		return fmt.Errorf("assist: unknown end reason %q", reason)
	}
	return s.do(func() { s.end(reason, true) })
}

// Connected reports whether the link to the agent is up now (the help
// button can say remote help is available).
func (s *Sharer) Connected() (up bool) {
	s.do(func() { up = s.conn != nil })
	return up
}

// Active reports whether a share is past the offer (asking or sharing).
func (s *Sharer) Active() (state State) {
	s.do(func() {
		if s.sess != nil {
			state = s.sess.State()
		}
	})
	return state
}

// Stats returns the counts so far.
func (s *Sharer) Stats() (st Stats) {
	s.do(func() {
		st = s.stats
		st.Quality = s.ctrl.Quality()
		st.RateBps = s.ctrl.Rate()
		s.mu.Lock()
		st.Skipped = s.skipped
		s.mu.Unlock()
	})
	return st
}

// Run keeps the link to the agent (dialling again with backoff whenever it
// closes) and runs the sharer until ctx ends; any share then ends with
// wire.ReasonShutdown. It returns nil. Run may be called once.
func (s *Sharer) Run(ctx context.Context) error {
	already := true
	s.running.Do(func() { already = false })
	if already {
		return errors.New("assist: Run called twice")
	}
	defer close(s.done)
	conns := make(chan *link.Conn)
	go s.dial(ctx, conns)
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	for {
		select {
		case <-ctx.Done():
			s.end(wire.ReasonShutdown, true)
			if s.conn != nil {
				s.conn.Close()
			}
			return nil
		case c := <-conns:
			s.gen++
			s.conn = c
			go s.read(c, s.gen)
			s.opts.Events.Link(true)
		case p := <-s.pkts:
			if p.gen != s.gen || s.conn == nil {
				continue
			}
			if p.err != nil {
				s.linkLost()
				continue
			}
			s.handle(p.p)
		case f := <-s.cmds:
			f()
		case <-s.wake:
			s.send()
		case <-s.timer.C:
			if !s.wantAt.IsZero() && !s.opts.Now().Before(s.wantAt) {
				s.wantAt = time.Time{}
				s.signalWant()
			}
			s.tick()
			s.send()
		}
	}
}

func (s *Sharer) dial(ctx context.Context, conns chan<- *link.Conn) {
	b := backoff.Backoff{Min: s.opts.RedialMin, Max: s.opts.RedialMax}
	for ctx.Err() == nil {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := link.Dial(dctx, s.opts.Socket)
		cancel()
		if err != nil {
			if b.Failures() == 0 {
				s.log.WithError(err).Debug("assist: agent not reachable; will keep trying")
			}
			if b.Wait(ctx) != nil {
				return
			}
			continue
		}
		b.Reset()
		select {
		case conns <- c:
		case <-ctx.Done():
			c.Close()
			return
		}
		select {
		case <-s.lost:
		case <-ctx.Done():
			return
		}
		if b.Wait(ctx) != nil { // a short pause, so a crashing agent is not hammered
			return
		}
	}
}

func (s *Sharer) read(c *link.Conn, gen int) {
	for {
		p, err := c.Read()
		select {
		case s.pkts <- pkt{gen: gen, p: p, err: err}:
		case <-s.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// linkLost ends anything in progress (the agent is gone) and redials.
func (s *Sharer) linkLost() {
	if s.conn == nil {
		return
	}
	s.conn.Close()
	s.conn = nil
	s.gen++
	s.end(wire.ReasonAgentGone, false)
	s.opts.Events.Link(false)
	select {
	case s.lost <- struct{}{}:
	default:
	}
}

func (s *Sharer) handle(p link.Packet) {
	if p.Frame != nil {
		s.log.Warn("assist: the agent sent a frame; closing the link")
		s.linkLost()
		return
	}
	m := p.Msg
	now := s.opts.Now()
	switch m.Type {
	case wire.TypeOffer:
		if s.sess != nil {
			return // one share at a time; the fleet refuses a second anyway
		}
		via := wire.ViaOffer
		if s.code != nil {
			if err := s.code.Use(now); err == nil {
				via = wire.ViaCode
			}
			s.code = nil
		}
		s.sess = NewSession(via, now, s.opts.TimeLimit)
		s.opts.Events.Offer(via)
		s.sess.Ask(now)
		s.arm()
	case wire.TypeEnd:
		s.end(m.Reason, false)
	case wire.TypeAck:
		if s.sharing() {
			s.ctrl.Acked(m.Seq, now)
			s.send()
		}
	case wire.TypeKeyframe:
		if s.sharing() {
			s.ctrl.Reset()
			s.diff.Reset()
			s.send()
		}
	case wire.TypePoint:
		if !s.sharing() {
			return
		}
		pt, err := s.gate.Check(m, s.w, s.h, now)
		if err != nil {
			s.sess.pointsBad++
			return
		}
		s.sess.pointsOK++
		s.opts.Events.Point(pt)
	default:
		s.log.WithField("type", m.Type).Debug("assist: ignored a message the agent should not send")
	}
}

func (s *Sharer) sharing() bool { return s.sess != nil && s.sess.State() == StateSharing }

// end ends the share or the waiting code with reason; tell says to tell
// the agent (not when the agent said it).
func (s *Sharer) end(reason string, tell bool) {
	now := s.opts.Now()
	switch {
	case s.sess != nil:
		s.sess.End(now, reason) // no-op when Tick ended it: its reason stands
		reason = s.sess.Reason()
		sum := s.sess.Summary()
		s.mu.Lock()
		sum.Dropped = s.skipped - s.sess.dropped
		s.pending, s.askedAt = nil, time.Time{}
		s.mu.Unlock()
		select {
		case <-s.want:
		default:
		}
		s.sess = nil
		s.wantAt = time.Time{}
		s.diff = Differ{} // the last frame's pixels and its encoding are
		s.enc = Encoder{} // dropped with the share, not kept for the next
		s.ctrl.Reset()
		if tell && s.conn != nil {
			if err := s.conn.WriteMsg(&wire.Msg{Type: wire.TypeEnd, Reason: reason}); err != nil {
				s.log.WithError(err).Debug("assist: could not tell the agent the share ended")
			}
		}
		s.log.WithFields(logrus.Fields{"reason": reason, "via": sum.Via, "shared_ms": sum.Shared.Milliseconds(),
			"frames": sum.Frames, "bytes": sum.Bytes, "points": sum.Points}).Info("assist: share ended")
		s.opts.Events.Ended(reason, sum)
	case s.code != nil:
		s.code = nil
		if tell && s.conn != nil {
			s.conn.WriteMsg(&wire.Msg{Type: wire.TypeEnd, Reason: reason})
		}
		s.opts.Events.Ended(reason, Summary{Via: wire.ViaCode, Reason: reason})
	}
	s.arm()
}

// tick applies the time limits.
func (s *Sharer) tick() {
	now := s.opts.Now()
	if s.sess != nil && s.sess.Tick(now) {
		s.end(s.sess.Reason(), true)
		return
	}
	if s.sess == nil && s.code != nil && !now.Before(s.code.Expires()) {
		s.end(wire.ReasonExpired, true)
	}
	s.arm()
}

// arm sets the timer to the next deadline.
func (s *Sharer) arm() {
	if s.timer == nil {
		return
	}
	var next time.Time
	if s.sess != nil {
		next = s.sess.Deadline()
	} else if s.code != nil {
		next = s.code.Expires()
	}
	if s.sharing() {
		if ok, wait := s.ctrl.Next(s.opts.Now()); !ok && wait > 0 {
			if t := s.opts.Now().Add(wait); next.IsZero() || t.Before(next) {
				next = t
			}
		}
		if !s.wantAt.IsZero() && (next.IsZero() || s.wantAt.Before(next)) {
			next = s.wantAt
		}
	}
	s.timer.Stop()
	if !next.IsZero() {
		s.timer.Reset(max(time.Until(next), time.Millisecond))
	}
}

// signalWant asks the shell for a capture, unless one was asked for in
// the last second and has not come yet.
func (s *Sharer) signalWant() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := time.Now(); now.Sub(s.askedAt) < time.Second {
		return
	} else {
		s.askedAt = now
	}
	select {
	case s.want <- struct{}{}:
	default:
	}
}

// send sends the waiting capture when sharing and the controller allows.
func (s *Sharer) send() {
	if !s.sharing() || s.conn == nil {
		return
	}
	now := s.opts.Now()
	if ok, _ := s.ctrl.Next(now); !ok {
		s.arm()
		return
	}
	s.mu.Lock()
	img, m := s.pending, s.masks
	s.pending = nil
	s.mu.Unlock()
	if img == nil {
		if s.wantAt.IsZero() { // not while a still screen waits its interval
			s.signalWant()
		}
		return
	}
	began := time.Now()
	defer func() { s.stats.Busy += time.Since(began) }()
	img = tight(img)
	b := img.Bounds()
	if b.Dx() > wire.MaxDimension || b.Dy() > wire.MaxDimension || b.Empty() {
		s.log.WithField("width", b.Dx()).WithField("height", b.Dy()).Warn("assist: capture size out of range; dropped")
		s.signalWant()
		return
	}
	Paint(img, m)
	rects, key := s.diff.Changed(img)
	if len(rects) == 0 {
		// Nothing changed: ask for the next capture one frame interval
		// from now, not at once (a still screen must not be captured in a
		// tight loop).
		s.wantAt = now.Add(time.Duration(float64(time.Second) / s.ctrl.maxFPS()))
		s.arm()
		return
	}
	q := s.ctrl.Quality()
	s.seq++
	out, err := s.enc.Encode(img, rects, s.seq, key, q)
	for err != nil && q > MinQuality {
		q = MinQuality
		out, err = s.enc.Encode(img, rects, s.seq, key, q)
	}
	if err != nil {
		s.log.WithError(err).Warn("assist: frame could not be encoded; sending a key frame next")
		s.seq--
		s.diff.Reset()
		s.signalWant()
		return
	}
	if err := s.conn.WriteFrame(out); err != nil {
		s.linkLost()
		return
	}
	s.ctrl.Sent(s.seq, len(out), now)
	s.diff.Commit(img, rects, key)
	s.w, s.h = b.Dx(), b.Dy()
	s.sess.frames++
	s.sess.bytes += int64(len(out))
	s.stats.Frames++
	s.stats.Bytes += int64(len(out))
	if key {
		s.stats.KeyFrames++
	}
	if s.opts.OnFrame != nil {
		s.opts.OnFrame(s.seq, len(out), key)
	}
	s.arm()
	if ok, _ := s.ctrl.Next(s.opts.Now()); ok {
		s.signalWant()
	}
}

// tight returns img with its origin at 0,0 and no padding between rows,
// copying only when it is not so already.
func tight(img *image.RGBA) *image.RGBA {
	b := img.Bounds()
	if b.Min == (image.Point{}) && img.Stride == 4*b.Dx() {
		return img
	}
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		copy(out.Pix[y*out.Stride:(y+1)*out.Stride], img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):img.PixOffset(b.Max.X, b.Min.Y+y)])
	}
	return out
}

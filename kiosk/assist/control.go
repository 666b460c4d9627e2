package assist

import (
	"time"

	"accesskiosk/fleet/assist/wire"
)

// Controller decides when the next frame may be sent and at what JPEG
// quality, from what the viewer has acknowledged. Acks are end to end (the
// console acks a frame once drawn), so the controller sees the real
// bottleneck, whichever hop it is.
//
//   - Window: at most wire.Window frames unacknowledged, and no more bytes
//     in flight than the estimated rate × (shortest round trip + Queue),
//     one frame always allowed: a slow link fills its queue by a bounded
//     amount instead of growing the delay.
//   - Pacing: frames at most MaxFPS, and not faster than the last frame's
//     bytes at the estimated rate.
//   - Rate: each acked frame gives a sample, its bytes over the time the
//     link spent on it (from its send, or the previous ack if the link was
//     still busy then, to its ack, less the shortest round trip); the
//     estimate is the largest of the last 8 samples (so quiet, app-limited
//     moments do not drag it down), starting from StartRate.
//   - Quality: every second, if the average frame at this quality would
//     not fit TargetFPS into the rate, quality drops by 10; if it would fit
//     twice over, it rises by 5 (MinQuality..MaxQuality).
//
// Not safe for concurrent use: the sharer's loop owns it.
type Controller struct {
	MaxFPS    float64       // 0 means 8
	TargetFPS float64       // 0 means 4
	Queue     time.Duration // 0 means 150 ms
	StartRate float64       // bytes/s before any ack; 0 means 125 000 (1 Mbit/s)

	quality  int
	inflight []sent
	lastSend time.Time
	lastSize int
	lastAck  time.Time
	minRTT   time.Duration
	samples  [8]float64
	ns       int
	avgFrame float64
	lastTune time.Time
}

type sent struct {
	seq   uint32
	bytes int
	at    time.Time
}

func (c *Controller) defaults() {
	if c.MaxFPS <= 0 {
		c.MaxFPS = 8
	}
	if c.TargetFPS <= 0 {
		c.TargetFPS = 4
	}
	if c.Queue <= 0 {
		c.Queue = 150 * time.Millisecond
	}
	if c.StartRate <= 0 {
		c.StartRate = 125_000
	}
	if c.quality == 0 {
		c.quality = DefaultQuality
	}
}

func (c *Controller) maxFPS() float64 { c.defaults(); return c.MaxFPS }

// Quality is the JPEG quality for the next frame.
func (c *Controller) Quality() int { c.defaults(); return c.quality }

// Rate is the estimated bytes per second the path delivers.
func (c *Controller) Rate() float64 {
	c.defaults()
	if c.ns == 0 {
		return c.StartRate
	}
	m := 0.0
	for _, s := range c.samples[:min(c.ns, len(c.samples))] {
		m = max(m, s)
	}
	return m
}

// InFlight is how many frames and bytes are unacknowledged.
func (c *Controller) InFlight() (frames, bytes int) {
	for _, s := range c.inflight {
		bytes += s.bytes
	}
	return len(c.inflight), bytes
}

// Next says whether a frame may be sent at now; when not, wait is how
// long until it may (0: only an ack can open the window).
func (c *Controller) Next(now time.Time) (ok bool, wait time.Duration) {
	c.defaults()
	frames, bytes := c.InFlight()
	if frames >= wire.Window {
		return false, 0
	}
	rate := c.Rate()
	if frames > 0 {
		budget := rate * (c.minRTT + c.Queue).Seconds()
		if float64(bytes) >= budget {
			return false, 0
		}
	}
	gap := time.Duration(float64(time.Second) / c.MaxFPS)
	if c.lastSize > 0 {
		gap = max(gap, time.Duration(float64(c.lastSize)/rate*float64(time.Second)))
	}
	if c.lastSend.IsZero() {
		return true, 0
	}
	if due := c.lastSend.Add(gap); now.Before(due) {
		return false, due.Sub(now)
	}
	return true, 0
}

// Sent records frame seq of n bytes sent at now.
func (c *Controller) Sent(seq uint32, n int, now time.Time) {
	c.defaults()
	c.inflight = append(c.inflight, sent{seq, n, now})
	c.lastSend, c.lastSize = now, n
	if c.avgFrame == 0 {
		c.avgFrame = float64(n)
	} else {
		c.avgFrame = 0.8*c.avgFrame + 0.2*float64(n)
	}
	c.tune(now)
}

// Acked records that the viewer drew every frame up to seq (cumulative).
// Unknown or old seqs are ignored.
func (c *Controller) Acked(seq uint32, now time.Time) {
	c.defaults()
	i := 0
	for ; i < len(c.inflight) && c.inflight[i].seq <= seq; i++ {
		s := c.inflight[i]
		rtt := now.Sub(s.at)
		if c.minRTT == 0 || rtt < c.minRTT {
			c.minRTT = rtt
		}
		start := s.at
		if c.lastAck.After(start) {
			start = c.lastAck
		}
		busy := now.Sub(start) - c.minRTT
		if busy < time.Millisecond {
			busy = time.Millisecond
		}
		if s.bytes >= 2048 { // tiny frames say more about latency than rate
			c.samples[c.ns%len(c.samples)] = float64(s.bytes) / busy.Seconds()
			c.ns++
		}
		c.lastAck = now
	}
	c.inflight = c.inflight[i:]
	c.tune(now)
}

// Reset forgets the frames in flight (a hop dropped them and asked for a
// key frame).
func (c *Controller) Reset() { c.inflight = c.inflight[:0] }

func (c *Controller) tune(now time.Time) {
	if now.Sub(c.lastTune) < time.Second || c.avgFrame == 0 {
		return
	}
	c.lastTune = now
	need := c.avgFrame * c.TargetFPS
	rate := c.Rate()
	switch {
	case need > rate && c.quality > MinQuality:
		c.quality = max(MinQuality, c.quality-10)
		c.avgFrame *= 0.8 // expect smaller frames at the lower quality
	case 2*need < rate && c.quality < MaxQuality:
		c.quality = min(MaxQuality, c.quality+5)
	}
}

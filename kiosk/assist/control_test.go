package assist_test

import (
	"testing"
	"time"

	"accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/assist/assisttest"
)

// simLink is a bottleneck of rate bytes/s with a one-way delay each way:
// frames queue behind each other, acks come back after the delay.
type simLink struct {
	rate   float64
	delay  time.Duration
	freeAt time.Time
}

func (l *simLink) deliver(now time.Time, n int) (ackAt time.Time) {
	start := now
	if l.freeAt.After(start) {
		start = l.freeAt
	}
	l.freeAt = start.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	return l.freeAt.Add(2 * l.delay)
}

type simResult struct {
	fps         float64
	bytesPerSec float64       // delivered
	maxDelay    time.Duration // send → drawn, worst
	quality     int
}

// simulate runs the typical-form workload through the real masks, change
// detection, encoder and Controller over a simulated link for d.
func simulate(t testing.TB, rate float64, oneWay, d time.Duration, scrollEvery int) simResult {
	w, err := assisttest.NewWorkload()
	if err != nil {
		t.Fatal(err)
	}
	w.ScrollEvery = scrollEvery
	var (
		c    assist.Controller
		diff assist.Differ
		enc  assist.Encoder
		link = simLink{rate: rate, delay: oneWay}
		t0   = time.Unix(0, 0)
		now  = t0
		seq  uint32
		acks []struct {
			at  time.Time
			seq uint32
			s   time.Time
			n   int
		}
		res   simResult
		drawn int
		bytes int
	)
	for now.Sub(t0) < d {
		// Deliver acks due by now.
		for len(acks) > 0 && !acks[0].at.After(now) {
			a := acks[0]
			acks = acks[1:]
			c.Acked(a.seq, a.at)
			drawn++
			bytes += a.n
			res.maxDelay = max(res.maxDelay, a.at.Add(-oneWay).Sub(a.s))
		}
		ok, wait := c.Next(now)
		if !ok {
			next := now.Add(wait)
			if wait == 0 || (len(acks) > 0 && acks[0].at.Before(next)) {
				if len(acks) == 0 {
					t.Fatalf("stuck at %v: window closed and no ack coming", now.Sub(t0))
				}
				next = acks[0].at
			}
			now = next
			continue
		}
		img := w.Next()
		assist.Paint(img, assist.Masks{})
		rects, key := diff.Changed(img)
		if len(rects) == 0 {
			now = now.Add(10 * time.Millisecond)
			continue
		}
		seq++
		b, err := enc.Encode(img, rects, seq, key, c.Quality())
		if err != nil {
			t.Fatal(err)
		}
		diff.Commit(img, rects, key)
		c.Sent(seq, len(b), now)
		acks = append(acks, struct {
			at  time.Time
			seq uint32
			s   time.Time
			n   int
		}{link.deliver(now, len(b)), seq, now, len(b)})
	}
	secs := d.Seconds()
	res.fps = float64(drawn) / secs
	res.bytesPerSec = float64(bytes) / secs
	res.quality = c.Quality()
	return res
}

// TestControllerOnARuralLink: over 1 Mbit/s with 80 ms round trips (a
// rural ADSL up link), the typical form page still gets at least 2 frames
// a second, and no frame waits in the link's queue for more than a second
// and a half (the window keeps it short instead of filling the buffer).
func TestControllerOnARuralLink(t *testing.T) {
	for _, tt := range []struct {
		name    string
		scroll  int
		rate    float64
		oneWay  time.Duration
		minFPS  float64
		maxWait time.Duration
	}{
		{"1 Mbit/s, 80 ms", 0, 125_000, 40 * time.Millisecond, 2, 1500 * time.Millisecond},
		{"1 Mbit/s, 80 ms, scrolling all the time", 2, 125_000, 40 * time.Millisecond, 2, 1500 * time.Millisecond},
		{"256 kbit/s, 300 ms", 0, 32_000, 150 * time.Millisecond, 0.5, 4 * time.Second},
		{"100 Mbit/s, 2 ms", 0, 12_500_000, time.Millisecond, 7, 300 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := simulate(t, tt.rate, tt.oneWay, 30*time.Second, tt.scroll)
			t.Logf("%.1f frames/s drawn, %.0f B/s delivered (%.0f%% of the link), quality %d, worst send→drawn %v",
				r.fps, r.bytesPerSec, 100*r.bytesPerSec/tt.rate, r.quality, r.maxDelay)
			if r.fps < tt.minFPS {
				t.Errorf("%.2f frames/s, want ≥ %.1f", r.fps, tt.minFPS)
			}
			if r.bytesPerSec > tt.rate {
				t.Errorf("sent %.0f B/s over a %.0f B/s link", r.bytesPerSec, tt.rate)
			}
			if r.maxDelay > tt.maxWait {
				t.Errorf("a frame took %v from send to drawn, want ≤ %v", r.maxDelay, tt.maxWait)
			}
		})
	}
}

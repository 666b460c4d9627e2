// Package backoff is the one way Access Kiosk programs wait between
// retries: exponential from a first wait up to a cap, with jitter so that a
// fleet of kiosks that lost the same server do not come back in step, on an
// injectable clock (internal/clock) so tests can run hours of retries in
// milliseconds.
//
// A loop keeps a Backoff, calls Wait after each failure and Reset after a
// success:
//
//	b := backoff.Backoff{Min: time.Second, Max: time.Minute}
//	for {
//		if err := try(ctx); err == nil {
//			b.Reset()
//			...
//		}
//		if b.Wait(ctx) != nil {
//			return // ctx ended
//		}
//	}
//
// The wait after the n-th failure in a row is drawn uniformly from
// [c/2, c], where c = Min·2^(n-1) capped at Max ("equal jitter": never less
// than half the ceiling, so a retry is never immediate).
package backoff

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"accesskiosk/internal/clock"
)

// Backoff counts failures in a row and says how long to wait before the
// next try. The zero value waits 1 s, doubling up to 1 min. Safe for
// concurrent use.
type Backoff struct {
	// Min is the ceiling of the first wait; 0 means 1 s.
	Min time.Duration
	// Max caps every wait; 0 (or less than Min) means max(Min, 1 min).
	Max time.Duration
	// Clock waits; nil means the real clock.
	Clock clock.Clock

	mu sync.Mutex
	n  int
}

// Delay returns the wait before retry number attempt (0 for the first
// retry): uniformly in [c/2, c] with c = lo·2^attempt capped at hi.
// lo <= 0 means 1 s; hi < lo means max(lo, 1 min).
func Delay(lo, hi time.Duration, attempt int) time.Duration {
	if lo <= 0 {
		lo = time.Second
	}
	if hi < lo {
		hi = max(lo, time.Minute)
	}
	c := lo << uint(min(max(attempt, 0), 40))
	if c <= 0 || c > hi {
		c = hi
	}
	return c/2 + rand.N(c/2+1)
}

// Next counts one more failure and returns how long to wait before trying
// again.
func (b *Backoff) Next() time.Duration {
	b.mu.Lock()
	n := b.n
	b.n++
	b.mu.Unlock()
	return Delay(b.Min, b.Max, n)
}

// Failures is the number of failures counted since the last Reset.
func (b *Backoff) Failures() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// Reset forgets the failures: the next wait is short again.
func (b *Backoff) Reset() {
	b.mu.Lock()
	b.n = 0
	b.mu.Unlock()
}

// Wait counts one more failure and waits Next on the clock. It returns
// ctx.Err() when ctx ends first.
func (b *Backoff) Wait(ctx context.Context) error {
	return clock.Sleep(ctx, b.Clock, b.Next())
}

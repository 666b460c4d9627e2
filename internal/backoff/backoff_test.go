package backoff

import (
	"context"
	"testing"
	"time"

	"accesskiosk/internal/clock"
)

func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		min, max time.Duration
		attempt  int
		lo, hi   time.Duration
	}{
		{time.Second, time.Minute, 0, 500 * time.Millisecond, time.Second},
		{time.Second, time.Minute, 3, 4 * time.Second, 8 * time.Second},
		{time.Second, time.Minute, 10, 30 * time.Second, time.Minute},
		{time.Second, time.Minute, 1000, 30 * time.Second, time.Minute}, // no overflow
		{5 * time.Second, 5 * time.Second, 7, 2500 * time.Millisecond, 5 * time.Second},
		{0, 0, 0, 500 * time.Millisecond, time.Second}, // zero: 1 s doubling to 1 min
		{0, 0, 9, 30 * time.Second, time.Minute},
	} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := Delay(tc.min, tc.max, tc.attempt)
			if d < tc.lo || d > tc.hi {
				t.Fatalf("Delay(%v, %v, %d) = %v, want in [%v, %v]", tc.min, tc.max, tc.attempt, d, tc.lo, tc.hi)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("Delay(%v, %v, %d): only %d distinct waits in 200 draws; want jitter", tc.min, tc.max, tc.attempt, len(seen))
		}
	}
}

func TestWaitOnClock(t *testing.T) {
	start := time.Unix(0, 0)
	c := clock.NewFast(start)
	b := Backoff{Min: time.Second, Max: 8 * time.Second, Clock: c}
	ctx := context.Background()
	for range 10 {
		if err := b.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Ceilings 1, 2, 4, 8, 8, ...: at least half of each, at most all.
	lo, hi := (1+2+4+8*7)*time.Second/2, (1+2+4+8*7)*time.Second
	if got := c.Now().Sub(start); got < lo || got > hi {
		t.Errorf("10 waits took %v of simulated time, want %v..%v", got, lo, hi)
	}
	if b.Failures() != 10 {
		t.Errorf("Failures = %d, want 10", b.Failures())
	}
	b.Reset()
	before := c.Now()
	b.Wait(ctx)
	if d := c.Now().Sub(before); d > time.Second {
		t.Errorf("after Reset the wait was %v, want at most Min", d)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Wait(cctx); err != context.Canceled {
		t.Errorf("Wait on an ended context = %v, want context.Canceled", err)
	}
}

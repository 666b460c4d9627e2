// Package clock is the source of time for loops that wait: the real clock
// in production and a fake one in tests, so that retry loops and report
// schedules can be driven through hours of simulated time in milliseconds.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// After delivers the time on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Sleep waits d on c, or until ctx ends; it returns ctx.Err() when ctx
// ended first, else nil. A nil c is the real clock.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c == nil {
		c = Real{}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Fast is a fake clock for a single waiting goroutine: every After moves the
// clock forward by d at once and fires immediately, so a loop that waits
// on it runs through simulated time as fast as it can compute. Now is safe
// from any goroutine.
type Fast struct {
	mu  sync.Mutex
	now time.Time
}

// NewFast returns a Fast clock that starts at start.
func NewFast(start time.Time) *Fast { return &Fast{now: start} }

// Now returns the simulated time.
func (f *Fast) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After advances the clock by d (if positive) and returns a channel that
// already holds the new time.
func (f *Fast) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	if d > 0 {
		f.now = f.now.Add(d)
	}
	t := f.now
	f.mu.Unlock()
	c := make(chan time.Time, 1)
	c <- t
	return c
}

// Advance moves the clock forward by d.
func (f *Fast) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

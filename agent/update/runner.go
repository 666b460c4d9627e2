package update

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Runner applies the release the fleet wants, in the background, one update
// at a time: the agent passes each report answer's desired release to Want
// and runs Run for its lifetime. A transient failure (network, disk,
// expired metadata, cancelled) is retried with backoff; a refusal is tried
// again only when the fleet wants another version or after MaxBackoff.
type Runner struct {
	u *Updater
	// OnResult, when not nil, is told every outcome (for the report and
	// the health registry).
	OnResult func(Result)
	// MinBackoff and MaxBackoff bound the retry delay; zero means 1 minute
	// and 1 hour.
	MinBackoff, MaxBackoff time.Duration

	mu     sync.Mutex
	want   string
	wake   chan struct{}
	active bool
}

// NewRunner returns a Runner for u.
func NewRunner(u *Updater) *Runner {
	return &Runner{u: u, wake: make(chan struct{}, 1)}
}

// Want records the release the fleet wants ("" leaves things as they are).
// It never blocks.
func (r *Runner) Want(version string) {
	if version == "" {
		return
	}
	r.mu.Lock()
	changed := r.want != version
	r.want = version
	r.mu.Unlock()
	if changed {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// Busy reports whether an update is in progress.
func (r *Runner) Busy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active
}

// Run recovers an interrupted update, then applies wanted releases until
// ctx ends. It returns ctx's error.
func (r *Runner) Run(ctx context.Context) error {
	minB, maxB := r.MinBackoff, r.MaxBackoff
	if minB == 0 {
		minB = time.Minute
	}
	if maxB == 0 {
		maxB = time.Hour
	}
	if res, _ := r.u.Recover(ctx); res != nil && r.OnResult != nil {
		r.OnResult(*res)
	}
	backoff := time.Duration(0)
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
			backoff = 0
		case <-timer:
		}
		timer = nil
		r.mu.Lock()
		v := r.want
		r.mu.Unlock()
		if v == "" || r.u.Failed(v) {
			continue
		}
		if cur, err := r.u.Current(); err == nil && cur == v {
			continue
		}
		r.mu.Lock()
		r.active = true
		r.mu.Unlock()
		res, err := r.u.Apply(ctx, v)
		r.mu.Lock()
		r.active = false
		r.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if r.OnResult != nil && res.Outcome != OutcomeCurrent {
			r.OnResult(res)
		}
		if err == nil || res.Outcome == OutcomeRolledBack {
			continue // done, or this version is now marked failed
		}
		if !res.Reason.Transient() {
			backoff = maxB
		} else if backoff == 0 {
			backoff = minB
		} else {
			backoff = min(2*backoff, maxB)
		}
		jitter := time.Duration(rand.Int64N(int64(backoff)/5 + 1))
		timer = time.After(backoff + jitter)
	}
}

// Package throttletest checks that a throttle.State keeps its contract:
// the same checks run against throttle.Memory and the store's PostgreSQL
// state (fleet/store.Throttle).
package throttletest

import (
	"context"
	"testing"
	"time"

	"accesskiosk/fleet/server/throttle"
)

// New makes an empty State on clock now for one test.
type New func(t *testing.T, now func() time.Time) throttle.State

// Run runs every check on fresh States from newState.
func Run(t *testing.T, newState New) {
	t.Run("take", func(t *testing.T) { testTake(t, newState) })
	t.Run("backoff", func(t *testing.T) { testBackoff(t, newState) })
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func testTake(t *testing.T, newState New) {
	ctx := context.Background()
	c := &clock{time.Unix(1e9, 0)}
	m := newState(t, c.now)
	rule := throttle.Rule{Rate: 1, Burst: 3}
	for i := range 3 {
		if ok, _, _ := m.Take(ctx, "a", rule, 1); !ok {
			t.Fatalf("take %d of a full bucket of 3 refused", i+1)
		}
	}
	ok, wait, _ := m.Take(ctx, "a", rule, 1)
	if ok || wait != time.Second {
		t.Errorf("fourth take = %v, wait %v; want refused, 1s", ok, wait)
	}
	if ok, _, _ := m.Take(ctx, "b", rule, 1); !ok {
		t.Error("another key shares a's bucket")
	}
	c.advance(time.Second)
	if ok, _, _ := m.Take(ctx, "a", rule, 1); !ok {
		t.Error("a second later a token is back, but the take was refused")
	}
	// n tokens at once; more than the burst can never be taken.
	c.advance(time.Hour)
	if ok, _, _ := m.Take(ctx, "a", rule, 2.5); !ok {
		t.Error("take 2.5 of 3 refused")
	}
	if ok, wait, _ := m.Take(ctx, "a", rule, 1); ok || wait != 500*time.Millisecond {
		t.Errorf("take 1 of 0.5 left = %v, wait %v; want refused, 500ms", ok, wait)
	}
	if ok, _, _ := m.Take(ctx, "a", rule, -10); !ok {
		t.Error("giving tokens back refused")
	}
	if ok, _, _ := m.Take(ctx, "a", rule, 3); !ok {
		t.Error("after giving back, a full bucket of 3 refused 3")
	}
	if ok, _, _ := m.Take(ctx, "a", rule, 0.5); ok {
		t.Error("giving back went beyond the burst")
	}
	if ok, wait, _ := m.Take(ctx, "big", rule, 4); ok || wait != 3*time.Second {
		t.Errorf("take 4 of a bucket of 3 = %v, wait %v; want refused, capped at the fill time 3s", ok, wait)
	}
}

func testBackoff(t *testing.T, newState New) {
	ctx := context.Background()
	c := &clock{time.Unix(1e9, 0)}
	m := newState(t, c.now)
	bo := throttle.Backoff{Free: 3, First: 10 * time.Second, Max: 35 * time.Second, Reset: time.Hour}
	for i := 1; i <= 3; i++ {
		if until, n, _ := m.Fail(ctx, "u", bo); !until.IsZero() || n != i {
			t.Fatalf("failure %d: held until %v (n=%d), want not held", i, until, n)
		}
	}
	for _, want := range []time.Duration{10 * time.Second, 20 * time.Second, 35 * time.Second, 35 * time.Second} {
		until, _, _ := m.Fail(ctx, "u", bo)
		if got := until.Sub(c.t); got != want {
			t.Errorf("hold = %v, want %v", got, want)
		}
		if h, _ := m.Held(ctx, "u"); !h.Equal(until) {
			t.Errorf("Held = %v, want %v", h, until)
		}
		if h, _ := m.Held(ctx, "v"); !h.IsZero() {
			t.Errorf("another key is held until %v", h)
		}
		c.advance(want)
		if h, _ := m.Held(ctx, "u"); !h.IsZero() {
			t.Errorf("still held after the hold")
		}
	}
	m.Forget(ctx, "u")
	if _, n, _ := m.Fail(ctx, "u", bo); n != 1 {
		t.Errorf("after Forget the next failure is number %d, want 1", n)
	}
	c.advance(2 * time.Hour)
	if _, n, _ := m.Fail(ctx, "u", bo); n != 1 {
		t.Errorf("after the reset time the next failure is number %d, want 1", n)
	}
}

package throttle_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"accesskiosk/fleet/server/throttle"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestTake(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Unix(1e9, 0)}
	m := throttle.NewMemory(c.now, 0)
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

// TestMemoryBounded floods the table with ever new keys: it stays at its
// bound, the new keys share one overflow bucket, and failures of new keys
// are not recorded (nobody can be held back by a full table).
func TestMemoryBounded(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Unix(1e9, 0)}
	m := throttle.NewMemory(c.now, 100)
	rule := throttle.Rule{Rate: 0.1, Burst: 5}
	bo := throttle.Backoff{Free: 0, First: time.Minute, Max: time.Hour, Reset: time.Hour}
	refused := 0
	for i := range 10_000 {
		ok, _, _ := m.Take(ctx, fmt.Sprint("k", i), rule, 1)
		if !ok {
			refused++
		}
		m.Fail(ctx, fmt.Sprint("f", i), bo)
	}
	if b, f := m.Len(); b > 101 || f > 100 {
		t.Errorf("after 10,000 keys the table holds %d buckets and %d failures, want at most 101 and 100", b, f)
	}
	if refused < 9000 {
		t.Errorf("only %d of 10,000 new keys were refused once the table was full: the overflow bucket is not shared", refused)
	}
	if until, _ := m.Held(ctx, "f9999"); !until.IsZero() {
		t.Errorf("a key failing while the table is full is held until %v", until)
	}
	// Idle buckets go at the next sweep.
	c.advance(time.Hour)
	m.Take(ctx, "fresh", rule, 1)
	if b, _ := m.Len(); b != 1 {
		t.Errorf("an hour later %d buckets are held, want 1", b)
	}
}

func TestBackoff(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Unix(1e9, 0)}
	m := throttle.NewMemory(c.now, 0)
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

func TestClientAddr(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"203.0.113.7:5555", "203.0.113.7"},
		{"[::ffff:203.0.113.7]:5555", "203.0.113.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"garbage", "garbage"},
	} {
		r := &http.Request{RemoteAddr: tc.remote}
		if got := throttle.ClientAddr(r); got != tc.want {
			t.Errorf("ClientAddr(%q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

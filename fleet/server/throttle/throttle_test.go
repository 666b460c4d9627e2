package throttle_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/server/throttle/throttletest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// TestMemory runs the State checks on Memory.
func TestMemory(t *testing.T) {
	throttletest.Run(t, func(_ *testing.T, now func() time.Time) throttle.State { return throttle.NewMemory(now, 0) })
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

package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/server/throttle/throttletest"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestThrottlePostgres runs the throttle.State checks on the PostgreSQL
// state, then checks two replicas (two stores on one database) share it,
// and that ever new keys cannot grow it past its bound.
func TestThrottlePostgres(t *testing.T) {
	dsn := storetest.Postgres(t)
	open := func(t *testing.T) *store.Store {
		s, err := store.Open(context.Background(), store.Config{Dialect: store.Postgres, DSN: dsn}, storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(t), open(t)
	n := 0
	throttletest.Run(t, func(t *testing.T, now func() time.Time) throttle.State {
		// A fresh state: a key prefix of its own on the shared tables.
		n++
		th, err := a.Throttle(now, 0)
		if err != nil {
			t.Fatal(err)
		}
		return prefixed{th, fmt.Sprint("t", n, ":")}
	})

	ctx := context.Background()
	clock := time.Unix(2e9, 0)
	now := func() time.Time { return clock }
	ta, _ := a.Throttle(now, 0)
	tb, _ := b.Throttle(now, 0)
	t.Run("shared", func(t *testing.T) {
		rule := throttle.Rule{Rate: 0.1, Burst: 4}
		for i := range 4 {
			st := throttle.State(ta)
			if i%2 == 1 {
				st = tb
			}
			if ok, _, err := st.Take(ctx, "signin:*", rule, 1); !ok || err != nil {
				t.Fatalf("take %d of 4 (alternating replicas) = %v, %v", i+1, ok, err)
			}
		}
		for _, st := range []throttle.State{ta, tb} {
			if ok, wait, _ := st.Take(ctx, "signin:*", rule, 1); ok || wait != 10*time.Second {
				t.Errorf("fifth take = %v, wait %v; want refused on both replicas, 10s", ok, wait)
			}
		}
		bo := throttle.Backoff{Free: 1, First: time.Minute, Max: time.Hour, Reset: time.Hour}
		ta.Fail(ctx, "user:alice@203.0.113.7", bo)
		until, n, err := tb.Fail(ctx, "user:alice@203.0.113.7", bo)
		if n != 2 || !until.Equal(clock.Add(time.Minute)) || err != nil {
			t.Errorf("second failure on the other replica: n=%d until %v, %v; want n=2, held a minute", n, until, err)
		}
		if h, _ := ta.Held(ctx, "user:alice@203.0.113.7"); !h.Equal(until) {
			t.Errorf("the first replica sees the hold until %v, want %v", h, until)
		}
		tb.Forget(ctx, "user:alice@203.0.113.7")
		if h, _ := ta.Held(ctx, "user:alice@203.0.113.7"); !h.IsZero() {
			t.Errorf("after Forget on one replica the other still holds until %v", h)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		clock = clock.Add(time.Hour) // every bucket above is idle now
		small, _ := a.Throttle(now, 50)
		rule := throttle.Rule{Rate: 0.01, Burst: 2}
		bo := throttle.Backoff{Free: 0, First: time.Minute, Max: time.Hour, Reset: time.Hour}
		for i := range 60 {
			small.Take(ctx, fmt.Sprint("flood:", i), rule, 1)
			small.Fail(ctx, fmt.Sprint("flood-user:", i), bo)
		}
		clock = clock.Add(time.Minute + time.Second) // the next call sweeps and finds the table full
		refused := 0
		for i := range 200 {
			if ok, _, _ := small.Take(ctx, fmt.Sprint("new:", i), rule, 1); !ok {
				refused++
			}
			small.Fail(ctx, fmt.Sprint("new-user:", i), bo)
		}
		if refused < 190 {
			t.Errorf("%d of 200 new keys refused while the table is full: the overflow bucket is not shared", refused)
		}
		buckets, failures, _ := small.Len(ctx)
		if buckets > 62 || failures > 60 {
			t.Errorf("table grew to %d buckets and %d failures past its bound of 50", buckets, failures)
		}
		if h, _ := small.Held(ctx, "new-user:199"); !h.IsZero() {
			t.Errorf("a key failing while the table is full is held until %v", h)
		}
	})
}

// prefixed gives each check a state of its own on the shared tables.
type prefixed struct {
	*store.Throttle
	p string
}

func (p prefixed) Take(ctx context.Context, key string, rule throttle.Rule, n float64) (bool, time.Duration, error) {
	return p.Throttle.Take(ctx, p.p+key, rule, n)
}

func (p prefixed) Fail(ctx context.Context, key string, b throttle.Backoff) (time.Time, int, error) {
	return p.Throttle.Fail(ctx, p.p+key, b)
}

func (p prefixed) Held(ctx context.Context, key string) (time.Time, error) {
	return p.Throttle.Held(ctx, p.p+key)
}

func (p prefixed) Forget(ctx context.Context, key string) error {
	return p.Throttle.Forget(ctx, p.p+key)
}

// Package throttle keeps the counters that bound what anonymous clients
// and single devices can make the fleet server do: token buckets (rate
// limits, per key) and the sign-in backoff (failures per key, with holds
// that double). The server and the console use only the State interface:
// Memory keeps the counters in this process (one server on SQLite), and
// the fleet store keeps them in PostgreSQL for several replicas
// (fleet/store.Throttle).
//
// Keys are chosen by the caller ("signin:addr:203.0.113.7",
// "report:DEVICEID"); ClientAddr gives the address part for a request.
package throttle

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Rule is a token bucket: Burst tokens at most, Rate tokens added per
// second. A bucket starts full.
type Rule struct {
	Rate  float64
	Burst float64
}

// Backoff is how sign-in failures hold a key back: the first Free failures
// cost nothing, the next one holds the key for First, and each failure
// after a hold doubles it, up to Max. Failures are forgotten Reset after
// the last one.
type Backoff struct {
	Free  int
	First time.Duration
	Max   time.Duration
	Reset time.Duration
}

// Hold is how long the n-th failure holds a key (0: not at all).
func (b Backoff) Hold(n int) time.Duration {
	if n <= b.Free {
		return 0
	}
	d := b.First
	for i := b.Free + 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// State is where the counters live. Every method is safe for concurrent
// use; an error means the counters could not be read or written (a
// database behind them failing), never that a limit was reached.
type State interface {
	// Take takes n tokens from key's bucket under rule. When the bucket
	// holds fewer, it takes none, returns ok false and how long until it
	// will hold n (capped at the time to fill the whole bucket; n larger
	// than rule.Burst can never be taken: the wait is that fill time).
	// A negative n gives -n tokens back (never beyond the burst): a
	// caller that took from two buckets and was refused by the second
	// returns what it took from the first. rule.Rate must be more than 0.
	Take(ctx context.Context, key string, rule Rule, n float64) (ok bool, wait time.Duration, err error)
	// Fail records a failure for key and returns until when key is now
	// held back (the zero time: it is not) and how many failures it has
	// had since they were last forgotten.
	Fail(ctx context.Context, key string, b Backoff) (until time.Time, failures int, err error)
	// Held returns until when key is held back; the zero time when it is not.
	Held(ctx context.Context, key string) (time.Time, error)
	// Forget clears key's failures (after a success).
	Forget(ctx context.Context, key string) error
}

// ClientAddr is the part of a request's remote address that identifies a
// client for rate limits: the IPv4 address, or the /64 of an IPv6 address
// (one home or office gets a whole /64). Behind a proxy every client has
// the proxy's address.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// DefaultMaxKeys bounds a Memory's buckets and failure records.
const DefaultMaxKeys = 100_000

// Memory is a State in this process's memory, bounded to MaxKeys buckets
// and MaxKeys failure records: idle entries are swept, and when the table
// is still full, new keys share one overflow bucket (so a flood from ever
// new addresses limits itself) and their failures are not recorded (so a
// flood cannot hold anyone back by filling the table).
type Memory struct {
	now     func() time.Time
	maxKeys int

	mu       sync.Mutex
	buckets  map[string]*bucket
	failures map[string]*failure
	swept    time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
	full   time.Duration // how long this bucket takes to fill: idle that long, it can go
}

type failure struct {
	n     int
	last  time.Time
	until time.Time
	reset time.Duration
}

// overflowKey is the bucket new keys share while the table is full.
const overflowKey = "\x00overflow"

// NewMemory returns an empty in-memory State on clock now (nil:
// time.Now) holding at most maxKeys buckets and failures (0:
// DefaultMaxKeys).
func NewMemory(now func() time.Time, maxKeys int) *Memory {
	if now == nil {
		now = time.Now
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Memory{now: now, maxKeys: maxKeys, buckets: map[string]*bucket{}, failures: map[string]*failure{}}
}

// Take implements State.
func (m *Memory) Take(_ context.Context, key string, rule Rule, n float64) (bool, time.Duration, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	fill := time.Duration(rule.Burst / rule.Rate * float64(time.Second))
	b := m.buckets[key]
	if b == nil {
		if len(m.buckets) >= m.maxKeys {
			key = overflowKey
			b = m.buckets[key]
		}
		if b == nil {
			b = &bucket{tokens: rule.Burst, last: now}
			m.buckets[key] = b
		}
	}
	b.full = fill
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(rule.Burst, b.tokens+el.Seconds()*rule.Rate)
		b.last = now
	}
	if b.tokens >= n {
		b.tokens = min(rule.Burst, b.tokens-n)
		return true, 0, nil
	}
	if n > rule.Burst {
		return false, fill, nil
	}
	return false, min(time.Duration((n-b.tokens)/rule.Rate*float64(time.Second)), fill), nil
}

// Fail implements State.
func (m *Memory) Fail(_ context.Context, key string, b Backoff) (time.Time, int, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	f := m.failures[key]
	if f != nil && now.Sub(f.last) > f.reset && now.After(f.until) {
		f = nil
	}
	if f == nil {
		if len(m.failures) >= m.maxKeys {
			return time.Time{}, 0, nil
		}
		f = &failure{}
		m.failures[key] = f
	}
	f.n++
	f.last, f.reset = now, b.Reset
	if d := b.Hold(f.n); d > 0 {
		f.until = now.Add(d)
	}
	if now.Before(f.until) {
		return f.until, f.n, nil
	}
	return time.Time{}, f.n, nil
}

// Held implements State.
func (m *Memory) Held(_ context.Context, key string) (time.Time, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.failures[key]; f != nil && now.Before(f.until) {
		return f.until, nil
	}
	return time.Time{}, nil
}

// Forget implements State.
func (m *Memory) Forget(_ context.Context, key string) error {
	m.mu.Lock()
	delete(m.failures, key)
	m.mu.Unlock()
	return nil
}

// Len returns how many buckets and failure records are held (tests).
func (m *Memory) Len() (buckets, failures int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets), len(m.failures)
}

// sweep forgets, at most once a minute (or when a table is full), buckets
// idle long enough to be full again and failures past their reset with no
// hold left. m.mu is held.
func (m *Memory) sweep(now time.Time) {
	if now.Sub(m.swept) < time.Minute && len(m.buckets) < m.maxKeys && len(m.failures) < m.maxKeys {
		return
	}
	if now.Sub(m.swept) < time.Second {
		return // a full table swept a moment ago: do not sweep on every call
	}
	m.swept = now
	for k, b := range m.buckets {
		if now.Sub(b.last) >= b.full {
			delete(m.buckets, k)
		}
	}
	for k, f := range m.failures {
		if now.Sub(f.last) > f.reset && !now.Before(f.until) {
			delete(m.failures, k)
		}
	}
}

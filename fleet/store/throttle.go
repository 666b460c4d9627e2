package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"accesskiosk/fleet/server/throttle"
)

// Throttle is a throttle.State kept in PostgreSQL (the unlogged tables
// throttle_buckets and throttle_failures), so every replica of the fleet
// counts sign-in attempts, enrolments and admin API calls against the same
// limits and holds back the same user names. Each Take is one statement
// (an upsert that refills, takes and answers); a failure record is one
// short transaction. Idle buckets and forgotten failures are deleted at
// most once a minute.
//
// With SQLite (one server) keep throttle.Memory: a process's memory is
// faster and as good.
type Throttle struct {
	s       *Store
	now     func() time.Time
	maxKeys int

	mu    sync.Mutex
	swept time.Time
	full  bool // the tables held maxKeys rows at the last sweep
}

// Throttle returns the store's shared throttle.State on clock now (nil:
// time.Now) holding at most about maxKeys buckets and as many failure
// records (0: throttle.DefaultMaxKeys); past that, new keys share one
// overflow bucket and their failures are not recorded, as with
// throttle.Memory. It needs PostgreSQL.
func (s *Store) Throttle(now func() time.Time, maxKeys int) (*Throttle, error) {
	if s.dialect != Postgres {
		return nil, errors.New("the shared throttle needs PostgreSQL; use throttle.Memory with SQLite")
	}
	if now == nil {
		now = time.Now
	}
	if maxKeys <= 0 {
		maxKeys = throttle.DefaultMaxKeys
	}
	return &Throttle{s: s, now: now, maxKeys: maxKeys}, nil
}

var _ throttle.State = (*Throttle)(nil)

// overflowKey is the bucket new keys share while the table is full.
const overflowKey = "\x00overflow"

// avail is a bucket's tokens refilled up to now ($2 burst, $4 now, $6 rate).
const avail = `LEAST($2::float8, b.tokens + GREATEST(0, $4::bigint - b.last_unix_ms) * $6::float8 / 1000.0)`

// qTake takes $3 tokens from bucket $1, or none when it holds fewer, and
// returns the tokens left and whether it took them. $5 is the time to
// fill the bucket (ms): idle that long, it is full and can go.
const qTake = `INSERT INTO throttle_buckets AS b (key, tokens, last_unix_ms, idle_unix_ms, ok)
	VALUES ($1, CASE WHEN $3::float8 <= $2::float8 THEN LEAST($2::float8, $2::float8 - $3::float8) ELSE $2::float8 END,
		$4::bigint, $4::bigint + $5::bigint, CASE WHEN $3::float8 <= $2::float8 THEN 1 ELSE 0 END)
	ON CONFLICT (key) DO UPDATE SET
		tokens = CASE WHEN ` + avail + ` >= $3::float8 THEN LEAST($2::float8, ` + avail + ` - $3::float8) ELSE ` + avail + ` END,
		ok = CASE WHEN ` + avail + ` >= $3::float8 THEN 1 ELSE 0 END,
		last_unix_ms = GREATEST(b.last_unix_ms, $4::bigint),
		idle_unix_ms = GREATEST(b.last_unix_ms, $4::bigint) + $5::bigint
	RETURNING tokens, ok`

// qTakeHeld is qTake for a key that must already have a bucket (the table
// is full): no row, no answer.
const qTakeHeld = `UPDATE throttle_buckets AS b SET
		tokens = CASE WHEN ` + avail + ` >= $3::float8 THEN LEAST($2::float8, ` + avail + ` - $3::float8) ELSE ` + avail + ` END,
		ok = CASE WHEN ` + avail + ` >= $3::float8 THEN 1 ELSE 0 END,
		last_unix_ms = GREATEST(b.last_unix_ms, $4::bigint),
		idle_unix_ms = GREATEST(b.last_unix_ms, $4::bigint) + $5::bigint
	WHERE key = $1 RETURNING tokens, ok`

// Take implements throttle.State.
func (t *Throttle) Take(ctx context.Context, key string, rule throttle.Rule, n float64) (bool, time.Duration, error) {
	now := t.now()
	full := t.sweep(ctx, now)
	fill := time.Duration(rule.Burst / rule.Rate * float64(time.Second))
	args := []any{key, rule.Burst, n, now.UnixMilli(), fill.Milliseconds(), rule.Rate}
	var tokens float64
	var ok int
	err := sql.ErrNoRows
	if full {
		err = t.s.w.QueryRowContext(ctx, qTakeHeld, args...).Scan(&tokens, &ok)
		args[0] = overflowKey
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = t.s.w.QueryRowContext(ctx, qTake, args...).Scan(&tokens, &ok)
	}
	if err != nil {
		return false, 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	if ok == 1 {
		return true, 0, nil
	}
	if n > rule.Burst {
		return false, fill, nil
	}
	return false, min(time.Duration((n-tokens)/rule.Rate*float64(time.Second)), fill), nil
}

// Fail implements throttle.State.
func (t *Throttle) Fail(ctx context.Context, key string, b throttle.Backoff) (until time.Time, failures int, err error) {
	now := t.now()
	if t.sweep(ctx, now) {
		var have int
		if err := t.s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM throttle_failures WHERE key = $1`, key).Scan(&have); err != nil {
			return time.Time{}, 0, fmt.Errorf("throttle %s: %w", key, err)
		}
		if have == 0 {
			return time.Time{}, 0, nil // full: a flood cannot hold anyone back by filling the table
		}
	}
	nowMs := now.UnixMilli()
	err = t.s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO throttle_failures (key, n, last_unix_ms, until_unix_ms, forget_unix_ms)
			VALUES ($1, 0, 0, 0, 0) ON CONFLICT (key) DO NOTHING`, key); err != nil {
			return err
		}
		var n int
		var last, untilMs, forget int64
		if err := tx.QueryRowContext(ctx, `SELECT n, last_unix_ms, until_unix_ms, forget_unix_ms FROM throttle_failures WHERE key = $1 FOR UPDATE`,
			key).Scan(&n, &last, &untilMs, &forget); err != nil {
			return err
		}
		if nowMs > forget && nowMs >= untilMs {
			n, untilMs = 0, 0 // forgotten: past its reset, no hold left
		}
		n++
		if d := b.Hold(n); d > 0 {
			untilMs = nowMs + d.Milliseconds()
		}
		failures = n
		if nowMs < untilMs {
			until = time.UnixMilli(untilMs)
		}
		_, err := tx.ExecContext(ctx, `UPDATE throttle_failures SET n = $2, last_unix_ms = $3, until_unix_ms = $4, forget_unix_ms = $5 WHERE key = $1`,
			key, n, nowMs, untilMs, max(nowMs+b.Reset.Milliseconds(), untilMs))
		return err
	})
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("throttle %s: record failure: %w", key, err)
	}
	return until, failures, nil
}

// Held implements throttle.State.
func (t *Throttle) Held(ctx context.Context, key string) (time.Time, error) {
	var until int64
	err := t.s.r.QueryRowContext(ctx, `SELECT until_unix_ms FROM throttle_failures WHERE key = $1`, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("throttle %s: %w", key, err)
	}
	if now := t.now(); now.UnixMilli() < until {
		return time.UnixMilli(until), nil
	}
	return time.Time{}, nil
}

// Forget implements throttle.State.
func (t *Throttle) Forget(ctx context.Context, key string) error {
	if _, err := t.s.w.ExecContext(ctx, `DELETE FROM throttle_failures WHERE key = $1`, key); err != nil {
		return fmt.Errorf("throttle %s: forget: %w", key, err)
	}
	return nil
}

// Len returns how many buckets and failure records the tables hold (tests).
func (t *Throttle) Len(ctx context.Context) (buckets, failures int, err error) {
	if err := t.s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM throttle_buckets), (SELECT COUNT(*) FROM throttle_failures)`).Scan(&buckets, &failures); err != nil {
		return 0, 0, fmt.Errorf("count throttle rows: %w", err)
	}
	return buckets, failures, nil
}

// sweep deletes, at most once a minute (every replica may), buckets idle
// long enough to be full again and failures forgotten with no hold left,
// then counts what is left; it returns whether the tables were full.
func (t *Throttle) sweep(ctx context.Context, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.swept) < time.Minute {
		return t.full
	}
	t.swept = now
	nowMs := now.UnixMilli()
	for _, q := range []string{
		`DELETE FROM throttle_buckets WHERE idle_unix_ms < $1`,
		`DELETE FROM throttle_failures WHERE forget_unix_ms < $1 AND until_unix_ms <= $1`,
	} {
		if _, err := t.s.w.ExecContext(ctx, q, nowMs); err != nil {
			t.s.log.WithError(err).Warn("throttle: sweeping idle counters failed")
			return t.full
		}
	}
	b, f, err := t.Len(ctx)
	if err != nil {
		t.s.log.WithError(err).Warn("throttle: counting counters failed")
		return t.full
	}
	t.full = b >= t.maxKeys || f >= t.maxKeys
	return t.full
}

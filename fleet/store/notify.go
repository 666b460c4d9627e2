package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"accesskiosk/internal/backoff"
)

// Channels the store notifies on PostgreSQL (NOTIFY, delivered when the
// transaction that made the change commits), so that every replica drops
// what it cached at once.
const (
	// ChanCredentials carries the id of a device whose credential was
	// withdrawn or replaced (re-enrolment).
	ChanCredentials = "fleet_credentials"
	// ChanDocs carries the name of a shared document that changed
	// (DocRollouts).
	ChanDocs = "fleet_docs"
)

var channels = []string{ChanCredentials, ChanDocs}

// notify sends payload on channel when tx commits (on SQLite, with one
// server, nothing).
func (s *Store) notify(ctx context.Context, tx *sql.Tx, channel, payload string) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listener hears the store's notifications on its own PostgreSQL
// connection and hands each to the functions subscribed to its channel.
// When the connection is lost it reconnects (backing off), and each time
// it starts listening it calls the OnReset functions: anything may have
// changed while nobody listened. On SQLite there is one server and nothing
// to hear: Run returns at once.
type Listener struct {
	s         *Store
	mu        sync.Mutex
	subs      map[string][]func(payload string)
	resets    []func()
	listening atomic.Bool
	heard     atomic.Int64
}

// NewListener returns a Listener for the store; subscribe, then Run it.
func (s *Store) NewListener() *Listener {
	return &Listener{s: s, subs: map[string][]func(string){}}
}

// Subscribe calls fn with the payload of every notification on channel
// (one of the Chan constants), on the listener's goroutine: keep it short.
func (l *Listener) Subscribe(channel string, fn func(payload string)) {
	l.mu.Lock()
	l.subs[channel] = append(l.subs[channel], fn)
	l.mu.Unlock()
}

// OnReset calls fn whenever the listener starts listening (first, and
// after every reconnection).
func (l *Listener) OnReset(fn func()) {
	l.mu.Lock()
	l.resets = append(l.resets, fn)
	l.mu.Unlock()
}

// Listening reports whether notifications are being heard now (always
// false on SQLite).
func (l *Listener) Listening() bool { return l.listening.Load() }

// Heard counts the notifications heard (tests).
func (l *Listener) Heard() int64 { return l.heard.Load() }

// Run listens until ctx ends; it returns nil then.
func (l *Listener) Run(ctx context.Context) error {
	if l.s.dialect != Postgres {
		return nil
	}
	retry := backoff.Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	for {
		err := l.listen(ctx, &retry)
		l.listening.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		l.s.log.WithError(err).Warn("store: lost the notification connection; caches are bypassed until it is back")
		if retry.Wait(ctx) != nil {
			return nil
		}
	}
}

func (l *Listener) listen(ctx context.Context, retry *backoff.Backoff) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, l.s.dsn)
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn.Close(cctx)
		cancel()
	}()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	l.listening.Store(true)
	retry.Reset()
	l.mu.Lock()
	resets := append([]func(){}, l.resets...)
	l.mu.Unlock()
	for _, fn := range resets {
		fn()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		l.heard.Add(1)
		l.mu.Lock()
		fns := l.subs[n.Channel]
		l.mu.Unlock()
		for _, fn := range fns {
			fn(n.Payload)
		}
	}
}

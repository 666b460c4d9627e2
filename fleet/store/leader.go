package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"sync"
)

// Leadership is a named role that one replica at a time holds, such as
// running the alert checks: on PostgreSQL a session advisory lock held on
// a connection of its own (it ends when that connection does, so a
// replica that dies or loses the database hands it over by itself); on
// SQLite, with one server, it is always held.
type Leadership struct {
	s    *Store
	name string
	key  int32

	mu   sync.Mutex
	conn *sql.Conn // holding the lock; nil when not leading
}

// leaderClass is the advisory lock space of leaderships (the migration
// lock uses the single-key space).
const leaderClass = 4711

// Leadership returns the named role; nobody holds it until Leading is called.
func (s *Store) Leadership(name string) *Leadership {
	h := fnv.New32a()
	h.Write([]byte(name))
	return &Leadership{s: s, name: name, key: int32(h.Sum32())}
}

// Leading reports whether this replica holds the role now, taking it if
// nobody does. Call it before each round of the leader's work: a replica
// whose connection broke stops leading, and another takes over at its
// next call.
func (l *Leadership) Leading(ctx context.Context) (bool, error) {
	if l.s.dialect != Postgres {
		return true, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		if err := l.conn.PingContext(ctx); err == nil {
			return true, nil
		}
		l.s.log.WithField("role", l.name).Warn("store: lost the connection holding a leadership; another replica takes over")
		l.conn.Raw(func(any) error { return driver.ErrBadConn }) // discarded, never back in the pool
		l.conn.Close()
		l.conn = nil
	}
	conn, err := l.s.w.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("leadership %s: %w", l.name, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, leaderClass, l.key).Scan(&got); err != nil {
		conn.Close()
		return false, fmt.Errorf("leadership %s: %w", l.name, err)
	}
	if !got {
		conn.Close()
		return false, nil
	}
	l.conn = conn
	return true, nil
}

// Release gives the role up (at shutdown), so another replica takes it at
// once rather than when this connection closes.
func (l *Leadership) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return
	}
	l.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, $2)`, leaderClass, l.key)
	l.conn.Close()
	l.conn = nil
}

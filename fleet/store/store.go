// Package store keeps the fleet's state: sites, enrolment tokens, devices
// and their reports, commands, staff users and sessions, the audit log and
// alerts. One schema serves two databases: embedded SQLite
// (modernc.org/sqlite, no cgo, WAL) by default, and PostgreSQL (pgx) when
// several fleet replicas share one database.
//
// Queries are written once with '?' placeholders and rebound to $n for
// PostgreSQL. Schema changes are numbered migrations applied at Open, inside
// a transaction (and, on PostgreSQL, under an advisory lock so replicas
// starting together do not race).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/sirupsen/logrus"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Sentinel errors for expected states; check with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrExists       = errors.New("already exists")
	ErrTokenUnknown = errors.New("enrolment token unknown")
	ErrTokenExpired = errors.New("enrolment token expired")
	ErrTokenUsed    = errors.New("enrolment token used up")
	ErrTokenRevoked = errors.New("enrolment token revoked")
	// ErrDeviceRevoked: the device key enrolled with this token before,
	// and IT has since withdrawn that device.
	ErrDeviceRevoked = errors.New("device revoked")
)

// Config says which database to open.
type Config struct {
	// Dialect is SQLite or Postgres.
	Dialect string
	// Path is the SQLite file (SQLite only).
	Path string
	// DSN is the PostgreSQL connection string (Postgres only).
	DSN string
}

// Store is the fleet's database. It is safe for concurrent use.
type Store struct {
	dialect string
	dsn     string  // PostgreSQL: for the Listener's own connection
	w       *sql.DB // writes (one connection on SQLite: one writer at a time)
	r       *sql.DB // reads (a pool; the same as w on PostgreSQL)
	log     logrus.FieldLogger
	now     func() time.Time

	rebound sync.Map                       // query → rebound query (PostgreSQL)
	ins     atomic.Pointer[InsightsConfig] // insights.go; nil: the defaults
	stmts   stmtCache                      // the writer's kept statements (SQLite)

	// SQLite: checkpoints run on their own connection, off the commit path.
	ckpt     *sql.DB
	ckptStop chan struct{}
	ckptDone chan struct{}
}

// checkpointEvery is how often the background checkpointer copies the WAL
// into the database file; walBackstop is the WAL size (pages) at which the
// writer checkpoints itself anyway, should the background one fall behind.
const (
	checkpointEvery = 250 * time.Millisecond
	walBackstop     = 16000
)

// Open opens (creating if needed) the database and brings its schema up to
// date.
func Open(ctx context.Context, cfg Config, log logrus.FieldLogger) (*Store, error) {
	s := &Store{dialect: cfg.Dialect, dsn: cfg.DSN, log: log, now: time.Now}
	switch cfg.Dialect {
	case SQLite:
		if cfg.Path == "" {
			return nil, errors.New("open store: sqlite needs a path")
		}
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
			return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
		}
		dsn := "file:" + cfg.Path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=cache_size(-32000)"
		// Checkpoints (copying the WAL into the database, with its fsyncs)
		// run on their own connection in the background, so a commit does
		// not wait for one; the writer checkpoints itself only if the WAL
		// grows past walBackstop. Durability is unchanged: WAL with
		// synchronous=NORMAL, a commit survives a crash of the process.
		w, err := sql.Open("sqlite", dsn+"&_txlock=immediate&_pragma=wal_autocheckpoint("+strconv.Itoa(walBackstop)+")")
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(ON)")
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
		}
		r.SetMaxOpenConns(4)
		r.SetMaxIdleConns(4)
		c, err := sql.Open("sqlite", dsn)
		if err != nil {
			w.Close()
			r.Close()
			return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
		}
		c.SetMaxOpenConns(1)
		c.SetMaxIdleConns(1)
		c.SetConnMaxLifetime(0)
		c.SetConnMaxIdleTime(0)
		s.w, s.r, s.ckpt = w, r, c
	case Postgres:
		db, err := sql.Open("pgx", cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("open store (postgres): %w", err)
		}
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		s.w, s.r = db, db
	default:
		return nil, fmt.Errorf("open store: unknown database %q (want %q or %q)", cfg.Dialect, SQLite, Postgres)
	}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store (%s): %w", cfg.Dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate store (%s): %w", cfg.Dialect, err)
	}
	if s.ckpt != nil {
		s.ckptStop, s.ckptDone = make(chan struct{}), make(chan struct{})
		go s.checkpointer()
	}
	return s, nil
}

// checkpointer copies the WAL into the database file every checkpointEvery
// without blocking the writer (a PASSIVE checkpoint), until Close.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-s.ckptStop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := s.ckpt.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		cancel()
		if err != nil && !failing {
			s.log.WithError(err).Warn("background WAL checkpoint failed; the writer checkpoints instead")
		}
		failing = err != nil
	}
}

// Dialect returns SQLite or Postgres.
func (s *Store) Dialect() string { return s.dialect }

// SetClock replaces the store's clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

func (s *Store) nowMs() int64 { return s.now().UnixMilli() }

// Close closes the database.
func (s *Store) Close() error {
	if s.ckptStop != nil {
		close(s.ckptStop)
		<-s.ckptDone
		s.ckptStop = nil
	}
	s.stmts.close()
	var err error
	if s.ckpt != nil {
		err = s.ckpt.Close()
	}
	if s.r != nil && s.r != s.w {
		err = s.r.Close()
	}
	if s.w != nil {
		if e := s.w.Close(); e != nil {
			err = e
		}
	}
	return err
}

// Ping checks the database answers (for /healthz).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// q rebinds a '?' query for the dialect.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	s.rebound.Store(query, out)
	return out
}

// tx runs fn in a write transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(t); err != nil {
		t.Rollback()
		return err
	}
	return t.Commit()
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint failed") || strings.Contains(m, "SQLSTATE 23505") ||
		strings.Contains(m, "duplicate key value")
}

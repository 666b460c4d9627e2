package store

import (
	"context"
	"database/sql"
	"sync"
)

// txCache gives a transaction its statements, each prepared once per
// transaction at most, so a group commit parses the device update once,
// not once per device. On SQLite (one writer connection) the statements
// are prepared once for the life of the store and only bound to each
// transaction, so a commit parses no SQL at all.
type txCache struct {
	tx   *sql.Tx
	keep *stmtCache // nil: prepare per transaction
	m    map[string]*sql.Stmt
}

func (s *Store) newTxCache(tx *sql.Tx) *txCache {
	c := &txCache{tx: tx, m: map[string]*sql.Stmt{}}
	if s.dialect == SQLite {
		c.keep = &s.stmts
	}
	return c
}

// stmtCache keeps the writer's prepared statements. The ingest statements
// are a bounded set (multi-row inserts of 1..chunkRows rows and a few
// updates), so it is bounded too.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxKeptStmts = 4 * chunkRows

func (k *stmtCache) peek(q string) *sql.Stmt {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[q]
}

// prepare keeps q prepared. It needs the writer connection, so it must not
// be called inside a write transaction (SQLite has one writer connection).
func (k *stmtCache) prepare(ctx context.Context, db *sql.DB, q string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[q]; ok {
		return nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	if k.m == nil || len(k.m) >= maxKeptStmts {
		for _, old := range k.m {
			old.Close()
		}
		k.m = map[string]*sql.Stmt{}
	}
	k.m[q] = st
	return nil
}

func (k *stmtCache) peekOrNil(q string) *sql.Stmt {
	if k == nil {
		return nil
	}
	return k.peek(q)
}

func (k *stmtCache) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, st := range k.m {
		st.Close()
	}
	k.m = nil
}

func (c *txCache) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	var st *sql.Stmt
	var err error
	if kept := c.keep.peekOrNil(q); kept != nil {
		st = c.tx.StmtContext(ctx, kept)
	} else {
		st, err = c.tx.PrepareContext(ctx, q)
	}
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

func (c *txCache) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *txCache) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext returns a row whose Scan reports a prepare error.
func (c *txCache) QueryRowContext(ctx context.Context, q string, args ...any) rowScanner {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (c *txCache) close() {
	for _, st := range c.m {
		st.Close()
	}
}

type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

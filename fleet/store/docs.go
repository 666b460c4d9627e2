package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Shared documents: small JSON documents every replica reads and changes
// whole, each with a version that grows with every change.
const (
	// DocRollouts is the release rollouts (fleet/release.Rollout, a list).
	DocRollouts = "rollouts"
)

// Doc returns a shared document and its version (nil and 0 when it was
// never written).
func (s *Store) Doc(ctx context.Context, name string) (body []byte, version int64, err error) {
	var b string
	err = s.r.QueryRowContext(ctx, s.q(`SELECT body, version FROM shared_docs WHERE name = ?`), name).Scan(&b, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", name, err)
	}
	return []byte(b), version, nil
}

// DocVersion returns a shared document's version (0: never written).
func (s *Store) DocVersion(ctx context.Context, name string) (int64, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT version FROM shared_docs WHERE name = ?`), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	return v, nil
}

// UpdateDoc changes a shared document: it locks the document (waiting up
// to wait while another replica or process changes it; then busy is true
// and nothing changed), hands change the current body (nil if none) and
// stores what it returns with the next version, then tells every replica
// (ChanDocs). An error from change leaves the document as it was.
func (s *Store) UpdateDoc(ctx context.Context, name string, wait time.Duration, change func(old []byte) ([]byte, error)) (busy bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, max(1, wait.Milliseconds()))); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO shared_docs (name, body, version, updated_unix_ms) VALUES (?, '', 0, 0) ON CONFLICT (name) DO NOTHING`), name); err != nil {
			return err
		}
		q := `SELECT body, version FROM shared_docs WHERE name = ?`
		if s.dialect == Postgres {
			q += ` FOR UPDATE`
		}
		var old string
		var version int64
		if err := tx.QueryRowContext(ctx, s.q(q), name).Scan(&old, &version); err != nil {
			return err
		}
		var oldBody []byte
		if version > 0 {
			oldBody = []byte(old)
		}
		body, err := change(oldBody)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE shared_docs SET body = ?, version = ?, updated_unix_ms = ? WHERE name = ?`),
			string(body), version+1, s.nowMs(), name); err != nil {
			return err
		}
		return s.notify(ctx, tx, ChanDocs, name)
	})
	if err != nil && isLockTimeout(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("update %s: %w", name, err)
	}
	return false, nil
}

// isLockTimeout reports whether err is PostgreSQL's lock_not_available
// (lock_timeout) or SQLite's busy.
func isLockTimeout(err error) bool {
	m := err.Error()
	return strings.Contains(m, "SQLSTATE 55P03") || strings.Contains(m, "database is locked") || strings.Contains(m, "SQLITE_BUSY")
}

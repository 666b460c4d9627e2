package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"accesskiosk/fleet/credential"
)

// WebSessionEnds is WebSession with when the session ends (Unix ms), so
// that the console can warn before it does.
func (s *Store) WebSessionEnds(ctx context.Context, secret string) (User, int64, error) {
	var u User
	var disabled, ends int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT u.name, u.role, u.disabled_unix_ms, w.expires_unix_ms FROM web_sessions w JOIN users u ON u.name = w.user_name
		WHERE w.hash = ? AND w.expires_unix_ms > ?`), credential.Hash(secret), s.nowMs()).Scan(&u.Name, &u.Role, &disabled, &ends)
	if errors.Is(err, sql.ErrNoRows) || disabled != 0 {
		return User{}, 0, ErrNotFound
	}
	if err != nil {
		return User{}, 0, fmt.Errorf("load session: %w", err)
	}
	return u, ends, nil
}

// ExtendWebSession makes a live console session end ttl from now, but
// never later than maxLife after it began, and returns its new end (Unix
// ms). ErrNotFound when the session is unknown or has ended.
func (s *Store) ExtendWebSession(ctx context.Context, secret string, ttl, maxLife time.Duration) (int64, error) {
	now := s.nowMs()
	var ends int64
	err := s.w.QueryRowContext(ctx, s.q(`UPDATE web_sessions SET expires_unix_ms = CASE WHEN created_unix_ms + ? < ? THEN created_unix_ms + ? ELSE ? END
		WHERE hash = ? AND expires_unix_ms > ? RETURNING expires_unix_ms`),
		maxLife.Milliseconds(), now+ttl.Milliseconds(), maxLife.Milliseconds(), now+ttl.Milliseconds(), credential.Hash(secret), now).Scan(&ends)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("extend session: %w", err)
	}
	return ends, nil
}

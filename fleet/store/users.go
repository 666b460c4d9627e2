package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"accesskiosk/fleet/credential"
)

// Staff roles.
const (
	RoleAdmin  = "admin"  // everything
	RoleViewer = "viewer" // sees everything, changes nothing
)

// User is a member of IT staff.
type User struct {
	Name          string
	Role          string
	PasswordHash  string
	CreatedUnixMs int64
	Disabled      bool
}

// CreateUser adds a staff user. ErrExists if the name is taken.
func (s *Store) CreateUser(ctx context.Context, name, role, passwordHash string) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO users (name, role, password_hash, created_unix_ms) VALUES (?, ?, ?, ?)`),
		name, role, passwordHash, s.nowMs())
	if isUnique(err) {
		return fmt.Errorf("create user %s: %w", name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", name, err)
	}
	return nil
}

// SetPassword replaces a user's password hash. ErrNotFound if no such user.
func (s *Store) SetPassword(ctx context.Context, name, passwordHash string) error {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE users SET password_hash = ? WHERE name = ?`), passwordHash, name)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set password of %s: %w", name, ErrNotFound)
	}
	// A new password ends every session of the old one.
	_, err = s.w.ExecContext(ctx, s.q(`DELETE FROM web_sessions WHERE user_name = ?`), name)
	return err
}

// User loads a user. ErrNotFound if there is none.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	u := User{Name: name}
	var disabled int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT role, password_hash, created_unix_ms, disabled_unix_ms FROM users WHERE name = ?`), name).
		Scan(&u.Role, &u.PasswordHash, &u.CreatedUnixMs, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("user %s: %w", name, err)
	}
	u.Disabled = disabled != 0
	return u, nil
}

// Users lists staff users by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, role, created_unix_ms, disabled_unix_ms FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var disabled int64
		if err := rows.Scan(&u.Name, &u.Role, &u.CreatedUnixMs, &disabled); err != nil {
			return nil, err
		}
		u.Disabled = disabled != 0
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateWebSession starts a console session for user lasting ttl and returns
// its secret (the cookie value).
func (s *Store) CreateWebSession(ctx context.Context, user string, ttl time.Duration) (string, error) {
	secret, hash := credential.New(credential.PrefixSession)
	now := s.nowMs()
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO web_sessions (hash, user_name, created_unix_ms, expires_unix_ms) VALUES (?, ?, ?, ?)`),
		hash, user, now, now+ttl.Milliseconds())
	if err != nil {
		return "", fmt.Errorf("create session for %s: %w", user, err)
	}
	return secret, nil
}

// WebSession returns the user of a live console session. ErrNotFound when
// the session is unknown, expired or its user disabled.
func (s *Store) WebSession(ctx context.Context, secret string) (User, error) {
	var u User
	var disabled int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT u.name, u.role, u.disabled_unix_ms FROM web_sessions w JOIN users u ON u.name = w.user_name
		WHERE w.hash = ? AND w.expires_unix_ms > ?`), credential.Hash(secret), s.nowMs()).Scan(&u.Name, &u.Role, &disabled)
	if errors.Is(err, sql.ErrNoRows) || disabled != 0 {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("load session: %w", err)
	}
	return u, nil
}

// DeleteWebSession ends a console session (logout).
func (s *Store) DeleteWebSession(ctx context.Context, secret string) error {
	_, err := s.w.ExecContext(ctx, s.q(`DELETE FROM web_sessions WHERE hash = ?`), credential.Hash(secret))
	return err
}

// APIToken is a staff API token's row.
type APIToken struct {
	ID             string
	User           string
	CreatedUnixMs  int64
	LastUsedUnixMs int64
	Revoked        bool
}

// CreateAPIToken makes a staff API token acting as user and returns its
// secret once.
func (s *Store) CreateAPIToken(ctx context.Context, user string) (APIToken, string, error) {
	secret, hash := credential.New(credential.PrefixAPI)
	t := APIToken{ID: credential.ID(5), User: user, CreatedUnixMs: s.nowMs()}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO api_tokens (id, hash, user_name, created_unix_ms) VALUES (?, ?, ?, ?)`),
		t.ID, hash, user, t.CreatedUnixMs)
	if err != nil {
		return APIToken{}, "", fmt.Errorf("create API token for %s: %w", user, err)
	}
	return t, secret, nil
}

// APITokenUser returns the user an API token acts as. ErrNotFound when the
// token is unknown or revoked or its user disabled.
func (s *Store) APITokenUser(ctx context.Context, secret string) (User, error) {
	var u User
	var id string
	var disabled int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT t.id, u.name, u.role, u.disabled_unix_ms FROM api_tokens t JOIN users u ON u.name = t.user_name
		WHERE t.hash = ? AND t.revoked_unix_ms = 0`), credential.Hash(secret)).Scan(&id, &u.Name, &u.Role, &disabled)
	if errors.Is(err, sql.ErrNoRows) || disabled != 0 {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("load API token: %w", err)
	}
	s.w.ExecContext(ctx, s.q(`UPDATE api_tokens SET last_used_unix_ms = ? WHERE id = ?`), s.nowMs(), id)
	return u, nil
}

// APITokens lists staff API tokens, newest first.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, user_name, created_unix_ms, last_used_unix_ms, revoked_unix_ms FROM api_tokens ORDER BY created_unix_ms DESC`)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var revoked int64
		if err := rows.Scan(&t.ID, &t.User, &t.CreatedUnixMs, &t.LastUsedUnixMs, &revoked); err != nil {
			return nil, err
		}
		t.Revoked = revoked != 0
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken withdraws a staff API token.
func (s *Store) RevokeAPIToken(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE api_tokens SET revoked_unix_ms = ? WHERE id = ? AND revoked_unix_ms = 0`), s.nowMs(), id)
	if err != nil {
		return fmt.Errorf("revoke API token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke API token %s: %w", id, ErrNotFound)
	}
	return nil
}

// AuditEntry is one staff action.
type AuditEntry struct {
	ID     int64
	UnixMs int64
	Actor  string // user name, or "cli" for the server's own command line
	Action string // e.g. "command.end_session", "site.create", "login"
	Target string // device id, site id, user name
	Detail string
}

// Audit records a staff action.
func (s *Store) Audit(ctx context.Context, actor, action, target, detail string) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO audit (unix_ms, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)`),
		s.nowMs(), actor, action, target, detail)
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", actor, action, err)
	}
	return nil
}

// AuditLog returns the newest entries first, at most limit, older than
// before (0 for the newest).
func (s *Store) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	q := `SELECT id, unix_ms, actor, action, target, detail FROM audit`
	var args []any
	if before > 0 {
		q += ` WHERE id < ?`
		args = append(args, before)
	}
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, s.q(q+` ORDER BY id DESC LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.UnixMs, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/credential"
)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func pendingCommands(ctx context.Context, db querier, q func(string) string, device string, now int64) ([]api.Command, error) {
	rows, err := db.QueryContext(ctx, q(qPending), device, now)
	if err != nil {
		return nil, fmt.Errorf("pending commands for %s: %w", device, err)
	}
	defer rows.Close()
	var out []api.Command
	for rows.Next() {
		var c api.Command
		if err := rows.Scan(&c.ID, &c.Kind, &c.Text, &c.Seconds, &c.IssuedUnixMs); err != nil {
			return nil, err
		}
		if c.Kind == api.CommandVolunteerCode || c.Kind == api.CommandAssistOffer {
			// The code (the offer) expires a fixed time after it was issued, however
			// late the device fetches it: send what is left.
			left := (c.IssuedUnixMs + int64(c.Seconds)*1000 - now + 999) / 1000
			c.Seconds = int(max(1, min(left, int64(c.Seconds))))
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Command is a command with its outcome, as the console shows it.
type Command struct {
	api.Command
	DeviceID      string
	IssuedBy      string
	ExpiresUnixMs int64
	Status        string // "" pending, api.AckDone/AckFailed/AckRefused, or "expired"
	Detail        string
	AckedUnixMs   int64
}

// CommandTTL is how long a command waits for its device before it expires:
// ending a session an hour late would end someone else's.
const CommandTTL = time.Hour

// IssueCommand queues a command for a device.
func (s *Store) IssueCommand(ctx context.Context, device, by string, c api.Command) (Command, error) {
	now := s.nowMs()
	c.ID = credential.ID(8)
	c.IssuedUnixMs = now
	cmd := Command{Command: c, DeviceID: device, IssuedBy: by, ExpiresUnixMs: now + CommandTTL.Milliseconds()}
	if c.Kind == api.CommandVolunteerCode || c.Kind == api.CommandAssistOffer {
		// A volunteer code (an offer of help) is worthless after its
		// lifetime: the command expires with it, and Prune or the ack
		// blanks a code.
		cmd.ExpiresUnixMs = now + int64(c.Seconds)*1000
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE devices SET command_seq = command_seq + 1 WHERE id = ?`), device)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO commands (id, device_id, kind, text, seconds, issued_by, issued_unix_ms, expires_unix_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), c.ID, device, c.Kind, c.Text, c.Seconds, by, now, cmd.ExpiresUnixMs)
		return err
	})
	if err != nil {
		return Command{}, fmt.Errorf("issue %s to %s: %w", c.Kind, device, err)
	}
	return cmd, nil
}

// Commands lists a device's most recent commands, newest first.
func (s *Store) Commands(ctx context.Context, device string, limit int) ([]Command, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, kind, text, seconds, issued_by, issued_unix_ms, expires_unix_ms, status, detail, acked_unix_ms
		FROM commands WHERE device_id = ? ORDER BY issued_unix_ms DESC, id LIMIT ?`), device, limit)
	if err != nil {
		return nil, fmt.Errorf("list commands of %s: %w", device, err)
	}
	defer rows.Close()
	now := s.nowMs()
	var out []Command
	for rows.Next() {
		c := Command{DeviceID: device}
		if err := rows.Scan(&c.ID, &c.Kind, &c.Text, &c.Seconds, &c.IssuedBy, &c.IssuedUnixMs, &c.ExpiresUnixMs, &c.Status, &c.Detail, &c.AckedUnixMs); err != nil {
			return nil, err
		}
		if c.Kind == api.CommandVolunteerCode || c.Kind == api.CommandAssistOffer {
			c.Text = "" // never shown again, even while pending (an offer's share id)
		}
		if c.Status == "" && c.ExpiresUnixMs <= now {
			c.Status = "expired"
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PendingCommands returns the commands a device has not acknowledged yet.
func (s *Store) PendingCommands(ctx context.Context, device string) ([]api.Command, error) {
	return pendingCommands(ctx, s.r, s.q, device, s.nowMs())
}

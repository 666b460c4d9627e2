package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AssistDirectory is remote help's state that several replicas of the
// fleet must share (issue 17 on issue 18's replicas): which replica holds
// the WebSocket of a kiosk waiting with a help code (and the code's salted
// hash, never the code), and which replica holds each share's agent link,
// with the share's staff user, so a code read out to staff on one replica
// can be claimed there, and a viewer reaching another replica is relayed
// to the one holding the link. Shares are keyed by the SHA-256 of their
// id, never the id. Frames never come near it.
//
// A replica is named by its internal address (the one the others dial),
// and beats (Beat) while it runs: the codes and shares of a replica not
// seen for AssistReplicaTimeout (it died) count as gone, so they hold no
// kiosk; a replica starting again ends its own (Forget).
type AssistDirectory struct {
	s       *Store
	replica string
}

// AssistDirectory returns the directory as seen by the replica with
// internal address replica.
func (s *Store) AssistDirectory(replica string) *AssistDirectory {
	return &AssistDirectory{s: s, replica: replica}
}

// Replica is this replica's name in the directory.
func (d *AssistDirectory) Replica() string { return d.replica }

// AssistCode is a kiosk waiting with a help code.
type AssistCode struct {
	DeviceID, Replica string
	Hash, Salt        []byte
}

// AssistShare is a share as the directory knows it. Ended is its end
// reason once it ended ("" while live).
type AssistShare struct {
	DeviceID, Staff, Replica, Ended string
	Expires                         time.Time
}

// ErrAssistBusy is PutShare finding a live share for the kiosk already.
var ErrAssistBusy = errors.New("that kiosk already has a live share")

// assistGoneKeep is how long an ended share is kept, so a late viewer
// learns how it ended.
const assistGoneKeep = 2 * time.Minute

// AssistReplicaTimeout is how long a replica may go without a Beat before
// its codes and shares count as gone; replicas beat every third of it.
const AssistReplicaTimeout = 30 * time.Second // 3 × fleet/assist.BeatEvery

// aliveReplica is a condition on a row's replica column (table alias t):
// its replica beat since ? (a Unix ms).
const aliveReplica = `EXISTS (SELECT 1 FROM assist_replicas r WHERE r.replica = t.replica AND r.seen_unix_ms >= ?)`

// Beat records that this replica is running.
func (d *AssistDirectory) Beat(ctx context.Context) error {
	if _, err := d.s.w.ExecContext(ctx, d.s.q(`INSERT INTO assist_replicas (replica, seen_unix_ms) VALUES (?, ?)
		ON CONFLICT (replica) DO UPDATE SET seen_unix_ms = excluded.seen_unix_ms`), d.replica, d.s.nowMs()); err != nil {
		return fmt.Errorf("assist directory: beat: %w", err)
	}
	return nil
}

// since is the oldest beat of a replica still running.
func (d *AssistDirectory) since() int64 {
	return d.s.now().Add(-AssistReplicaTimeout).UnixMilli()
}

// PutCode records that device waits with a code on this replica, until
// expires (replacing any code it had, wherever).
func (d *AssistDirectory) PutCode(ctx context.Context, device string, hash, salt []byte, expires time.Time) error {
	now := d.s.nowMs()
	if _, err := d.s.w.ExecContext(ctx, d.s.q(`DELETE FROM assist_codes WHERE expires_unix_ms < ?`), now); err != nil {
		return fmt.Errorf("assist directory: sweep codes: %w", err)
	}
	_, err := d.s.w.ExecContext(ctx, d.s.q(`INSERT INTO assist_codes (device_id, replica, code_hash, code_salt, expires_unix_ms)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET replica = excluded.replica, code_hash = excluded.code_hash,
		code_salt = excluded.code_salt, expires_unix_ms = excluded.expires_unix_ms`),
		device, d.replica, hash, salt, expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("assist directory: put code of %s: %w", device, err)
	}
	return nil
}

// DropCode forgets device's code with hash if this replica holds it (not
// a newer code the kiosk has shown since, here or elsewhere).
func (d *AssistDirectory) DropCode(ctx context.Context, device string, hash []byte) error {
	if _, err := d.s.w.ExecContext(ctx, d.s.q(`DELETE FROM assist_codes WHERE device_id = ? AND replica = ? AND code_hash = ?`),
		device, d.replica, hash); err != nil {
		return fmt.Errorf("assist directory: drop code of %s: %w", device, err)
	}
	return nil
}

// Codes returns every code not yet expired at now, wherever it waits (on
// a replica still running).
func (d *AssistDirectory) Codes(ctx context.Context, now time.Time) ([]AssistCode, error) {
	rows, err := d.s.w.QueryContext(ctx, d.s.q(`SELECT device_id, replica, code_hash, code_salt FROM assist_codes t
		WHERE expires_unix_ms > ? AND `+aliveReplica), now.UnixMilli(), d.since())
	if err != nil {
		return nil, fmt.Errorf("assist directory: codes: %w", err)
	}
	defer rows.Close()
	var out []AssistCode
	for rows.Next() {
		var c AssistCode
		if err := rows.Scan(&c.DeviceID, &c.Replica, &c.Hash, &c.Salt); err != nil {
			return nil, fmt.Errorf("assist directory: codes: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PutShare records a new live share on this replica, live until expires
// at the latest; ErrAssistBusy when the kiosk has a live one already
// (made on any replica). A live share past its expiry, or of a replica
// that stopped beating, is ended first.
func (d *AssistDirectory) PutShare(ctx context.Context, idHash, device, staff string, expires time.Time) error {
	now := d.s.nowMs()
	if _, err := d.s.w.ExecContext(ctx, d.s.q(`DELETE FROM assist_shares WHERE ended_reason <> '' AND expires_unix_ms < ?`), now); err != nil {
		return fmt.Errorf("assist directory: sweep shares: %w", err)
	}
	if _, err := d.s.w.ExecContext(ctx, d.s.q(`UPDATE assist_shares AS t SET
		ended_reason = CASE WHEN expires_unix_ms < ? THEN 'expired' ELSE 'fleet_gone' END, expires_unix_ms = ?
		WHERE device_id = ? AND ended_reason = '' AND (expires_unix_ms < ? OR NOT `+aliveReplica+`)`),
		now, now+assistGoneKeep.Milliseconds(), device, now, d.since()); err != nil {
		return fmt.Errorf("assist directory: end stale share of %s: %w", device, err)
	}
	res, err := d.s.w.ExecContext(ctx, d.s.q(`INSERT INTO assist_shares (id_hash, device_id, staff, replica, expires_unix_ms)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id) WHERE ended_reason = '' DO NOTHING`),
		idHash, device, staff, d.replica, expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("assist directory: put share of %s: %w", device, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrAssistBusy
	}
	return nil
}

// EndShare records that a share of this replica ended with reason.
func (d *AssistDirectory) EndShare(ctx context.Context, idHash, reason string) error {
	if _, err := d.s.w.ExecContext(ctx, d.s.q(`UPDATE assist_shares SET ended_reason = ?, expires_unix_ms = ? WHERE id_hash = ? AND replica = ?`),
		reason, d.s.nowMs()+assistGoneKeep.Milliseconds(), idHash, d.replica); err != nil {
		return fmt.Errorf("assist directory: end share: %w", err)
	}
	return nil
}

// Share returns the share with id hash idHash; ok is false when there is
// none (or it ended long enough ago to be forgotten). A live share past
// its expiry is reported ended, "expired"; one of a replica that stopped
// beating, "fleet_gone".
func (d *AssistDirectory) Share(ctx context.Context, idHash string) (sh AssistShare, ok bool, err error) {
	var exp int64
	var alive bool
	err = d.s.w.QueryRowContext(ctx, d.s.q(`SELECT device_id, staff, replica, expires_unix_ms, ended_reason, `+aliveReplica+`
		FROM assist_shares t WHERE id_hash = ?`), d.since(), idHash).Scan(&sh.DeviceID, &sh.Staff, &sh.Replica, &exp, &sh.Ended, &alive)
	if errors.Is(err, sql.ErrNoRows) {
		return sh, false, nil
	}
	if err != nil {
		return sh, false, fmt.Errorf("assist directory: share: %w", err)
	}
	sh.Expires = time.UnixMilli(exp)
	if now := d.s.nowMs(); exp < now {
		if sh.Ended != "" {
			return AssistShare{}, false, nil
		}
		sh.Ended = "expired"
	}
	if sh.Ended == "" && !alive {
		sh.Ended = "fleet_gone"
	}
	return sh, true, nil
}

// Home returns the replica holding device's live share (sharing true) or,
// failing that, its waiting code; ok is false when it has neither (on a
// replica still running).
func (d *AssistDirectory) Home(ctx context.Context, device string) (replica string, sharing, ok bool, err error) {
	now := d.s.nowMs()
	err = d.s.w.QueryRowContext(ctx, d.s.q(`SELECT replica FROM assist_shares t WHERE device_id = ? AND ended_reason = '' AND expires_unix_ms >= ?
		AND `+aliveReplica), device, now, d.since()).Scan(&replica)
	if err == nil {
		return replica, true, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", false, false, fmt.Errorf("assist directory: home of %s: %w", device, err)
	}
	err = d.s.w.QueryRowContext(ctx, d.s.q(`SELECT replica FROM assist_codes t WHERE device_id = ? AND expires_unix_ms > ? AND `+aliveReplica),
		device, now, d.since()).Scan(&replica)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, false, nil
	}
	if err != nil {
		return "", false, false, fmt.Errorf("assist directory: home of %s: %w", device, err)
	}
	return replica, false, true, nil
}

// Forget ends this replica's shares and drops its codes: at start (a
// replica that stopped took its links with it; Beat after) and at
// shutdown.
func (d *AssistDirectory) Forget(ctx context.Context, reason string) error {
	if _, err := d.s.w.ExecContext(ctx, d.s.q(`DELETE FROM assist_codes WHERE replica = ?`), d.replica); err != nil {
		return fmt.Errorf("assist directory: forget codes: %w", err)
	}
	if _, err := d.s.w.ExecContext(ctx, d.s.q(`UPDATE assist_shares SET ended_reason = ?, expires_unix_ms = ? WHERE replica = ? AND ended_reason = ''`),
		reason, d.s.nowMs()+assistGoneKeep.Milliseconds(), d.replica); err != nil {
		return fmt.Errorf("assist directory: forget shares: %w", err)
	}
	return nil
}

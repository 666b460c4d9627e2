package store

import (
	"context"
	"fmt"
	"time"

	"accesskiosk/fleet/api"
)

// ForgetExpiredVolunteerCodes blanks the code of every volunteer_code
// command past its expiry that its device never acknowledged (acknowledged
// ones were blanked on the ack). Prune calls it.
func (s *Store) ForgetExpiredVolunteerCodes(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE commands SET text = '' WHERE kind = ? AND text <> '' AND expires_unix_ms <= ?`),
		api.CommandVolunteerCode, s.nowMs()); err != nil {
		return fmt.Errorf("forget expired volunteer codes: %w", err)
	}
	return nil
}

// ClockAhead is how far ahead of the fleet's clock a report or receipt
// may be dated: the ingest dates later ones now, and Prune deletes any
// held (from before that rule, or a clock that went back).
const ClockAhead = 5 * time.Minute

// Prune deletes reports and receipts older than keep or dated more than
// ClockAhead in the future, and finished web sessions, so the database
// stays bounded.
func (s *Store) Prune(ctx context.Context, keep time.Duration) error {
	cut := s.now().Add(-keep).UnixMilli()
	ahead := s.now().Add(ClockAhead).UnixMilli()
	for _, q := range []string{
		`DELETE FROM reports WHERE created_unix_ms > ?`,
		`DELETE FROM receipts WHERE ended_unix_ms > ?`,
		// A future report held as newest would keep the next real one from
		// showing until that future time.
		`UPDATE devices SET last_report_unix_ms = 0 WHERE last_report_unix_ms > ?`,
	} {
		if _, err := s.w.ExecContext(ctx, s.q(q), ahead); err != nil {
			return fmt.Errorf("prune future rows: %w", err)
		}
	}
	for _, q := range []string{
		`DELETE FROM reports WHERE created_unix_ms < ?`,
		`DELETE FROM receipts WHERE ended_unix_ms < ?`,
		`DELETE FROM alerts WHERE closed_unix_ms <> 0 AND closed_unix_ms < ?`,
	} {
		if _, err := s.w.ExecContext(ctx, s.q(q), cut); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
	}
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM web_sessions WHERE expires_unix_ms < ?`), s.nowMs()); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	if err := s.ForgetExpiredVolunteerCodes(ctx); err != nil {
		return err
	}
	return s.pruneInsights(ctx)
}

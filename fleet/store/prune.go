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

// Prune deletes reports and receipts older than keep and finished web
// sessions, so the database stays bounded.
func (s *Store) Prune(ctx context.Context, keep time.Duration) error {
	cut := s.now().Add(-keep).UnixMilli()
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
	return nil
}

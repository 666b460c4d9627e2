package store

import (
	"context"
	"fmt"
	"strings"

	"accesskiosk/fleet/api"
)

// ReceiptRow is a stored wipe receipt.
type ReceiptRow struct {
	api.Receipt
	DeviceID string
	SiteID   string
}

// Receipts returns a device's most recent wipe receipts, newest first.
func (s *Store) Receipts(ctx context.Context, device string, limit int) ([]ReceiptRow, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT site_id, ended_unix_ms, session_ms, reset_ms, reason, assisted, category, outcome, cleared, failed
		FROM receipts WHERE device_id = ? ORDER BY ended_unix_ms DESC LIMIT ?`), device, limit)
	if err != nil {
		return nil, fmt.Errorf("receipts of %s: %w", device, err)
	}
	defer rows.Close()
	var out []ReceiptRow
	for rows.Next() {
		r := ReceiptRow{DeviceID: device}
		var assisted int
		var cleared, failed string
		if err := rows.Scan(&r.SiteID, &r.EndedUnixMs, &r.SessionMs, &r.ResetMs, &r.Reason, &assisted, &r.Category, &r.Outcome, &cleared, &failed); err != nil {
			return nil, err
		}
		r.Assisted = assisted != 0
		r.Cleared = splitList(cleared)
		r.Failed = splitList(failed)
		out = append(out, r)
	}
	return out, rows.Err()
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

package store

import (
	"context"
	"fmt"
	"time"
)

// Point is one report's figures, for charts over time.
type Point struct {
	CreatedUnixMs int64
	Load1         float64
	TempC         float64
	MemAvail      int64
	MemTotal      int64
	DiskFree      int64
	DiskTotal     int64
	KioskState    string
	SessionsEnded int
	WipeFailures  int
	KioskRestarts int
}

// History returns a device's reports made since since, oldest first.
func (s *Store) History(ctx context.Context, device string, since time.Time) ([]Point, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT created_unix_ms, load1, temp_c, mem_avail, mem_total, disk_free, disk_total, kiosk_state,
		sessions_ended, wipe_failures, kiosk_restarts FROM reports WHERE device_id = ? AND created_unix_ms >= ? ORDER BY created_unix_ms`),
		device, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", device, err)
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var p Point
		if err := rows.Scan(&p.CreatedUnixMs, &p.Load1, &p.TempC, &p.MemAvail, &p.MemTotal, &p.DiskFree, &p.DiskTotal, &p.KioskState,
			&p.SessionsEnded, &p.WipeFailures, &p.KioskRestarts); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ReportCount returns how many reports are held for device ("" for all) and
// how many distinct report ids that is (equal unless something duplicated).
func (s *Store) ReportCount(ctx context.Context, device string) (int64, error) {
	var n int64
	q := `SELECT COUNT(*) FROM reports`
	var args []any
	if device != "" {
		q += ` WHERE device_id = ?`
		args = append(args, device)
	}
	err := s.r.QueryRowContext(ctx, s.q(q), args...).Scan(&n)
	return n, err
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AlertRow is an alert as stored: open while ClosedUnixMs is 0.
type AlertRow struct {
	DeviceID     string
	Kind         string
	OpenedUnixMs int64
	ClosedUnixMs int64
	Detail       string
	// Hostname and Site are filled by OpenAlerts for display.
	Hostname string
	Site     string
}

// OpenAlerts lists open alerts, oldest first, with their device's hostname and site.
func (s *Store) OpenAlerts(ctx context.Context) ([]AlertRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT a.device_id, a.kind, a.opened_unix_ms, a.detail, COALESCE(d.hostname, ''), COALESCE(d.site_id, '')
		FROM alerts a LEFT JOIN devices d ON d.id = a.device_id WHERE a.closed_unix_ms = 0 ORDER BY a.opened_unix_ms, a.device_id, a.kind`)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []AlertRow
	for rows.Next() {
		var a AlertRow
		if err := rows.Scan(&a.DeviceID, &a.Kind, &a.OpenedUnixMs, &a.Detail, &a.Hostname, &a.Site); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// OpenAlertsFirst returns the oldest open alerts, at most limit, with
// their device's hostname and site, and how many are open in all (the
// console's overview at 10,000 kiosks).
func (s *Store) OpenAlertsFirst(ctx context.Context, limit int) ([]AlertRow, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE closed_unix_ms = 0`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count alerts: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT a.device_id, a.kind, a.opened_unix_ms, a.detail, COALESCE(d.hostname, ''), COALESCE(d.site_id, '')
		FROM alerts a LEFT JOIN devices d ON d.id = a.device_id WHERE a.closed_unix_ms = 0 ORDER BY a.opened_unix_ms, a.device_id, a.kind LIMIT ?`), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []AlertRow
	for rows.Next() {
		var a AlertRow
		if err := rows.Scan(&a.DeviceID, &a.Kind, &a.OpenedUnixMs, &a.Detail, &a.Hostname, &a.Site); err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// OpenAlert records a new alert. opened is false when the device already
// had an open alert of that kind (one open alert per device and kind, an
// index guarantees it even should two replicas race), and nothing changed.
func (s *Store) OpenAlert(ctx context.Context, a AlertRow) (opened bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO alerts (device_id, kind, opened_unix_ms, detail) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			a.DeviceID, a.Kind, a.OpenedUnixMs, a.Detail)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		opened = true
		_, err = tx.ExecContext(ctx, s.q(`UPDATE devices SET alerts_open = alerts_open + 1 WHERE id = ?`), a.DeviceID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("open alert %s/%s: %w", a.DeviceID, a.Kind, err)
	}
	return opened, nil
}

// CloseAlert closes a device's open alert of kind.
func (s *Store) CloseAlert(ctx context.Context, device, kind string, at int64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE alerts SET closed_unix_ms = ? WHERE device_id = ? AND kind = ? AND closed_unix_ms = 0`), at, device, kind)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE devices SET alerts_open = CASE WHEN alerts_open > ? THEN alerts_open - ? ELSE 0 END WHERE id = ?`), n, n, device)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("close alert %s/%s: %w", device, kind, err)
	}
	return nil
}

// WipeFailuresSince sums each device's reported wipe failures since t
// (devices with none are absent).
func (s *Store) WipeFailuresSince(ctx context.Context, t time.Time) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT device_id, SUM(wipe_failures) FROM reports WHERE created_unix_ms >= ? AND wipe_failures > 0 GROUP BY device_id`), t.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sum wipe failures: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

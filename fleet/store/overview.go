package store

import (
	"context"
	"fmt"
	"time"
)

// OnlineWindow is how recently a device must have reported to count as
// online, in metrics and on the console (a few report intervals).
const OnlineWindow = 3 * time.Minute

// SiteCounts counts a site's devices by state.
type SiteCounts struct {
	Site      string
	SiteName  string
	Total     int
	Online    int // reported since the online cut-off
	Offline   int // reported once, not since the cut-off
	Never     int // enrolled, never reported
	InSession int // online and a resident is using it now
	// Attention: with an open alert, or online with a critical warning.
	Attention int
}

// DeviceStates counts unrevoked devices per site (every site, even empty
// ones), in the database; a device is online if it was seen after
// onlineSince.
func (s *Store) DeviceStates(ctx context.Context, onlineSince time.Time) ([]SiteCounts, error) {
	cut := onlineSince.UnixMilli()
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT s.id, s.name,
		COUNT(d.id),
		COALESCE(SUM(CASE WHEN d.last_seen_unix_ms >= ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN d.last_seen_unix_ms > 0 AND d.last_seen_unix_ms < ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN d.id IS NOT NULL AND d.last_seen_unix_ms = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN d.last_seen_unix_ms >= ? AND d.kiosk_state IN ('in_session', 'warning') THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN d.last_seen_unix_ms >= ? AND d.critical = 1 OR d.alerts_open > 0 THEN 1 ELSE 0 END), 0)
		FROM sites s LEFT JOIN devices d ON d.site_id = s.id AND d.revoked_unix_ms = 0
		GROUP BY s.id, s.name ORDER BY s.name, s.id`), cut, cut, cut, cut)
	if err != nil {
		return nil, fmt.Errorf("count devices: %w", err)
	}
	defer rows.Close()
	var out []SiteCounts
	for rows.Next() {
		var c SiteCounts
		if err := rows.Scan(&c.Site, &c.SiteName, &c.Total, &c.Online, &c.Offline, &c.Never, &c.InSession, &c.Attention); err != nil {
			return nil, fmt.Errorf("count devices: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

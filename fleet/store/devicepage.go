package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Kiosk states as the console shows them, computed by the database.
const (
	StateNever     = "never"      // enrolled, never reported
	StateOffline   = "offline"    // reported, not within OnlineWindow
	StateAttention = "attention"  // online with an open alert or a critical warning
	StateInSession = "in_session" // online, a resident is using it
	StateOnline    = "online"     // online and idle
)

// DeviceSorts are the orders a DevicePage can have; the first is the default.
var DeviceSorts = []string{"site", "name", "state", "seen"}

// DeviceQuery asks for one page of the unrevoked devices.
type DeviceQuery struct {
	Site   string // site id; "" for all
	Search string // substring of hostname or id
	// State is one of the State constants, or "" for any. StateAttention
	// also takes offline devices with an open alert (such as being
	// offline too long): every device needing attention.
	State string
	// Sort is one of DeviceSorts ("" for the first): site name then
	// hostname, hostname, state (attention first), or last seen (oldest
	// first); Desc reverses it.
	Sort string
	Desc bool
	// Page is 1-based; PerPage rows each (0: 50; at most 500).
	Page, PerPage int
	// Online is the cut-off: a device seen since is online.
	Online time.Time
}

// DeviceRow is a device on a page, with its state; Last (the report) is
// not loaded.
type DeviceRow struct {
	Device
	State string
}

// DevicePage is one page of devices and how many match in all.
type DevicePage struct {
	Rows                 []DeviceRow
	Total                int
	Page, PerPage, Pages int
}

// stateExpr computes a device's state from its row alone (alerts_open is
// kept with the alerts); its one argument is the online cut-off.
const stateExpr = `CASE
	WHEN d.last_seen_unix_ms = 0 THEN 'never'
	WHEN d.last_seen_unix_ms < ? THEN 'offline'
	WHEN d.critical = 1 OR d.alerts_open > 0 THEN 'attention'
	WHEN d.kiosk_state IN ('in_session', 'warning') THEN 'in_session'
	ELSE 'online' END`

// stateRank orders states for the "state" sort: attention first.
const stateRank = `CASE state WHEN 'attention' THEN 0 WHEN 'offline' THEN 1 WHEN 'in_session' THEN 2 WHEN 'online' THEN 3 ELSE 4 END`

// Devices returns one page of unrevoked devices matching q, filtered,
// sorted, counted and cut by the database (the console at 10,000 kiosks).
// A page past the last gives the last.
func (s *Store) DevicePage(ctx context.Context, q DeviceQuery) (DevicePage, error) {
	p := DevicePage{Page: max(1, q.Page), PerPage: q.PerPage}
	if p.PerPage <= 0 {
		p.PerPage = 50
	}
	p.PerPage = min(p.PerPage, 500)
	cut := q.Online.UnixMilli()
	where := ` WHERE d.revoked_unix_ms = 0`
	var args []any
	if q.Site != "" {
		where += ` AND d.site_id = ?`
		args = append(args, q.Site)
	}
	if q.Search != "" {
		where += ` AND (d.hostname LIKE ? OR d.id LIKE ?)`
		like := "%" + escapeLike(q.Search) + "%"
		args = append(args, like, like)
	}
	switch q.State {
	case "":
	case StateNever:
		where += ` AND d.last_seen_unix_ms = 0`
	case StateOffline:
		where += ` AND d.last_seen_unix_ms > 0 AND d.last_seen_unix_ms < ?`
		args = append(args, cut)
	case StateAttention:
		where += ` AND (d.alerts_open > 0 OR d.last_seen_unix_ms >= ? AND d.critical = 1)`
		args = append(args, cut)
	case StateInSession, StateOnline:
		where += ` AND d.last_seen_unix_ms >= ? AND d.critical = 0 AND d.alerts_open = 0`
		args = append(args, cut)
		if q.State == StateInSession {
			where += ` AND d.kiosk_state IN ('in_session', 'warning')`
		} else {
			where += ` AND d.kiosk_state NOT IN ('in_session', 'warning')`
		}
	default:
		return p, fmt.Errorf("list devices: unknown state %q", q.State)
	}
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM devices d`+where), args...).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("count devices: %w", err)
	}
	p.Pages = max(1, (p.Total+p.PerPage-1)/p.PerPage)
	p.Page = min(p.Page, p.Pages)

	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	var order string
	switch q.Sort {
	case "", "site":
		order = `s.name` + dir + `, d.hostname` + dir + `, d.id` + dir
	case "name":
		order = `d.hostname` + dir + `, d.id` + dir
	case "state":
		order = strings.ReplaceAll(stateRank, "state", "("+stateExpr+")") + dir + `, d.hostname, d.id`
	case "seen":
		order = `d.last_seen_unix_ms` + dir + `, d.hostname, d.id`
	default:
		return p, fmt.Errorf("list devices: unknown sort %q", q.Sort)
	}
	query := `SELECT d.id, d.site_id, s.name, d.hostname, d.arch, d.agent_version, d.kiosk_version,
			d.enrolled_unix_ms, d.last_seen_unix_ms, d.last_report_unix_ms, d.kiosk_state, d.flooding_unix_ms, d.flooding_detail,
			` + stateExpr + `
		FROM devices d JOIN sites s ON s.id = d.site_id` + where + `
		ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	all := append([]any{cut}, args...)
	if q.Sort == "state" {
		all = append(all, cut)
	}
	all = append(all, p.PerPage, (p.Page-1)*p.PerPage)
	rows, err := s.r.QueryContext(ctx, s.q(query), all...)
	if err != nil {
		return p, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d DeviceRow
		if err := rows.Scan(&d.ID, &d.Site, &d.SiteName, &d.Hostname, &d.Arch, &d.AgentVersion, &d.KioskVersion,
			&d.EnrolledUnixMs, &d.LastSeenUnixMs, &d.LastReportUnixMs, &d.KioskState, &d.FloodingUnixMs, &d.FloodingDetail, &d.State); err != nil {
			return p, fmt.Errorf("list devices: %w", err)
		}
		p.Rows = append(p.Rows, d)
	}
	return p, rows.Err()
}

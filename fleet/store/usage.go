package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// UsageRow summarises the sessions that ended at one site in one period.
type UsageRow struct {
	Site            string
	SiteName        string
	Start           time.Time // start of the day or week (Monday), in the report's location
	Sessions        int
	Assisted        int
	MedianSessionMs int64
	MedianResetMs   int64
	MaxResetMs      int64
	WipeFailures    int
	// PagesPrinted is the pages the sessions printed (pages × copies;
	// from kiosks that report it, api capability 5).
	PagesPrinted int
	// Categories lists assisted-digital categories by count, e.g.
	// "benefits 4, housing 2" (identifiers from the kiosk config).
	Categories string
	// Outcomes lists the volunteers' outcomes of assisted sessions by count,
	// e.g. "done 3, needs_follow_up 1" (done, needs_follow_up,
	// referred_elsewhere); CategoryCounts and OutcomeCounts hold the same
	// figures as maps.
	Outcomes       string
	CategoryCounts map[string]int
	OutcomeCounts  map[string]int
}

// AssistedPercent is the share of sessions a volunteer helped with, in
// whole percent (0 when there were no sessions).
func (r UsageRow) AssistedPercent() int {
	if r.Sessions == 0 {
		return 0
	}
	return (r.Assisted*100 + r.Sessions/2) / r.Sessions
}

// Usage summarises wipe receipts (one per ended session) that ended in
// [from, to), grouped by site and by day or, when week is true, by week
// starting Monday, in loc. Rows are ordered by site name then period.
func (s *Store) Usage(ctx context.Context, from, to time.Time, week bool, loc *time.Location) ([]UsageRow, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT r.site_id, COALESCE(st.name, r.site_id), r.ended_unix_ms, r.session_ms, r.reset_ms, r.assisted, r.category, r.outcome, r.failed, r.prints
		FROM receipts r LEFT JOIN sites st ON st.id = r.site_id WHERE r.ended_unix_ms >= ? AND r.ended_unix_ms < ?`), from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	defer rows.Close()
	type key struct {
		site  string
		start int64
	}
	type acc struct {
		row     UsageRow
		lengths []int64
		resets  []int64
		cats    map[string]int
		outs    map[string]int
	}
	groups := map[key]*acc{}
	for rows.Next() {
		var site, name, cat, outcome, failed string
		var ended, sess, reset int64
		var assisted, prints int
		if err := rows.Scan(&site, &name, &ended, &sess, &reset, &assisted, &cat, &outcome, &failed, &prints); err != nil {
			return nil, fmt.Errorf("usage: %w", err)
		}
		t := time.UnixMilli(ended).In(loc)
		start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		if week {
			wd := (int(start.Weekday()) + 6) % 7 // Monday = 0
			start = start.AddDate(0, 0, -wd)
		}
		k := key{site, start.Unix()}
		a := groups[k]
		if a == nil {
			a = &acc{row: UsageRow{Site: site, SiteName: name, Start: start}, cats: map[string]int{}, outs: map[string]int{}}
			groups[k] = a
		}
		a.row.Sessions++
		a.row.PagesPrinted += prints
		a.lengths = append(a.lengths, sess)
		a.resets = append(a.resets, reset)
		if reset > a.row.MaxResetMs {
			a.row.MaxResetMs = reset
		}
		if assisted != 0 {
			a.row.Assisted++
			if cat != "" {
				a.cats[cat]++
			}
			if outcome != "" {
				a.outs[outcome]++
			}
		}
		if failed != "" {
			a.row.WipeFailures++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	out := make([]UsageRow, 0, len(groups))
	for _, a := range groups {
		a.row.MedianSessionMs = median(a.lengths)
		a.row.MedianResetMs = median(a.resets)
		a.row.Categories, a.row.CategoryCounts = byCount(a.cats), a.cats
		a.row.Outcomes, a.row.OutcomeCounts = byCount(a.outs), a.outs
		out = append(out, a.row)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SiteName != out[j].SiteName {
			return out[i].SiteName < out[j].SiteName
		}
		return out[i].Start.Before(out[j].Start)
	})
	return out, nil
}

// byCount renders counts as "a 4, b 2", most first, then by name.
func byCount(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var cs []kv
	for k, v := range m {
		cs = append(cs, kv{k, v})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].v > cs[j].v || cs[i].v == cs[j].v && cs[i].k < cs[j].k })
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s %d", c.k, c.v))
	}
	return strings.Join(parts, ", ")
}

// median of v (sorted in place); 0 for none. An even count gives the lower middle.
func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return v[(len(v)-1)/2]
}

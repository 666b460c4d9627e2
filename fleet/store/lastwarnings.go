package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"accesskiosk/fleet/api"
)

// LastWarnings returns, for each of ids that has them, the warnings of its
// last report whose code starts with prefix, most severe first as the
// agent sent them: the console's kiosks list shows the printer's
// (printer_*) beside each kiosk of a page. One query for the page's ids,
// apart from DevicePage's, so the list's sorts never carry the reports.
func (s *Store) LastWarnings(ctx context.Context, ids []string, prefix string) (map[string][]api.Warning, error) {
	out := map[string][]api.Warning{}
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > 500 {
		return nil, fmt.Errorf("last warnings: %d devices at once; at most 500", len(ids))
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, last_report FROM devices WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("last warnings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, last string
		if err := rows.Scan(&id, &last); err != nil {
			return nil, fmt.Errorf("last warnings: %w", err)
		}
		if !strings.Contains(last, `"`+prefix) {
			continue
		}
		var r struct {
			Warnings []api.Warning `json:"warnings"`
		}
		if err := json.Unmarshal([]byte(last), &r); err != nil {
			return nil, fmt.Errorf("device %s: stored report: %w", id, err)
		}
		for _, w := range r.Warnings {
			if strings.HasPrefix(w.Code, prefix) {
				out[id] = append(out[id], w)
			}
		}
	}
	return out, rows.Err()
}

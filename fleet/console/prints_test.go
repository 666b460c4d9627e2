package console_test

import (
	"encoding/csv"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
)

// TestUsagePagesPrinted: the usage page and its CSV give the pages printed
// per site (issue 16), added up from the receipts' Counted.Prints; a site
// whose sessions printed nothing says 0.
func TestUsagePagesPrinted(t *testing.T) {
	f := startFleet(t)
	north, south := f.device(t, "central", "central-1"), f.device(t, "east", "east-1")
	now := time.Now().Add(-time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	hour := now.Truncate(time.Hour).UnixMilli()
	rc := func(prints int) api.Receipt {
		return api.Receipt{Reason: "toolbar", Cleared: []string{"web_view", "print_jobs"}, ResetMs: 150, SessionMs: 60000, EndedUnixMs: now.UnixMilli(),
			Counted: &api.Counted{StartedHourUnixMs: hour, Minutes: 5, Prints: prints}}
	}
	f.reportAt(t, north, "central", now, api.Report{Health: health("idle", 50, 60), Sessions: api.SessionCounts{Ended: 2, TotalMs: 120000},
		Receipts: []api.Receipt{rc(3), rc(4)}})
	f.reportAt(t, south, "east", now, api.Report{Health: health("idle", 50, 60), Sessions: api.SessionCounts{Ended: 1, TotalMs: 60000},
		Receipts: []api.Receipt{rc(0)}})
	c := signInHTTP(t, f.url, "alice", adminPassword)

	code, body := c.get("/usage.csv?days=7")
	if code != http.StatusOK {
		t.Fatalf("usage.csv: %d", code)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("usage.csv: %v, %d rows:\n%s", err, len(rows), body)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "pages_printed" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("usage.csv has no pages_printed column: %v", rows[0])
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[0]] = r[col]
	}
	if got["central"] != "7" || got["east"] != "0" {
		t.Errorf("pages printed per site %v, want central 7, east 0", got)
	}

	code, page := c.get("/usage?days=7")
	if code != http.StatusOK {
		t.Fatalf("usage: %d", code)
	}
	if !strings.Contains(page, ">Pages printed</th>") {
		t.Error("the usage table has no Pages printed column")
	}
	// The central row: 2 sessions, ..., 0 failed wipes, 7 pages printed.
	if !regexp.MustCompile(`(?s)>0</td>\s*<td class="govuk-table__cell govuk-table__cell--numeric">7</td>`).MatchString(page) {
		t.Errorf("the usage table does not show central's 7 pages printed:\n%s", page)
	}
}

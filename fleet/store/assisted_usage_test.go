package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestUsageAssisted: the usage report counts assisted sessions, their
// categories and outcomes per site and period, on SQLite and PostgreSQL.
func TestUsageAssisted(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			ctx := context.Background()
			loc := time.UTC
			day := time.Date(2026, 3, 2, 0, 0, 0, 0, loc) // a Monday
			for _, site := range []string{"north", "south"} {
				if _, err := s.CreateSite(ctx, site, site+" library"); err != nil {
					t.Fatal(err)
				}
			}
			enrol := func(site string) string {
				tok, err := s.CreateToken(ctx, site, "t", time.Hour, 1)
				if err != nil {
					t.Fatal(err)
				}
				e, err := s.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: "k-" + site, Arch: "arm64", AgentVersion: "1", Capability: 1})
				if err != nil {
					t.Fatal(err)
				}
				return e.DeviceID
			}
			north, south := enrol("north"), enrol("south")
			rc := func(at time.Time, assisted bool, cat, out string) api.Receipt {
				return api.Receipt{Reason: "handover", Cleared: []string{"web_view"}, ResetMs: 200, SessionMs: 600_000,
					EndedUnixMs: at.UnixMilli(), Assisted: assisted, Category: cat, Outcome: out}
			}
			ingest := func(dev, site, id string, rs ...api.Receipt) {
				b := &api.ReportBatch{Capability: 2, Reports: []api.Report{{ID: id, Seq: 1, CreatedUnixMs: day.UnixMilli(),
					Health: api.Health{AgentVersion: "1", KioskState: "idle"}, Sessions: api.SessionCounts{Ended: len(rs)}, Receipts: rs}}}
				if _, err := s.Ingest(ctx, []store.IngestItem{{DeviceID: dev, SiteID: site, Batch: b}}); err != nil {
					t.Fatal(err)
				}
			}
			h := func(d, hour int) time.Time { return day.AddDate(0, 0, d).Add(time.Duration(hour) * time.Hour) }
			ingest(north, "north", "n1",
				rc(h(0, 10), true, "council_tax", "done"),
				rc(h(0, 11), true, "council_tax", "needs_follow_up"),
				rc(h(0, 12), true, "benefits", "referred_elsewhere"),
				rc(h(0, 13), true, "", ""), // skipped
				rc(h(0, 14), false, "", ""),
				rc(h(1, 10), false, "", ""),
				rc(h(1, 11), true, "housing", "done"))
			ingest(south, "south", "s1", rc(h(0, 9), false, "", ""), rc(h(7, 9), true, "benefits", "done"))

			rows, err := s.Usage(ctx, day, day.AddDate(0, 0, 14), false, loc)
			if err != nil {
				t.Fatal(err)
			}
			type want struct {
				site, start         string
				sessions, assisted  int
				pct                 int
				categories, outcome string
			}
			wants := []want{
				{"north", "2026-03-02", 5, 4, 80, "council_tax 2, benefits 1", "done 1, needs_follow_up 1, referred_elsewhere 1"},
				{"north", "2026-03-03", 2, 1, 50, "housing 1", "done 1"},
				{"south", "2026-03-02", 1, 0, 0, "", ""},
				{"south", "2026-03-09", 1, 1, 100, "benefits 1", "done 1"},
			}
			if len(rows) != len(wants) {
				t.Fatalf("got %d rows, want %d: %+v", len(rows), len(wants), rows)
			}
			for i, w := range wants {
				r := rows[i]
				got := want{r.Site, r.Start.Format("2006-01-02"), r.Sessions, r.Assisted, r.AssistedPercent(), r.Categories, r.Outcomes}
				if got != w {
					t.Errorf("row %d = %+v, want %+v", i, got, w)
				}
			}
			weeks, err := s.Usage(ctx, day, day.AddDate(0, 0, 14), true, loc)
			if err != nil {
				t.Fatal(err)
			}
			if len(weeks) != 3 || weeks[0].Sessions != 7 || fmt.Sprint(weeks[0].OutcomeCounts) != "map[done:2 needs_follow_up:1 referred_elsewhere:1]" {
				t.Errorf("weekly = %+v", weeks)
			}
		})
	}
}

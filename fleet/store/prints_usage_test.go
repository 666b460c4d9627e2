package store_test

import (
	"context"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestUsagePagesPrinted: the pages each session printed (a receipt's
// Counted.Prints, capability 5) add up per site and period in the usage
// report; receipts without Counted (older kiosks, capability 2) count 0.
func TestUsagePagesPrinted(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			ctx := context.Background()
			day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
			hour := int64(time.Hour / time.Millisecond)
			devs := map[string]string{}
			for _, site := range []string{"north", "south"} {
				if _, err := s.CreateSite(ctx, site, site+" library"); err != nil {
					t.Fatal(err)
				}
				tok, err := s.CreateToken(ctx, site, "t", time.Hour, 1)
				if err != nil {
					t.Fatal(err)
				}
				e, err := s.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: "k-" + site, Arch: "arm64", AgentVersion: "1", Capability: api.CapabilityVersion})
				if err != nil {
					t.Fatal(err)
				}
				devs[site] = e.DeviceID
			}
			rc := func(d, h, prints int) api.Receipt {
				ended := day.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + 10*time.Minute).UnixMilli()
				r := api.Receipt{Reason: "handover", Cleared: []string{"web_view", "print_jobs"}, ResetMs: 200, SessionMs: 600_000, EndedUnixMs: ended}
				if prints >= 0 {
					r.Counted = &api.Counted{StartedHourUnixMs: ended - ended%hour, Minutes: 10, Prints: prints}
				}
				return r
			}
			ingest := func(site, id string, capability int, rs ...api.Receipt) {
				b := &api.ReportBatch{Capability: capability, Reports: []api.Report{{ID: id, Seq: 1, CreatedUnixMs: day.UnixMilli(),
					Health: api.Health{AgentVersion: "1", KioskState: "idle"}, Sessions: api.SessionCounts{Ended: len(rs)}, Receipts: rs}}}
				if err := b.Validate(); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Ingest(ctx, []store.IngestItem{{DeviceID: devs[site], SiteID: site, Batch: b}}); err != nil {
					t.Fatal(err)
				}
			}
			ingest("north", "n1", api.CapabilityVersion, rc(0, 10, 3), rc(0, 11, 0), rc(0, 12, 6), rc(1, 10, 1))
			ingest("north", "n2", 2, rc(0, 13, -1)) // an older kiosk: no Counted
			ingest("south", "s1", api.CapabilityVersion, rc(0, 9, 0))

			rows, err := s.Usage(ctx, day, day.AddDate(0, 0, 7), false, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			type got struct {
				site, day       string
				sessions, pages int
			}
			want := []got{{"north", "2026-03-02", 4, 9}, {"north", "2026-03-03", 1, 1}, {"south", "2026-03-02", 1, 0}}
			if len(rows) != len(want) {
				t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
			}
			for i, r := range rows {
				if g := (got{r.Site, r.Start.Format("2006-01-02"), r.Sessions, r.PagesPrinted}); g != want[i] {
					t.Errorf("row %d = %+v, want %+v", i, g, want[i])
				}
			}
			weeks, err := s.Usage(ctx, day, day.AddDate(0, 0, 7), true, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if len(weeks) != 2 || weeks[0].PagesPrinted != 10 || weeks[1].PagesPrinted != 0 {
				t.Errorf("weekly = %+v", weeks)
			}
		})
	}
}

package store_test

import (
	"context"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

func enrolOne(t *testing.T, s *store.Store) string {
	t.Helper()
	ctx := context.Background()
	s.CreateSite(ctx, "central", "Central Library")
	tok, err := s.CreateToken(ctx, "central", "alice", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: "k", Arch: "arm64", AgentVersion: "1", Capability: 1})
	if err != nil {
		t.Fatal(err)
	}
	return e.DeviceID
}

// TestSessionsPerHour: receipts beyond an item's SessionsPerHour in one
// clock hour (counting what is held and what came earlier in the same
// group) are not stored and are counted as dropped, on both databases.
func TestSessionsPerHour(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			ctx := context.Background()
			dev := enrolOne(t, s)
			hour := time.UnixMilli(1_800_000_000_000).Truncate(time.Hour)
			batch := func(id string, n int, at time.Time) *api.ReportBatch {
				r := api.Report{ID: id, CreatedUnixMs: at.UnixMilli(), Health: api.Health{KioskState: "idle"}}
				for i := range n {
					r.Receipts = append(r.Receipts, api.Receipt{Reason: "toolbar", EndedUnixMs: at.UnixMilli() + int64(i)})
				}
				return &api.ReportBatch{Capability: 1, Reports: []api.Report{r}}
			}
			item := func(b *api.ReportBatch) store.IngestItem {
				return store.IngestItem{DeviceID: dev, SiteID: "central", Batch: b, SessionsPerHour: 10}
			}
			res, err := s.Ingest(ctx, []store.IngestItem{item(batch("a", 6, hour.Add(time.Minute))), item(batch("b", 6, hour.Add(2*time.Minute)))})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Dropped != 0 || res[1].Dropped != 2 {
				t.Errorf("dropped %d and %d in one group, want 0 and 2", res[0].Dropped, res[1].Dropped)
			}
			res, _ = s.Ingest(ctx, []store.IngestItem{item(batch("c", 3, hour.Add(59*time.Minute))), item(batch("d", 3, hour.Add(61*time.Minute)))})
			if res[0].Dropped != 3 || res[1].Dropped != 0 {
				t.Errorf("dropped %d (full hour) and %d (next hour), want 3 and 0", res[0].Dropped, res[1].Dropped)
			}
			rows, err := s.Usage(ctx, hour.Add(-time.Hour), hour.Add(3*time.Hour), false, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0].Sessions != 13 {
				t.Errorf("usage = %+v, want 13 sessions (10 + 3)", rows)
			}
		})
	}
}

// TestPruneFutureRows: reports and receipts dated beyond the clock window
// are pruned, and a device whose newest report was one of them shows its
// next real report.
func TestPruneFutureRows(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	dev := enrolOne(t, s)
	now := time.Now()
	future := now.AddDate(1, 0, 0)
	r := api.Report{ID: "future", CreatedUnixMs: future.UnixMilli(), Health: api.Health{KioskState: "in_session"},
		Receipts: []api.Receipt{{Reason: "toolbar", EndedUnixMs: future.UnixMilli()}}}
	if _, err := s.Ingest(ctx, []store.IngestItem{{DeviceID: dev, SiteID: "central", Batch: &api.ReportBatch{Capability: 1, Reports: []api.Report{r}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(ctx, 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.ReportCount(ctx, dev); n != 0 {
		t.Errorf("%d future reports left after Prune", n)
	}
	if rs, _ := s.Receipts(ctx, dev, 10); len(rs) != 0 {
		t.Errorf("future receipts left after Prune: %+v", rs)
	}
	r = api.Report{ID: "now", CreatedUnixMs: now.UnixMilli(), Health: api.Health{KioskState: "idle"}}
	s.Ingest(ctx, []store.IngestItem{{DeviceID: dev, SiteID: "central", Batch: &api.ReportBatch{Capability: 1, Reports: []api.Report{r}}}})
	if d, _ := s.Device(ctx, dev); d.KioskState != "idle" {
		t.Errorf("after Prune and a real report the device shows %q", d.KioskState)
	}
	if err := s.MarkFlooding(ctx, dev, "refused 5,000 sessions"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Device(ctx, dev); d.FloodingUnixMs == 0 || d.FloodingDetail != "refused 5,000 sessions" {
		t.Errorf("after MarkFlooding: %d %q", d.FloodingUnixMs, d.FloodingDetail)
	}
}

// TestCriticalFilter: DeviceFilter.Critical finds the devices whose last
// report carries a critical warning or says the kiosk is gone, on both
// databases.
func TestCriticalFilter(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			ctx := context.Background()
			s.CreateSite(ctx, "central", "Central Library")
			ids := map[string]string{}
			for _, k := range []struct {
				name, state string
				warn        []api.Warning
			}{
				{"critical", "idle", []api.Warning{{Code: "identity", Severity: "critical", Text: "x"}}},
				{"gone", "gone", nil},
				{"warning", "idle", []api.Warning{{Code: "disk_low", Severity: "warning", Text: "critical words in text"}}},
				{"fine", "idle", nil},
			} {
				tok, _ := s.CreateToken(ctx, "central", "alice", time.Hour, 1)
				e, err := s.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: k.name, Arch: "arm64", AgentVersion: "1", Capability: 1})
				if err != nil {
					t.Fatal(err)
				}
				ids[e.DeviceID] = k.name
				r := api.Report{ID: k.name, CreatedUnixMs: time.Now().UnixMilli(), Health: api.Health{KioskState: k.state}, Warnings: k.warn}
				if _, err := s.Ingest(ctx, []store.IngestItem{{DeviceID: e.DeviceID, SiteID: "central", Batch: &api.ReportBatch{Capability: 1, Reports: []api.Report{r}}}}); err != nil {
					t.Fatal(err)
				}
			}
			ds, err := s.Devices(ctx, store.DeviceFilter{Critical: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				got = append(got, ids[d.ID])
			}
			if len(got) != 2 || got[0] != "critical" || got[1] != "gone" {
				t.Errorf("critical devices = %v, want [critical gone]", got)
			}
		})
	}
}

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

// TestLastWarnings: the printer's warnings of each device's last report,
// for a page of devices, on SQLite and PostgreSQL; a device without them,
// or not asked for, is not in the answer.
func TestLastWarnings(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			ctx := context.Background()
			if _, err := s.CreateSite(ctx, "central", "Central"); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for i, ws := range [][]api.Warning{
				{{Code: "printer_offline", Severity: "critical", Text: "t"}, {Code: "disk_low", Severity: "warning", Text: "t"}, {Code: "printer_toner_low", Severity: "warning", Text: "t"}},
				{{Code: "disk_low", Severity: "warning", Text: "t"}},
				nil,
				{{Code: "printer_needs_paper", Severity: "critical", Text: "t"}},
			} {
				tok, err := s.CreateToken(ctx, "central", "t", time.Hour, 1)
				if err != nil {
					t.Fatal(err)
				}
				e, err := s.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: fmt.Sprintf("k%d", i), Arch: "amd64", AgentVersion: "1", Capability: 1})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, e.DeviceID)
				b := &api.ReportBatch{Capability: 2, Reports: []api.Report{{ID: "r1", Seq: 1, CreatedUnixMs: time.Now().UnixMilli(),
					Health: api.Health{AgentVersion: "1", KioskState: "idle"}, Warnings: ws}}}
				if _, err := s.Ingest(ctx, []store.IngestItem{{DeviceID: e.DeviceID, SiteID: "central", Batch: b}}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.LastWarnings(ctx, ids[:3], "printer_")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || fmt.Sprint(got[ids[0]]) != "[{printer_offline critical t} {printer_toner_low warning t}]" {
				t.Errorf("LastWarnings = %v", got)
			}
			if got, err := s.LastWarnings(ctx, nil, "printer_"); err != nil || len(got) != 0 {
				t.Errorf("no ids: %v, %v", got, err)
			}
		})
	}
}

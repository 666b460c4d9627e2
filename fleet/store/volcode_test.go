package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestVolunteerCodeNotKept: a volunteer code is stored only until its
// device acknowledges the command (or the code expires), then blanked in the
// database itself; the console's command list never shows it; the device is
// sent the lifetime left, not the lifetime issued. On SQLite and PostgreSQL.
func TestVolunteerCodeNotKept(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			var (
				cfg    store.Config
				driver string
				dsn    string
			)
			if dialect == store.SQLite {
				cfg = store.Config{Dialect: store.SQLite, Path: filepath.Join(t.TempDir(), "fleet.db")}
				driver, dsn = "sqlite", "file:"+cfg.Path
			} else {
				cfg = store.Config{Dialect: store.Postgres, DSN: storetest.Postgres(t)}
				driver, dsn = "pgx", cfg.DSN
			}
			s, err := store.Open(ctx, cfg, storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			raw, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			stored := func(id string) string {
				t.Helper()
				var text string
				q := `SELECT text FROM commands WHERE id = ?`
				if dialect == store.Postgres {
					q = `SELECT text FROM commands WHERE id = $1`
				}
				if err := raw.QueryRowContext(ctx, q, id).Scan(&text); err != nil {
					t.Fatal(err)
				}
				return text
			}

			if _, err := s.CreateSite(ctx, "central", "Central Library"); err != nil {
				t.Fatal(err)
			}
			tok, err := s.CreateToken(ctx, "central", "t", time.Hour, 1)
			if err != nil {
				t.Fatal(err)
			}
			e, err := s.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: "k1", Arch: "arm64", AgentVersion: "1", Capability: 3})
			if err != nil {
				t.Fatal(err)
			}
			dev := e.DeviceID
			t0 := time.Now()
			s.SetClock(func() time.Time { return t0 })
			acked, err := s.IssueCommand(ctx, dev, "alice", api.Command{Kind: api.CommandVolunteerCode, Text: "48201937", Seconds: 600})
			if err != nil {
				t.Fatal(err)
			}
			lapsed, err := s.IssueCommand(ctx, dev, "alice", api.Command{Kind: api.CommandVolunteerCode, Text: "55501234", Seconds: 60})
			if err != nil {
				t.Fatal(err)
			}
			msg, err := s.IssueCommand(ctx, dev, "alice", api.Command{Kind: api.CommandShowMessage, Text: "Closing soon", Seconds: 30})
			if err != nil {
				t.Fatal(err)
			}
			if got := stored(acked.ID); got != "48201937" {
				t.Fatalf("pending code stored as %q, want it kept until sent", got)
			}

			// The device fetches 100 s later: it gets the code with 500 s left.
			s.SetClock(func() time.Time { return t0.Add(100 * time.Second) })
			pend, err := s.PendingCommands(ctx, dev)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]api.Command{}
			for _, c := range pend {
				got[c.ID] = c
			}
			if c := got[acked.ID]; c.Text != "48201937" || c.Seconds != 500 {
				t.Errorf("device is sent %+v, want the code with 500 s left", c)
			}
			if c := got[lapsed.ID]; c.ID != "" {
				t.Errorf("an expired code is still sent: %+v", c)
			}

			list, err := s.Commands(ctx, dev, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				if c.Kind == api.CommandVolunteerCode && c.Text != "" {
					t.Errorf("console list shows a code: %+v", c)
				}
				if c.ID == msg.ID && c.Text != "Closing soon" {
					t.Errorf("message text lost: %+v", c)
				}
			}

			if _, err := s.Ingest(ctx, []store.IngestItem{{DeviceID: dev, SiteID: "central", Batch: &api.ReportBatch{Capability: 3,
				Acks: []api.CommandAck{{ID: acked.ID, Status: api.AckDone}, {ID: msg.ID, Status: api.AckDone}}}}}); err != nil {
				t.Fatal(err)
			}
			if got := stored(acked.ID); got != "" {
				t.Errorf("after the ack the database still holds the code %q", got)
			}
			if got := stored(msg.ID); got != "Closing soon" {
				t.Errorf("after the ack the message is %q, want it kept", got)
			}
			if got := stored(lapsed.ID); got != "55501234" {
				t.Errorf("unacknowledged code before Prune = %q", got)
			}
			if err := s.Prune(ctx, 24*time.Hour); err != nil {
				t.Fatal(err)
			}
			if got := stored(lapsed.ID); got != "" {
				t.Errorf("an expired, never acknowledged code survives Prune: %q", got)
			}
		})
	}
}

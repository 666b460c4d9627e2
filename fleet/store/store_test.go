package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestStore runs the same checks against SQLite and a real PostgreSQL.
func TestStore(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			clock := time.UnixMilli(1_800_000_000_000)
			s.SetClock(func() time.Time { return clock })
			ctx := context.Background()

			t.Run("sites", func(t *testing.T) {
				if _, err := s.CreateSite(ctx, "central", "Central Library"); err != nil {
					t.Fatal(err)
				}
				if _, err := s.CreateSite(ctx, "central", "Again"); !errors.Is(err, store.ErrExists) {
					t.Errorf("duplicate site: got %v, want ErrExists", err)
				}
				sites, err := s.Sites(ctx)
				if err != nil || len(sites) != 1 || sites[0].Name != "Central Library" {
					t.Errorf("Sites = %+v, %v", sites, err)
				}
			})

			req := &api.EnrolRequest{Hostname: "kiosk-1", Arch: "arm64", AgentVersion: "1.0", Capability: 1}
			var dev store.Enrolment
			t.Run("enrol", func(t *testing.T) {
				tok, err := s.CreateToken(ctx, "central", "alice", time.Hour, 2)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Enrol(ctx, "ake_nope", req); !errors.Is(err, store.ErrTokenUnknown) {
					t.Errorf("unknown token: got %v", err)
				}
				dev, err = s.Enrol(ctx, tok.Secret, req)
				if err != nil {
					t.Fatal(err)
				}
				if dev.Site != "central" || !strings.HasPrefix(dev.Credential, dev.DeviceID+".akd_") {
					t.Errorf("enrolment = %+v", dev)
				}
				if _, err := s.Enrol(ctx, tok.Secret, req); err != nil {
					t.Errorf("second of two uses: %v", err)
				}
				if _, err := s.Enrol(ctx, tok.Secret, req); !errors.Is(err, store.ErrTokenUsed) {
					t.Errorf("third use: got %v, want ErrTokenUsed", err)
				}
				short, _ := s.CreateToken(ctx, "central", "alice", time.Minute, 1)
				clock = clock.Add(2 * time.Minute)
				if _, err := s.Enrol(ctx, short.Secret, req); !errors.Is(err, store.ErrTokenExpired) {
					t.Errorf("expired: got %v", err)
				}
				rev, _ := s.CreateToken(ctx, "central", "alice", time.Hour, 1)
				if err := s.RevokeToken(ctx, rev.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Enrol(ctx, rev.Secret, req); !errors.Is(err, store.ErrTokenRevoked) {
					t.Errorf("revoked: got %v", err)
				}
				toks, _ := s.Tokens(ctx, "central")
				uses := map[string]int{}
				for _, x := range toks {
					uses[x.ID] = x.Uses
				}
				if len(toks) != 3 || uses[tok.ID] != 2 || uses[short.ID] != 0 {
					t.Errorf("tokens = %+v", toks)
				}
				a, err := s.DeviceAuth(ctx, dev.DeviceID)
				if err != nil || a.Site != "central" || a.Revoked {
					t.Errorf("DeviceAuth = %+v, %v", a, err)
				}
			})

			t.Run("ingest", func(t *testing.T) {
				cmd, err := s.IssueCommand(ctx, dev.DeviceID, "alice", api.Command{Kind: api.CommandEndSession})
				if err != nil {
					t.Fatal(err)
				}
				mk := func(i int) api.Report {
					return api.Report{ID: fmt.Sprintf("r%d", i), Seq: uint64(i), CreatedUnixMs: clock.UnixMilli() + int64(i),
						Health:   api.Health{AgentVersion: "1.1", KioskState: "idle", TempCelsius: 50, DiskTotalBytes: 100, DiskFreeBytes: 40},
						Sessions: api.SessionCounts{Ended: 1, TotalMs: 60000},
						Receipts: []api.Receipt{{Reason: "idle_timeout", Cleared: []string{"cookies", "cache"}, ResetMs: 120, SessionMs: 60000}}}
				}
				b := &api.ReportBatch{Capability: 2, Reports: []api.Report{mk(1), mk(2)}}
				res, err := s.Ingest(ctx, []store.IngestItem{{DeviceID: dev.DeviceID, SiteID: "central", Batch: b}})
				if err != nil {
					t.Fatal(err)
				}
				if got := res[0]; got.New != 2 || len(got.Accepted) != 2 || len(got.Commands) != 1 || got.Commands[0].ID != cmd.ID {
					t.Errorf("first ingest = %+v", got)
				}
				// Replayed batch plus one new report, and the ack.
				b2 := &api.ReportBatch{Capability: 2, Reports: []api.Report{mk(1), mk(2), mk(3)},
					Acks: []api.CommandAck{{ID: cmd.ID, Status: api.AckDone, Detail: "ended"}}}
				res, err = s.Ingest(ctx, []store.IngestItem{{DeviceID: dev.DeviceID, SiteID: "central", Batch: b2}})
				if err != nil {
					t.Fatal(err)
				}
				if got := res[0]; got.New != 1 || len(got.Accepted) != 3 || len(got.Commands) != 0 {
					t.Errorf("replayed ingest = %+v", got)
				}
				if n, _ := s.ReportCount(ctx, dev.DeviceID); n != 3 {
					t.Errorf("reports held = %d, want 3", n)
				}
				d, err := s.Device(ctx, dev.DeviceID)
				if err != nil {
					t.Fatal(err)
				}
				if d.Last == nil || d.Last.ID != "r3" || d.AgentVersion != "1.1" || d.LastSeenUnixMs != clock.UnixMilli() {
					t.Errorf("device after ingest = %+v last=%+v", d, d.Last)
				}
				cmds, _ := s.Commands(ctx, dev.DeviceID, 10)
				if len(cmds) != 1 || cmds[0].Status != api.AckDone || cmds[0].Detail != "ended" {
					t.Errorf("commands = %+v", cmds)
				}
				rc, _ := s.Receipts(ctx, dev.DeviceID, 10)
				if len(rc) != 3 || rc[0].ResetMs != 120 || len(rc[0].Cleared) != 2 {
					t.Errorf("receipts = %+v", rc)
				}
				h, _ := s.History(ctx, dev.DeviceID, clock.Add(-time.Hour))
				if len(h) != 3 || h[0].TempC != 50 {
					t.Errorf("history = %+v", h)
				}
				// A command nobody collects expires.
				clock = clock.Add(time.Second)
				s.IssueCommand(ctx, dev.DeviceID, "alice", api.Command{Kind: api.CommandReboot})
				clock = clock.Add(store.CommandTTL + time.Second)
				if p, _ := s.PendingCommands(ctx, dev.DeviceID); len(p) != 0 {
					t.Errorf("pending after TTL = %+v", p)
				}
				cmds, _ = s.Commands(ctx, dev.DeviceID, 10)
				if cmds[0].Status != "expired" {
					t.Errorf("newest command status = %q, want expired", cmds[0].Status)
				}
			})

			t.Run("users", func(t *testing.T) {
				if err := s.CreateUser(ctx, "alice", store.RoleAdmin, "h"); err != nil {
					t.Fatal(err)
				}
				if err := s.CreateUser(ctx, "alice", store.RoleViewer, "h"); !errors.Is(err, store.ErrExists) {
					t.Errorf("duplicate user: %v", err)
				}
				sec, err := s.CreateWebSession(ctx, "alice", time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				if u, err := s.WebSession(ctx, sec); err != nil || u.Role != store.RoleAdmin {
					t.Errorf("WebSession = %+v, %v", u, err)
				}
				clock = clock.Add(2 * time.Hour)
				if _, err := s.WebSession(ctx, sec); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("expired session: %v", err)
				}
				tok, secret, err := s.CreateAPIToken(ctx, "alice")
				if err != nil {
					t.Fatal(err)
				}
				if u, err := s.APITokenUser(ctx, secret); err != nil || u.Name != "alice" {
					t.Errorf("APITokenUser = %+v, %v", u, err)
				}
				s.RevokeAPIToken(ctx, tok.ID)
				if _, err := s.APITokenUser(ctx, secret); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("revoked API token: %v", err)
				}
				s.Audit(ctx, "alice", "login", "alice", "")
				s.Audit(ctx, "alice", "command.end_session", dev.DeviceID, "")
				log, err := s.AuditLog(ctx, 0, 10)
				if err != nil || len(log) != 2 || log[0].Action != "command.end_session" {
					t.Errorf("audit = %+v, %v", log, err)
				}
			})
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fleet.db")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		s, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: path}, storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			s.CreateSite(ctx, "a", "A")
		} else if sites, _ := s.Sites(ctx); len(sites) != 1 {
			t.Errorf("after reopen: %d sites, want 1", len(sites))
		}
		s.Close()
	}
}

func TestUnknownDialect(t *testing.T) {
	if _, err := store.Open(context.Background(), store.Config{Dialect: "mysql"}, storetest.Logger(t)); err == nil {
		t.Error("no error for unknown dialect")
	}
}

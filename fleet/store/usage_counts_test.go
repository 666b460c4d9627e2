package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestInsightsUsageCounts: capability 7's counts (print jobs, files
// downloaded and uploaded, remote help's length) add up per site, month
// and block with the pages scanned and printed and the remote-help
// sessions, on SQLite and PostgreSQL; the sessions that used each are
// counted as features (upload, download, print, remote_help); receipts
// from agents before 7 (no such counts) and before 5 (no Counted) add
// nothing to them; counts beyond one session's bounds are held to them.
func TestInsightsUsageCounts(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			s.SetInsights(store.InsightsConfig{Zone: time.UTC, Vocabulary: api.DefaultVocabulary()})
			ctx := context.Background()
			dev := enrolOne(t, s)
			day := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			rc := func(h int, c *api.Counted) api.Receipt {
				ended := day.Add(time.Duration(h)*time.Hour + 10*time.Minute).UnixMilli()
				if c != nil {
					c.StartedHourUnixMs, c.Minutes = ended-ended%3_600_000, 10
				}
				return api.Receipt{Reason: "toolbar", Cleared: []string{"web_view"}, ResetMs: 100, SessionMs: 600_000, EndedUnixMs: ended, Counted: c}
			}
			receipts := []api.Receipt{
				rc(0, &api.Counted{Prints: 6, PrintJobs: 2, Uploads: 3, Assists: 1, AssistMs: 4 * 60_000}),
				rc(1, &api.Counted{Scans: 2, Uploads: 1, Downloads: 2}),
				rc(2, &api.Counted{PrintJobs: 1}),         // a job cancelled at the end: no pages, still a printing session
				rc(3, &api.Counted{Prints: 4}),            // an agent before 7: pages, no jobs
				rc(4, nil),                                // an agent before 5
				rc(5, &api.Counted{AssistMs: 90_000}),     // remote help ended by the session, counted by length only
				rc(6, &api.Counted{AssistMs: 99_000_000}), // more than the 10-minute session: held to its length
				rc(7, &api.Counted{Downloads: 1_000_000}), // more than a session can: held to MaxCountedFiles
			}
			b := &api.ReportBatch{Capability: api.CapabilityVersion, Reports: []api.Report{{ID: "r1", Seq: 1, CreatedUnixMs: day.Add(9 * time.Hour).UnixMilli(),
				Health: api.Health{AgentVersion: "1", KioskState: "idle"}, Sessions: api.SessionCounts{Ended: len(receipts)}, Receipts: receipts}}}
			// The store is given what the server validated; the last two
			// would be refused there (400): the store holds them anyway.
			if _, err := s.Ingest(ctx, []store.IngestItem{{DeviceID: dev, SiteID: "central", Batch: b}}); err != nil {
				t.Fatal(err)
			}
			in, err := s.InsightsInput(ctx, "", insights.Date{Year: 2026, Month: time.March, Day: 1}, insights.Date{Year: 2026, Month: time.April, Day: 1})
			if err != nil {
				t.Fatal(err)
			}
			var sum insights.Usage
			sessions := 0
			for _, bl := range in.Blocks {
				sessions += bl.Sessions
				u := bl.Usage
				sum.Prints += u.Prints
				sum.PrintJobs += u.PrintJobs
				sum.Scans += u.Scans
				sum.Uploads += u.Uploads
				sum.Downloads += u.Downloads
				sum.Assists += u.Assists
				sum.AssistMinutes += u.AssistMinutes
			}
			// 4 + 1.5 + 12.5 (10 minutes + 2.5, a session's most) = 18 minutes.
			want := insights.Usage{Prints: 10, PrintJobs: 3, Scans: 2, Uploads: 4, Downloads: 2 + api.MaxCountedFiles, Assists: 1, AssistMinutes: 18}
			if sum != want || sessions != len(receipts) {
				t.Errorf("usage %+v over %d sessions\nwant  %+v over %d", sum, sessions, want, len(receipts))
			}
			features := map[string]int{}
			for _, it := range in.Items {
				if it.Dim == insights.Features {
					features[it.ID] += it.Sessions
				}
			}
			wantF := map[string]int{api.FeaturePrint: 3, api.FeatureScan: 1, api.FeatureUpload: 2, api.FeatureDownload: 2, api.FeatureRemoteHelp: 3}
			for id, n := range wantF {
				if features[id] != n {
					t.Errorf("feature %s: %d sessions, want %d (all: %v)", id, features[id], n, features)
				}
			}
			if err := in.Validate(); err != nil {
				t.Errorf("the store's input does not validate: %v", err)
			}
		})
	}
}

// TestUsageFeaturesAreInsights: the features the store counts from
// capability 7's counts are the ones Insights reads its usage figures by.
func TestUsageFeaturesAreInsights(t *testing.T) {
	labels := store.Labels(api.DefaultVocabulary())[insights.Features]
	for _, f := range insights.UsageFeatures {
		if labels[f] == "" {
			t.Errorf("insights reads usage by feature %q, which api.FeatureLabels does not name", f)
		}
	}
}

// TestMigrate9: a database at version 8 (before capability 7's counts)
// keeps its Insights blocks when migration 9 adds the new counts'
// columns, which read as 0 for what was counted before, on SQLite and
// PostgreSQL.
func TestMigrate9(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			cfg := store.Config{Dialect: store.SQLite, Path: filepath.Join(t.TempDir(), "fleet.db")}
			driver, dsn := "sqlite", cfg.Path
			if dialect == store.Postgres {
				cfg = store.Config{Dialect: store.Postgres, DSN: storetest.Postgres(t)}
				driver, dsn = "pgx", cfg.DSN
			}
			s, err := store.Open(ctx, cfg, storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// Back to version 8, with a block counted then.
			for _, stmt := range []string{
				`DELETE FROM schema_migrations WHERE version = 9`,
				`ALTER TABLE insight_blocks DROP COLUMN print_jobs`, `ALTER TABLE insight_blocks DROP COLUMN downloads`,
				`ALTER TABLE insight_blocks DROP COLUMN uploads`, `ALTER TABLE insight_blocks DROP COLUMN assist_ms`,
				`ALTER TABLE devices DROP COLUMN budget_downloads`, `ALTER TABLE devices DROP COLUMN budget_uploads`,
				`ALTER TABLE devices DROP COLUMN budget_jobs`, `ALTER TABLE devices DROP COLUMN budget_assist_ms`,
				`INSERT INTO insight_blocks (site_id, month, block, sessions, assisted, done, follow_up, referred, minutes, scans, prints, assists)
					VALUES ('central', 202603, 0, 7, 0, 0, 0, 0, 35, 2, 9, 1)`,
			} {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			if s, err = store.Open(ctx, cfg, storetest.Logger(t)); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.CreateSite(ctx, "central", "Central Library"); err != nil {
				t.Fatal(err)
			}
			in, err := s.InsightsInput(ctx, "central", insights.Date{Year: 2026, Month: time.March, Day: 1}, insights.Date{Year: 2026, Month: time.April, Day: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Blocks) != 1 || in.Blocks[0].Sessions != 7 || in.Blocks[0].Usage != (insights.Usage{Prints: 9, Scans: 2, Assists: 1}) {
				t.Errorf("after migration 9: %+v, want the block of 7 sessions with prints 9, scans 2, assists 1 and no other counts", in.Blocks)
			}
		})
	}
}

// TestUsageBudget: a device's capability 7 counts are taken from its
// budgets, kept in its row on SQLite and PostgreSQL: full for a device
// that reported before them, a session's most at once, refilled with time; receipts beyond are stored as sessions with
// their counts cut (IngestResult.Clamped); a group commit holding the same
// device twice draws on one budget.
func TestUsageBudget(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			s.SetInsights(store.InsightsConfig{Zone: time.UTC, Vocabulary: api.DefaultVocabulary()})
			now := time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
			s.SetClock(func() time.Time { return now })
			ctx := context.Background()
			dev := enrolOne(t, s)
			budget := store.UsageBudget{Files: store.Budget{PerSecond: 0.5, Burst: 1000}, AssistMs: store.Budget{PerSecond: 1000, Burst: 3_600_000}}
			seq := uint64(0)
			item := func(c api.Counted) store.IngestItem {
				seq++
				ended := now.UnixMilli()
				c.StartedHourUnixMs, c.Minutes = ended-ended%3_600_000, 60
				rc := api.Receipt{Reason: "toolbar", Cleared: []string{"web_view"}, EndedUnixMs: ended, SessionMs: 3_600_000, Counted: &c}
				return store.IngestItem{DeviceID: dev, SiteID: "central", Usage: budget, Batch: &api.ReportBatch{Capability: api.CapabilityVersion,
					Reports: []api.Report{{ID: fmt.Sprint("r", seq), Seq: seq, CreatedUnixMs: ended, Health: api.Health{AgentVersion: "1", KioskState: "idle"},
						Sessions: api.SessionCounts{Ended: 1}, Receipts: []api.Receipt{rc}}}}}
			}
			ingest := func(items ...store.IngestItem) []store.IngestResult {
				t.Helper()
				res, err := s.Ingest(ctx, items)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			sum := func() insights.Usage {
				t.Helper()
				in, err := s.InsightsInput(ctx, "", insights.Date{Year: 2026, Month: time.March, Day: 1}, insights.Date{Year: 2026, Month: time.April, Day: 1})
				if err != nil {
					t.Fatal(err)
				}
				var u insights.Usage
				for _, b := range in.Blocks {
					u.Downloads += b.Downloads
					u.Uploads += b.Uploads
					u.PrintJobs += b.PrintJobs
					u.AssistMinutes += b.AssistMinutes
				}
				return u
			}
			// The device reported before (a fleet before migration 9: its
			// report budget taken, its usage buckets never): they are full.
			plain := item(api.Counted{})
			plain.Usage, plain.Reports = store.UsageBudget{}, store.Budget{PerSecond: 1, Burst: 100}
			ingest(plain)
			// Two of a session's most in one group commit: one budget.
			most := api.Counted{Downloads: 1000, Uploads: 600, PrintJobs: 10, AssistMs: 3_000_000}
			res := ingest(item(most), item(most))
			if got, want := sum(), (insights.Usage{Downloads: 1000, Uploads: 1000, PrintJobs: 20, AssistMinutes: 60}); got != want {
				t.Errorf("after two sessions at once: %+v, want %+v", got, want)
			}
			if res[0].Clamped != 0 || res[1].Clamped != 1 {
				t.Errorf("clamped %d, %d; want 0, 1", res[0].Clamped, res[1].Clamped)
			}
			// Ten minutes later: 300 more of each kind of file, 10 minutes of remote help.
			now = now.Add(10 * time.Minute)
			if res := ingest(item(most)); res[0].Clamped != 1 {
				t.Errorf("ten minutes later: clamped %d, want 1", res[0].Clamped)
			}
			if got, want := sum(), (insights.Usage{Downloads: 1300, Uploads: 1300, PrintJobs: 30, AssistMinutes: 70}); got != want {
				t.Errorf("ten minutes later: %+v, want %+v", got, want)
			}
			// A day later everything is back: a whole session counts.
			now = now.Add(24 * time.Hour)
			if res := ingest(item(api.Counted{Downloads: 5, AssistMs: 60_000})); res[0].Clamped != 0 {
				t.Errorf("a day later: clamped %d, want 0", res[0].Clamped)
			}
		})
	}
}

package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestBackgroundCheckpoint: on SQLite, committed reports reach the database
// file itself (not only the WAL) while the store is open, by the background
// checkpointer: the writer alone would not checkpoint a WAL this small.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fleet.db")
	st, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: path}, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateSite(ctx, "central", "Central"); err != nil {
		t.Fatal(err)
	}
	tok, err := st.CreateToken(ctx, "central", "test", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := st.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: "kiosk-1", Arch: "arm64", AgentVersion: "1.0.0", Capability: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Let the schema's own writes be checkpointed, then measure.
	time.Sleep(600 * time.Millisecond)
	before := fileSize(t, path)
	now := time.Now().UnixMilli()
	for g := range 20 {
		b := &api.ReportBatch{Capability: api.CapabilityVersion}
		for i := range 50 {
			b.Reports = append(b.Reports, api.Report{ID: fmt.Sprintf("r-%d-%d", g, i), Seq: uint64(g*50 + i + 1), CreatedUnixMs: now,
				Health: api.Health{AgentVersion: "1.0.0", KioskState: "idle", OSRelease: "Debian GNU/Linux 12 (bookworm)"}})
		}
		if _, err := st.Ingest(ctx, []store.IngestItem{{DeviceID: e.DeviceID, SiteID: "central", Batch: b}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for fileSize(t, path) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes 5 s after 1000 reports were committed: no checkpoint ran", before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

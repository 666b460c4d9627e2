package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sirupsen/logrus"
)

// TestMigrateGaps: a database made before a migration (here: one at
// version 5, as main's fleet made it) gets every later one, and a number
// with no migration yet (one still on another branch) is neither applied
// nor recorded, so it applies when it lands.
func TestMigrateGaps(t *testing.T) {
	ctx := context.Background()
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	path := filepath.Join(t.TempDir(), "fleet.db")
	open := func() *Store {
		s, err := Open(ctx, Config{Dialect: SQLite, Path: path}, log)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var want []int
	for v, m := range migrations {
		if m != nil {
			want = append(want, v)
		}
	}
	versions := func(db *sql.DB) []int {
		rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []int
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		return got
	}

	s := open()
	if got := versions(s.w); !slices.Equal(got, want) {
		t.Fatalf("applied %v, want %v", got, want)
	}
	// Back to version 5 as main's fleet left it: the columns and index
	// of the later migrations gone, and devices with open alerts.
	for _, stmt := range []string{
		`DELETE FROM schema_migrations WHERE version > 5`,
		`DROP INDEX devices_critical`,
		`ALTER TABLE devices DROP COLUMN alerts_open`,
		`CREATE INDEX alerts_device_open ON alerts(device_id, closed_unix_ms)`,
		`INSERT INTO sites (id, name, created_unix_ms) VALUES ('s', 'S', 1)`,
		`INSERT INTO devices (id, site_id, hostname, arch, agent_version, cred_hash, token_id, enrolled_unix_ms) VALUES ('d', 's', 'h', 'amd64', '1', 'x', 't', 1)`,
		`INSERT INTO alerts (device_id, kind, opened_unix_ms, closed_unix_ms, detail) VALUES ('d', 'offline', 1, 0, ''), ('d', 'disk', 1, 0, ''), ('d', 'temp', 1, 2, '')`,
	} {
		if _, err := s.w.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s.Close()

	s = open()
	defer s.Close()
	if got := versions(s.w); !slices.Equal(got, want) {
		t.Fatalf("after upgrade applied %v, want %v", got, want)
	}
	var open2 int
	if err := s.w.QueryRow(`SELECT alerts_open FROM devices WHERE id = 'd'`).Scan(&open2); err != nil || open2 != 2 {
		t.Fatalf("alerts_open = %d, %v; want 2", open2, err)
	}
}

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
// version 6, before the console's columns) gets the later ones, and a
// number with no migration yet (one still on another branch) is neither
// applied nor recorded, so it applies when it lands, after higher ones.
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
	want := func() []int {
		var v []int
		for n, m := range migrations {
			if m != nil {
				v = append(v, n)
			}
		}
		return v
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
	exec := func(s *Store, stmts ...string) {
		for _, stmt := range stmts {
			if _, err := s.w.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}

	s := open()
	if got := versions(s.w); !slices.Equal(got, want()) {
		t.Fatalf("applied %v, want %v", got, want())
	}
	// Back to version 6: migration 7's column and indexes undone, and a
	// device with alerts open.
	exec(s,
		`DELETE FROM schema_migrations WHERE version = 7`,
		`DROP INDEX devices_critical`,
		`ALTER TABLE devices DROP COLUMN alerts_open`,
		`CREATE INDEX alerts_device_open ON alerts(device_id, closed_unix_ms)`,
		`INSERT INTO sites (id, name, created_unix_ms) VALUES ('s', 'S', 1)`,
		`INSERT INTO devices (id, site_id, hostname, arch, agent_version, cred_hash, token_id, enrolled_unix_ms) VALUES ('d', 's', 'h', 'amd64', '1', 'x', 't', 1)`,
		`INSERT INTO alerts (device_id, kind, opened_unix_ms, closed_unix_ms, detail) VALUES ('d', 'offline', 1, 0, ''), ('d', 'disk', 1, 0, ''), ('d', 'temp', 1, 2, '')`)
	s.Close()
	s = open()
	if got := versions(s.w); !slices.Equal(got, want()) {
		t.Fatalf("after upgrade applied %v, want %v", got, want())
	}
	var n int
	if err := s.w.QueryRow(`SELECT alerts_open FROM devices WHERE id = 'd'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("alerts_open = %d, %v; want 2", n, err)
	}
	s.Close()

	// A gap: the next number is on another branch, the one after it here.
	saved, savedVersion := migrations, SchemaVersion
	t.Cleanup(func() { migrations, SchemaVersion = saved, savedVersion })
	gap := len(saved)
	migrations = append(slices.Clone(saved), nil, []string{`CREATE TABLE after_gap (x BIGINT)`})
	SchemaVersion = len(migrations) - 1
	s = open()
	if got := versions(s.w); slices.Contains(got, gap) || !slices.Contains(got, gap+1) {
		t.Fatalf("with %d missing applied %v", gap, got)
	}
	s.Close()
	migrations[gap] = []string{`CREATE TABLE the_gap (x BIGINT)`}
	s = open()
	defer s.Close()
	if got := versions(s.w); !slices.Equal(got, want()) {
		t.Fatalf("after the gap landed applied %v, want %v", got, want())
	}
	exec(s, `INSERT INTO the_gap (x) VALUES (1)`, `INSERT INTO after_gap (x) VALUES (1)`)
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations are applied in order; never edit one that has shipped, add a
// new one. "{{ID}}" becomes the dialect's auto-incrementing integer key.
// Only portable types are used: TEXT, BIGINT, DOUBLE PRECISION. Times are
// Unix milliseconds; 0 means "never".
var migrations = [][]string{
	1: {
		`CREATE TABLE sites (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			created_unix_ms BIGINT NOT NULL
		)`,
		`CREATE TABLE enrol_tokens (
			id TEXT PRIMARY KEY,
			hash TEXT NOT NULL UNIQUE,
			site_id TEXT NOT NULL REFERENCES sites(id),
			created_by TEXT NOT NULL,
			created_unix_ms BIGINT NOT NULL,
			expires_unix_ms BIGINT NOT NULL,
			max_uses BIGINT NOT NULL,
			uses BIGINT NOT NULL DEFAULT 0,
			revoked_unix_ms BIGINT NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE devices (
			id TEXT PRIMARY KEY,
			site_id TEXT NOT NULL REFERENCES sites(id),
			hostname TEXT NOT NULL,
			arch TEXT NOT NULL,
			agent_version TEXT NOT NULL,
			kiosk_version TEXT NOT NULL DEFAULT '',
			cred_hash TEXT NOT NULL,
			token_id TEXT NOT NULL,
			enrolled_unix_ms BIGINT NOT NULL,
			revoked_unix_ms BIGINT NOT NULL DEFAULT 0,
			last_seen_unix_ms BIGINT NOT NULL DEFAULT 0,
			last_report_unix_ms BIGINT NOT NULL DEFAULT 0,
			kiosk_state TEXT NOT NULL DEFAULT '',
			last_report TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX devices_site ON devices(site_id)`,
		`CREATE TABLE reports (
			device_id TEXT NOT NULL REFERENCES devices(id),
			report_id TEXT NOT NULL,
			seq BIGINT NOT NULL,
			created_unix_ms BIGINT NOT NULL,
			received_unix_ms BIGINT NOT NULL,
			load1 DOUBLE PRECISION NOT NULL,
			temp_c DOUBLE PRECISION NOT NULL,
			mem_total BIGINT NOT NULL,
			mem_avail BIGINT NOT NULL,
			disk_total BIGINT NOT NULL,
			disk_free BIGINT NOT NULL,
			kiosk_state TEXT NOT NULL,
			kiosk_restarts BIGINT NOT NULL,
			sessions_ended BIGINT NOT NULL,
			sessions_assisted BIGINT NOT NULL,
			session_total_ms BIGINT NOT NULL,
			wipe_failures BIGINT NOT NULL,
			web_crashes BIGINT NOT NULL,
			queue_depth BIGINT NOT NULL,
			warnings TEXT NOT NULL,
			PRIMARY KEY (device_id, report_id)
		)`,
		`CREATE INDEX reports_device_time ON reports(device_id, created_unix_ms)`,
		`CREATE INDEX reports_received ON reports(received_unix_ms)`,
		`CREATE TABLE receipts (
			device_id TEXT NOT NULL,
			report_id TEXT NOT NULL,
			idx BIGINT NOT NULL,
			site_id TEXT NOT NULL,
			ended_unix_ms BIGINT NOT NULL,
			session_ms BIGINT NOT NULL,
			reset_ms BIGINT NOT NULL,
			reason TEXT NOT NULL,
			assisted BIGINT NOT NULL,
			category TEXT NOT NULL,
			outcome TEXT NOT NULL,
			cleared TEXT NOT NULL,
			failed TEXT NOT NULL,
			PRIMARY KEY (device_id, report_id, idx)
		)`,
		`CREATE INDEX receipts_site_time ON receipts(site_id, ended_unix_ms)`,
		`CREATE INDEX receipts_device_time ON receipts(device_id, ended_unix_ms)`,
		`CREATE TABLE commands (
			id TEXT PRIMARY KEY,
			device_id TEXT NOT NULL REFERENCES devices(id),
			kind TEXT NOT NULL,
			text TEXT NOT NULL,
			seconds BIGINT NOT NULL,
			issued_by TEXT NOT NULL,
			issued_unix_ms BIGINT NOT NULL,
			expires_unix_ms BIGINT NOT NULL,
			status TEXT NOT NULL DEFAULT '',
			detail TEXT NOT NULL DEFAULT '',
			acked_unix_ms BIGINT NOT NULL DEFAULT 0
		)`,
		`CREATE INDEX commands_pending ON commands(device_id, acked_unix_ms)`,
		`CREATE TABLE users (
			name TEXT PRIMARY KEY,
			role TEXT NOT NULL,
			password_hash TEXT NOT NULL,
			created_unix_ms BIGINT NOT NULL,
			disabled_unix_ms BIGINT NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE web_sessions (
			hash TEXT PRIMARY KEY,
			user_name TEXT NOT NULL REFERENCES users(name),
			created_unix_ms BIGINT NOT NULL,
			expires_unix_ms BIGINT NOT NULL
		)`,
		`CREATE TABLE api_tokens (
			id TEXT PRIMARY KEY,
			hash TEXT NOT NULL UNIQUE,
			user_name TEXT NOT NULL REFERENCES users(name),
			created_unix_ms BIGINT NOT NULL,
			last_used_unix_ms BIGINT NOT NULL DEFAULT 0,
			revoked_unix_ms BIGINT NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE audit (
			id {{ID}},
			unix_ms BIGINT NOT NULL,
			actor TEXT NOT NULL,
			action TEXT NOT NULL,
			target TEXT NOT NULL,
			detail TEXT NOT NULL
		)`,
		`CREATE INDEX audit_time ON audit(unix_ms)`,
		`CREATE TABLE alerts (
			device_id TEXT NOT NULL,
			kind TEXT NOT NULL,
			opened_unix_ms BIGINT NOT NULL,
			closed_unix_ms BIGINT NOT NULL DEFAULT 0,
			detail TEXT NOT NULL,
			PRIMARY KEY (device_id, kind, opened_unix_ms)
		)`,
		`CREATE INDEX alerts_open ON alerts(closed_unix_ms)`,
	},
	2: {
		// Reports answer "any commands?" without a query when nothing was
		// issued since the device last found none.
		`ALTER TABLE devices ADD COLUMN command_seq BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE devices ADD COLUMN commands_seen_seq BIGINT NOT NULL DEFAULT 0`,
		`UPDATE devices SET command_seq = 1 WHERE id IN (SELECT device_id FROM commands WHERE acked_unix_ms = 0)`,
		// Nothing reads reports by arrival time; the index only slowed ingest.
		`DROP INDEX reports_received`,
	},
	3: {
		// Enrolment is idempotent per device key (api capability 4): the
		// device's Ed25519 public key, "" for agents before it. One device
		// per key and token, so a retry can find its device again.
		`ALTER TABLE devices ADD COLUMN device_key TEXT NOT NULL DEFAULT ''`,
		`CREATE UNIQUE INDEX devices_token_key ON devices(token_id, device_key) WHERE device_key <> ''`,
	},
	4: {
		// A device that sent more than one kiosk can produce (the fleet
		// refused or dropped some of it): when last, and what; the alert
		// device_flooding reads them.
		`ALTER TABLE devices ADD COLUMN flooding_unix_ms BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE devices ADD COLUMN flooding_detail TEXT NOT NULL DEFAULT ''`,
	},
	5: insightsMigration, // insights.go
}

// SchemaVersion is the newest migration.
var SchemaVersion = len(migrations) - 1

func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			// One replica migrates at a time; the lock ends with the transaction.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(4711001)`); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY, applied_unix_ms BIGINT NOT NULL)`); err != nil {
			return err
		}
		var have sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if int(have.Int64) > SchemaVersion {
			return fmt.Errorf("database schema is version %d, newer than this fleet server's %d: upgrade the server", have.Int64, SchemaVersion)
		}
		for v := int(have.Int64) + 1; v <= SchemaVersion; v++ {
			for i, stmt := range migrations[v] {
				if _, err := tx.ExecContext(ctx, s.ddl(stmt)); err != nil {
					return fmt.Errorf("migration %d statement %d: %w", v, i, err)
				}
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied_unix_ms) VALUES (?, ?)`), v, s.nowMs()); err != nil {
				return err
			}
			s.log.WithField("version", v).Info("store: applied schema migration")
		}
		return nil
	})
}

func (s *Store) ddl(stmt string) string {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if s.dialect == Postgres {
		id = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	return strings.ReplaceAll(stmt, "{{ID}}", id)
}

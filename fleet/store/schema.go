package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations are applied in order; never edit one that has shipped, add a
// new one. "{{ID}}" becomes the dialect's auto-incrementing integer key.
// Only portable types are used: TEXT, BIGINT, DOUBLE PRECISION, BYTEA (a
// BLOB on SQLite). Times are Unix milliseconds; 0 means "never".
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
	5: {
		// Several fleet replicas share one PostgreSQL and keep nothing
		// that matters on their own disks. With SQLite (one server) the
		// tables exist too; that server keeps its release repository and
		// rollouts in its data directory and its throttles in memory.
		//
		// Versioned shared documents, such as the rollouts (release.Rollout
		// list as JSON); a writer locks the row.
		`CREATE TABLE shared_docs (
			name TEXT PRIMARY KEY,
			body TEXT NOT NULL,
			version BIGINT NOT NULL,
			updated_unix_ms BIGINT NOT NULL
		)`,
		// The release repository's files (TUF metadata, online keys,
		// bundles and deltas) by their path in the repository, in chunks.
		`CREATE TABLE release_files (
			name TEXT PRIMARY KEY,
			size BIGINT NOT NULL,
			chunk_bytes BIGINT NOT NULL,
			modified_unix_ms BIGINT NOT NULL
		)`,
		`CREATE TABLE release_chunks (
			name TEXT NOT NULL,
			n BIGINT NOT NULL,
			data BYTEA NOT NULL,
			PRIMARY KEY (name, n)
		)`,
		// Bundles are zstd already: no compression, so a range reads only its chunks.
		`{{PG}}ALTER TABLE release_chunks ALTER COLUMN data SET STORAGE EXTERNAL`,
		// The TLS certificate every replica serves (agents pin one fingerprint).
		`CREATE TABLE tls_certs (
			name TEXT PRIMARY KEY,
			cert_pem TEXT NOT NULL,
			key_pem TEXT NOT NULL,
			created_unix_ms BIGINT NOT NULL
		)`,
		// Rate limits and sign-in backoff before authentication
		// (fleet/server/throttle.State). Unlogged on PostgreSQL: a crash
		// forgets them, as a restart forgets the in-memory ones.
		`CREATE {{UNLOGGED}} TABLE throttle_buckets (
			key TEXT PRIMARY KEY,
			tokens DOUBLE PRECISION NOT NULL,
			last_unix_ms BIGINT NOT NULL,
			idle_unix_ms BIGINT NOT NULL,
			ok BIGINT NOT NULL
		)`,
		`CREATE INDEX throttle_buckets_idle ON throttle_buckets(idle_unix_ms)`,
		`CREATE {{UNLOGGED}} TABLE throttle_failures (
			key TEXT PRIMARY KEY,
			n BIGINT NOT NULL,
			last_unix_ms BIGINT NOT NULL,
			until_unix_ms BIGINT NOT NULL,
			forget_unix_ms BIGINT NOT NULL
		)`,
		`CREATE INDEX throttle_failures_forget ON throttle_failures(forget_unix_ms)`,
		// Each device's report and session budgets (token buckets, taken
		// in the ingest transaction, so every replica sees one budget):
		// tokens left as of budget_unix_ms; budget_unix_ms 0 means full.
		`ALTER TABLE devices ADD COLUMN budget_unix_ms BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE devices ADD COLUMN budget_reports DOUBLE PRECISION NOT NULL DEFAULT 0`,
		`ALTER TABLE devices ADD COLUMN budget_sessions DOUBLE PRECISION NOT NULL DEFAULT 0`,
		// The console at 10,000 kiosks: the last report's critical warning
		// as a column (set at ingest), and indexes for its sorts and filters.
		`ALTER TABLE devices ADD COLUMN critical BIGINT NOT NULL DEFAULT 0`,
		`UPDATE devices SET critical = 1 WHERE last_report LIKE '%"severity":"critical"%' OR kiosk_state = 'gone'`,
		`CREATE INDEX devices_hostname ON devices(hostname, id)`,
		`CREATE INDEX devices_last_seen ON devices(last_seen_unix_ms)`,
		`CREATE INDEX alerts_device_open ON alerts(device_id, closed_unix_ms)`,
		// One open alert per device and kind, so one webhook per event even
		// should two replicas race (the oldest of any duplicates stays open).
		`UPDATE alerts SET closed_unix_ms = opened_unix_ms WHERE closed_unix_ms = 0 AND EXISTS (SELECT 1 FROM alerts o
			WHERE o.device_id = alerts.device_id AND o.kind = alerts.kind AND o.closed_unix_ms = 0 AND o.opened_unix_ms < alerts.opened_unix_ms)`,
		`CREATE UNIQUE INDEX alerts_one_open ON alerts(device_id, kind) WHERE closed_unix_ms = 0`,
	},
	6: insightsMigration, // insights.go
	7: {
		// The console at 10,000 kiosks: how many alerts a device has open,
		// kept with the alerts (OpenAlert, CloseAlert), so a kiosk's state
		// needs no join; the critical ones found by a partial index. The
		// open alerts of a device are found by alerts_one_open.
		`ALTER TABLE devices ADD COLUMN alerts_open BIGINT NOT NULL DEFAULT 0`,
		`UPDATE devices SET alerts_open = (SELECT COUNT(*) FROM alerts a WHERE a.device_id = devices.id AND a.closed_unix_ms = 0)`,
		`CREATE INDEX devices_critical ON devices(critical) WHERE critical = 1`,
		`DROP INDEX alerts_device_open`,
	},
	// Pages printed in each session (issue 16), from the receipt's
	// Counted.Prints (capability 5): the usage page's pages printed per
	// site. A count only: nothing about what was printed.
	8: {`ALTER TABLE receipts ADD COLUMN prints BIGINT NOT NULL DEFAULT 0`},
	// Capability 7's counts for Insights (insights.go): print jobs, files
	// downloaded and uploaded, and remote help's length, added up per
	// site, month and block of days like the other counts, and each
	// device's budgets for them. Counts and durations only: nothing about
	// what was printed, uploaded or seen.
	9: {
		`ALTER TABLE insight_blocks ADD COLUMN print_jobs BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE insight_blocks ADD COLUMN downloads BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE insight_blocks ADD COLUMN uploads BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE insight_blocks ADD COLUMN assist_ms BIGINT NOT NULL DEFAULT 0`,
		// Each device's budgets for them (IngestItem.Usage), kept beside
		// its report and session budgets and refilled with them: the
		// tokens taken and not yet refilled, so 0 is a full bucket.
		`ALTER TABLE devices ADD COLUMN budget_downloads DOUBLE PRECISION NOT NULL DEFAULT 0`,
		`ALTER TABLE devices ADD COLUMN budget_uploads DOUBLE PRECISION NOT NULL DEFAULT 0`,
		`ALTER TABLE devices ADD COLUMN budget_jobs DOUBLE PRECISION NOT NULL DEFAULT 0`,
		`ALTER TABLE devices ADD COLUMN budget_assist_ms DOUBLE PRECISION NOT NULL DEFAULT 0`,
	},
	// Remote help across replicas (AssistDirectory): which replica holds
	// a kiosk's waiting help code and each share's agent link. Never a
	// share id (only its SHA-256), never a frame. Unlogged on PostgreSQL:
	// a crash forgets them, as it ends every share.
	10: {
		`CREATE {{UNLOGGED}} TABLE assist_codes (
			device_id TEXT PRIMARY KEY,
			replica TEXT NOT NULL,
			code_hash BYTEA NOT NULL,
			code_salt BYTEA NOT NULL,
			expires_unix_ms BIGINT NOT NULL
		)`,
		`CREATE {{UNLOGGED}} TABLE assist_shares (
			id_hash TEXT PRIMARY KEY,
			device_id TEXT NOT NULL,
			staff TEXT NOT NULL,
			replica TEXT NOT NULL,
			expires_unix_ms BIGINT NOT NULL,
			ended_reason TEXT NOT NULL DEFAULT ''
		)`,
		// One live share per kiosk, whichever replica made it.
		`CREATE UNIQUE INDEX assist_shares_live ON assist_shares(device_id) WHERE ended_reason = ''`,
		// Each replica's heartbeat: the codes and shares of a replica not
		// seen lately (it died) are ended rather than holding the kiosk.
		`CREATE {{UNLOGGED}} TABLE assist_replicas (
			replica TEXT PRIMARY KEY,
			seen_unix_ms BIGINT NOT NULL
		)`,
	},
	// Each device's budgets for pages printed and scanned (IngestItem.Usage
	// Pages), beside its other budgets: tokens taken, 0 a full bucket.
	11: {
		`ALTER TABLE devices ADD COLUMN budget_prints DOUBLE PRECISION NOT NULL DEFAULT 0`,
		`ALTER TABLE devices ADD COLUMN budget_scans DOUBLE PRECISION NOT NULL DEFAULT 0`,
	},
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
		applied := map[int]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		have := 0
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			applied[v] = true
			have = max(have, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if have > SchemaVersion {
			return fmt.Errorf("database schema is version %d, newer than this fleet server's %d: upgrade the server", have, SchemaVersion)
		}
		// Every number not yet applied, in order; a number with no
		// migration (one still on another branch) is left for later.
		for v := 1; v <= SchemaVersion; v++ {
			if applied[v] || migrations[v] == nil {
				continue
			}
			for i, stmt := range migrations[v] {
				stmt, ok := s.ddl(stmt)
				if !ok {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
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

// ddl writes a migration statement for the dialect: "{{ID}}" becomes its
// auto-incrementing integer key, "{{UNLOGGED}}" is PostgreSQL's UNLOGGED
// (nothing on SQLite), and a statement starting "{{PG}}" runs on
// PostgreSQL only (ok is false on SQLite).
func (s *Store) ddl(stmt string) (out string, ok bool) {
	id, unlogged, withoutRowID := "INTEGER PRIMARY KEY AUTOINCREMENT", "", "WITHOUT ROWID"
	if s.dialect == Postgres {
		id, unlogged, withoutRowID = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "UNLOGGED", ""
	}
	stmt, pgOnly := strings.CutPrefix(stmt, "{{PG}}")
	if pgOnly && s.dialect != Postgres {
		return "", false
	}
	return strings.NewReplacer("{{ID}}", id, "{{UNLOGGED}}", unlogged, "{{WITHOUT_ROWID}}", withoutRowID).Replace(stmt), true
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/credential"
)

// IngestItem is one device's report batch, already authenticated and
// validated.
type IngestItem struct {
	DeviceID string
	SiteID   string
	Batch    *api.ReportBatch
}

// IngestResult is what the device is told.
type IngestResult struct {
	Accepted []string      // every report ID of the batch (new or already held)
	New      int           // how many were not held before
	Commands []api.Command // pending commands, oldest first
}

// The ingest statements ('?' placeholders).
const (
	qDeviceReport = `UPDATE devices SET last_seen_unix_ms = ?, last_report = ?, last_report_unix_ms = ?, kiosk_state = ?,
					agent_version = CASE WHEN ? = '' THEN agent_version ELSE ? END,
					kiosk_version = CASE WHEN ? = '' THEN kiosk_version ELSE ? END
					WHERE id = ? AND last_report_unix_ms <= ? RETURNING command_seq, commands_seen_seq`
	qDeviceSeen = `UPDATE devices SET last_seen_unix_ms = ? WHERE id = ? RETURNING command_seq, commands_seen_seq`
	qAck        = `UPDATE commands SET status = ?, detail = ?, acked_unix_ms = ?,
					text = CASE WHEN kind = ? THEN '' ELSE text END
					WHERE id = ? AND device_id = ? AND acked_unix_ms = 0`
	qCommandsSeen = `UPDATE devices SET commands_seen_seq = ? WHERE id = ? AND commands_seen_seq < ?`
	qPending      = `SELECT id, kind, text, seconds, issued_unix_ms FROM commands
		WHERE device_id = ? AND acked_unix_ms = 0 AND expires_unix_ms > ? ORDER BY issued_unix_ms, id`
)

// Ingest stores many devices' batches in one transaction (group commit):
// reports are inserted once by (device, report id), receipts with them,
// each device's newest report and last-seen time are updated, acks close
// their commands, and the devices' pending commands are read back. Either
// all items are stored or none.
func (s *Store) Ingest(ctx context.Context, items []IngestItem) ([]IngestResult, error) {
	now := s.nowMs()
	out := make([]IngestResult, len(items))
	if s.dialect == SQLite {
		s.warm(ctx, items)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		pc := s.newTxCache(tx)
		defer pc.close()
		fresh, err := s.insertReports(ctx, pc, items, now)
		if err != nil {
			return err
		}
		for i, it := range items {
			res := &out[i]
			var newest *api.Report
			for ri := range it.Batch.Reports {
				r := &it.Batch.Reports[ri]
				res.Accepted = append(res.Accepted, r.ID)
				k := reportKey{it.DeviceID, r.ID}
				if !fresh[k] {
					continue // already held: idempotent
				}
				delete(fresh, k) // a report twice in one group counts once
				res.New++
				if newest == nil || r.CreatedUnixMs > newest.CreatedUnixMs ||
					r.CreatedUnixMs == newest.CreatedUnixMs && r.Seq > newest.Seq {
					newest = r
				}
			}
			// One statement updates the device and says whether a command
			// may be waiting (command_seq moved past commands_seen_seq).
			var cmdSeq, seenSeq int64
			err := sql.ErrNoRows
			if newest != nil {
				slim := *newest
				slim.Receipts = nil
				b, err2 := json.Marshal(&slim)
				if err2 != nil {
					return err2
				}
				err = pc.QueryRowContext(ctx, s.q(qDeviceReport),
					now, string(b), newest.CreatedUnixMs, newest.Health.KioskState,
					newest.Health.AgentVersion, newest.Health.AgentVersion, newest.Health.KioskVersion, newest.Health.KioskVersion,
					it.DeviceID, newest.CreatedUnixMs).Scan(&cmdSeq, &seenSeq)
			}
			if errors.Is(err, sql.ErrNoRows) {
				// No new report, or only older ones than held: just seen now.
				err = pc.QueryRowContext(ctx, s.q(qDeviceSeen),
					now, it.DeviceID).Scan(&cmdSeq, &seenSeq)
			}
			if err != nil {
				return fmt.Errorf("update device %s: %w", it.DeviceID, err)
			}
			for _, a := range it.Batch.Acks {
				// A volunteer code is kept only until its device answers.
				if _, err := pc.ExecContext(ctx, s.q(qAck), a.Status, a.Detail, now, api.CommandVolunteerCode, a.ID, it.DeviceID); err != nil {
					return fmt.Errorf("ack command %s: %w", a.ID, err)
				}
			}
			if cmdSeq > seenSeq {
				cmds, err := pendingCommands(ctx, pc, s.q, it.DeviceID, now)
				if err != nil {
					return err
				}
				res.Commands = cmds
				if len(cmds) == 0 {
					// Nothing waits as of command_seq; a command issued since
					// has a higher seq and is looked for next time.
					if _, err := pc.ExecContext(ctx, s.q(qCommandsSeen),
						cmdSeq, it.DeviceID, cmdSeq); err != nil {
						return fmt.Errorf("update device %s: %w", it.DeviceID, err)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ingest %d batches: %w", len(items), err)
	}
	return out, nil
}

// txCache gives a transaction its statements, each prepared once per
// transaction at most, so a group commit parses the device update once,
// not once per device. On SQLite (one writer connection) the statements
// are prepared once for the life of the store and only bound to each
// transaction, so a commit parses no SQL at all.
type txCache struct {
	tx   *sql.Tx
	keep *stmtCache // nil: prepare per transaction
	m    map[string]*sql.Stmt
}

func (s *Store) newTxCache(tx *sql.Tx) *txCache {
	c := &txCache{tx: tx, m: map[string]*sql.Stmt{}}
	if s.dialect == SQLite {
		c.keep = &s.stmts
	}
	return c
}

// stmtCache keeps the writer's prepared statements. The ingest statements
// are a bounded set (multi-row inserts of 1..chunkRows rows and a few
// updates), so it is bounded too.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxKeptStmts = 4 * chunkRows

func (k *stmtCache) peek(q string) *sql.Stmt {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[q]
}

// prepare keeps q prepared. It needs the writer connection, so it must not
// be called inside a write transaction (SQLite has one writer connection).
func (k *stmtCache) prepare(ctx context.Context, db *sql.DB, q string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[q]; ok {
		return nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	if k.m == nil || len(k.m) >= maxKeptStmts {
		for _, old := range k.m {
			old.Close()
		}
		k.m = map[string]*sql.Stmt{}
	}
	k.m[q] = st
	return nil
}

func (k *stmtCache) peekOrNil(q string) *sql.Stmt {
	if k == nil {
		return nil
	}
	return k.peek(q)
}

func (k *stmtCache) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, st := range k.m {
		st.Close()
	}
	k.m = nil
}

func (c *txCache) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	var st *sql.Stmt
	var err error
	if kept := c.keep.peekOrNil(q); kept != nil {
		st = c.tx.StmtContext(ctx, kept)
	} else {
		st, err = c.tx.PrepareContext(ctx, q)
	}
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

func (c *txCache) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *txCache) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext returns a row whose Scan reports a prepare error.
func (c *txCache) QueryRowContext(ctx context.Context, q string, args ...any) rowScanner {
	st, err := c.stmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (c *txCache) close() {
	for _, st := range c.m {
		st.Close()
	}
}

type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type reportKey struct{ device, id string }

// Multi-row statements share one statement's overhead among many rows;
// chunks stay far below SQLite's and PostgreSQL's parameter limits.
const (
	reportCols  = 20
	receiptCols = 13
	chunkRows   = 200
)

func (s *Store) values(rows, cols int) string {
	var b strings.Builder
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

func (s *Store) insertReportsQ(rows int) string {
	return `INSERT INTO reports (device_id, report_id, seq, created_unix_ms, received_unix_ms,
			load1, temp_c, mem_total, mem_avail, disk_total, disk_free, kiosk_state, kiosk_restarts,
			sessions_ended, sessions_assisted, session_total_ms, wipe_failures, web_crashes, queue_depth, warnings)
			VALUES ` + s.values(rows, reportCols) + ` ON CONFLICT DO NOTHING RETURNING device_id, report_id`
}

func (s *Store) insertReceiptsQ(rows int) string {
	return `INSERT INTO receipts (device_id, report_id, idx, site_id, ended_unix_ms,
			session_ms, reset_ms, reason, assisted, category, outcome, cleared, failed)
			VALUES ` + s.values(rows, receiptCols) + ` ON CONFLICT DO NOTHING`
}

// warm prepares, outside the write transaction, the statements a group
// commit of items will use, so the transaction only binds them. A
// statement that could not be kept is prepared in the transaction instead.
func (s *Store) warm(ctx context.Context, items []IngestItem) {
	qs := []string{qDeviceReport, qDeviceSeen}
	reports, receipts, acks := 0, 0, 0
	for _, it := range items {
		reports += len(it.Batch.Reports)
		acks += len(it.Batch.Acks)
		for _, r := range it.Batch.Reports {
			receipts += len(r.Receipts)
		}
	}
	if acks > 0 {
		qs = append(qs, qAck)
	}
	if reports >= chunkRows {
		qs = append(qs, s.insertReportsQ(chunkRows))
	}
	if reports%chunkRows > 0 {
		qs = append(qs, s.insertReportsQ(reports%chunkRows))
	}
	if receipts >= chunkRows {
		qs = append(qs, s.insertReceiptsQ(chunkRows))
	}
	if receipts%chunkRows > 0 {
		qs = append(qs, s.insertReceiptsQ(receipts%chunkRows))
	}
	for _, q := range qs {
		if s.stmts.peek(q) == nil {
			if err := s.stmts.prepare(ctx, s.w, q); err != nil {
				return
			}
		}
	}
}

// insertReports inserts every report of items with multi-row INSERTs and
// returns the ones that were not held before; their receipts are inserted
// too.
func (s *Store) insertReports(ctx context.Context, pc *txCache, items []IngestItem, now int64) (map[reportKey]bool, error) {
	type row struct {
		it *IngestItem
		r  *api.Report
	}
	var rows []row
	for i := range items {
		for ri := range items[i].Batch.Reports {
			rows = append(rows, row{&items[i], &items[i].Batch.Reports[ri]})
		}
	}
	fresh := make(map[reportKey]bool, len(rows))
	args := make([]any, 0, chunkRows*reportCols)
	for lo := 0; lo < len(rows); lo += chunkRows {
		chunk := rows[lo:min(lo+chunkRows, len(rows))]
		args = args[:0]
		for _, x := range chunk {
			r, h := x.r, &x.r.Health
			warn := ""
			if len(r.Warnings) > 0 {
				b, _ := json.Marshal(r.Warnings)
				warn = string(b)
			}
			args = append(args, x.it.DeviceID, r.ID, int64(r.Seq), r.CreatedUnixMs, now,
				h.Load1, h.TempCelsius, int64(h.MemTotalBytes), int64(h.MemAvailBytes), int64(h.DiskTotalBytes), int64(h.DiskFreeBytes),
				h.KioskState, h.KioskRestarts, r.Sessions.Ended, r.Sessions.Assisted, r.Sessions.TotalMs,
				r.Sessions.WipeFailures, r.Sessions.WebCrashes, h.QueueDepth, warn)
		}
		q := s.insertReportsQ(len(chunk))
		res, err := pc.QueryContext(ctx, s.q(q), args...)
		if err != nil {
			return nil, fmt.Errorf("insert %d reports: %w", len(chunk), err)
		}
		for res.Next() {
			var k reportKey
			if err := res.Scan(&k.device, &k.id); err != nil {
				res.Close()
				return nil, fmt.Errorf("insert reports: %w", err)
			}
			fresh[k] = true
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("insert reports: %w", err)
		}
	}
	// Receipts of the new reports.
	args = args[:0]
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		q := s.insertReceiptsQ(n)
		if _, err := pc.ExecContext(ctx, s.q(q), args...); err != nil {
			return fmt.Errorf("insert %d receipts: %w", n, err)
		}
		args, n = args[:0], 0
		return nil
	}
	for _, x := range rows {
		if !fresh[reportKey{x.it.DeviceID, x.r.ID}] {
			continue
		}
		for ci, rc := range x.r.Receipts {
			ended := rc.EndedUnixMs
			if ended == 0 {
				ended = x.r.CreatedUnixMs
			}
			args = append(args, x.it.DeviceID, x.r.ID, ci, x.it.SiteID, ended, rc.SessionMs, rc.ResetMs,
				rc.Reason, b2i(rc.Assisted), rc.Category, rc.Outcome, strings.Join(rc.Cleared, ","), strings.Join(rc.Failed, ","))
			if n++; n == chunkRows {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return fresh, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func pendingCommands(ctx context.Context, db querier, q func(string) string, device string, now int64) ([]api.Command, error) {
	rows, err := db.QueryContext(ctx, q(qPending), device, now)
	if err != nil {
		return nil, fmt.Errorf("pending commands for %s: %w", device, err)
	}
	defer rows.Close()
	var out []api.Command
	for rows.Next() {
		var c api.Command
		if err := rows.Scan(&c.ID, &c.Kind, &c.Text, &c.Seconds, &c.IssuedUnixMs); err != nil {
			return nil, err
		}
		if c.Kind == api.CommandVolunteerCode {
			// The code expires a fixed time after it was issued, however
			// late the device fetches it: send what is left.
			left := (c.IssuedUnixMs + int64(c.Seconds)*1000 - now + 999) / 1000
			c.Seconds = int(max(1, min(left, int64(c.Seconds))))
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Command is a command with its outcome, as the console shows it.
type Command struct {
	api.Command
	DeviceID      string
	IssuedBy      string
	ExpiresUnixMs int64
	Status        string // "" pending, api.AckDone/AckFailed/AckRefused, or "expired"
	Detail        string
	AckedUnixMs   int64
}

// CommandTTL is how long a command waits for its device before it expires:
// ending a session an hour late would end someone else's.
const CommandTTL = time.Hour

// IssueCommand queues a command for a device.
func (s *Store) IssueCommand(ctx context.Context, device, by string, c api.Command) (Command, error) {
	now := s.nowMs()
	c.ID = credential.ID(8)
	c.IssuedUnixMs = now
	cmd := Command{Command: c, DeviceID: device, IssuedBy: by, ExpiresUnixMs: now + CommandTTL.Milliseconds()}
	if c.Kind == api.CommandVolunteerCode {
		// A volunteer code is worthless after its lifetime: the command
		// expires with it, and Prune or the ack blanks the code.
		cmd.ExpiresUnixMs = now + int64(c.Seconds)*1000
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE devices SET command_seq = command_seq + 1 WHERE id = ?`), device)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO commands (id, device_id, kind, text, seconds, issued_by, issued_unix_ms, expires_unix_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), c.ID, device, c.Kind, c.Text, c.Seconds, by, now, cmd.ExpiresUnixMs)
		return err
	})
	if err != nil {
		return Command{}, fmt.Errorf("issue %s to %s: %w", c.Kind, device, err)
	}
	return cmd, nil
}

// Commands lists a device's most recent commands, newest first.
func (s *Store) Commands(ctx context.Context, device string, limit int) ([]Command, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, kind, text, seconds, issued_by, issued_unix_ms, expires_unix_ms, status, detail, acked_unix_ms
		FROM commands WHERE device_id = ? ORDER BY issued_unix_ms DESC, id LIMIT ?`), device, limit)
	if err != nil {
		return nil, fmt.Errorf("list commands of %s: %w", device, err)
	}
	defer rows.Close()
	now := s.nowMs()
	var out []Command
	for rows.Next() {
		c := Command{DeviceID: device}
		if err := rows.Scan(&c.ID, &c.Kind, &c.Text, &c.Seconds, &c.IssuedBy, &c.IssuedUnixMs, &c.ExpiresUnixMs, &c.Status, &c.Detail, &c.AckedUnixMs); err != nil {
			return nil, err
		}
		if c.Kind == api.CommandVolunteerCode {
			c.Text = "" // never shown again, even while pending
		}
		if c.Status == "" && c.ExpiresUnixMs <= now {
			c.Status = "expired"
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PendingCommands returns the commands a device has not acknowledged yet.
func (s *Store) PendingCommands(ctx context.Context, device string) ([]api.Command, error) {
	return pendingCommands(ctx, s.r, s.q, device, s.nowMs())
}

// Point is one report's figures, for charts over time.
type Point struct {
	CreatedUnixMs int64
	Load1         float64
	TempC         float64
	MemAvail      int64
	MemTotal      int64
	DiskFree      int64
	DiskTotal     int64
	KioskState    string
	SessionsEnded int
	WipeFailures  int
	KioskRestarts int
}

// History returns a device's reports made since since, oldest first.
func (s *Store) History(ctx context.Context, device string, since time.Time) ([]Point, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT created_unix_ms, load1, temp_c, mem_avail, mem_total, disk_free, disk_total, kiosk_state,
		sessions_ended, wipe_failures, kiosk_restarts FROM reports WHERE device_id = ? AND created_unix_ms >= ? ORDER BY created_unix_ms`),
		device, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", device, err)
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var p Point
		if err := rows.Scan(&p.CreatedUnixMs, &p.Load1, &p.TempC, &p.MemAvail, &p.MemTotal, &p.DiskFree, &p.DiskTotal, &p.KioskState,
			&p.SessionsEnded, &p.WipeFailures, &p.KioskRestarts); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ReceiptRow is a stored wipe receipt.
type ReceiptRow struct {
	api.Receipt
	DeviceID string
	SiteID   string
}

// Receipts returns a device's most recent wipe receipts, newest first.
func (s *Store) Receipts(ctx context.Context, device string, limit int) ([]ReceiptRow, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT site_id, ended_unix_ms, session_ms, reset_ms, reason, assisted, category, outcome, cleared, failed
		FROM receipts WHERE device_id = ? ORDER BY ended_unix_ms DESC LIMIT ?`), device, limit)
	if err != nil {
		return nil, fmt.Errorf("receipts of %s: %w", device, err)
	}
	defer rows.Close()
	var out []ReceiptRow
	for rows.Next() {
		r := ReceiptRow{DeviceID: device}
		var assisted int
		var cleared, failed string
		if err := rows.Scan(&r.SiteID, &r.EndedUnixMs, &r.SessionMs, &r.ResetMs, &r.Reason, &assisted, &r.Category, &r.Outcome, &cleared, &failed); err != nil {
			return nil, err
		}
		r.Assisted = assisted != 0
		r.Cleared = splitList(cleared)
		r.Failed = splitList(failed)
		out = append(out, r)
	}
	return out, rows.Err()
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// ReportCount returns how many reports are held for device ("" for all) and
// how many distinct report ids that is (equal unless something duplicated).
func (s *Store) ReportCount(ctx context.Context, device string) (int64, error) {
	var n int64
	q := `SELECT COUNT(*) FROM reports`
	var args []any
	if device != "" {
		q += ` WHERE device_id = ?`
		args = append(args, device)
	}
	err := s.r.QueryRowContext(ctx, s.q(q), args...).Scan(&n)
	return n, err
}

// ForgetExpiredVolunteerCodes blanks the code of every volunteer_code
// command past its expiry that its device never acknowledged (acknowledged
// ones were blanked on the ack). Prune calls it.
func (s *Store) ForgetExpiredVolunteerCodes(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE commands SET text = '' WHERE kind = ? AND text <> '' AND expires_unix_ms <= ?`),
		api.CommandVolunteerCode, s.nowMs()); err != nil {
		return fmt.Errorf("forget expired volunteer codes: %w", err)
	}
	return nil
}

// Prune deletes reports and receipts older than keep and finished web
// sessions, so the database stays bounded.
func (s *Store) Prune(ctx context.Context, keep time.Duration) error {
	cut := s.now().Add(-keep).UnixMilli()
	for _, q := range []string{
		`DELETE FROM reports WHERE created_unix_ms < ?`,
		`DELETE FROM receipts WHERE ended_unix_ms < ?`,
		`DELETE FROM alerts WHERE closed_unix_ms <> 0 AND closed_unix_ms < ?`,
	} {
		if _, err := s.w.ExecContext(ctx, s.q(q), cut); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
	}
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM web_sessions WHERE expires_unix_ms < ?`), s.nowMs()); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	if err := s.ForgetExpiredVolunteerCodes(ctx); err != nil {
		return err
	}
	return nil
}

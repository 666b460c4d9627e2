package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	// CredHash, when set, is the hash of the credential the batch came
	// with: it is stored only if that is still the device's credential
	// and the device is not withdrawn (else Refused is
	// ErrCredentialWithdrawn). The check is in the ingest transaction, so
	// a withdrawal or re-enrolment made through any replica refuses the
	// next report at once, whatever a replica has cached.
	CredHash string
	// Reports and Sessions are the device's budgets (a zero Burst: none):
	// the batch's reports, and its sessions (BatchSessions), are taken
	// from token buckets kept in the device's row, in the same
	// transaction, so every replica draws on one budget. A batch the
	// budget cannot pay for is not stored (Refused is ErrOverBudget).
	Reports, Sessions Budget
	// SessionsPerHour bounds the device's wipe receipts (one per session)
	// that end in any one clock hour: receipts beyond it are not stored,
	// since one kiosk has one screen and a session takes time. 0: no bound.
	SessionsPerHour int
	// Usage bounds the device's capability 7 counts over time (a zero
	// Burst: none), in buckets kept in the device's row with its other
	// budgets: the receipts' downloads, uploads and print jobs each take
	// from a bucket of Files, their remote help's milliseconds from one
	// of AssistMs, pages printed and pages scanned each from one of Pages. A receipt is stored whatever its counts (it is a
	// session); what a bucket cannot pay for is not counted
	// (IngestResult.Clamped).
	Usage UsageBudget
}

// UsageBudget is a device's budgets for the receipts' counts.
type UsageBudget struct {
	Files    Budget // downloads, uploads, print jobs: each its own bucket of this size
	AssistMs Budget // milliseconds of remote help
	Pages    Budget // pages printed, pages scanned or photographed: each its own bucket
}

func (u UsageBudget) set() bool {
	return u.Files.Burst > 0 || u.AssistMs.Burst > 0 || u.Pages.Burst > 0
}

// Budget is a token bucket: Burst tokens at most (a bucket starts full),
// PerSecond added each second.
type Budget struct {
	PerSecond, Burst float64
}

// IngestResult is what the device is told.
type IngestResult struct {
	// Refused, when not nil, says the batch was not stored at all:
	// ErrCredentialWithdrawn or ErrOverBudget (then Wait is how long until
	// the budget could pay for it). The other fields are empty.
	Refused error
	Wait    time.Duration

	Accepted []string      // every report ID of the batch (new or already held)
	New      int           // how many were not held before
	Commands []api.Command // pending commands, oldest first
	// Dropped counts receipts not stored because their hour already held
	// SessionsPerHour of the device's sessions.
	Dropped int
	// Uncounted counts identifiers in receipts that are not in the
	// Insights vocabulary: dropped, never stored (insights.go).
	Uncounted int
	// Clamped counts the receipts whose capability 7 counts were more
	// than the device's Usage budget held: counted only up to it.
	Clamped int
}

// Why Ingest refused a batch.
var (
	ErrCredentialWithdrawn = errors.New("the device's credential was withdrawn or replaced")
	ErrOverBudget          = errors.New("more than the device's budget")
)

// BatchSessions is how many sessions a batch tells of: each report's
// receipts, or its session count where that is larger.
func BatchSessions(b *api.ReportBatch) int {
	n := 0
	for _, r := range b.Reports {
		n += max(len(r.Receipts), r.Sessions.Ended)
	}
	return n
}

// The ingest statements ('?' placeholders).
const (
	qDeviceReport = `UPDATE devices SET last_seen_unix_ms = ?, last_report = ?, last_report_unix_ms = ?, kiosk_state = ?, critical = ?,
					agent_version = CASE WHEN ? = '' THEN agent_version ELSE ? END,
					kiosk_version = CASE WHEN ? = '' THEN kiosk_version ELSE ? END,
					budget_unix_ms = ?, budget_reports = ?, budget_sessions = ?,
					budget_downloads = ?, budget_uploads = ?, budget_jobs = ?, budget_assist_ms = ?,
					budget_prints = ?, budget_scans = ?
					WHERE id = ? AND last_report_unix_ms <= ? RETURNING command_seq, commands_seen_seq`
	qDeviceSeen = `UPDATE devices SET last_seen_unix_ms = ?, budget_unix_ms = ?, budget_reports = ?, budget_sessions = ?,
					budget_downloads = ?, budget_uploads = ?, budget_jobs = ?, budget_assist_ms = ?,
					budget_prints = ?, budget_scans = ?
					WHERE id = ? RETURNING command_seq, commands_seen_seq`
	qAck = `UPDATE commands SET status = ?, detail = ?, acked_unix_ms = ?,
					text = CASE WHEN kind = ? THEN '' ELSE text END
					WHERE id = ? AND device_id = ? AND acked_unix_ms = 0`
	qCommandsSeen = `UPDATE devices SET commands_seen_seq = ? WHERE id = ? AND commands_seen_seq < ?`
	qPending      = `SELECT id, kind, text, seconds, issued_unix_ms FROM commands
		WHERE device_id = ? AND acked_unix_ms = 0 AND expires_unix_ms > ? ORDER BY issued_unix_ms, id`
	qHourReceipts = `SELECT COUNT(*) FROM receipts WHERE device_id = ? AND ended_unix_ms >= ? AND ended_unix_ms < ?`
)

// Ingest stores many devices' batches in one transaction (group commit):
// each item's credential and budgets are checked first (a refused item is
// left out, with Refused set), reports are inserted once by (device,
// report id), receipts with them, each device's newest report and
// last-seen time are updated, acks close their commands, and the devices'
// pending commands are read back. Either all admitted items are stored or
// none.
func (s *Store) Ingest(ctx context.Context, items []IngestItem) ([]IngestResult, error) {
	now := s.nowMs()
	out := make([]IngestResult, len(items))
	if s.dialect == SQLite {
		s.warm(ctx, items)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		pc := s.newTxCache(tx)
		defer pc.close()
		for i := range out {
			out[i] = IngestResult{}
		}
		budgets, err := s.admit(ctx, pc, items, out, now)
		if err != nil {
			return err
		}
		admitted := items
		if len(budgets) < len(items) || refusedAny(out) {
			admitted = make([]IngestItem, 0, len(items))
			for i, it := range items {
				if out[i].Refused == nil {
					admitted = append(admitted, it)
				}
			}
		}
		fresh, tally, err := s.insertReports(ctx, pc, admitted, budgets, now)
		if err != nil {
			return err
		}
		k := -1
		for i, it := range items {
			res := &out[i]
			if res.Refused != nil {
				continue
			}
			k++
			res.Dropped, res.Uncounted, res.Clamped = tally[k].dropped, tally[k].uncounted, tally[k].clamped
			if err := s.ingestDevice(ctx, pc, it, budgets[it.DeviceID], fresh, res, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ingest %d batches: %w", len(items), err)
	}
	return out, nil
}

// ingestDevice completes res for one admitted batch whose reports are
// inserted (fresh holds those new to the store): it updates the device
// with its newest report and budget b, records its acks, and gives it the
// commands waiting for it.
func (s *Store) ingestDevice(ctx context.Context, pc *txCache, it IngestItem, b *budgetRow, fresh map[reportKey]bool, res *IngestResult, now int64) error {
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
		b2, err2 := json.Marshal(&slim)
		if err2 != nil {
			return err2
		}
		err = pc.QueryRowContext(ctx, s.q(qDeviceReport),
			now, string(b2), newest.CreatedUnixMs, newest.Health.KioskState, b2i(Critical(newest)),
			newest.Health.AgentVersion, newest.Health.AgentVersion, newest.Health.KioskVersion, newest.Health.KioskVersion,
			b.atMs, b.reports, b.sessions, b.downloads, b.uploads, b.jobs, b.assistMs, b.prints, b.scans,
			it.DeviceID, newest.CreatedUnixMs).Scan(&cmdSeq, &seenSeq)
	}
	if errors.Is(err, sql.ErrNoRows) {
		// No new report, or only older ones than held: just seen now.
		err = pc.QueryRowContext(ctx, s.q(qDeviceSeen),
			now, b.atMs, b.reports, b.sessions, b.downloads, b.uploads, b.jobs, b.assistMs, b.prints, b.scans, it.DeviceID).Scan(&cmdSeq, &seenSeq)
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
	return nil
}

type reportKey struct{ device, id string }

// Critical reports whether a report carries a critical warning or says
// the kiosk program is gone (what the console counts as needing attention).
func Critical(r *api.Report) bool {
	if r.Health.KioskState == "gone" {
		return true
	}
	for _, w := range r.Warnings {
		if w.Severity == "critical" {
			return true
		}
	}
	return false
}

func refusedAny(out []IngestResult) bool {
	for _, r := range out {
		if r.Refused != nil {
			return true
		}
	}
	return false
}

// budgetRow is a device's budgets as of atMs (0: full): the tokens left
// of its reports and sessions, and the tokens taken (not yet refilled) of
// its usage buckets, so that 0, the columns' default, is a full bucket
// for a device that reported before migration 9 too.
type budgetRow struct {
	atMs                               int64
	reports, sessions                  float64 // left
	downloads, uploads, jobs, assistMs float64 // taken
	prints, scans                      float64 // taken
}

// refill is what a bucket of b from which used tokens were taken as of
// atMs (0: full) still owes at now.
func refill(b Budget, used float64, atMs, now int64) float64 {
	if atMs == 0 {
		return 0
	}
	return max(0, used-float64(max(0, now-atMs))/1000*b.PerSecond)
}

// useUsage takes c's counts (capability 7's, and pages printed and
// scanned) from the device's buckets in d
// (as of now), keeping each count to what its bucket holds; it reports
// whether any count was cut.
func (d *budgetRow) useUsage(u UsageBudget, c *api.Counted) bool {
	cut := false
	take := func(b Budget, used *float64, n int64) int64 {
		if b.Burst <= 0 || b.PerSecond <= 0 || n <= 0 {
			return n
		}
		got := min(n, max(0, int64(b.Burst-*used)))
		*used += float64(got)
		cut = cut || got < n
		return got
	}
	c.Downloads = int(take(u.Files, &d.downloads, int64(c.Downloads)))
	c.Uploads = int(take(u.Files, &d.uploads, int64(c.Uploads)))
	c.PrintJobs = int(take(u.Files, &d.jobs, int64(c.PrintJobs)))
	c.AssistMs = take(u.AssistMs, &d.assistMs, c.AssistMs)
	c.Prints = int(take(u.Pages, &d.prints, int64(c.Prints)))
	c.Scans = int(take(u.Pages, &d.scans, int64(c.Scans)))
	return cut
}

// take takes n from a bucket holding have tokens as of atMs (0: full),
// and returns what is left, or ok false and how long until n could be taken.
func take(b Budget, have float64, atMs, now int64, n float64) (left float64, ok bool, wait time.Duration) {
	if b.Burst <= 0 || b.PerSecond <= 0 {
		return have, true, 0
	}
	if atMs == 0 {
		have = b.Burst
	} else {
		have = min(b.Burst, have+float64(max(0, now-atMs))/1000*b.PerSecond)
	}
	if have >= n {
		return have - n, true, 0
	}
	fill := time.Duration(b.Burst / b.PerSecond * float64(time.Second))
	if n > b.Burst {
		return have, false, fill
	}
	return have, false, min(fill, time.Duration((n-have)/b.PerSecond*float64(time.Second)))
}

func (s *Store) admitQ(n int) string {
	q := `SELECT id, cred_hash, revoked_unix_ms, budget_unix_ms, budget_reports, budget_sessions,
			budget_downloads, budget_uploads, budget_jobs, budget_assist_ms, budget_prints, budget_scans FROM devices
			WHERE id IN (?` + strings.Repeat(", ?", n-1) + `) ORDER BY id`
	if s.dialect == Postgres {
		q += ` FOR NO KEY UPDATE`
	}
	return q
}

// admit reads (and on PostgreSQL locks, in id order so groups never
// deadlock) the rows of the items' devices, refuses items whose
// credential is no longer the device's or whose budgets cannot pay, and
// returns every admitted device's budgets after the group.
func (s *Store) admit(ctx context.Context, pc *txCache, items []IngestItem, out []IngestResult, now int64) (map[string]*budgetRow, error) {
	type devRow struct {
		cred    string
		revoked int64
		budgetRow
	}
	ids := make([]any, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if !seen[it.DeviceID] {
			seen[it.DeviceID] = true
			ids = append(ids, it.DeviceID)
		}
	}
	rows := make(map[string]*devRow, len(ids))
	for lo := 0; lo < len(ids); lo += chunkRows {
		chunk := ids[lo:min(lo+chunkRows, len(ids))]
		res, err := pc.QueryContext(ctx, s.q(s.admitQ(len(chunk))), chunk...)
		if err != nil {
			return nil, fmt.Errorf("read devices: %w", err)
		}
		for res.Next() {
			var id string
			d := &devRow{}
			if err := res.Scan(&id, &d.cred, &d.revoked, &d.atMs, &d.reports, &d.sessions, &d.downloads, &d.uploads, &d.jobs, &d.assistMs, &d.prints, &d.scans); err != nil {
				res.Close()
				return nil, fmt.Errorf("read devices: %w", err)
			}
			rows[id] = d
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("read devices: %w", err)
		}
	}
	budgets := make(map[string]*budgetRow, len(rows))
	for i, it := range items {
		d := rows[it.DeviceID]
		if d == nil || it.CredHash != "" && (d.revoked != 0 || !credential.Equal(d.cred, it.CredHash)) {
			out[i].Refused = ErrCredentialWithdrawn
			continue
		}
		reports, sessions := float64(len(it.Batch.Reports)), float64(BatchSessions(it.Batch))
		if reports > 0 {
			r, ok1, w1 := take(it.Reports, d.reports, d.atMs, now, reports)
			sess, ok2, w2 := take(it.Sessions, d.sessions, d.atMs, now, sessions)
			if !ok1 || !ok2 {
				out[i].Refused, out[i].Wait = ErrOverBudget, max(w1, w2)
				continue
			}
			if it.Reports.Burst > 0 || it.Sessions.Burst > 0 || it.Usage.set() {
				// The usage buckets refilled to now with the others; the
				// receipts take from them (insertReceipts).
				u := it.Usage
				d.downloads, d.uploads = refill(u.Files, d.downloads, d.atMs, now), refill(u.Files, d.uploads, d.atMs, now)
				d.jobs, d.assistMs = refill(u.Files, d.jobs, d.atMs, now), refill(u.AssistMs, d.assistMs, d.atMs, now)
				d.prints, d.scans = refill(u.Pages, d.prints, d.atMs, now), refill(u.Pages, d.scans, d.atMs, now)
				d.reports, d.sessions, d.atMs = r, sess, now
			}
		}
		budgets[it.DeviceID] = &d.budgetRow
	}
	return budgets, nil
}

// Multi-row statements share one statement's overhead among many rows;
// chunks stay far below SQLite's and PostgreSQL's parameter limits.
const (
	reportCols  = 20
	receiptCols = 14
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
			session_ms, reset_ms, reason, assisted, category, outcome, cleared, failed, prints)
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
	if receipts > 0 {
		qs = append(qs, qHourReceipts)
	}
	devices := map[string]bool{}
	for _, it := range items {
		devices[it.DeviceID] = true
	}
	if len(devices) >= chunkRows {
		qs = append(qs, s.admitQ(chunkRows))
	}
	if len(devices)%chunkRows > 0 {
		qs = append(qs, s.admitQ(len(devices)%chunkRows))
	}
	for _, q := range qs {
		if s.stmts.peek(q) == nil {
			if err := s.stmts.prepare(ctx, s.w, q); err != nil {
				return
			}
		}
	}
}

// reportRow is one report of an ingest item.
type reportRow struct {
	item int // index in the items
	it   *IngestItem
	r    *api.Report
}

// itemTally is what insertReceipts tells of one item's receipts: how many
// were over its hourly bound (not stored), how many identifiers were not
// counted, and how many receipts' usage counts its budget cut.
type itemTally struct{ dropped, uncounted, clamped int }

// insertReports inserts every report of items with multi-row INSERTs, and
// the receipts of those that were not held before (counting their
// sessions for Insights, their usage counts taken from budgets); it
// returns those reports and a tally per item.
func (s *Store) insertReports(ctx context.Context, pc *txCache, items []IngestItem, budgets map[string]*budgetRow, now int64) (map[reportKey]bool, []itemTally, error) {
	var rows []reportRow
	for i := range items {
		for ri := range items[i].Batch.Reports {
			rows = append(rows, reportRow{i, &items[i], &items[i].Batch.Reports[ri]})
		}
	}
	fresh, err := s.insertReportRows(ctx, pc, rows, now)
	if err != nil {
		return nil, nil, err
	}
	tally := make([]itemTally, len(items))
	if err := s.insertReceipts(ctx, pc, rows, fresh, budgets, tally); err != nil {
		return nil, nil, err
	}
	return fresh, tally, nil
}

// insertReportRows inserts rows' reports, ignoring those already held,
// and returns the ones it inserted.
func (s *Store) insertReportRows(ctx context.Context, pc *txCache, rows []reportRow, now int64) (map[reportKey]bool, error) {
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
	return fresh, nil
}

// insertReceipts inserts the receipts of the fresh reports among rows. A
// receipt whose clock hour already holds its item's SessionsPerHour
// receipts of the device (stored before, or earlier in this group) is not
// stored; dropped[item] counts them. Each stored receipt's session is
// counted for Insights, its identifiers filtered by the vocabulary first
// (uncounted counts those left out) and its usage counts taken from the
// device's budget (clamped counts the receipts cut).
func (s *Store) insertReceipts(ctx context.Context, pc *txCache, rows []reportRow, fresh map[reportKey]bool, budgets map[string]*budgetRow, tally []itemTally) error {
	ins := s.newInsightAgg()
	type hourKey struct {
		device string
		hour   int64
	}
	held := map[hourKey]int{}
	args := make([]any, 0, chunkRows*receiptCols)
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
	const hourMs = int64(time.Hour / time.Millisecond)
	for _, x := range rows {
		if !fresh[reportKey{x.it.DeviceID, x.r.ID}] {
			continue
		}
		for ci, rc := range x.r.Receipts {
			ended := rc.EndedUnixMs
			if ended == 0 {
				ended = x.r.CreatedUnixMs
			}
			if limit := x.it.SessionsPerHour; limit > 0 {
				k := hourKey{x.it.DeviceID, ended - ended%hourMs}
				have, ok := held[k]
				if !ok {
					if err := pc.QueryRowContext(ctx, s.q(qHourReceipts), k.device, k.hour, k.hour+hourMs).Scan(&have); err != nil {
						return fmt.Errorf("count receipts of %s: %w", k.device, err)
					}
				}
				if have >= limit {
					held[k] = have
					tally[x.item].dropped++
					continue
				}
				held[k] = have + 1
			}
			if b := budgets[x.it.DeviceID]; b != nil && rc.Counted != nil && x.it.Usage.set() && (rc.Counted.Usage() || rc.Counted.Prints != 0 || rc.Counted.Scans != 0) {
				c := *rc.Counted
				if b.useUsage(x.it.Usage, &c) {
					tally[x.item].clamped++
				}
				rc.Counted = &c
			}
			tally[x.item].uncounted += ins.add(x.it.DeviceID, x.it.SiteID, &rc, ended)
			args = append(args, x.it.DeviceID, x.r.ID, ci, x.it.SiteID, ended, rc.SessionMs, rc.ResetMs,
				rc.Reason, b2i(rc.Assisted), rc.Category, rc.Outcome, strings.Join(rc.Cleared, ","), strings.Join(rc.Failed, ","), receiptPrints(&rc))
			if n++; n == chunkRows {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return s.writeInsights(ctx, pc, ins)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// receiptPrints is the pages a session printed (Counted.Prints; 0 from
// kiosks that count nothing or have no printer).
func receiptPrints(rc *api.Receipt) int {
	if rc.Counted == nil {
		return 0
	}
	return rc.Counted.Prints
}

package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/insights"
)

// The Insights counts (issue 20). Every stored wipe receipt adds its
// session to tables of counts, in the same transaction as the receipt, at
// exactly the detail the figures need (insights.Input's Cells, Blocks and
// whole months' Items):
//
//   - insight_cells: per site, local month, day of the week and clock hour
//     the session started in: sessions (the heat map; in or out of
//     opening hours);
//   - insight_blocks: per site, local month and block of its days (1-7,
//     8-14, 15-21, 22 to the end): sessions, assisted, outcomes, pages
//     scanned and printed, print jobs, files downloaded and uploaded,
//     remote-help sessions and their length (migration 9 for jobs, files
//     and length), and (kept, not yet shown) rounded minutes;
//   - insight_items: per site, local month, kind ("service", "tile",
//     "guide", "feature", "language", "category") and identifier: the
//     sessions that used it.
//
// Only identifiers of the configured Vocabulary reach them; the others are
// dropped before anything is stored and counted per kiosk, day and kind in
// insight_dropped. Nothing in these tables names a session, a day or a
// time finer than an hour of a weekday of a month, or anything a resident
// typed or visited; what one session used is added to monthly totals, so
// the database cannot say which things a session used together.
var insightsMigration = []string{
	`ALTER TABLE sites ADD COLUMN opening_hours TEXT NOT NULL DEFAULT ''`,
	`CREATE TABLE insight_cells (
		site_id TEXT NOT NULL,
		month BIGINT NOT NULL,
		weekday BIGINT NOT NULL,
		hour BIGINT NOT NULL,
		sessions BIGINT NOT NULL,
		PRIMARY KEY (site_id, month, weekday, hour)
	) {{WITHOUT_ROWID}}`,
	// All sites' cells of a period, read from the index alone.
	`CREATE INDEX insight_cells_month ON insight_cells(month, site_id, weekday, hour, sessions)`,
	`CREATE TABLE insight_blocks (
		site_id TEXT NOT NULL,
		month BIGINT NOT NULL,
		block BIGINT NOT NULL,
		sessions BIGINT NOT NULL,
		assisted BIGINT NOT NULL,
		done BIGINT NOT NULL,
		follow_up BIGINT NOT NULL,
		referred BIGINT NOT NULL,
		minutes BIGINT NOT NULL,
		scans BIGINT NOT NULL,
		prints BIGINT NOT NULL,
		assists BIGINT NOT NULL,
		PRIMARY KEY (site_id, month, block)
	) {{WITHOUT_ROWID}}`,
	`CREATE TABLE insight_items (
		site_id TEXT NOT NULL,
		month BIGINT NOT NULL,
		dim TEXT NOT NULL,
		item TEXT NOT NULL,
		sessions BIGINT NOT NULL,
		PRIMARY KEY (site_id, month, dim, item)
	) {{WITHOUT_ROWID}}`,
	`CREATE INDEX insight_items_dim_month ON insight_items(dim, month, site_id, item, sessions)`,
	`CREATE TABLE insight_dropped (
		device_id TEXT NOT NULL,
		day BIGINT NOT NULL,
		kind TEXT NOT NULL,
		n BIGINT NOT NULL,
		PRIMARY KEY (device_id, day, kind)
	)`,
	`CREATE INDEX insight_dropped_day ON insight_dropped(day)`,
}

// InsightsConfig is how the store counts sessions for Insights.
type InsightsConfig struct {
	// Zone gives the council's local dates and hours (nil: time.Local).
	Zone *time.Location
	// Vocabulary is what is counted; identifiers outside it are dropped
	// (the zero Vocabulary counts none; DefaultInsights uses
	// api.DefaultVocabulary).
	Vocabulary api.Vocabulary
	// KeepMonths is how many months of counts Prune keeps, the current
	// one included (0: 36).
	KeepMonths int
}

// DefaultInsights is what a store counts with until SetInsights: the
// server's time zone and api.DefaultVocabulary.
func DefaultInsights() InsightsConfig {
	return InsightsConfig{Zone: time.Local, Vocabulary: api.DefaultVocabulary(), KeepMonths: 36}
}

// SetInsights sets how sessions are counted from now on.
func (s *Store) SetInsights(c InsightsConfig) {
	if c.Zone == nil {
		c.Zone = time.Local
	}
	if c.KeepMonths <= 0 {
		c.KeepMonths = 36
	}
	s.ins.Store(&c)
}

func (s *Store) insights() *InsightsConfig {
	if c := s.ins.Load(); c != nil {
		return c
	}
	c := DefaultInsights()
	s.ins.CompareAndSwap(nil, &c)
	return s.ins.Load()
}

// dayNum is a local date as yyyymmdd; monthNum a local month as yyyymm.
func dayNum(t time.Time) int64 {
	y, m, d := t.Date()
	return int64(y*10000 + int(m)*100 + d)
}

func dateNum(d insights.Date) int64 { return int64(d.Year*10000 + int(d.Month)*100 + d.Day) }

func monthOf(d insights.Date) int64 { return int64(d.Year*100 + int(d.Month)) }

func numDate(n int64) insights.Date {
	return insights.Date{Year: int(n / 10000), Month: time.Month(n / 100 % 100), Day: int(n % 100)}
}

type cellKey struct {
	site                 string
	month, weekday, hour int64
}

type blockKey struct {
	site         string
	month, block int64
}

type blockCounts struct {
	sessions, assisted, done, followUp, referred, minutes, scans, prints, assists int64
	printJobs, downloads, uploads, assistMs                                       int64
}

type itemKey struct {
	site    string
	month   int64
	dim, id string
}

type dropKey struct {
	device string
	day    int64
	kind   string
}

// insightAgg adds up one group commit's receipts before they are written:
// a few upserts per commit instead of several per receipt.
type insightAgg struct {
	cfg    *InsightsConfig
	cells  map[cellKey]int64
	blocks map[blockKey]*blockCounts
	items  map[itemKey]int64
	drops  map[dropKey]int64
}

func (s *Store) newInsightAgg() *insightAgg {
	return &insightAgg{cfg: s.insights(), cells: map[cellKey]int64{}, blocks: map[blockKey]*blockCounts{}, items: map[itemKey]int64{}, drops: map[dropKey]int64{}}
}

const hourMs = int64(time.Hour / time.Millisecond)

// add filters rc against the vocabulary (in place: rc is the caller's
// copy, stored after this) and counts its session, which ended at ended,
// for site; it returns how many identifiers were dropped, which are
// counted against device.
func (a *insightAgg) add(device, site string, rc *api.Receipt, ended int64) int {
	dropped := 0
	endDay := dayNum(time.UnixMilli(ended).In(a.cfg.Zone))
	a.cfg.Vocabulary.FilterReceipt(rc, func(kind string) {
		dropped++
		a.drops[dropKey{device, endDay, kind}]++
	})
	start, minutes := ended-rc.SessionMs, (rc.SessionMs+150_000)/300_000*5
	c := rc.Counted
	if c != nil {
		start, minutes = c.StartedHourUnixMs, int64(c.Minutes)
	}
	// A clock that jumped, or a start the server dated later (a receipt
	// from the future is dated now): never after the end, nor more than a
	// day before it (an agent before capability 5 may send any length).
	if start > ended || ended-start > 25*hourMs {
		start = ended
	}
	t := time.UnixMilli(start - start%hourMs).In(a.cfg.Zone)
	date := insights.DateOf(t)
	month := monthOf(date)
	a.cells[cellKey{site, month, int64(date.Weekday()), int64(t.Hour())}]++
	bk := blockKey{site, month, int64(insights.BlockOf(date))}
	h := a.blocks[bk]
	if h == nil {
		h = &blockCounts{}
		a.blocks[bk] = h
	}
	h.sessions++
	h.minutes += minutes
	item := func(dim insights.Dimension, id string) { a.items[itemKey{site, month, string(dim), id}]++ }
	if rc.Assisted {
		h.assisted++
		switch rc.Outcome {
		case api.OutcomeDone:
			h.done++
		case api.OutcomeFollowUp:
			h.followUp++
		case api.OutcomeReferred:
			h.referred++
		}
		if rc.Category != "" {
			item(insights.Categories, rc.Category)
		}
	}
	if c == nil {
		return dropped
	}
	h.scans += int64(c.Scans)
	h.prints += int64(c.Prints)
	h.assists += int64(c.Assists)
	// Capability 7's counts, held to what one session can have (api
	// validates the same; a store fed otherwise still keeps to it).
	h.printJobs += int64(min(max(c.PrintJobs, 0), api.MaxCountedFiles))
	h.downloads += int64(min(max(c.Downloads, 0), api.MaxCountedFiles))
	h.uploads += int64(min(max(c.Uploads, 0), api.MaxCountedFiles))
	h.assistMs += min(max(c.AssistMs, 0), api.MaxAssistMs(c.Minutes))
	for _, l := range []struct {
		dim insights.Dimension
		ids []string
	}{{insights.Services, c.Services}, {insights.Tiles, c.Tiles}, {insights.Guides, c.Guides}, {insights.Languages, c.Languages}} {
		for _, id := range l.ids {
			item(l.dim, id)
		}
	}
	features := slices.Clone(c.Features)
	for _, f := range []struct {
		n  int
		id string
	}{{c.Scans, api.FeatureScan}, {c.Prints + c.PrintJobs, api.FeaturePrint}, {c.Assists + int(min(c.AssistMs, 1)), api.FeatureRemoteHelp},
		{c.Uploads, api.FeatureUpload}, {c.Downloads, api.FeatureDownload}} {
		if f.n > 0 && !slices.Contains(features, f.id) {
			features = append(features, f.id)
		}
	}
	for _, id := range features {
		item(insights.Features, id)
	}
	return dropped
}

// The upserts, in key order: several ingest workers (PostgreSQL) add to
// the same rows, and taking row locks in one order keeps them from
// deadlocking.
func (s *Store) writeInsights(ctx context.Context, pc *txCache, a *insightAgg) error {
	exec := func(cols int, insert, conflict string) func(rows int, args []any) error {
		return func(rows int, args []any) error {
			_, err := pc.ExecContext(ctx, s.q(insert+` VALUES `+s.values(rows, cols)+` `+conflict), args...)
			return err
		}
	}
	err := upsertSorted(a.cells, func(x, y cellKey) int {
		return cmp.Or(strings.Compare(x.site, y.site), cmp.Compare(x.month, y.month), cmp.Compare(x.weekday, y.weekday), cmp.Compare(x.hour, y.hour))
	}, func(k cellKey, n int64) []any { return []any{k.site, k.month, k.weekday, k.hour, n} },
		exec(5, `INSERT INTO insight_cells (site_id, month, weekday, hour, sessions)`,
			`ON CONFLICT (site_id, month, weekday, hour) DO UPDATE SET sessions = insight_cells.sessions + excluded.sessions`))
	if err != nil {
		return fmt.Errorf("count sessions: %w", err)
	}
	err = upsertSorted(a.blocks, func(x, y blockKey) int {
		return cmp.Or(strings.Compare(x.site, y.site), cmp.Compare(x.month, y.month), cmp.Compare(x.block, y.block))
	}, func(k blockKey, h *blockCounts) []any {
		return []any{k.site, k.month, k.block, h.sessions, h.assisted, h.done, h.followUp, h.referred, h.minutes, h.scans, h.prints, h.assists,
			h.printJobs, h.downloads, h.uploads, h.assistMs}
	}, exec(16, `INSERT INTO insight_blocks (site_id, month, block, sessions, assisted, done, follow_up, referred, minutes, scans, prints, assists,
			print_jobs, downloads, uploads, assist_ms)`,
		`ON CONFLICT (site_id, month, block) DO UPDATE SET
				sessions = insight_blocks.sessions + excluded.sessions, assisted = insight_blocks.assisted + excluded.assisted,
				done = insight_blocks.done + excluded.done, follow_up = insight_blocks.follow_up + excluded.follow_up,
				referred = insight_blocks.referred + excluded.referred, minutes = insight_blocks.minutes + excluded.minutes,
				scans = insight_blocks.scans + excluded.scans, prints = insight_blocks.prints + excluded.prints,
				assists = insight_blocks.assists + excluded.assists, print_jobs = insight_blocks.print_jobs + excluded.print_jobs,
				downloads = insight_blocks.downloads + excluded.downloads, uploads = insight_blocks.uploads + excluded.uploads,
				assist_ms = insight_blocks.assist_ms + excluded.assist_ms`))
	if err != nil {
		return fmt.Errorf("count sessions: %w", err)
	}
	err = upsertSorted(a.items, func(x, y itemKey) int {
		return cmp.Or(strings.Compare(x.site, y.site), cmp.Compare(x.month, y.month), strings.Compare(x.dim, y.dim), strings.Compare(x.id, y.id))
	}, func(k itemKey, n int64) []any { return []any{k.site, k.month, k.dim, k.id, n} },
		exec(5, `INSERT INTO insight_items (site_id, month, dim, item, sessions)`,
			`ON CONFLICT (site_id, month, dim, item) DO UPDATE SET sessions = insight_items.sessions + excluded.sessions`))
	if err != nil {
		return fmt.Errorf("count identifiers: %w", err)
	}
	err = upsertSorted(a.drops, func(x, y dropKey) int {
		return cmp.Or(strings.Compare(x.device, y.device), cmp.Compare(x.day, y.day), strings.Compare(x.kind, y.kind))
	}, func(k dropKey, n int64) []any { return []any{k.device, k.day, k.kind, n} },
		exec(4, `INSERT INTO insight_dropped (device_id, day, kind, n)`,
			`ON CONFLICT (device_id, day, kind) DO UPDATE SET n = insight_dropped.n + excluded.n`))
	if err != nil {
		return fmt.Errorf("count dropped identifiers: %w", err)
	}
	return nil
}

// upsertSorted hands the rows of m, in the order compare gives their keys,
// to exec in chunks of at most chunkRows (row gives a key's values).
func upsertSorted[K comparable, V any](m map[K]V, compare func(x, y K) int, row func(K, V) []any, exec func(rows int, args []any) error) error {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compare)
	return chunked(len(keys), func(lo, hi int) error {
		var args []any
		for _, k := range keys[lo:hi] {
			args = append(args, row(k, m[k])...)
		}
		return exec(hi-lo, args)
	})
}

// chunked calls fn on [lo, hi) chunks of n of at most chunkRows.
func chunked(n int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += chunkRows {
		if err := fn(lo, min(lo+chunkRows, n)); err != nil {
			return err
		}
	}
	return nil
}

// SetSiteHours sets a site's opening hours (a zero Week clears them).
// ErrNotFound for an unknown site.
func (s *Store) SetSiteHours(ctx context.Context, site string, w insights.Week) error {
	if err := w.Validate(); err != nil {
		return fmt.Errorf("opening hours of %s: %w", site, err)
	}
	text, err := w.MarshalText()
	if err != nil {
		return fmt.Errorf("opening hours of %s: %w", site, err)
	}
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE sites SET opening_hours = ? WHERE id = ?`), string(text), site)
	if err != nil {
		return fmt.Errorf("opening hours of %s: %w", site, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("opening hours of %s: %w", site, ErrNotFound)
	}
	return nil
}

// InsightSites lists every site as Insights needs it (id, name, opening
// hours), ordered by name.
func (s *Store) InsightSites(ctx context.Context) ([]insights.Site, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, opening_hours FROM sites ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("insights sites: %w", err)
	}
	defer rows.Close()
	var out []insights.Site
	for rows.Next() {
		var st insights.Site
		var hours string
		if err := rows.Scan(&st.ID, &st.Name, &hours); err != nil {
			return nil, fmt.Errorf("insights sites: %w", err)
		}
		if err := st.Hours.UnmarshalText([]byte(hours)); err != nil {
			return nil, fmt.Errorf("insights sites: the stored opening hours of %s: %w", st.ID, err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// InsightCells reads the sessions counted per site ("" = every site),
// month, weekday and hour, for the months from from's up to (not
// including) to's month (to is the 1st of a month).
func (s *Store) InsightCells(ctx context.Context, site string, from, to insights.Date) ([]insights.CellCount, error) {
	// One row per site and month, its cells as text, "A;A;...", each
	// A = weekday·24 + hour + 256·sessions: an all-sites year is some
	// 100,000 cells, and a row read costs more than what it holds.
	cell := `weekday * 24 + hour + 256 * sessions`
	agg := `group_concat(` + cell + `, ';')`
	if s.dialect == Postgres {
		agg = `string_agg((` + cell + `)::text, ';')`
	}
	q := `SELECT site_id, month, ` + agg + ` FROM insight_cells WHERE month >= ? AND month < ?`
	args := []any{monthOf(from), monthOf(to)}
	if site != "" {
		q += ` AND site_id = ? GROUP BY site_id, month`
		args = append(args, site)
	} else {
		q += ` GROUP BY month, site_id`
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("insights cells: %w", err)
	}
	defer rows.Close()
	var out []insights.CellCount
	var month int64
	var id, cells string
	for rows.Next() {
		if err := rows.Scan(&id, &month, &cells); err != nil {
			return nil, fmt.Errorf("insights cells: %w", err)
		}
		m := insights.Date{Year: int(month / 100), Month: time.Month(month % 100), Day: 1}
		for cells != "" {
			var c string
			c, cells, _ = strings.Cut(cells, ";")
			a, err := strconv.ParseInt(c, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("insights cells: %s %d: unreadable %q", id, month, c)
			}
			out = append(out, insights.CellCount{Site: id, Month: m, Weekday: int(a&255) / 24, Hour: int(a&255) % 24, Sessions: int(a >> 8)})
		}
	}
	return out, rows.Err()
}

// InsightBlocks reads the sessions, assisted sessions, outcomes and usage
// (pages, jobs, files, remote help and its minutes) counted per site
// ("" = every site), month and block of days, for the months from from's
// up to (not including) to's month.
func (s *Store) InsightBlocks(ctx context.Context, site string, from, to insights.Date) ([]insights.BlockCount, error) {
	q := `SELECT site_id, month, block, sessions, assisted, done, follow_up, referred,
		prints, print_jobs, scans, uploads, downloads, assists, assist_ms FROM insight_blocks WHERE month >= ? AND month < ?`
	args := []any{monthOf(from), monthOf(to)}
	if site != "" {
		q += ` AND site_id = ?`
		args = append(args, site)
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("insights blocks: %w", err)
	}
	defer rows.Close()
	var out []insights.BlockCount
	var month, block, n, a, d, f, r, assistMs int64
	for rows.Next() {
		var b insights.BlockCount
		u := &b.Usage
		if err := rows.Scan(&b.Site, &month, &block, &n, &a, &d, &f, &r,
			&u.Prints, &u.PrintJobs, &u.Scans, &u.Uploads, &u.Downloads, &u.Assists, &assistMs); err != nil {
			return nil, fmt.Errorf("insights blocks: %w", err)
		}
		b.Month = insights.Date{Year: int(month / 100), Month: time.Month(month % 100), Day: 1}
		b.Block, b.Sessions, b.Assisted, b.Done, b.FollowUp, b.Referred = int(block), int(n), int(a), int(d), int(f), int(r)
		u.AssistMinutes = int((assistMs + 30_000) / 60_000)
		out = append(out, b)
	}
	return out, rows.Err()
}

// InsightItems reads the sessions that used each identifier of dim per
// site ("" = every site) and month, for the months from from's up to (not
// including) to's month (to is the 1st of a month). Each entry counts a
// whole month (insights.ItemCount.Month).
func (s *Store) InsightItems(ctx context.Context, site string, dim insights.Dimension, from, to insights.Date) ([]insights.ItemCount, error) {
	// One row per site and month, its identifiers as "ID N;ID N" (an
	// identifier has no space or ';': api.Vocabulary.Check).
	agg := `group_concat(item || ' ' || sessions, ';')`
	if s.dialect == Postgres {
		agg = `string_agg(item || ' ' || sessions, ';')`
	}
	q := `SELECT site_id, month, ` + agg + ` FROM insight_items WHERE dim = ? AND month >= ? AND month < ?`
	args := []any{string(dim), monthOf(from), monthOf(to)}
	if site != "" {
		q += ` AND site_id = ? GROUP BY site_id, month`
		args = append(args, site)
	} else {
		q += ` GROUP BY month, site_id`
	}
	rows, err := s.r.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("insights %s counts: %w", dim, err)
	}
	defer rows.Close()
	var out []insights.ItemCount
	var month int64
	var id, list string
	for rows.Next() {
		if err := rows.Scan(&id, &month, &list); err != nil {
			return nil, fmt.Errorf("insights %s counts: %w", dim, err)
		}
		m := insights.Date{Year: int(month / 100), Month: time.Month(month % 100), Day: 1}
		for list != "" {
			var e string
			e, list, _ = strings.Cut(list, ";")
			item, ns, _ := strings.Cut(e, " ")
			n, err := strconv.Atoi(ns)
			if err != nil {
				return nil, fmt.Errorf("insights %s counts: %s %d: unreadable %q", dim, id, month, e)
			}
			out = append(out, insights.ItemCount{Site: id, Date: m, Month: true, Dim: dim, ID: item, Sessions: n})
		}
	}
	return out, rows.Err()
}

// InsightsInput reads everything insights.Build needs for site ("" = all
// sites) over the months from from's up to to (the 1st of the month
// after the last): every site with its opening hours, the sessions per
// month, weekday and hour (Cells), per month and block (Blocks), and per
// month and identifier (Items; one query each, run side by side), and the
// vocabulary's labels.
func (s *Store) InsightsInput(ctx context.Context, site string, from, to insights.Date) (*insights.Input, error) {
	from = insights.Date{Year: from.Year, Month: from.Month, Day: 1}
	in := &insights.Input{Labels: Labels(s.insights().Vocabulary)}
	var wg sync.WaitGroup
	errs := make([]error, 3+len(insights.Dimensions))
	run := func(i int, fn func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn() }()
	}
	run(0, func() (err error) { in.Sites, err = s.InsightSites(ctx); return })
	run(1, func() (err error) { in.Cells, err = s.InsightCells(ctx, site, from, to); return })
	run(2, func() (err error) { in.Blocks, err = s.InsightBlocks(ctx, site, from, to); return })
	items := make([][]insights.ItemCount, len(insights.Dimensions))
	for i, d := range insights.Dimensions {
		run(3+i, func() (err error) { items[i], err = s.InsightItems(ctx, site, d, from, to); return })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, it := range items {
		in.Items = append(in.Items, it...)
	}
	if site != "" && !slices.ContainsFunc(in.Sites, func(st insights.Site) bool { return st.ID == site }) {
		return nil, fmt.Errorf("insights: site %q: %w", site, ErrNotFound)
	}
	return in, nil
}

// InsightsLabels are the words of the store's vocabulary (Labels).
func (s *Store) InsightsLabels() map[insights.Dimension]map[string]string {
	return Labels(s.insights().Vocabulary)
}

// Labels are a vocabulary's words per insights dimension, features
// included.
func Labels(v api.Vocabulary) map[insights.Dimension]map[string]string {
	features := map[string]string{}
	for _, f := range api.FeatureLabels {
		features[f.ID] = f.Label
	}
	return map[insights.Dimension]map[string]string{
		insights.Services: v.Services, insights.Tiles: v.Tiles, insights.Guides: v.Guides,
		insights.Features: features, insights.Languages: v.Languages, insights.Categories: v.Categories,
	}
}

// DroppedRow is how many identifiers a kiosk sent that the fleet does
// not count, by kind, over some days.
type DroppedRow struct {
	DeviceID, Hostname, Site string
	Kind                     string
	N                        int64
}

// InsightsDropped lists the identifiers dropped on ingest from the local
// dates from up to to, per kiosk and kind, most first.
func (s *Store) InsightsDropped(ctx context.Context, from, to insights.Date) ([]DroppedRow, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT x.device_id, COALESCE(d.hostname, ''), COALESCE(d.site_id, ''), x.kind, SUM(x.n)
		FROM insight_dropped x LEFT JOIN devices d ON d.id = x.device_id WHERE x.day >= ? AND x.day < ?
		GROUP BY x.device_id, d.hostname, d.site_id, x.kind`), dateNum(from), dateNum(to))
	if err != nil {
		return nil, fmt.Errorf("dropped identifiers: %w", err)
	}
	defer rows.Close()
	var out []DroppedRow
	for rows.Next() {
		var r DroppedRow
		if err := rows.Scan(&r.DeviceID, &r.Hostname, &r.Site, &r.Kind, &r.N); err != nil {
			return nil, fmt.Errorf("dropped identifiers: %w", err)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].N > out[j].N || out[i].N == out[j].N && (out[i].DeviceID < out[j].DeviceID || out[i].DeviceID == out[j].DeviceID && out[i].Kind < out[j].Kind)
	})
	return out, rows.Err()
}

// pruneInsights deletes counts of months older than the KeepMonths
// months up to now (whole months, so a month's tables agree).
func (s *Store) pruneInsights(ctx context.Context) error {
	c := s.insights()
	now := s.now().In(c.Zone)
	first := time.Date(now.Year(), now.Month()-time.Month(c.KeepMonths-1), 1, 12, 0, 0, 0, c.Zone)
	cut := dayNum(first)
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM insight_cells WHERE month < ?`, cut / 100},
		{`DELETE FROM insight_blocks WHERE month < ?`, cut / 100},
		{`DELETE FROM insight_items WHERE month < ?`, cut / 100},
		{`DELETE FROM insight_dropped WHERE day < ?`, cut},
	} {
		if _, err := s.w.ExecContext(ctx, s.q(q.sql), q.arg); err != nil {
			return fmt.Errorf("prune insights: %w", err)
		}
	}
	return nil
}

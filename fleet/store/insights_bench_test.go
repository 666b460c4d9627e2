package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// benchCouncil is what the Insights benchmark seeds: two years of sessions
// of 200 kiosks, as the store's tables hold them after ingest.
type benchCouncil struct {
	sites, kiosksPerSite int
	from                 insights.Date // first day
	days                 int
}

// seed fills the insight tables as ingesting the council's receipts would,
// from the sessions of its kiosks per site, day and opening hour (about
// 2.5 an hour each, busier on Tuesday mornings; a third assisted): per
// site and month the cells (weekday, hour) and blocks of days, and the
// sessions that used each identifier (a vocabulary of 20 services, 15
// tiles, 10 guides, 6 features, 4 languages and 9 categories). With daily
// it also fills bench_hours_daily and bench_items_daily, the same counts
// per day and hour and per day and identifier: the alternative the store
// does not take. It returns the rows of each.
func (c benchCouncil) seed(b *testing.B, s *store.Store, daily bool) (cells, blocks, items, dailyHours, dailyItems int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(2026, 20))
	vocab := map[insights.Dimension]int{insights.Services: 20, insights.Tiles: 15, insights.Guides: 10, insights.Features: 6, insights.Languages: 4, insights.Categories: 9}
	chance := map[insights.Dimension]float64{insights.Services: 0.12, insights.Tiles: 0.15, insights.Guides: 0.05, insights.Features: 0.05, insights.Languages: 0.02, insights.Categories: 0.12}
	if daily {
		without := " WITHOUT ROWID"
		if s.Dialect() == store.Postgres {
			without = ""
		}
		if err := s.ExecWriter(ctx, `CREATE TABLE bench_hours_daily (site_id TEXT NOT NULL, day BIGINT NOT NULL, hour BIGINT NOT NULL,
			sessions BIGINT NOT NULL, assisted BIGINT NOT NULL, done BIGINT NOT NULL, follow_up BIGINT NOT NULL, referred BIGINT NOT NULL,
			PRIMARY KEY (site_id, day, hour))`+without); err != nil {
			b.Fatal(err)
		}
		if err := s.ExecWriter(ctx, `CREATE INDEX bench_hours_daily_day ON bench_hours_daily(day, site_id, hour, sessions, assisted, done, follow_up, referred)`); err != nil {
			b.Fatal(err)
		}
		if err := s.ExecWriter(ctx, `CREATE TABLE IF NOT EXISTS bench_items_daily (site_id TEXT NOT NULL, day BIGINT NOT NULL, dim TEXT NOT NULL,
			item TEXT NOT NULL, sessions BIGINT NOT NULL, PRIMARY KEY (site_id, day, dim, item))`); err != nil {
			b.Fatal(err)
		}
		if err := s.ExecWriter(ctx, `CREATE INDEX IF NOT EXISTS bench_items_daily_dim_day ON bench_items_daily(dim, day)`); err != nil {
			b.Fatal(err)
		}
	}
	var cellRows, blockRows, itemRows, dayHourRows, dayRows [][]any
	flush := func(table string, cols int, rows *[][]any, force bool) {
		if len(*rows) < store.ChunkRows && !(force && len(*rows) > 0) {
			return
		}
		var args []any
		for _, r := range *rows {
			args = append(args, r...)
		}
		if err := s.ExecWriter(ctx, `INSERT INTO `+table+` VALUES `+s.Values(len(*rows), cols), args...); err != nil {
			b.Fatal(err)
		}
		*rows = (*rows)[:0]
	}
	for si := range c.sites {
		site := fmt.Sprintf("site-%03d", si)
		if err := s.ExecWriter(ctx, `INSERT INTO sites (id, name, created_unix_ms, opening_hours) VALUES (?, ?, 0, ?)`,
			site, fmt.Sprintf("Library %03d", si), "mon 09:00-17:00; tue 09:00-19:00; wed 09:00-17:00; thu 09:00-17:00; fri 09:00-17:00; sat 10:00-16:00"); err != nil {
			b.Fatal(err)
		}
		month := map[string]int{}
		curMonth := int64(0)
		monthCells := map[[2]int]int{}
		var monthBlocks [4][5]int
		flushMonth := func() {
			if curMonth == 0 {
				return
			}
			keys := make([]string, 0, len(month))
			for k := range month {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				var dim, id string
				fmt.Sscanf(k, "%s %s", &dim, &id)
				itemRows = append(itemRows, []any{site, curMonth, dim, id, month[k]})
				items++
				flush("insight_items", 5, &itemRows, false)
			}
			clear(month)
			ck := make([][2]int, 0, len(monthCells))
			for k := range monthCells {
				ck = append(ck, k)
			}
			slices.SortFunc(ck, func(a, b [2]int) int { return a[0]*24 + a[1] - b[0]*24 - b[1] })
			for _, k := range ck {
				cellRows = append(cellRows, []any{site, curMonth, k[0], k[1], monthCells[k]})
				cells++
				flush("insight_cells", 5, &cellRows, false)
			}
			clear(monthCells)
			for bl, v := range monthBlocks {
				if v[0] > 0 {
					blockRows = append(blockRows, []any{site, curMonth, bl, v[0], v[1], v[2], v[3], v[4], v[0] * 15, 0, v[0] / 10, 0})
					blocks++
					flush("insight_blocks", 12, &blockRows, false)
				}
			}
			monthBlocks = [4][5]int{}
		}
		for d := c.from; d.Before(c.from.AddDays(c.days)); d = d.AddDays(1) {
			if m := monthOf(d); m != curMonth {
				flushMonth()
				curMonth = m
			}
			wd := d.Weekday()
			if wd == 6 {
				continue // closed on Sundays
			}
			open, close := 9, 17
			if wd == 1 {
				close = 19
			}
			if wd == 5 {
				open, close = 10, 16
			}
			day := map[string]int{}
			for h := open; h < close; h++ {
				rate := 2.5
				if wd == 1 && h < 12 {
					rate = 4
				}
				n := 0
				for range c.kiosksPerSite {
					n += int(rate*0.5 + rng.Float64()*rate)
				}
				if n == 0 {
					continue
				}
				assisted := n / 3
				done, fu, ref := assisted/2, assisted/4, assisted/8
				monthCells[[2]int{wd, h}] += n
				bl := &monthBlocks[insights.BlockOf(d)]
				bl[0], bl[1], bl[2], bl[3], bl[4] = bl[0]+n, bl[1]+assisted, bl[2]+done, bl[3]+fu, bl[4]+ref
				if daily {
					dayHourRows = append(dayHourRows, []any{site, dateNum(d), h, n, assisted, done, fu, ref})
					dailyHours++
					flush("bench_hours_daily", 8, &dayHourRows, false)
				}
				left := assisted // a session has one category at most
				for _, dim := range insights.Dimensions {
					for i := range vocab[dim] {
						p := chance[dim] * (1 + float64(i%5)) / 3
						k := 0
						for range n {
							if rng.Float64() < p {
								k++
							}
						}
						if dim == insights.Categories {
							k = min(k, left)
							left -= k
						}
						if k > 0 {
							key := fmt.Sprintf("%s %s-%d", dim, dim, i)
							month[key] += k
							day[key] += k
						}
					}
				}
			}
			if daily {
				keys := make([]string, 0, len(day))
				for k := range day {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					var dim, id string
					fmt.Sscanf(k, "%s %s", &dim, &id)
					dayRows = append(dayRows, []any{site, dateNum(d), dim, id, day[k]})
					dailyItems++
					flush("bench_items_daily", 5, &dayRows, false)
				}
			}
		}
		flushMonth()
	}
	flush("insight_cells", 5, &cellRows, true)
	flush("insight_blocks", 12, &blockRows, true)
	flush("insight_items", 5, &itemRows, true)
	flush("bench_hours_daily", 8, &dayHourRows, true)
	flush("bench_items_daily", 5, &dayRows, true)
	if err := s.ExecWriter(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return
}

// dailyItems is the alternative the store does not take: identifiers kept
// per day, read per day for Build.
func dailyItems(ctx context.Context, s *store.Store, site string, dim insights.Dimension, from, to insights.Date) (int, error) {
	q := `SELECT site_id, day, item, sessions FROM bench_items_daily WHERE dim = ? AND day >= ? AND day < ?`
	args := []any{string(dim), dateNum(from), dateNum(to)}
	if site != "" {
		q += ` AND site_id = ?`
		args = append(args, site)
	}
	rows, err := s.QueryReader(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var it insights.ItemCount
		var day, k int64
		if err := rows.Scan(&it.Site, &day, &it.ID, &k); err != nil {
			return 0, err
		}
		it.Date, it.Sessions = insights.Date{Year: int(day / 10000), Month: time.Month(day / 100 % 100), Day: int(day % 100)}, int(k)
		n++
	}
	return n, rows.Err()
}

// cpuTime is the CPU time this process has used (for SQLite, the whole
// cost of a query; for PostgreSQL, the client's part).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is /proc/loadavg's first number, for the figures' context.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// dailyHours reads the alternative's hours as the store read them when it
// kept hours per day (one row per site and day, its hours as text).
func dailyHours(ctx context.Context, s *store.Store, site string, from, to insights.Date) (int, error) {
	cell := `(hour + 32 * sessions + 4294967296 * assisted) || ' ' || (done + 2097152 * follow_up + 4398046511104 * referred)`
	agg := `group_concat(` + cell + `, ';')`
	if s.Dialect() == store.Postgres {
		agg = `string_agg(` + cell + `, ';')`
	}
	q := `SELECT site_id, day, ` + agg + ` FROM bench_hours_daily WHERE day >= ? AND day < ?`
	args := []any{dateNum(from), dateNum(to)}
	if site != "" {
		q += ` AND site_id = ? GROUP BY site_id, day`
		args = append(args, site)
	} else {
		q += ` GROUP BY day, site_id`
	}
	rows, err := s.QueryReader(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var out []insights.HourCount
	var day int64
	var id, cells string
	for rows.Next() {
		if err := rows.Scan(&id, &day, &cells); err != nil {
			return 0, err
		}
		date := insights.Date{Year: int(day / 10000), Month: time.Month(day / 100 % 100), Day: int(day % 100)}
		for cells != "" {
			var c string
			c, cells, _ = strings.Cut(cells, ";")
			as, bs, _ := strings.Cut(c, " ")
			a, err1 := strconv.ParseInt(as, 10, 64)
			b, err2 := strconv.ParseInt(bs, 10, 64)
			if err1 != nil || err2 != nil {
				return 0, fmt.Errorf("unreadable %q", c)
			}
			out = append(out, insights.HourCount{Site: id, Date: date, Hour: int(a & 31), Sessions: int(a >> 5 & (1<<27 - 1)),
				Assisted: int(a >> 32), Done: int(b & (1<<21 - 1)), FollowUp: int(b >> 21 & (1<<21 - 1)), Referred: int(b >> 42)})
		}
	}
	return len(out), rows.Err()
}

func dateNum(d insights.Date) int64 { return int64(d.Year*10000 + int(d.Month)*100 + d.Day) }

func monthOf(d insights.Date) int64 { return int64(d.Year*100 + int(d.Month)) }

// BenchmarkInsightsQueries times the store's queries behind each Insights
// chart (cells: the heat map, in and out of opening hours, the key
// figures; blocks: assisted share, outcomes, the key figures; with both,
// sites compared; identifiers per month: each ranking) and the whole
// page's input (every query side by side), on SQLite and PostgreSQL, over
// two years of 200 kiosks (50 sites of 4, and 200 sites of 1), for one
// site or all sites, over a month or a financial year; beside the
// alternative of keeping hours and identifiers per day. It reports CPU
// time per query (this process's: for PostgreSQL the client's part), p50
// and p99 in ms and the entries read.
func BenchmarkInsightsQueries(b *testing.B) {
	ctx := context.Background()
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		for _, c := range []benchCouncil{
			{sites: 50, kiosksPerSite: 4, from: insights.Date{Year: 2024, Month: time.April, Day: 1}, days: 730},
			{sites: 200, kiosksPerSite: 1, from: insights.Date{Year: 2024, Month: time.April, Day: 1}, days: 730},
		} {
			b.Run(fmt.Sprintf("%s/sites=%d", dialect, c.sites), func(b *testing.B) {
				var s *store.Store
				var err error
				if dialect == store.SQLite {
					s, err = store.Open(ctx, store.Config{Dialect: store.SQLite, Path: filepath.Join(b.TempDir(), "fleet.db")}, log)
				} else {
					s, err = store.Open(ctx, store.Config{Dialect: store.Postgres, DSN: storetest.Postgres(b)}, log)
				}
				if err != nil {
					b.Fatal(err)
				}
				daily := c.sites == 50
				start := time.Now()
				cells, blocks, items, dayHours, dayItems := c.seed(b, s, daily)
				b.Logf("%s, %d sites × %d kiosks, 2 years: %d cells, %d blocks, %d month×identifier rows; alternative: %d day×hour rows, %d day×identifier rows; seeded in %s; load average %s",
					dialect, c.sites, c.kiosksPerSite, cells, blocks, items, dayHours, dayItems, time.Since(start).Round(time.Second), loadAverage())
				fy := insights.FinancialYear(2025, time.April)
				month := insights.MonthOf(2026, time.February)
				for _, scope := range []struct {
					name, site string
					p          insights.Period
				}{{"site-month", "site-007", month}, {"site-year", "site-007", fy}, {"all-month", "", month}, {"all-year", "", fy}} {
					from, to := scope.p.Start(), scope.p.End()
					type query struct {
						name string
						run  func() (int, error)
					}
					qs := []query{
						{"cells", func() (int, error) { h, err := s.InsightCells(ctx, scope.site, from, to); return len(h), err }},
						{"blocks", func() (int, error) { h, err := s.InsightBlocks(ctx, scope.site, from, to); return len(h), err }},
						{"sites", func() (int, error) { h, err := s.InsightSites(ctx); return len(h), err }},
					}
					for _, d := range insights.Dimensions {
						qs = append(qs, query{"items-" + string(d), func() (int, error) { it, err := s.InsightItems(ctx, scope.site, d, from, to); return len(it), err }})
					}
					qs = append(qs, query{"page", func() (int, error) {
						in, err := s.InsightsInput(ctx, scope.site, from, to)
						if err != nil {
							return 0, err
						}
						return len(in.Cells) + len(in.Blocks) + len(in.Items), nil
					}})
					if daily {
						qs = append(qs, query{"alt-daily-hours", func() (int, error) { return dailyHours(ctx, s, scope.site, from, to) }},
							query{"alt-daily-items-service", func() (int, error) { return dailyItems(ctx, s, scope.site, insights.Services, from, to) }})
					}
					for _, q := range qs {
						b.Run(scope.name+"/"+q.name, func(b *testing.B) {
							var took []time.Duration
							rows := 0
							cpu0 := cpuTime()
							for range b.N {
								t0 := time.Now()
								n, err := q.run()
								if err != nil {
									b.Fatal(err)
								}
								took = append(took, time.Since(t0))
								rows = n
							}
							b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
							slices.Sort(took)
							b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
							b.ReportMetric(float64(took[(len(took)*99)/100].Microseconds())/1000, "p99-ms")
							b.ReportMetric(float64(rows), "rows")
						})
					}
				}
				s.Close()
			})
		}
	}
}

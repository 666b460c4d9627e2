package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
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

// seed fills the insight tables as ingesting the council's receipts would:
// per site, day and opening hour the sessions of its kiosks (about 2.5 an
// hour each, busier on Tuesday mornings; a third assisted), and per site,
// month and identifier the sessions that used it (a vocabulary of 20
// services, 15 tiles, 10 guides, 6 features, 4 languages and 9
// categories). With daily it also fills bench_items_daily, the same
// identifiers per day: the alternative the store does not use.
func (c benchCouncil) seed(b *testing.B, s *store.Store, daily bool) (hours, items, dailyRows int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(2026, 20))
	vocab := map[insights.Dimension]int{insights.Services: 20, insights.Tiles: 15, insights.Guides: 10, insights.Features: 6, insights.Languages: 4, insights.Categories: 9}
	chance := map[insights.Dimension]float64{insights.Services: 0.12, insights.Tiles: 0.15, insights.Guides: 0.05, insights.Features: 0.05, insights.Languages: 0.02, insights.Categories: 0.12}
	if daily {
		if err := s.ExecWriter(ctx, `CREATE TABLE IF NOT EXISTS bench_items_daily (site_id TEXT NOT NULL, day BIGINT NOT NULL, dim TEXT NOT NULL,
			item TEXT NOT NULL, sessions BIGINT NOT NULL, PRIMARY KEY (site_id, day, dim, item))`); err != nil {
			b.Fatal(err)
		}
		if err := s.ExecWriter(ctx, `CREATE INDEX IF NOT EXISTS bench_items_daily_dim_day ON bench_items_daily(dim, day)`); err != nil {
			b.Fatal(err)
		}
	}
	var hourRows, itemRows, dayRows [][]any
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
		flushMonth := func() {
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
				done, fu := assisted/2, assisted/4
				hourRows = append(hourRows, []any{site, dateNum(d), h, n, assisted, done, fu, assisted / 8, n * 15, 0, n / 10, 0})
				hours++
				flush("insight_hours", 12, &hourRows, false)
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
					dailyRows++
					flush("bench_items_daily", 5, &dayRows, false)
				}
			}
		}
		flushMonth()
	}
	flush("insight_hours", 12, &hourRows, true)
	flush("insight_items", 5, &itemRows, true)
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

func dateNum(d insights.Date) int64 { return int64(d.Year*10000 + int(d.Month)*100 + d.Day) }

func monthOf(d insights.Date) int64 { return int64(d.Year*100 + int(d.Month)) }

// BenchmarkInsightsQueries times the store's queries behind each Insights
// chart (sessions per hour: key figures, demand, assisted share, outcomes,
// sites compared; identifiers per month: each ranking) and the whole page's
// input (every query side by side), on SQLite and PostgreSQL, over two
// years of 200 kiosks (50 sites of 4, and 200 sites of 1), for one site or
// all sites, over a month or a financial year; beside the alternative of
// keeping identifiers per day. It reports p50 and p99 in ms and the rows read.
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
				hours, items, dailyRows := c.seed(b, s, daily)
				b.Logf("%s, %d sites × %d kiosks, 2 years: %d hour rows, %d month×identifier rows, %d day×identifier rows (alternative), seeded in %s; load average %s",
					dialect, c.sites, c.kiosksPerSite, hours, items, dailyRows, time.Since(start).Round(time.Second), loadAverage())
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
						{"hours", func() (int, error) { h, err := s.InsightHours(ctx, scope.site, from, to); return len(h), err }},
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
						return len(in.Hours) + len(in.Items), nil
					}})
					if daily {
						qs = append(qs, query{"alt-daily-items-service", func() (int, error) { return dailyItems(ctx, s, scope.site, insights.Services, from, to) }})
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

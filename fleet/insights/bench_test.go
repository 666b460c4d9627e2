package insights

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"
)

// The benchmark's council: 200 kiosks, one per site (the most sites, so
// the most work for the rule), two financial years of hourly cells.
var (
	benchOnce  sync.Once
	benchInput *Input
)

func benchCouncil() *Input {
	benchOnce.Do(func() {
		var sites []seedSite
		for i := 0; i < 200; i++ {
			s := councilSites[i%len(councilSites)]
			sites = append(sites, seedSite{id: fmt.Sprintf("site-%03d", i), name: fmt.Sprintf("%s %d", s.name, i), scale: 2 + float64(i%7)/2, hours: s.hours})
		}
		benchInput = seedInput(2024, sites, Date{2024, time.April, 1}, 24)
	})
	return benchInput
}

// renderPage is what the console does for one Insights page: build the
// figures (validating the input) and write the charts.
func renderPage(b *testing.B, in *Input, site string, p Period, plain bool) {
	months := p.Months()
	var f *Figures
	if plain {
		x, err := in.index(site, months[0].Start(), months[len(months)-1].End())
		if err != nil {
			b.Fatal(err)
		}
		bl := newBuilder(in, x, 5)
		bl.plain = true
		f = bl.figures(bl.release(site, p, months), Options{Site: site, Period: p}, "x", months)
	} else {
		var err error
		if f, err = Build(in, Options{Rule: Rule{K: 5}, Site: site, Period: p, Today: Date{2026, time.April, 1}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.RenderHTML(io.Discard, PageOptions{ExportURL: func(id, format string) string { return id + "." + format }}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInsightsPage renders the Insights page from 200 kiosks' two
// years of hourly cells (about 1.5 million), with the small-number rule
// and, side by side, the same work showing raw counts ("plain"): all
// sites for a financial year (the largest page), and one site for a
// month. It reports the median and 99th percentile of a page.
func BenchmarkInsightsPage(b *testing.B) {
	in := benchCouncil()
	b.Logf("input: %d sites, %d hourly cells, %d identifier counts", len(in.Sites), len(in.Hours), len(in.Items))
	for _, c := range []struct {
		name string
		site string
		p    Period
	}{{"all-sites-year", "", FinancialYear(2025, time.April)}, {"one-site-month", "site-007", MonthOf(2025, time.November)}} {
		for _, plain := range []bool{false, true} {
			name := c.name + "/rule"
			if plain {
				name = c.name + "/plain"
			}
			b.Run(name, func(b *testing.B) {
				var took []time.Duration
				for b.Loop() {
					start := time.Now()
					renderPage(b, in, c.site, c.p, plain)
					took = append(took, time.Since(start))
				}
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "p50-ms")
				b.ReportMetric(float64(took[(len(took)*99)/100].Milliseconds()), "p99-ms")
			})
		}
	}
}

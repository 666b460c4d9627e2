package console_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"accesskiosk/fleet/insights"
)

// TestInsightsUsageInChromium: a month of sessions that printed, scanned,
// uploaded and downloaded files and had remote help (capability 7's
// counts and the pages printed) shows on the console's Insights page in
// real headless Chromium, for a site and for all sites: the sentence and
// the table say what the figures built from the store say (the same
// small-number rule: multiples of 5, "fewer than 5" or "withheld"; the
// tiny site's counts withheld), and the chart's CSV carries them.
func TestInsightsUsageInChromium(t *testing.T) {
	f := startFleet(t)
	month := insightsMonth()
	seedInsights(t, f, month, map[int]int{11: 2, 14: 1})
	ctx := browser(t)
	signIn(t, ctx, f.url, "alice", adminPassword)
	c := signInHTTP(t, f.url, "alice", adminPassword)
	p, err := insights.ParsePeriod(monthKey(month), time.April)
	if err != nil {
		t.Fatal(err)
	}
	for _, site := range []string{"central", ""} {
		in, err := f.st.InsightsInput(context.Background(), site, p.Start(), p.End())
		if err != nil {
			t.Fatal(err)
		}
		want, err := insights.Build(in, insights.Options{Site: site, Period: p, Today: insights.DateOf(time.Now())})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := want.Usage[insights.PagesPrinted].Value(); !ok || v == 0 {
			t.Fatalf("site %q: the seeded month prints nothing to show (%v)", site, want.Usage[insights.PagesPrinted])
		}
		path := "/insights?period=" + monthKey(month)
		if site != "" {
			path += "&site=" + site
		}
		do(t, ctx, "open Insights "+site, chromedp.Navigate(f.url+path), chromedp.WaitVisible(chromedp.ID("ak-usage")),
			chromedp.Click(chromedp.CSS("#ak-usage summary")), chromedp.WaitVisible(chromedp.CSS("#ak-usage table")))
		if got := text(t, ctx, "#ak-usage-h"); got != "Printing, files and remote help" {
			t.Errorf("site %q: heading %q", site, got)
		}
		summary := text(t, ctx, "#ak-usage-summary")
		t.Logf("site %q: %s", site, summary)
		for u, n := range want.Usage {
			name := strings.ToLower(insights.UsageNames[u][:1]) + insights.UsageNames[u][1:]
			say := n.String()
			if n.State() == insights.Shown {
				say = "about " + say
			}
			if !strings.Contains(strings.ToLower(summary), name+": "+say) {
				t.Errorf("site %q: the sentence %q does not say %s: %s", site, summary, name, say)
			}
		}
		table := text(t, ctx, "#ak-usage table")
		if !strings.Contains(table, "Pages printed") || !strings.Contains(table, "Minutes of remote help") {
			t.Errorf("site %q: table %q", site, table)
		}
		checkCounts(t, "usage table "+site, outerHTML(t, ctx, "#ak-usage"))
		if site == "" {
			// Riverside's few sessions printed nothing and used no device:
			// every count of its row is withheld.
			rr, err := chromedp.Run(ctx, chromedp.Evaluate[string](
				`[...document.querySelectorAll("#ak-usage tbody tr")].map(r => r.textContent).find(s => s.includes("Riverside")) || ""`))
			if err != nil || strings.Count(rr, "withheld") != len(insights.UsageIDs) {
				t.Errorf("Riverside's usage row = %q, want every count withheld", rr)
			}
		}

		// The printable report's paragraph says it in words.
		if code, report := c.get(strings.Replace(path, "/insights?", "/insights/report?", 1)); code != http.StatusOK ||
			!strings.Contains(report, "Residents printed about "+want.Usage[insights.PagesPrinted].String()+" pages") {
			t.Errorf("site %q: the report (%d) does not say the pages printed (%v)", site, code, want.Usage[insights.PagesPrinted])
		}

		// The chart's CSV, from the page's own link.
		href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#ak-usage a[href*="usage.csv"]').getAttribute("href")`))
		if err != nil {
			t.Fatalf("site %q: no CSV link: %v", site, err)
		}
		code, body := c.get(href)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", href, code)
		}
		checkCounts(t, "usage.csv "+site, body)
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("usage.csv: %v %q", err, body)
		}
		if got := strings.Join(rows[0], ","); got != "site_id,site,"+strings.Join(insights.UsageIDs[:], ",") {
			t.Errorf("usage.csv header %q", got)
		}
		last := rows[len(rows)-1]
		for u, n := range want.Usage {
			if v, ok := n.Value(); ok && last[2+u] != strconv.Itoa(v) || !ok && n.State() == insights.Withheld && last[2+u] != "withheld" {
				t.Errorf("site %q: usage.csv %s = %q, want %v", site, insights.UsageIDs[u], last[2+u], n)
			}
		}
	}
}

func outerHTML(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+quote(sel)+`).outerHTML`))
	if err != nil {
		t.Fatalf("outerHTML of %s: %v", sel, err)
	}
	return s
}

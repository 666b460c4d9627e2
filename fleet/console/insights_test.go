package console_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/store"
)

// insightsMonth is the month the tests' sessions are in: the month before
// last, which has ended.
func insightsMonth() time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month()-2, 1, 0, 0, 0, 0, time.UTC)
}

func monthKey(m time.Time) string { return m.Format("2006-01") }

// testVocabulary is a council's vocabulary: the kiosk defaults, its home
// tiles and its allowlist rules.
func testVocabulary() api.Vocabulary {
	v := api.DefaultVocabulary()
	v.Tiles = map[string]string{"pay-council-tax": "Pay your council tax", "report-missed-bin": "Report a missed bin",
		"parking-permit": "Apply for a parking permit", "benefits": "Benefits", "council-account": "Your council account"}
	v.Services = map[string]string{"camden": "Camden council website", "gov-uk": "GOV.UK", "universal-credit": "Universal Credit",
		"citizens-advice": "Citizens Advice"}
	return v
}

// counted is the receipt of a session that started at start and lasted
// minutes, with what it used.
func counted(start time.Time, minutes int, c api.Counted) api.Receipt {
	c.StartedHourUnixMs = start.Truncate(time.Hour).UnixMilli()
	c.Minutes = minutes / 5 * 5
	return api.Receipt{Reason: "idle_timeout", Cleared: []string{"web_view", "website_data"}, ResetMs: 140,
		SessionMs: int64(minutes) * 60_000, EndedUnixMs: start.Add(time.Duration(minutes) * time.Minute).UnixMilli(), Counted: &c}
}

// sendReceipts stores receipts as the device's reports, 50 to a report.
func (f *fleet) sendReceipts(t testing.TB, dev, site string, rcs []api.Receipt) {
	t.Helper()
	for i := 0; i < len(rcs); i += api.MaxReceiptsInReport {
		part := rcs[i:min(i+api.MaxReceiptsInReport, len(rcs))]
		at := time.UnixMilli(part[len(part)-1].EndedUnixMs)
		f.reportAt(t, dev, site, at, api.Report{ID: fmt.Sprintf("%s-%d", dev, at.UnixNano()), Health: health("idle", 45, 60),
			Sessions: api.SessionCounts{Ended: len(part)}, Receipts: part})
	}
}

// seedInsights gives f a month of a council's sessions: Central Library
// busy (three kiosks), North Community Hub quieter, Riverside Library
// tiny: only the sessions of small, by hour on the month's first Sunday.
func seedInsights(t testing.TB, f *fleet, month time.Time, small map[int]int) {
	t.Helper()
	ctx := context.Background()
	f.st.SetInsights(store.InsightsConfig{Zone: time.UTC, Vocabulary: testVocabulary()})
	rng := rand.New(rand.NewPCG(20, 26))
	urng := rand.New(rand.NewPCG(20, 27)) // capability 7's counts: their own stream, the rest as it was
	pick := func(p float64, ids ...string) []string {
		var out []string
		for _, id := range ids {
			if rng.Float64() < p {
				out = append(out, id)
			}
		}
		return out
	}
	session := func(start time.Time) api.Receipt {
		c := api.Counted{
			Tiles:    pick(0.25, "pay-council-tax", "report-missed-bin", "parking-permit", "benefits", "council-account"),
			Services: pick(0.3, "camden", "gov-uk", "universal-credit", "citizens-advice"),
			Guides:   pick(0.08, "pay-council-tax", "report-missed-bin", "apply-parking-permit", "create-council-account"),
			Features: pick(0.1, api.FeatureKeyboard, api.FeatureHighContrast, api.FeatureLargeText),
		}
		if rng.Float64() < 0.08 {
			c.Languages = []string{[]string{"cy", "pl"}[rng.IntN(2)]}
		}
		if rng.Float64() < 0.05 {
			c.Prints = 1 + rng.IntN(4)
		}
		if c.Prints > 0 {
			c.PrintJobs = 1 + urng.IntN(2)
		}
		if urng.Float64() < 0.1 {
			c.Uploads = 1 + urng.IntN(3)
		}
		if urng.Float64() < 0.06 {
			c.Downloads = 1 + urng.IntN(2)
		}
		if urng.Float64() < 0.05 {
			c.Scans = 1 + urng.IntN(3)
		}
		minutes := 5 + rng.IntN(40)
		if urng.Float64() < 0.04 {
			c.Assists, c.AssistMs = 1, int64(urng.IntN(minutes/5*5+1))*60_000
		}
		rc := counted(start, minutes, c)
		if rng.Float64() < 0.3 {
			rc.Assisted = true
			rc.Category = []string{"council_tax", "benefits", "housing", "parking", "digital_skills"}[rng.IntN(5)]
			rc.Outcome = []string{api.OutcomeDone, api.OutcomeDone, api.OutcomeFollowUp, api.OutcomeReferred, ""}[rng.IntN(5)]
		}
		return rc
	}
	type kiosk struct {
		site, host string
		open       func(wd time.Weekday, h int) bool
		rate       float64
	}
	weekdays := func(wd time.Weekday, h int) bool { return wd != time.Sunday && h >= 9 && h < 17 }
	for _, k := range []kiosk{
		{"central", "central-1", weekdays, 2.2}, {"central", "central-2", weekdays, 1.6}, {"central", "central-3", weekdays, 1.1},
		{"north", "north-1", func(wd time.Weekday, h int) bool {
			return (wd == time.Tuesday || wd == time.Thursday) && h >= 10 && h < 16
		}, 1.5},
	} {
		dev := f.kioskID(t, k.site, k.host)
		var rcs []api.Receipt
		for d := month; d.Month() == month.Month(); d = d.AddDate(0, 0, 1) {
			for h := 0; h < 24; h++ {
				if !k.open(d.Weekday(), h) {
					continue
				}
				busy := k.rate
				if d.Weekday() == time.Tuesday && h < 12 {
					busy *= 1.8 // Tuesday mornings
				}
				for n := int(busy + rng.Float64()*busy); n > 0; n-- {
					rcs = append(rcs, session(d.Add(time.Duration(h)*time.Hour+time.Duration(rng.IntN(50))*time.Minute)))
				}
			}
		}
		f.sendReceipts(t, dev, k.site, rcs)
	}
	// Riverside: a handful of sessions on the first Sunday (the library
	// was open for an event), and a late session one Saturday.
	dev := f.kioskID(t, "riverside", "riverside-1")
	sunday := month
	for sunday.Weekday() != time.Sunday {
		sunday = sunday.AddDate(0, 0, 1)
	}
	var rcs []api.Receipt
	hours := make([]int, 0, len(small))
	for h := range small {
		hours = append(hours, h)
	}
	slices.Sort(hours)
	for _, h := range hours {
		for i := range small[h] {
			rc := counted(sunday.Add(time.Duration(h)*time.Hour+time.Duration(i)*time.Minute), 15, api.Counted{Guides: []string{"using-this-kiosk"}})
			rcs = append(rcs, rc)
		}
	}
	if len(rcs) > 0 {
		f.sendReceipts(t, dev, "riverside", rcs)
	}
	for site, w := range map[string]insights.Week{
		"central": {{{Open: 540, Close: 1020}}, {{Open: 540, Close: 1020}}, {{Open: 540, Close: 1020}}, {{Open: 540, Close: 1020}}, {{Open: 540, Close: 1020}}, {{Open: 540, Close: 1020}}},
		"north":   {1: {{Open: 600, Close: 960}}, 3: {{Open: 600, Close: 960}}},
	} {
		if err := f.st.SetSiteHours(ctx, site, w); err != nil {
			t.Fatal(err)
		}
	}
}

// kioskID is the kiosk called host, enrolled at site if there is none.
func (f *fleet) kioskID(t testing.TB, site, host string) string {
	t.Helper()
	ds, err := f.st.Devices(context.Background(), store.DeviceFilter{Site: site, Search: host})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Hostname == host {
			return d.ID
		}
	}
	return f.device(t, site, host)
}

// everyOutput fetches everything the fleet gives out about Insights for a
// site ("" = all sites) and month: the page, the report, every chart's
// CSV and JSON, the whole JSON, and the same JSON through the admin API
// with a staff API token.
func everyOutput(t *testing.T, f *fleet, c *client, token, site, period string) map[string]string {
	t.Helper()
	q := url.Values{"period": {period}}
	if site != "" {
		q.Set("site", site)
	}
	out := map[string]string{}
	get := func(name, path string) string {
		t.Helper()
		code, body := c.get(path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		out[name] = body
		return body
	}
	page := get("page", "/insights?"+q.Encode())
	// What the page says about the viewer's own sign-in (how long it has
	// left) is not about Insights.
	out["page"] = sessionInfo.ReplaceAllString(page, "SESSION")
	get("report", "/insights/report?"+q.Encode())
	get("insights.json", "/insights/export/insights.json?"+q.Encode())
	for _, m := range regexp.MustCompile(`href="(/insights/export/([a-z-]+\.(?:csv|json))\?[^"]*)"`).FindAllStringSubmatch(page, -1) {
		get(m[2], strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	req, _ := http.NewRequest(http.MethodGet, f.url+api.PathAdminInsights+"insights.json?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("admin API insights.json: %d %s", res.StatusCode, b)
	}
	out["api insights.json"] = string(b)
	if out["api insights.json"] != out["insights.json"] {
		t.Errorf("the admin API's JSON differs from the console's")
	}
	return out
}

// TestInsightsSmallNumbersEndToEnd: a fleet where one site had 1 to 4
// sessions in a cell. The page, the report, every CSV and JSON (from the
// console and with a staff API token) never show the exact small number:
// they show "fewer than 5" or a count that is a multiple of 5, and they
// are the same, byte for byte, when those sessions are spread over the
// cells differently (1 and 3 against 3 and 1), so no sum or difference of
// what is shown can tell them either.
func TestInsightsSmallNumbersEndToEnd(t *testing.T) {
	month := insightsMonth()
	now := time.Now()
	fixed := func(cfg *console.Config) { cfg.Now = func() time.Time { return now } }
	fa, fb := startFleetWith(t, "", fixed), startFleetWith(t, "", fixed)
	seedInsights(t, fa, month, map[int]int{8: 1, 20: 3})
	seedInsights(t, fb, month, map[int]int{8: 3, 20: 1})
	tok := func(f *fleet) string {
		_, secret, err := f.st.CreateAPIToken(context.Background(), "victor")
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	ca, cb := signInHTTP(t, fa.url, "alice", adminPassword), signInHTTP(t, fb.url, "alice", adminPassword)
	for _, site := range []string{"riverside", ""} {
		a := everyOutput(t, fa, ca, tok(fa), site, monthKey(month))
		b := everyOutput(t, fb, cb, tok(fb), site, monthKey(month))
		if len(a) < 20 {
			t.Fatalf("%q: only %d outputs", site, len(a))
		}
		for name, body := range a {
			if b[name] != body {
				t.Errorf("site %q, %s: differs between 1+3 and 3+1 sessions in two cells", site, name)
				if d := os.Getenv("INSIGHTS_DIFF"); d != "" {
					os.WriteFile(filepath.Join(d, "a-"+name), []byte(body), 0o644)
					os.WriteFile(filepath.Join(d, "b-"+name), []byte(b[name]), 0o644)
				}
			}
			checkCounts(t, fmt.Sprintf("site %q, %s", site, name), body)
		}
		if !strings.Contains(a["page"], "fewer than 5") || !strings.Contains(a["demand.csv"], "<5") || !strings.Contains(a["insights.json"], `"fewer_than": 5`) {
			t.Errorf("site %q: no \"fewer than 5\" shown", site)
		}
	}
	// Control: with ten sessions instead of four the outputs do change.
	fc := startFleetWith(t, "", fixed)
	seedInsights(t, fc, month, map[int]int{8: 1, 20: 9})
	cc := signInHTTP(t, fc.url, "alice", adminPassword)
	if _, pa := ca.get("/insights?site=riverside&period=" + monthKey(month)); true {
		if _, pc := cc.get("/insights?site=riverside&period=" + monthKey(month)); pc == pa {
			t.Error("the page is the same with 4 and with 10 sessions: the comparison sees nothing")
		}
	}
	// Riverside's page says the four sessions only as "fewer than 5".
	_, page := ca.get("/insights?site=riverside&period=" + monthKey(month))
	if got := regexp.MustCompile(`id="ak-summary-sessions">([^<]*)<`).FindStringSubmatch(page); got == nil || got[1] != "fewer than 5" {
		t.Errorf("Riverside's sessions: %v", got)
	}
}

var sessionInfo = regexp.MustCompile(`content="[0-9]+">|[0-9]{2}:[0-9]{2} on [0-9]+ [A-Z][a-z]+`)

// checkCounts reads every count an output gives and fails on one that is
// neither "fewer than 5" nor a multiple of 5 of at least 5.
func checkCounts(t *testing.T, what, body string) {
	t.Helper()
	switch {
	case strings.HasSuffix(what, ".csv"):
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) < 1 {
			t.Errorf("%s: %v", what, err)
			return
		}
		var countCols []int
		for i, h := range rows[0] {
			if slices.Contains([]string{"sessions", "assisted", "done", "needs_follow_up", "referred_elsewhere", "none", "in_hours", "out_of_hours", "no_outcome", "no_category", "follow_ups"}, h) ||
				slices.Contains(insights.UsageIDs[:], h) {
				countCols = append(countCols, i)
			}
		}
		for _, row := range rows[1:] {
			for _, i := range countCols {
				checkCount(t, what, row[i])
			}
		}
	case strings.HasSuffix(what, ".json"):
		var doc struct {
			Charts []struct {
				Columns []struct{ Key, Type string }
				Rows    []map[string]json.RawMessage
			}
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		for _, c := range doc.Charts {
			for _, row := range c.Rows {
				for _, col := range c.Columns {
					if col.Type != "count" || string(row[col.Key]) == "null" {
						continue
					}
					var v struct {
						Count     *int  `json:"count"`
						FewerThan *int  `json:"fewer_than"`
						Withheld  *bool `json:"withheld"`
					}
					json.Unmarshal(row[col.Key], &v)
					switch {
					case v.FewerThan != nil && *v.FewerThan == 5, v.Withheld != nil && *v.Withheld:
					case v.Count != nil:
						checkCount(t, what, strconv.Itoa(*v.Count))
					default:
						t.Errorf("%s: count %s", what, row[col.Key])
					}
				}
			}
		}
	default:
		// The page and the report: every "about N sessions" and every
		// count cell of their tables.
		for _, m := range regexp.MustCompile(`class="govuk-table__cell[^"]*ak-count[^"]*"[^>]*>([^<]*)<`).FindAllStringSubmatch(body, -1) {
			checkCount(t, what, m[1])
		}
		for _, m := range regexp.MustCompile(`about ([0-9,]+) sessions`).FindAllStringSubmatch(body, -1) {
			checkCount(t, what, m[1])
		}
	}
}

func checkCount(t *testing.T, what, s string) {
	t.Helper()
	s = strings.ReplaceAll(strings.TrimSpace(strings.TrimSuffix(s, " (closed)")), ",", "")
	if s == "<5" || s == "fewer than 5" || s == "" || s == "withheld" {
		return
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 5 || n%5 != 0 {
		t.Errorf("%s shows the count %q", what, s)
	}
}

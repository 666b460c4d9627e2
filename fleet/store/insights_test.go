package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// insightsVocab is a council's vocabulary for the tests.
func insightsVocab() api.Vocabulary {
	v := api.DefaultVocabulary()
	v.Tiles = map[string]string{"pay-council-tax": "Pay your council tax", "bins": "Report a missed bin"}
	v.Services = map[string]string{"council": "The council's website", "gov-uk": "GOV.UK"}
	return v
}

// enrolAt makes site (if need be) and enrols a kiosk there.
func enrolAt(t testing.TB, s *store.Store, site string) string {
	t.Helper()
	ctx := context.Background()
	if ok, _ := s.SiteExists(ctx, site); !ok {
		if _, err := s.CreateSite(ctx, site, site+" library"); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := s.CreateToken(ctx, site, "t", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: "k-" + site, Arch: "arm64", AgentVersion: "1", Capability: 5})
	if err != nil {
		t.Fatal(err)
	}
	return e.DeviceID
}

func ingestReceipts(t testing.TB, s *store.Store, dev, site, reportID string, rcs ...api.Receipt) store.IngestResult {
	t.Helper()
	res, err := s.Ingest(context.Background(), []store.IngestItem{{DeviceID: dev, SiteID: site, Batch: &api.ReportBatch{Capability: 5,
		Reports: []api.Report{{ID: reportID, Seq: 1, CreatedUnixMs: rcs[len(rcs)-1].EndedUnixMs, Health: api.Health{AgentVersion: "1", KioskState: "idle"}, Receipts: rcs}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// session is a receipt of a session that started at start and lasted
// minutes, counted.
func session(start time.Time, minutes int, c api.Counted) api.Receipt {
	end := start.Add(time.Duration(minutes)*time.Minute + 20*time.Second)
	c.StartedHourUnixMs = start.Truncate(time.Hour).UnixMilli()
	c.Minutes = minutes
	return api.Receipt{Reason: "idle_timeout", Cleared: []string{"web_view"}, ResetMs: 150, SessionMs: int64(minutes) * 60_000,
		EndedUnixMs: end.UnixMilli(), Counted: &c}
}

// TestInsightsCounts: receipts become counts per site, local date and hour
// and per month and identifier, on SQLite and PostgreSQL; identifiers
// outside the vocabulary are dropped and counted per kiosk, never stored;
// a replayed report counts once; receipts of agents before capability 5
// count as sessions; Build reads the result.
func TestInsightsCounts(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			s := storetest.Open(t, dialect)
			london, err := time.LoadLocation("Europe/London")
			if err != nil {
				t.Fatal(err)
			}
			s.SetInsights(store.InsightsConfig{Zone: london, Vocabulary: insightsVocab()})
			ctx := context.Background()
			central, north := enrolAt(t, s, "central"), enrolAt(t, s, "north")

			// Tuesday 3 March 2026, 10:xx London time (UTC in winter); and a
			// summer day, Wednesday 1 July 2026 09:xx BST (08:xx UTC).
			mar := time.Date(2026, 3, 3, 10, 5, 0, 0, london)
			jul := time.Date(2026, 7, 1, 9, 40, 0, 0, london)
			res := ingestReceipts(t, s, central, "central", "r1",
				session(mar, 15, api.Counted{Tiles: []string{"pay-council-tax", "no-such-tile"}, Services: []string{"council"},
					Guides: []string{"pay-council-tax"}, Features: []string{api.FeatureKeyboard, api.FeatureHighContrast}, Languages: []string{"cy", "fr"}}),
				session(mar.Add(20*time.Minute), 5, api.Counted{Tiles: []string{"pay-council-tax"}, Services: []string{"gov-uk", "www.facebook.com"}, Prints: 2}),
			)
			if res.Uncounted != 3 {
				t.Errorf("uncounted = %d, want 3 (a tile, a service, a language)", res.Uncounted)
			}
			// An assisted session with a known category and outcome, and
			// one whose category the fleet does not know.
			a := session(mar.Add(45*time.Minute), 30, api.Counted{})
			a.Assisted, a.Category, a.Outcome = true, "benefits", api.OutcomeFollowUp
			b := session(mar.Add(50*time.Minute), 10, api.Counted{})
			b.Assisted, b.Category, b.Outcome = true, "my-neighbours-name", api.OutcomeDone
			ingestReceipts(t, s, central, "central", "r2", a, b)
			// The same report again (a retry): counted once.
			ingestReceipts(t, s, central, "central", "r2", a, b)
			// North, in summer; and an agent before capability 5: no
			// counted, the start worked out from the end and the length.
			ingestReceipts(t, s, north, "north", "n1", session(jul, 25, api.Counted{Tiles: []string{"bins"}, Scans: 3}))
			old := api.Receipt{Reason: "toolbar", Cleared: []string{"web_view"}, ResetMs: 100, SessionMs: 12 * 60_000,
				EndedUnixMs: jul.Add(40 * time.Minute).UnixMilli(), Assisted: true, Category: "housing"}
			ingestReceipts(t, s, north, "north", "n2", old)

			if err := s.SetSiteHours(ctx, "central", insights.Week{1: {{Open: 9 * 60, Close: 17 * 60}}}); err != nil {
				t.Fatal(err)
			}
			if err := s.SetSiteHours(ctx, "nowhere", insights.Week{}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("hours of an unknown site: %v", err)
			}

			in, err := s.InsightsInput(ctx, "", insights.Date{Year: 2026, Month: time.January, Day: 1}, insights.Date{Year: 2027, Month: time.January, Day: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Sites) != 2 || in.Sites[0].ID != "central" || !in.Sites[0].Hours.OpenDuring(1, 10) || in.Sites[1].Hours.Set() {
				t.Errorf("sites = %+v", in.Sites)
			}
			// 3 March 2026 is a Tuesday, 1 July a Wednesday; both in days 1-7.
			marM, julM := insights.Date{Year: 2026, Month: time.March, Day: 1}, insights.Date{Year: 2026, Month: time.July, Day: 1}
			wantCells := []insights.CellCount{
				{Site: "central", Month: marM, Weekday: 1, Hour: 10, Sessions: 4},
				{Site: "north", Month: julM, Weekday: 2, Hour: 9, Sessions: 1},
				{Site: "north", Month: julM, Weekday: 2, Hour: 10, Sessions: 1},
			}
			slices.SortFunc(in.Cells, func(x, y insights.CellCount) int {
				return cmp.Or(strings.Compare(x.Site, y.Site), strings.Compare(x.Month.String(), y.Month.String()), cmp.Compare(x.Hour, y.Hour))
			})
			if !reflect.DeepEqual(in.Cells, wantCells) {
				t.Errorf("cells:\n got %+v\nwant %+v", in.Cells, wantCells)
			}
			wantBlocks := []insights.BlockCount{
				{Site: "central", Month: marM, Block: 0, Sessions: 4, Assisted: 2, Done: 1, FollowUp: 1, Usage: insights.Usage{Prints: 2}},
				{Site: "north", Month: julM, Block: 0, Sessions: 2, Assisted: 1, Usage: insights.Usage{Scans: 3}},
			}
			slices.SortFunc(in.Blocks, func(x, y insights.BlockCount) int { return strings.Compare(x.Site, y.Site) })
			if !reflect.DeepEqual(in.Blocks, wantBlocks) {
				t.Errorf("blocks:\n got %+v\nwant %+v", in.Blocks, wantBlocks)
			}
			got := map[string]int{}
			for _, it := range in.Items {
				if !it.Month || it.Date.Day != 1 {
					t.Errorf("item %+v is not a whole month", it)
				}
				got[fmt.Sprintf("%s %d-%02d %s %s", it.Site, it.Date.Year, it.Date.Month, it.Dim, it.ID)] = it.Sessions
			}
			want := map[string]int{
				"central 2026-03 tile pay-council-tax": 2, "central 2026-03 service council": 1, "central 2026-03 service gov-uk": 1,
				"central 2026-03 guide pay-council-tax": 1, "central 2026-03 feature keyboard": 1, "central 2026-03 feature high_contrast": 1,
				"central 2026-03 feature print": 1, "central 2026-03 language cy": 1, "central 2026-03 category benefits": 1,
				"north 2026-07 tile bins": 1, "north 2026-07 feature scan": 1, "north 2026-07 category housing": 1,
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("items:\n got %v\nwant %v", got, want)
			}
			if in.Labels[insights.Tiles]["bins"] != "Report a missed bin" || in.Labels[insights.Features][api.FeatureKeyboard] == "" {
				t.Errorf("labels = %v", in.Labels)
			}

			// One site only.
			one, err := s.InsightsInput(ctx, "north", insights.Date{Year: 2026, Month: time.July, Day: 1}, insights.Date{Year: 2026, Month: time.August, Day: 1})
			if err != nil || len(one.Cells) != 2 || len(one.Blocks) != 1 || len(one.Items) != 3 {
				t.Errorf("north in July: %+v, %v", one, err)
			}
			if _, err := s.InsightsInput(ctx, "nowhere", marM, julM); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("an unknown site: %v", err)
			}

			// What was dropped, per kiosk and kind.
			dropped, err := s.InsightsDropped(ctx, insights.Date{Year: 2026, Month: time.January, Day: 1}, insights.Date{Year: 2027, Month: time.January, Day: 1})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, d := range dropped {
				if d.DeviceID != central || d.Site != "central" || d.N != 1 {
					t.Errorf("dropped row %+v", d)
				}
				kinds = append(kinds, d.Kind)
			}
			slices.Sort(kinds)
			if !reflect.DeepEqual(kinds, []string{"category", "language", "service", "tile"}) {
				t.Errorf("dropped kinds %v", kinds)
			}
			// The unknown category is not stored with the receipt either.
			rows, err := s.Receipts(ctx, central, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.Category == "my-neighbours-name" {
					t.Errorf("the receipts table holds the unknown category: %+v", r)
				}
			}

			// Build reads it: March at Central.
			f, err := insights.Build(in, insights.Options{Rule: insights.Rule{K: 3}, Site: "central", Period: insights.MonthOf(2026, time.March),
				Today: insights.Date{Year: 2026, Month: time.April, Day: 2}})
			if err != nil {
				t.Fatal(err)
			}
			if n, ok := f.Sessions.Value(); !ok || n < 3 {
				t.Errorf("March at Central: sessions %v", f.Sessions)
			}

			// Prune keeps 36 months: in June 2029, from July 2026.
			s.SetClock(func() time.Time { return time.Date(2029, 6, 30, 12, 0, 0, 0, london) })
			if err := s.Prune(ctx, 30*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			in, err = s.InsightsInput(ctx, "", insights.Date{Year: 2026, Month: time.January, Day: 1}, insights.Date{Year: 2027, Month: time.January, Day: 1})
			if err != nil || len(in.Cells) != 2 || in.Cells[0].Site != "north" || len(in.Blocks) != 1 || len(in.Items) != 3 {
				t.Errorf("after pruning in June 2029 (36 months from July 2026): %+v, %v", in, err)
			}
		})
	}
}

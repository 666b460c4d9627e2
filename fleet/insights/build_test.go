package insights

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// truth adds up the input the slow, obvious way, for one site ("" = all)
// and the months given.
type truth struct {
	sessions, assisted, in, out int
	outs                        [nOutcomes]int
	heat                        [7][24]int
	items                       map[Dimension]map[string]int
	uncat                       int
}

func count(in *Input, site string, months []Period) truth {
	t := truth{items: map[Dimension]map[string]int{}}
	for _, d := range Dimensions {
		t.items[d] = map[string]int{}
	}
	hours := map[string]Week{}
	for _, s := range in.Sites {
		hours[s.ID] = s.Hours
	}
	inPeriod := func(d Date) bool {
		for _, m := range months {
			if m.Contains(d) {
				return true
			}
		}
		return false
	}
	for _, h := range in.Hours {
		if site != "" && h.Site != site || !inPeriod(h.Date) {
			continue
		}
		t.sessions += h.Sessions
		t.assisted += h.Assisted
		t.heat[h.Date.Weekday()][h.Hour] += h.Sessions
		if w := hours[h.Site]; w.Set() {
			if w.OpenDuring(h.Date.Weekday(), h.Hour) {
				t.in += h.Sessions
			} else {
				t.out += h.Sessions
			}
		}
		for o, n := range [nOutcomes]int{h.Done, h.FollowUp, h.Referred, h.Assisted - h.Done - h.FollowUp - h.Referred} {
			t.outs[o] += n
		}
	}
	cats := 0
	for _, it := range in.Items {
		if site != "" && it.Site != site || !inPeriod(it.Date) {
			continue
		}
		t.items[it.Dim][it.ID] += it.Sessions
		if it.Dim == Categories {
			cats += it.Sessions
		}
	}
	t.uncat = t.assisted - cats
	return t
}

// agrees checks that a shown count could have come from n by the rule.
func agrees(t *testing.T, what string, c Count, n int) {
	t.Helper()
	switch {
	case n < c.k && c.st != Fewer:
		t.Errorf("%s: true %d is under %d but shows as %v", what, n, c.k, c)
	case n >= c.k && c.st == Fewer:
		t.Errorf("%s: true %d shows as fewer than %d", what, n, c.k)
	case c.st == Shown && (c.v%c.k != 0 || n < c.lo || c.v-n >= 3*c.k || n-c.v >= 3*c.k):
		t.Errorf("%s: true %d shows as %d (from %d)", what, n, c.v, c.lo)
	}
}

func TestBuildCounts(t *testing.T) {
	in := seedInput(11, councilSites, Date{2025, time.April, 1}, 12)
	for _, site := range []string{"central", "riverside", "mobile", ""} {
		for _, key := range []string{"2025-05", "2025-11", "fy2025-q2", "fy2025"} {
			p, _ := ParsePeriod(key, time.April)
			f := mustBuild(in, site, p, 5)
			want := count(in, site, p.Months())
			what := site + " " + key
			agrees(t, what+" sessions", f.Sessions, want.sessions)
			agrees(t, what+" assisted", f.Assisted, want.assisted)
			agrees(t, what+" no category", f.NoCategory, want.uncat)
			for o := range f.Outcomes {
				agrees(t, what+" "+OutcomeIDs[o], f.Outcomes[o], want.outs[o])
			}
			for d := range f.Heat {
				for h := range f.Heat[d] {
					agrees(t, what+" heat", f.Heat[d][h], want.heat[d][h])
				}
			}
			if site == "mobile" {
				if f.InHours.State() != NotApplicable || f.OutOfHours.State() != NotApplicable || f.OpeningHours != 0 {
					t.Errorf("%s: a site without opening hours has in/out figures %v %v", what, f.InHours, f.OutOfHours)
				}
			} else {
				agrees(t, what+" in hours", f.InHours, want.in)
				agrees(t, what+" out of hours", f.OutOfHours, want.out)
			}
			for _, r := range f.Rankings {
				for i, it := range r.Items {
					agrees(t, what+" "+string(r.Dim)+" "+it.ID, it.Sessions, want.items[r.Dim][it.ID])
					if it.Label != vocab[r.Dim][it.ID] {
						t.Errorf("%s: %s label %q", what, it.ID, it.Label)
					}
					if i > 0 && r.Items[i-1].Sessions.v < it.Sessions.v {
						t.Errorf("%s: %s not ranked", what, r.Dim)
					}
				}
				for id, n := range want.items[r.Dim] {
					listed := false
					for _, it := range r.Items {
						listed = listed || it.ID == id
					}
					if listed != (n >= 5) {
						t.Errorf("%s: %s %s with %d sessions listed = %v", what, r.Dim, id, n, listed)
					}
				}
			}
		}
	}
}

// TestFiguresAgreeAcrossPages: a figure shown on two pages is the same
// on both (a site's row on the all-sites page is its own page's figure; a
// month in a year's time series is that month's page's total), so two
// pages can never be set against each other.
func TestFiguresAgreeAcrossPages(t *testing.T) {
	in := seedInput(12, councilSites, Date{2025, time.April, 1}, 12)
	year := FinancialYear(2025, time.April)
	all := mustBuild(in, "", year, 5)
	if len(all.Sites) != len(councilSites) {
		t.Fatalf("%d site rows", len(all.Sites))
	}
	names := []string{}
	for _, row := range all.Sites {
		names = append(names, row.Name)
		own := mustBuild(in, row.ID, year, 5)
		if row.Sessions != own.Sessions || row.InHours != own.InHours || row.Assisted != own.Assisted || row.FollowUp != own.Outcomes[FollowUp] || row.OpeningHours != own.OpeningHours {
			t.Errorf("%s: row %+v, own page %v %v %v %v", row.ID, row, own.Sessions, own.InHours, own.Assisted, own.Outcomes[FollowUp])
		}
		for i, m := range year.Months() {
			month := mustBuild(in, row.ID, m, 5)
			b := own.Buckets[i]
			if b.Label != m.Label() || b.Sessions != month.Sessions || b.Assisted != month.Assisted || b.Outcomes != month.Outcomes {
				t.Errorf("%s %s: bucket %+v, month page %v %v", row.ID, m.Key(), b, month.Sessions, month.Assisted)
			}
		}
	}
	if got := strings.Join(names, ", "); got != "Central Library, Mobile library, Parkwood Library, Riverside Library, Shepway Community Hub" {
		t.Errorf("sites in order %s", got)
	}
	q := mustBuild(in, "", FinancialQuarter(2025, 2, time.April), 5)
	if len(q.Buckets) != 3 || q.Buckets[0].Label != "July 2025" {
		t.Errorf("quarter buckets %+v", q.Buckets)
	}
	m := mustBuild(in, "parkwood", MonthOf(2025, time.June), 5)
	if len(m.Buckets) != 4 || m.Buckets[3].Label != "22–30 Jun" || m.Buckets[3].End != (Date{2025, time.July, 1}) {
		t.Errorf("month buckets %+v", m.Buckets)
	}
	// The same figures built twice are identical.
	if again := mustBuild(in, "", year, 5); !reflect.DeepEqual(again, all) {
		t.Error("building twice gave different figures")
	}
}

func TestPartialPeriod(t *testing.T) {
	in := seedInput(13, councilSites[:2], Date{2025, time.April, 1}, 12)
	year := FinancialYear(2025, time.April)
	f, err := Build(in, Options{Period: year, Today: Date{2025, time.September, 14}})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Partial || len(f.Months) != 5 || len(f.Buckets) != 5 || f.PeriodLabel() != "April 2025 to March 2026 (so far: April to August 2025)" {
		t.Errorf("partial year: partial %v, %d months, %d buckets, %q", f.Partial, len(f.Months), len(f.Buckets), f.PeriodLabel())
	}
	agrees(t, "sessions so far", f.Sessions, count(in, "", f.Months).sessions)
	// On the 1st of a month the month before has ended.
	f, err = Build(in, Options{Period: year, Today: Date{2025, time.May, 1}})
	if err != nil || len(f.Months) != 1 {
		t.Errorf("on 1 May: %v, %d months", err, len(f.Months))
	}
}

func TestOpenAndOutOfHours(t *testing.T) {
	w, _ := ParseWeek(map[string]string{"tue": "10:00-16:00"})
	in := &Input{Sites: []Site{{ID: "hub", Hours: w}, {ID: "van"}}}
	add := func(site string, day, hour, n int) {
		in.Hours = append(in.Hours, HourCount{Site: site, Date: Date{2026, time.March, day}, Hour: hour, Sessions: n})
	}
	add("hub", 3, 10, 30) // a Tuesday, open
	add("hub", 3, 9, 12)  // Tuesday before opening
	add("hub", 4, 11, 7)  // Wednesday: closed
	add("van", 4, 11, 20)
	f := mustBuild(in, "hub", MonthOf(2026, time.March), 5)
	if !f.Open[1][10] || f.Open[1][9] || f.Open[2][11] || f.OpeningHours != 5*6 {
		t.Errorf("open flags or hours wrong: %v %v", f.Open[1], f.OpeningHours)
	}
	if v, _ := f.InHours.Value(); v != 30 {
		t.Errorf("in hours %v", f.InHours)
	}
	if v, _ := f.OutOfHours.Value(); v != 20 {
		t.Errorf("out of hours %v (true 19)", f.OutOfHours)
	}
	if got := PerHour(f.InHours, f.OpeningHours).Decimal(); got != "1.0" {
		t.Errorf("per hour %s", got)
	}
	all := mustBuild(in, "", MonthOf(2026, time.March), 5)
	if !all.Open[1][10] || all.Open[2][11] {
		t.Error("all sites: open where any site is")
	}
	if all.InHours.State() != Shown || all.OpeningHours != 30 {
		t.Errorf("all sites: in hours %v, opening hours %v", all.InHours, all.OpeningHours)
	}
	c, _ := f.Chart(DemandChart)
	if !strings.Contains(c.Summary, "Busiest: Tuesday 10:00–11:00 (about 30 sessions). Outside opening hours: about 20 sessions.") {
		t.Errorf("summary %q", c.Summary)
	}
}

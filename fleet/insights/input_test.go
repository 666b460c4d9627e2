package insights

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInputValidate(t *testing.T) {
	d := Date{2026, time.March, 3}
	good := func() *Input {
		return &Input{
			Sites: []Site{{ID: "central", Name: "Central Library"}, {ID: "north"}},
			Hours: []HourCount{{Site: "central", Date: d, Hour: 10, Sessions: 6, Assisted: 3, Done: 1, FollowUp: 1, Referred: 1}},
			Items: []ItemCount{{Site: "central", Date: d, Dim: Tiles, ID: "council-tax", Sessions: 6}, {Site: "central", Date: d, Dim: Categories, ID: "benefits", Sessions: 3}},
		}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good input: %v", err)
	}
	for _, c := range []struct {
		name string
		bad  func(*Input)
		want string
	}{
		{"site id", func(in *Input) { in.Sites[1].ID = "north side" }, `sites[1]: id "north side"`},
		{"site twice", func(in *Input) { in.Sites[1].ID = "central" }, `sites[1]: id "central" is given twice`},
		{"site name", func(in *Input) { in.Sites[0].Name = "Central\x00" }, "sites[0] (central): name"},
		{"hours", func(in *Input) { in.Sites[0].Hours[2] = []Span{{700, 600}} }, "sites[0] (central): opening hours: wed"},
		{"unknown site", func(in *Input) { in.Hours[0].Site = "south" }, `hours[0]: site "south" is not in sites`},
		{"bad date", func(in *Input) { in.Hours[0].Date = Date{2026, time.February, 30} }, "hours[0]: date 2026-02-30"},
		{"hour", func(in *Input) { in.Hours[0].Hour = 24 }, "hours[0]: hour 24 is not 0 to 23"},
		{"negative", func(in *Input) { in.Hours[0].Referred = -1 }, "hours[0]: a count is negative"},
		{"negative usage", func(in *Input) { in.Hours[0].Prints = -1 }, "hours[0]: a usage count is not 0 to 1,000,000,000"},
		{"assisted", func(in *Input) { in.Hours[0].Assisted = 7 }, "assisted 7 is more than sessions 6"},
		{"outcomes", func(in *Input) { in.Hours[0].Done = 2 }, "outcomes add up to more than assisted 3"},
		{"hour twice", func(in *Input) { in.Hours = append(in.Hours, in.Hours[0]) }, "hours[1]: central 2026-03-03 10:00 is given twice"},
		{"dimension", func(in *Input) { in.Items[0].Dim = "url" }, `items[0]: dimension "url" is not one of`},
		{"item id", func(in *Input) { in.Items[0].ID = "https://evil.example/?q=name" }, "items[0]: tile id"},
		{"item over day", func(in *Input) { in.Items[0].Sessions = 7 }, "has 7 sessions, more than the 6 that day"},
		{"categories over assisted", func(in *Input) {
			in.Items = append(in.Items, ItemCount{Site: "central", Date: d, Dim: Categories, ID: "housing", Sessions: 1})
		}, "categories add up to more than the 3 assisted sessions"},
		{"item twice", func(in *Input) { in.Items = append(in.Items, in.Items[0]) }, `items[2]: central 2026-03-03 tile "council-tax" is given twice`},
		{"label", func(in *Input) { in.Labels = map[Dimension]map[string]string{Guides: {"g": "bad\nlabel"}} }, `labels[guide]["g"]`},
	} {
		in := good()
		c.bad(in)
		err := in.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// Many problems: at most ten are listed.
	in := good()
	for i := 0; i < 30; i++ {
		in.Hours = append(in.Hours, HourCount{Site: "nowhere", Date: d})
	}
	if err := in.Validate(); err == nil || strings.Count(err.Error(), "\n") != maxErrors-1 {
		t.Errorf("30 problems: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	in := seedInput(3, councilSites[:2], Date{2026, time.January, 1}, 3)
	p := MonthOf(2026, time.February)
	today := Date{2026, time.March, 10}
	for _, c := range []struct {
		name string
		opt  Options
		want string
	}{
		{"rule", Options{Rule: Rule{K: 2}, Period: p, Today: today}, "insights.k: 2 is not allowed"},
		{"no period", Options{Today: today}, "no period given"},
		{"today", Options{Period: p}, "today 0000-00-00 is not a calendar day"},
		{"site", Options{Site: "nowhere", Period: p, Today: today}, `site "nowhere": no such site`},
		{"not ended", Options{Period: MonthOf(2026, time.March), Today: today}, "March 2026: no month of this period has ended yet"},
	} {
		_, err := Build(in, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	_, err := Build(in, Options{Period: MonthOf(2026, time.April), Today: today})
	if !errors.Is(err, ErrNotEnded) {
		t.Errorf("future month: %v", err)
	}
	bad := *in
	bad.Hours = append([]HourCount{{Site: "ghost", Date: Date{2026, time.February, 2}}}, in.Hours...)
	if _, err := Build(&bad, Options{Period: p, Today: today}); err == nil || !strings.Contains(err.Error(), `insights input: hours[0]: site "ghost"`) {
		t.Errorf("bad input: %v", err)
	}
}

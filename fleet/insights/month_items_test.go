package insights

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestWholeMonthItems: a store that keeps identifiers per month (what the
// fleet's store does) gives the same figures, byte for byte, as one that
// keeps them per day.
func TestWholeMonthItems(t *testing.T) {
	daily := seedInput(11, councilSites, Date{2025, time.April, 1}, 12)
	monthly := *daily
	type key struct {
		site string
		y    int
		m    time.Month
		dim  Dimension
		id   string
	}
	sum := map[key]int{}
	var order []key
	for _, it := range daily.Items {
		k := key{it.Site, it.Date.Year, it.Date.Month, it.Dim, it.ID}
		if _, ok := sum[k]; !ok {
			order = append(order, k)
		}
		sum[k] += it.Sessions
	}
	monthly.Items = nil
	for _, k := range order {
		monthly.Items = append(monthly.Items, ItemCount{Site: k.site, Date: Date{k.y, k.m, 1}, Month: true, Dim: k.dim, ID: k.id, Sessions: sum[k]})
	}
	if len(monthly.Items)*5 > len(daily.Items) {
		t.Fatalf("the month entries (%d) are not much fewer than the day entries (%d)", len(monthly.Items), len(daily.Items))
	}
	for _, c := range []struct {
		site string
		p    Period
	}{{"central", MonthOf(2025, time.November)}, {"", FinancialYear(2025, time.April)}, {"riverside", FinancialQuarter(2025, 2, time.April)}} {
		var a, b bytes.Buffer
		if err := mustBuild(daily, c.site, c.p, 5).WriteJSON(&a); err != nil {
			t.Fatal(err)
		}
		if err := mustBuild(&monthly, c.site, c.p, 5).WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%q %s: figures from whole months differ from figures from days", c.site, c.p.Key())
		}
	}
}

func TestWholeMonthItemErrors(t *testing.T) {
	d := Date{2026, time.March, 3}
	good := func() *Input {
		return &Input{
			Sites: []Site{{ID: "central"}},
			Hours: []HourCount{{Site: "central", Date: d, Hour: 10, Sessions: 6, Assisted: 3}, {Site: "central", Date: d.AddDays(1), Hour: 10, Sessions: 4, Assisted: 1}},
			Items: []ItemCount{{Site: "central", Date: Date{2026, time.March, 1}, Month: true, Dim: Tiles, ID: "council-tax", Sessions: 10},
				{Site: "central", Date: Date{2026, time.March, 1}, Month: true, Dim: Categories, ID: "benefits", Sessions: 3}},
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
		{"not the 1st", func(in *Input) { in.Items[0].Date = d }, "items[0]: a whole month's entry is dated the 1st, not 2026-03-03"},
		{"over the month", func(in *Input) { in.Items[0].Sessions = 11 }, `items[0]: central 2026-03: tile "council-tax" has 11 sessions, more than the 10 that month`},
		{"categories over assisted", func(in *Input) { in.Items[1].Sessions = 5 }, "categories add up to more than the 4 assisted sessions that month"},
		{"twice", func(in *Input) { in.Items = append(in.Items, in.Items[0]) }, `items[2]: central March tile "council-tax" is given twice for the month`},
		{"a day too", func(in *Input) {
			in.Items = append(in.Items, ItemCount{Site: "central", Date: d, Dim: Tiles, ID: "council-tax", Sessions: 1})
		}, `items[2]: central 2026-03-03 tile "council-tax": its month is also given as a whole`},
		{"a day first", func(in *Input) {
			in.Items = append([]ItemCount{{Site: "central", Date: d, Dim: Tiles, ID: "council-tax", Sessions: 1}}, in.Items...)
		}, `items[1]: central March tile "council-tax" is given twice for the month`},
		{"day and month categories", func(in *Input) {
			in.Items = append(in.Items, ItemCount{Site: "central", Date: d, Dim: Categories, ID: "housing", Sessions: 2})
		}, "categories add up to more than the 4 assisted sessions that month"},
	} {
		in := good()
		c.bad(in)
		err := in.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

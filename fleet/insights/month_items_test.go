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

// byMonth turns an input's hours and items into what a store that keeps
// its counts by month gives: cells, blocks and whole months' items.
func byMonth(daily *Input) *Input {
	out := *daily
	out.Hours, out.Items, out.Cells, out.Blocks = nil, nil, nil, nil
	type ck struct {
		site  string
		m     Date
		wd, h int
	}
	type bk struct {
		site  string
		m     Date
		block int
	}
	cells, blocks := map[ck]int{}, map[bk]*BlockCount{}
	var cellOrder []ck
	var blockOrder []bk
	for _, h := range daily.Hours {
		m := h.Date.firstOfMonth()
		c := ck{h.Site, m, h.Date.Weekday(), h.Hour}
		if _, ok := cells[c]; !ok {
			cellOrder = append(cellOrder, c)
		}
		cells[c] += h.Sessions
		b := bk{h.Site, m, BlockOf(h.Date)}
		if blocks[b] == nil {
			blocks[b] = &BlockCount{Site: h.Site, Month: m, Block: b.block}
			blockOrder = append(blockOrder, b)
		}
		x := blocks[b]
		x.Sessions += h.Sessions
		x.Assisted += h.Assisted
		x.Done += h.Done
		x.FollowUp += h.FollowUp
		x.Referred += h.Referred
		u, hu := &x.Usage, h.Usage
		u.Prints += hu.Prints
		u.PrintJobs += hu.PrintJobs
		u.Scans += hu.Scans
		u.Uploads += hu.Uploads
		u.Downloads += hu.Downloads
		u.Assists += hu.Assists
		u.AssistMinutes += hu.AssistMinutes
	}
	for _, c := range cellOrder {
		out.Cells = append(out.Cells, CellCount{Site: c.site, Month: c.m, Weekday: c.wd, Hour: c.h, Sessions: cells[c]})
	}
	for _, b := range blockOrder {
		out.Blocks = append(out.Blocks, *blocks[b])
	}
	type ik struct {
		site string
		m    Date
		dim  Dimension
		id   string
	}
	items := map[ik]int{}
	var itemOrder []ik
	for _, it := range daily.Items {
		k := ik{it.Site, it.Date.firstOfMonth(), it.Dim, it.ID}
		if _, ok := items[k]; !ok {
			itemOrder = append(itemOrder, k)
		}
		items[k] += it.Sessions
	}
	for _, k := range itemOrder {
		out.Items = append(out.Items, ItemCount{Site: k.site, Date: k.m, Month: true, Dim: k.dim, ID: k.id, Sessions: items[k]})
	}
	return &out
}

// TestCountsByMonth: a store that keeps cells, blocks and whole months'
// identifiers (the fleet's) gives the same figures, byte for byte, as one
// that keeps hours and days, with far fewer entries.
func TestCountsByMonth(t *testing.T) {
	daily := seedInput(13, councilSites, Date{2025, time.April, 1}, 12)
	monthly := byMonth(daily)
	if err := monthly.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d hours and %d day items, or %d cells, %d blocks and %d month items", len(daily.Hours), len(daily.Items),
		len(monthly.Cells), len(monthly.Blocks), len(monthly.Items))
	for _, c := range []struct {
		site string
		p    Period
	}{{"central", MonthOf(2025, time.November)}, {"", FinancialYear(2025, time.April)}, {"", MonthOf(2025, time.June)},
		{"riverside", FinancialQuarter(2025, 2, time.April)}, {"mobile", FinancialYear(2025, time.April)}} {
		a, b := mustBuild(daily, c.site, c.p, 5), mustBuild(monthly, c.site, c.p, 5)
		if oa, ob := outputs(t, a), outputs(t, b); oa != ob {
			t.Errorf("%q %s: figures from cells and blocks differ from figures from hours", c.site, c.p.Key())
		}
	}
}

func TestCountsByMonthErrors(t *testing.T) {
	m := Date{2026, time.March, 1}
	good := func() *Input {
		return &Input{
			Sites:  []Site{{ID: "central"}},
			Cells:  []CellCount{{Site: "central", Month: m, Weekday: 1, Hour: 10, Sessions: 6}, {Site: "central", Month: m, Weekday: 3, Hour: 14, Sessions: 4}},
			Blocks: []BlockCount{{Site: "central", Month: m, Block: 0, Sessions: 7, Assisted: 3, Done: 1, FollowUp: 1}, {Site: "central", Month: m, Block: 2, Sessions: 3}},
			Items:  []ItemCount{{Site: "central", Date: m, Month: true, Dim: Tiles, ID: "t", Sessions: 10}, {Site: "central", Date: m, Month: true, Dim: Categories, ID: "c", Sessions: 3}},
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
		{"cell site", func(in *Input) { in.Cells[0].Site = "north" }, `cells[0]: site "north" is not in sites`},
		{"cell month", func(in *Input) { in.Cells[0].Month.Day = 3 }, "cells[0]: month 2026-03-03 is not the 1st"},
		{"cell hour", func(in *Input) { in.Cells[0].Hour = 24 }, "cells[0]: weekday 1, hour 24"},
		{"cell weekday", func(in *Input) { in.Cells[0].Weekday = 7 }, "cells[0]: weekday 7"},
		{"cell twice", func(in *Input) { in.Cells = append(in.Cells, in.Cells[0]) }, "cells[2]: central 2026-03 weekday 1 10:00 is given twice"},
		{"negative cell", func(in *Input) { in.Cells[1].Sessions = -1 }, "cells[1]: -1 sessions"},
		{"block", func(in *Input) { in.Blocks[0].Block = 4 }, "blocks[0]: block 4 is not 0 to 3"},
		{"block assisted", func(in *Input) { in.Blocks[0].Assisted = 8 }, "assisted 8 is more than sessions 7"},
		{"block outcomes", func(in *Input) { in.Blocks[0].Referred = 2 }, "outcomes add up to more than assisted 3"},
		{"block twice", func(in *Input) { in.Blocks = append(in.Blocks, in.Blocks[1]) }, "blocks[2]: central 2026-03 block 2 is given twice"},
		{"negative usage", func(in *Input) { in.Blocks[1].Uploads = -1 }, "blocks[1]: a usage count is not 0 to 1,000,000,000"},
		{"usage beyond a count", func(in *Input) { in.Blocks[0].AssistMinutes = 2_000_000_000 }, "blocks[0]: a usage count is not"},
		{"do not add up", func(in *Input) { in.Blocks[1].Sessions = 2 }, "central 2026-03: its cells add up to 10 sessions, its blocks to 9"},
		{"both ways", func(in *Input) {
			in.Hours = []HourCount{{Site: "central", Date: Date{2026, time.March, 2}, Hour: 9, Sessions: 1}}
		}, "central 2026-03 is given both by hours and by cells and blocks"},
		{"items over the month", func(in *Input) { in.Items[0].Sessions = 11 }, "more than the 10 that month"},
		{"categories over assisted", func(in *Input) { in.Items[1].Sessions = 4 }, "more than the 3 assisted sessions that month"},
	} {
		in := good()
		c.bad(in)
		err := in.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

package insights

import (
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"strings"
)

// Chart is one chart ready to show: a heading, a sentence saying what it
// shows, the SVG, and its numbers as a Table (for the page's "Show the
// numbers", and for CSV and JSON).
type Chart struct {
	ID      string // "demand", "ranking-service", ..., "assisted", "outcomes", "sites", "summary"
	Title   string
	Summary string
	SVG     template.HTML // "" for the key figures, which are a list
	Table   Table
	// heat is set for the demand chart, whose table on the page is laid
	// out hours by days rather than as its export's long list.
	heat *heatTable
}

type heatTable struct {
	hours []int
	f     *Figures
}

// Chart IDs that are not rankings.
const (
	SummaryChart  = "summary"
	DemandChart   = "demand"
	AssistedChart = "assisted"
	OutcomesChart = "outcomes"
	SitesChart    = "sites"
	UsageChart    = "usage"
)

// RankingChart is the id of a dimension's ranking chart.
func RankingChart(d Dimension) string { return "ranking-" + string(d) }

// PeriodLabel is the period as headings say it, with "so far" when only
// some of its months have ended.
func (f *Figures) PeriodLabel() string {
	if f.Partial {
		first, last := f.Months[0].Start(), f.Months[len(f.Months)-1].Start()
		so := fmt.Sprintf("%s %d", first.Month, first.Year)
		switch {
		case first == last:
		case first.Year == last.Year:
			so = fmt.Sprintf("%s to %s %d", first.Month, last.Month, last.Year)
		default:
			so = fmt.Sprintf("%s to %s %d", so, last.Month, last.Year)
		}
		return fmt.Sprintf("%s (so far: %s)", f.Period.Label(), so)
	}
	return f.Period.Label()
}

// Charts are every chart for the figures, in the order the page shows
// them: key figures, demand, the rankings, assisted share, outcomes,
// printing, files and remote help, and (for all sites) the sites compared.
func (f *Figures) Charts() []Chart {
	cs := []Chart{f.summaryChart(), f.demandChart()}
	for _, r := range f.Rankings {
		cs = append(cs, f.rankingChart(r))
	}
	cs = append(cs, f.assistedChart(), f.outcomesChart(), f.usageChart())
	if f.Site == "" {
		cs = append(cs, f.sitesChart())
	}
	return cs
}

// Chart returns the chart with that id.
func (f *Figures) Chart(id string) (Chart, bool) {
	for _, c := range f.Charts() {
		if c.ID == id {
			return c, true
		}
	}
	return Chart{}, false
}

func (f *Figures) where() string {
	if f.Site == "" {
		return "all sites, " + f.PeriodLabel()
	}
	return f.SiteName + ", " + f.PeriodLabel()
}

func (f *Figures) roundingNotes() []string {
	return []string{fmt.Sprintf("Counts under %d are shown as \"fewer than %d\". Every other count is rounded to a multiple of %d, so parts may not add up exactly to totals.", f.K, f.K, f.K),
		"Percentages and rates are worked out from the rounded counts."}
}

func about(c Count) string {
	if c.State() == Shown {
		return "about " + c.String()
	}
	return c.String()
}

// summaryChart is the key figures: one row.
func (f *Figures) summaryChart() Chart {
	t := Table{Columns: []Column{
		{"sessions", "Sessions", CountColumn},
		{"in_hours", "Started in opening hours", CountColumn},
		{"out_of_hours", "Started outside opening hours", CountColumn},
		{"opening_hours", "Hours open", HoursColumn},
		{"sessions_per_opening_hour", "Sessions per opening hour", RateColumn},
		{"assisted", "Assisted by a volunteer", CountColumn},
		{"assisted_share", "Share assisted", PercentColumn},
		{"done", "Done there and then", CountColumn},
		{"needs_follow_up", "Need a follow-up", CountColumn},
		{"referred_elsewhere", "Referred elsewhere", CountColumn},
		{"no_outcome", "No outcome recorded", CountColumn},
		{"no_category", "No kind of help recorded", CountColumn},
	}, Notes: f.roundingNotes()}
	t.Rows = [][]Value{{{Count: f.Sessions}, {Count: f.InHours}, {Count: f.OutOfHours}, {Num: f.OpeningHours},
		{Rate: PerHour(f.InHours, f.OpeningHours)}, {Count: f.Assisted}, {Rate: Share(f.Assisted, f.Sessions)},
		{Count: f.Outcomes[Done]}, {Count: f.Outcomes[FollowUp]}, {Count: f.Outcomes[Referred]}, {Count: f.Outcomes[NoOutcome]},
		{Count: f.NoCategory}}}
	s := fmt.Sprintf("%s sessions", capital(about(f.Sessions)))
	if sh := Share(f.Assisted, f.Sessions); sh.State() != NoRate {
		s += fmt.Sprintf("; a volunteer helped in %s of them", sh.Percent())
	}
	s += "."
	if f.OutOfHours.State() != NotApplicable {
		s += fmt.Sprintf(" %s started outside opening hours.", capital(about(f.OutOfHours)))
	}
	return Chart{ID: SummaryChart, Title: "Key figures", Summary: s, Table: t}
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func hourRange(h int) string { return fmt.Sprintf("%02d:00–%02d:00", h, (h+1)%24) }

// heatHours are the clock hours the heat map shows: from the first to the
// last hour that has a shown count or in which the site opens. Which hours
// those are follows from shown figures only.
func (f *Figures) heatHours() []int {
	lo, hi := 24, -1
	for h := 0; h < 24; h++ {
		for d := 0; d < 7; d++ {
			if f.Heat[d][h].State() == Shown || f.Heat[d][h].State() == Withheld || f.Open[d][h] {
				lo, hi = min(lo, h), max(hi, h)
			}
		}
	}
	if hi < 0 {
		lo, hi = 9, 16
	}
	var out []int
	for h := lo; h <= hi; h++ {
		out = append(out, h)
	}
	return out
}

func (f *Figures) demandChart() Chart {
	t := Table{Columns: []Column{{"day", "Day", TextColumn}, {"hour", "Start hour", HourColumn},
		{"sessions", "Sessions", CountColumn}, {"open", "Open", FlagColumn}}, Notes: f.roundingNotes()}
	type cell struct{ d, h, v int }
	var top []cell
	for d := 0; d < 7; d++ {
		for h := 0; h < 24; h++ {
			t.Rows = append(t.Rows, []Value{{Text: DayNames[d]}, {Int: h}, {Count: f.Heat[d][h]}, {Flag: f.Open[d][h]}})
			if v, ok := f.Heat[d][h].Value(); ok {
				top = append(top, cell{d, h, v})
			}
		}
	}
	sort.SliceStable(top, func(i, j int) bool { return top[i].v > top[j].v })
	var s string
	if len(top) == 0 {
		s = fmt.Sprintf("Every hour had fewer than %d sessions.", f.K)
	} else {
		var when []string
		n := 0
		for _, c := range top {
			if c.v != top[0].v {
				break
			}
			n++
			if len(when) < 3 {
				when = append(when, DayNames[c.d]+" "+hourRange(c.h))
			}
		}
		each := ""
		if n > 1 {
			each = " each"
		}
		s = "Busiest: " + list(when)
		if n > len(when) {
			s += fmt.Sprintf(" and %d other hours", n-len(when))
		}
		s += fmt.Sprintf(" (about %s sessions%s).", thousands(top[0].v), each)
	}
	if f.OutOfHours.State() != NotApplicable {
		s += fmt.Sprintf(" Outside opening hours: %s sessions.", about(f.OutOfHours))
	}
	hours := f.heatHours()
	if len(hours) < 24 {
		t.Notes = append(t.Notes, fmt.Sprintf("The chart shows %s to %s: every other hour had fewer than %d sessions and the site was closed.",
			fmt.Sprintf("%02d:00", hours[0]), fmt.Sprintf("%02d:00", hours[len(hours)-1]+1), f.K))
	}
	title := "Sessions by day of the week and hour of the day, " + f.where()
	c := Chart{ID: DemandChart, Title: "When residents come", Summary: s, Table: t, heat: &heatTable{hours, f}}
	c.SVG = heatSVG("ak-"+c.ID, f, hours, title, s+" The numbers are in the table below the chart.")
	return c
}

func list(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// dimText are the words each ranking uses.
var dimText = map[Dimension]struct{ title, noun, nouns, col string }{
	Services:   {"Services reached", "service", "services", "Service"},
	Tiles:      {"Home-screen tiles opened", "tile", "tiles", "Tile"},
	Guides:     {"Guides opened", "guide", "guides", "Guide"},
	Features:   {"Accessibility features used", "feature", "features", "Feature"},
	Languages:  {"Languages other than the default", "language", "languages", "Language"},
	Categories: {"What volunteers helped with", "kind of help", "kinds of help", "Kind of help"},
}

// maxBars is how many bars a ranking draws; the table has them all.
const maxBars = 10

func (f *Figures) rankingChart(r Ranking) Chart {
	w := dimText[r.Dim]
	t := Table{Columns: []Column{{"rank", "Rank", RankColumn}, {"id", "Identifier", TextColumn}, {"label", w.col, TextColumn},
		{"sessions", "Sessions", CountColumn}, {"share", "Share of sessions", PercentColumn}}, Notes: f.roundingNotes()}
	base := f.Sessions
	if r.Dim == Categories {
		base = f.Assisted
		t.Columns[4].Label = "Share of assisted sessions"
	}
	t.Notes = append(t.Notes, fmt.Sprintf("Only %s used in at least %d sessions are listed.", w.nouns, f.K))
	var g barGroup
	for i, it := range r.Items {
		t.Rows = append(t.Rows, []Value{{Int: i + 1}, {Text: it.ID}, {Text: it.Label}, {Count: it.Sessions}, {Rate: Share(it.Sessions, base)}})
		if i < maxBars {
			v, _ := it.Sessions.Value()
			g.bars = append(g.bars, bar{label: it.Label, value: float64(v), text: it.Sessions.String(), count: true})
		}
	}
	var s string
	switch n := len(r.Items); {
	case n == 0:
		s = fmt.Sprintf("No %s was used in %d or more sessions.", w.noun, f.K)
	case n == 1:
		s = fmt.Sprintf("Most used: %s (about %s sessions).", r.Items[0].Label, r.Items[0].Sessions)
	default:
		var rest []string
		for _, it := range r.Items[1:min(n, 3)] {
			rest = append(rest, fmt.Sprintf("%s (%s)", it.Label, it.Sessions))
		}
		s = fmt.Sprintf("Most used: %s (about %s sessions), then %s.", r.Items[0].Label, r.Items[0].Sessions, list(rest))
	}
	if len(r.Items) > maxBars {
		t.Notes = append(t.Notes, fmt.Sprintf("The chart shows the top %d of %d; the table lists them all.", maxBars, len(r.Items)))
	}
	c := Chart{ID: RankingChart(r.Dim), Title: w.title, Summary: s, Table: t}
	if len(g.bars) > 0 {
		c.SVG = barsSVG("ak-"+c.ID, "bars", []barGroup{g}, w.title+", "+f.where(), s+" The numbers are in the table below the chart.")
	}
	return c
}

func shareBar(label string, r Rate, fewer Count) bar {
	b := bar{label: label, text: r.Percent()}
	switch r.State() {
	case Exact:
		b.value = r.v
	case Under:
		b.value, b.fill = r.v, "hatch"
	default:
		b.text = "no figure: " + fewer.String() + " sessions"
	}
	return b
}

func (f *Figures) assistedChart() Chart {
	t := Table{Columns: []Column{{"period", "When", TextColumn}, {"start", "From", DateColumn}, {"end", "To", DateColumn},
		{"sessions", "Sessions", CountColumn}, {"assisted", "Assisted", CountColumn}, {"assisted_share", "Share assisted", PercentColumn}},
		Notes: f.roundingNotes()}
	g := barGroup{scale: 100}
	best, bestLabel := -1.0, ""
	for _, bk := range f.Buckets {
		sh := Share(bk.Assisted, bk.Sessions)
		t.Rows = append(t.Rows, []Value{{Text: bk.Label}, {Date: bk.Start}, {Date: bk.End.AddDays(-1)}, {Count: bk.Sessions}, {Count: bk.Assisted}, {Rate: sh}})
		g.bars = append(g.bars, shareBar(bk.Label, sh, bk.Sessions))
		if sh.State() == Exact && sh.v > best {
			best, bestLabel = sh.v, bk.Label
		}
	}
	total := Share(f.Assisted, f.Sessions)
	t.Rows = append(t.Rows, []Value{{Text: "Whole period"}, {Date: f.Months[0].Start()}, {Date: f.Months[len(f.Months)-1].End().AddDays(-1)},
		{Count: f.Sessions}, {Count: f.Assisted}, {Rate: total}})
	var s string
	switch total.State() {
	case NoRate:
		s = fmt.Sprintf("There were fewer than %d sessions, so no share is shown.", f.K)
	case Under:
		s = fmt.Sprintf("A volunteer helped in fewer than %d sessions (%s).", f.K, total.Percent())
	default:
		s = fmt.Sprintf("A volunteer helped in %s of sessions (%s of %s).", total.Percent(), about(f.Assisted), f.Sessions)
		if best >= 0 && len(f.Buckets) > 1 {
			s += fmt.Sprintf(" Highest: %s (%s%%).", bestLabel, strconv.FormatFloat(best, 'f', 0, 64))
		}
	}
	c := Chart{ID: AssistedChart, Title: "Share of sessions a volunteer helped with", Summary: s, Table: t}
	c.SVG = barsSVG("ak-"+c.ID, "bars", []barGroup{g}, c.Title+", "+f.where(), s+" The numbers are in the table below the chart.")
	return c
}

var outcomeShort = [nOutcomes]string{"Done", "Follow-up", "Referred", "No outcome"}

func (f *Figures) outcomesChart() Chart {
	t := Table{Columns: []Column{{"period", "When", TextColumn}, {"start", "From", DateColumn}, {"end", "To", DateColumn},
		{"assisted", "Assisted", CountColumn}}, Notes: f.roundingNotes()}
	for o := range OutcomeIDs {
		t.Columns = append(t.Columns, Column{OutcomeIDs[o], OutcomeNames[o], CountColumn})
	}
	var groups []barGroup
	maxV := 0.0
	row := func(label string, from, to Date, assisted Count, outs [nOutcomes]Count) {
		r := []Value{{Text: label}, {Date: from}, {Date: to.AddDays(-1)}, {Count: assisted}}
		for _, c := range outs {
			r = append(r, Value{Count: c})
		}
		t.Rows = append(t.Rows, r)
	}
	for _, bk := range f.Buckets {
		row(bk.Label, bk.Start, bk.End, bk.Assisted, bk.Outcomes)
		g := barGroup{heading: bk.Label}
		for o, c := range bk.Outcomes {
			b := countBar(OutcomeNames[o], outcomeFill[o], c)
			maxV = max(maxV, b.value)
			g.bars = append(g.bars, b)
		}
		groups = append(groups, g)
	}
	row("Whole period", f.Months[0].Start(), f.Months[len(f.Months)-1].End(), f.Assisted, f.Outcomes)
	for i := range groups {
		groups[i].scale = max(maxV, float64(f.K))
	}
	var parts []string
	words := [nOutcomes]string{"done there and then", "need a follow-up", "referred elsewhere", "with no outcome recorded"}
	for o, c := range f.Outcomes {
		parts = append(parts, c.String()+" "+words[o])
	}
	s := fmt.Sprintf("Of %s assisted sessions: %s.", about(f.Assisted), list(parts))
	if f.Assisted.State() == Fewer {
		s = fmt.Sprintf("There were fewer than %d assisted sessions.", f.K)
	}
	c := Chart{ID: OutcomesChart, Title: "What came of assisted sessions", Summary: s, Table: t}
	c.SVG = barsSVG("ak-"+c.ID, "bars", groups, c.Title+", "+f.where(), s+" The numbers are in the table below the chart.")
	return c
}

func (f *Figures) sitesChart() Chart {
	t := Table{Columns: []Column{{"site_id", "Site id", TextColumn}, {"site", "Site", TextColumn}, {"sessions", "Sessions", CountColumn},
		{"opening_hours", "Hours open", HoursColumn}, {"sessions_per_opening_hour", "Sessions per opening hour", RateColumn},
		{"assisted", "Assisted", CountColumn}, {"assisted_share", "Share assisted", PercentColumn}, {"follow_ups", "Need a follow-up", CountColumn}},
		Notes: append(f.roundingNotes(), "Sessions per opening hour counts the sessions that started while the site was open; sites without opening hours have none.")}
	type siteVals struct {
		name             string
		perHour, share   Rate
		fu               Count
		sessions, inHour Count
	}
	var vs []siteVals
	for _, s := range f.Sites {
		v := siteVals{name: s.Name, perHour: PerHour(s.InHours, s.OpeningHours), share: Share(s.Assisted, s.Sessions), fu: s.FollowUp, sessions: s.Sessions, inHour: s.InHours}
		vs = append(vs, v)
		t.Rows = append(t.Rows, []Value{{Text: s.ID}, {Text: s.Name}, {Count: s.Sessions}, {Num: s.OpeningHours}, {Rate: v.perHour},
			{Count: s.Assisted}, {Rate: v.share}, {Count: s.FollowUp}})
	}
	t.Rows = append(t.Rows, []Value{{Text: ""}, {Text: "All sites"}, {Count: f.Sessions}, {Num: f.OpeningHours},
		{Rate: PerHour(f.InHours, f.OpeningHours)}, {Count: f.Assisted}, {Rate: Share(f.Assisted, f.Sessions)}, {Count: f.Outcomes[FollowUp]}})

	rank := func(key func(siteVals) (float64, bool)) []siteVals {
		out := append([]siteVals(nil), vs...)
		sort.SliceStable(out, func(i, j int) bool {
			a, aok := key(out[i])
			c, cok := key(out[j])
			if aok != cok {
				return aok
			}
			return a > c
		})
		if len(out) > 2*maxBars {
			out = out[:2*maxBars]
		}
		return out
	}
	rateKey := func(r Rate) (float64, bool) { return r.v, r.st == Exact }
	var groups []barGroup
	var best []string
	g := barGroup{heading: "Sessions per opening hour"}
	for _, v := range rank(func(v siteVals) (float64, bool) { return rateKey(v.perHour) }) {
		b := bar{label: v.name, value: v.perHour.v, text: v.perHour.Decimal()}
		switch v.perHour.State() {
		case Under:
			b.fill = "hatch"
		case NoRate:
			b.text = "no opening hours set"
		}
		g.bars = append(g.bars, b)
	}
	groups = append(groups, g)
	if len(g.bars) > 0 && g.bars[0].fill == "" && g.bars[0].value > 0 {
		best = append(best, fmt.Sprintf("most sessions per opening hour: %s (%s)", g.bars[0].label, g.bars[0].text))
	}
	g = barGroup{heading: "Share of sessions assisted", scale: 100}
	for _, v := range rank(func(v siteVals) (float64, bool) { return rateKey(v.share) }) {
		g.bars = append(g.bars, shareBar(v.name, v.share, v.sessions))
	}
	groups = append(groups, g)
	if len(g.bars) > 0 && g.bars[0].fill == "" && g.bars[0].value > 0 {
		best = append(best, fmt.Sprintf("highest share assisted: %s (%s)", g.bars[0].label, g.bars[0].text))
	}
	g = barGroup{heading: "Sessions needing a follow-up"}
	for _, v := range rank(func(v siteVals) (float64, bool) { n, ok := v.fu.Value(); return float64(n), ok }) {
		b := bar{label: v.name, text: v.fu.String(), count: true}
		if n, ok := v.fu.Value(); ok {
			b.value = float64(n)
		} else {
			b.value, b.fill = float64(f.K), "hatch"
		}
		g.bars = append(g.bars, b)
	}
	groups = append(groups, g)
	if len(g.bars) > 0 && g.bars[0].fill == "" {
		best = append(best, fmt.Sprintf("most follow-ups: %s (%s)", g.bars[0].label, g.bars[0].text))
	}
	s := fmt.Sprintf("%d sites.", len(f.Sites))
	if len(best) > 0 {
		s = capital(strings.Join(best, "; ")) + "."
	}
	if len(f.Sites) > 2*maxBars {
		t.Notes = append(t.Notes, fmt.Sprintf("Each part of the chart shows the top %d of %d sites; the table lists them all.", 2*maxBars, len(f.Sites)))
	}
	c := Chart{ID: SitesChart, Title: "Sites compared", Summary: s, Table: t}
	c.SVG = barsSVG("ak-"+c.ID, "bars", groups, c.Title+", "+f.PeriodLabel(), s+" The numbers are in the table below the chart.")
	return c
}

// usageChart is what sessions printed, scanned, uploaded and downloaded,
// and how much remote help they had: a row for the site, or one per site
// and one for all sites.
func (f *Figures) usageChart() Chart {
	t := Table{Columns: []Column{{"site_id", "Site id", TextColumn}, {"site", "Site", TextColumn}},
		Notes: append(f.roundingNotes(), fmt.Sprintf("A count is withheld, whatever its size, unless at least %d sessions used what it counts "+
			"(the printer, the scanner or camera, a file upload, a download, remote help), so that no figure is what one resident did. "+
			"Kiosks report print jobs, files and minutes of remote help from fleet capability 7; older kiosks count none.", f.K))}
	for u := range UsageIDs {
		t.Columns = append(t.Columns, Column{UsageIDs[u], UsageNames[u], CountColumn})
	}
	row := func(id, name string, us [nUsage]Count) {
		r := []Value{{Text: id}, {Text: name}}
		for _, c := range us {
			r = append(r, Value{Count: c})
		}
		t.Rows = append(t.Rows, r)
	}
	if f.Site == "" {
		for _, s := range f.Sites {
			row(s.ID, s.Name, s.Usage)
		}
		row("", "All sites", f.Usage)
	} else {
		row(f.Site, f.SiteName, f.Usage)
	}
	g := barGroup{}
	maxV := 0.0
	for u, c := range f.Usage {
		if UsageKind(u) == RemoteHelpMinutes {
			continue // minutes are not on the counts' scale: in the sentence and table
		}
		b := countBar(UsageNames[u], "", c)
		maxV = max(maxV, b.value)
		g.bars = append(g.bars, b)
	}
	g.scale = max(maxV, float64(f.K))
	var parts []string
	for u, c := range f.Usage {
		parts = append(parts, strings.ToLower(UsageNames[u][:1])+UsageNames[u][1:]+": "+usageText(c))
	}
	s := capital(strings.Join(parts, "; ")) + "."
	c := Chart{ID: UsageChart, Title: "Printing, files and remote help", Summary: s, Table: t}
	c.SVG = barsSVG("ak-"+c.ID, "bars", []barGroup{g}, c.Title+", "+f.where(), s+" The numbers are in the table below the chart.")
	return c
}

// usageText is a usage count as the sentence and the chart say it: a
// withheld one says why.
func usageText(c Count) string {
	if c.State() == Withheld {
		return fmt.Sprintf("withheld (fewer than %d sessions)", c.K())
	}
	return about(c)
}

// countBar is c's bar: its value when shown, hatched at K when there were
// fewer than K (a chart's scale is at least K), empty when withheld
// otherwise.
func countBar(label, fill string, c Count) bar {
	b := bar{label: label, text: c.String(), fill: fill, count: true}
	if v, ok := c.Value(); ok {
		b.value = float64(v)
	} else if c.State() == Fewer {
		b.value, b.fill = float64(c.K()), "hatch"
	}
	return b
}

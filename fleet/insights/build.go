package insights

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Options says which figures Build makes.
type Options struct {
	// Rule is the small-number rule (K from config).
	Rule Rule
	// Site is the site's id, or "" for all sites together.
	Site string
	// Period is the month, quarter or financial year.
	Period Period
	// Today is the council's current calendar day. Only months that have
	// ended by then are counted: figures for a month that is still going
	// on would change day by day, and two days' figures could be
	// subtracted to uncover one day's small numbers. A quarter or year
	// still going on is shown for its ended months ("so far").
	Today Date
}

// ErrNotEnded is returned for a period none of whose months has ended.
var ErrNotEnded = errors.New("no month of this period has ended yet")

// Figures are the protected figures for one site (or all sites) over one
// period: what every chart, table, export and report is drawn from. No
// true count is kept in them; see the package documentation for the rule.
type Figures struct {
	K        int    // the threshold the figures were made with
	Site     string // the site's id; "" for all sites
	SiteName string // the site's name, or "All sites"
	Period   Period
	// Months are the months counted: all of the period's once it has
	// ended, otherwise those that have (Partial is then true).
	Months  []Period
	Partial bool

	// Sessions is every session that started in the period.
	Sessions Count
	// InHours and OutOfHours split Sessions by whether the site was open
	// in the hour the session started (Week.OpenDuring); NotApplicable
	// when no site in scope has opening hours set. For all sites they add
	// up the sites with opening hours.
	InHours, OutOfHours Count
	// OpeningHours is how many hours the sites in scope were open in
	// Months, from their opening hours.
	OpeningHours float64
	// Assisted is the sessions a volunteer helped with, and Outcomes what
	// came of them (indexed by Outcome; NoOutcome is "none recorded").
	Assisted Count
	Outcomes [nOutcomes]Count
	// Heat is sessions by weekday (Monday = 0) and the clock hour they
	// started in; Open says whether the site (for all sites: any site) is
	// open in that hour.
	Heat [7][24]Count
	Open [7][24]bool
	// Buckets are the period's steps in time: days 1-7, 8-14, 15-21 and
	// 22-end of a month, or the months of a quarter or year.
	Buckets []Bucket
	// Rankings has one entry per Dimension (in Dimensions order), listing
	// the identifiers shown in at least K sessions, most first. Smaller
	// ones are not listed at all, so that no list says "used, but rarely".
	Rankings []Ranking
	// NoCategory is the assisted sessions with no category recorded.
	NoCategory Count
	// Usage is what the sessions printed, scanned, uploaded, downloaded
	// and how much remote help they had (indexed by UsageKind). A usage
	// count is Withheld, whatever its size, unless at least K sessions
	// used its feature (UsageFeatures).
	Usage [nUsage]Count
	// Sites, for all sites, has a row per site (in Input.Sites order, by
	// name), each with that site's own figures for the period.
	Sites []SiteRow
}

// Bucket is one step of a time series.
type Bucket struct {
	Label      string // "1–7 Mar", "April 2025"
	Start, End Date   // End is the day after the last
	Sessions   Count
	Assisted   Count
	Outcomes   [nOutcomes]Count
}

// Ranking is one dimension's shown identifiers, most used first (ties by
// label).
type Ranking struct {
	Dim   Dimension
	Items []Item
}

// Item is an identifier and the sessions that used it.
type Item struct {
	ID, Label string
	Sessions  Count
}

// SiteRow is one site's figures in the all-sites comparison: the same
// figures as that site's own page for the period.
type SiteRow struct {
	ID, Name     string
	Sessions     Count
	InHours      Count
	Assisted     Count
	FollowUp     Count
	OpeningHours float64
	Usage        [nUsage]Count
}

// Build validates in, counts it for the site (or all sites) and period in
// opt, and applies the small-number rule. Errors name what is wrong:
// a bad rule, an unknown site, a period that has not ended, or a
// problem in in (see Input.Validate).
func Build(in *Input, opt Options) (*Figures, error) {
	if err := opt.Rule.Validate(); err != nil {
		return nil, err
	}
	if opt.Period.kind == 0 {
		return nil, fmt.Errorf("no period given: %w", ErrPeriod)
	}
	if !opt.Today.Valid() {
		return nil, fmt.Errorf("today %s is not a calendar day", opt.Today)
	}
	var months []Period
	for _, m := range opt.Period.Months() {
		if m.ended(opt.Today) {
			months = append(months, m)
		}
	}
	if len(months) == 0 {
		return nil, fmt.Errorf("%s: %w", opt.Period.Label(), ErrNotEnded)
	}
	if opt.Site != "" && !slices.ContainsFunc(in.Sites, func(s Site) bool { return s.ID == opt.Site }) {
		return nil, fmt.Errorf("site %q: no such site", opt.Site)
	}
	x, err := in.index(opt.Site, months[0].Start(), months[len(months)-1].End())
	if err != nil {
		return nil, fmt.Errorf("insights input: %w", err)
	}
	b := newBuilder(in, x, opt.Rule.k())
	name := "All sites"
	if opt.Site != "" {
		name = siteName(b.site[opt.Site])
	}
	r := b.release(opt.Site, opt.Period, months)
	return b.figures(r, opt, name, months), nil
}

// fig is one count inside the builder: its true value, and what is shown
// of it once protected, with the interval of true values a reader who
// knows the rule can tell from that.
type fig struct {
	raw    int
	st     State
	pub    int
	lo, hi int
}

// release is one site (or all) over one period, before and after
// protection. Child releases (each site; each month) are protected first,
// and a release's totals are rounded knowing what its children show.
type release struct {
	site   string
	months []Period
	kind   PeriodKind

	total, in, out, assisted, uncat fig
	outs                            [nOutcomes]fig
	use                             [nUsage]fig
	heat                            [7][24]fig
	items                           map[Dimension]map[string]*fig
	blocks                          []*blockFigs // a month's own buckets
	hours                           float64
	hasHours, allHours              bool
	open                            [7][24]bool

	bySite  []*release // all sites: one per site
	byMonth []*release // a quarter or year: one per month
}

type blockFigs struct {
	b        bucket
	sessions fig
	assisted fig
	outs     [nOutcomes]fig
}

type builder struct {
	in    *Input
	x     *inputIndex
	k     int
	site  map[string]Site
	order []Site // by name
	vocab map[Dimension]map[string]bool
	memo  map[string]*release
	// keep, when set (by tests), records every relation the rule
	// considered, for the tests' attacker.
	keep      bool
	relations []relation
	// plain, when set (by the benchmark), shows every count as it is: the
	// same work without the rule, to measure what the rule costs.
	plain bool
}

// relation is "total = the sum of parts", as a reader can see it.
type relation struct {
	total *fig
	parts []*fig
}

func newBuilder(in *Input, x *inputIndex, k int) *builder {
	b := &builder{in: in, x: x, k: k, site: map[string]Site{}, vocab: x.vocab, memo: map[string]*release{}}
	for _, s := range in.Sites {
		b.site[s.ID] = s
		b.order = append(b.order, s)
	}
	sort.SliceStable(b.order, func(i, j int) bool { return siteName(b.order[i]) < siteName(b.order[j]) })
	return b
}

func siteName(s Site) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// release builds (once) and protects the release for site ("" = all)
// over months, which are of a period of kind.
func (b *builder) release(site string, p Period, months []Period) *release {
	key := site + "|" + months[0].Key() + "|" + months[len(months)-1].Key() + "|" + fmt.Sprint(p.kind)
	if len(months) == 1 {
		key = site + "|" + months[0].Key()
	}
	if r := b.memo[key]; r != nil {
		return r
	}
	r := &release{site: site, months: months, kind: p.kind, items: map[Dimension]map[string]*fig{}}
	if len(months) == 1 {
		r.kind = MonthPeriod
	}
	for _, d := range Dimensions {
		r.items[d] = map[string]*fig{}
		for id := range b.vocab[d] {
			r.items[d][id] = &fig{}
		}
	}
	switch {
	case site == "":
		for _, s := range b.order {
			r.bySite = append(r.bySite, b.release(s.ID, p, months))
		}
	case len(months) > 1:
		for _, m := range months {
			r.byMonth = append(r.byMonth, b.release(site, m, []Period{m}))
		}
	}
	if site == "" && len(months) > 1 {
		for _, m := range months {
			r.byMonth = append(r.byMonth, b.release("", m, []Period{m}))
		}
	}
	b.count(r)
	b.protect(r)
	b.memo[key] = r
	return r
}

// count fills r's true counts: from the input for one site and month,
// otherwise as sums of its children.
func (b *builder) count(r *release) {
	if r.kind == MonthPeriod {
		for _, bk := range monthBlocks(r.months[0]) {
			r.blocks = append(r.blocks, &blockFigs{b: bk})
		}
	}
	if r.site != "" {
		b.openingHours(r)
	}
	if r.site != "" && len(r.months) == 1 {
		b.countMonth(r)
		return
	}
	children := r.bySite
	if children == nil {
		children = r.byMonth
	}
	for _, c := range children {
		r.addCounts(c)
	}
	if r.site == "" {
		r.allHours = true
		for _, c := range r.bySite {
			r.hours += c.hours
			r.hasHours = r.hasHours || c.hasHours
			r.allHours = r.allHours && c.hasHours
			for d := range r.open {
				for h := range r.open[d] {
					r.open[d][h] = r.open[d][h] || c.open[d][h]
				}
			}
		}
	} else {
		s := b.site[r.site]
		r.hasHours, r.allHours = s.Hours.Set(), s.Hours.Set()
	}
}

// openingHours fills a site's release with the site's opening hours over
// its months: whether they are set, how many, and which clock hours are
// open.
func (b *builder) openingHours(r *release) {
	s := b.site[r.site]
	r.hasHours, r.allHours = s.Hours.Set(), s.Hours.Set()
	for _, m := range r.months {
		r.hours += s.Hours.HoursBetween(m.Start(), m.End())
	}
	for d := 0; d < 7; d++ {
		for h := 0; h < 24; h++ {
			r.open[d][h] = s.Hours.OpenDuring(d, h)
		}
	}
}

// countMonth fills the true counts of one site's month from the input.
func (b *builder) countMonth(r *release) {
	slot := b.x.slot(b.x.site[r.site], r.months[0].Start())
	for _, i := range b.x.hours[slot] {
		h := &b.in.Hours[i]
		wd := h.Date.Weekday()
		none := h.Assisted - h.Done - h.FollowUp - h.Referred
		r.total.raw += h.Sessions
		r.heat[wd][h.Hour].raw += h.Sessions
		if r.hasHours {
			if r.open[wd][h.Hour] {
				r.in.raw += h.Sessions
			} else {
				r.out.raw += h.Sessions
			}
		}
		r.assisted.raw += h.Assisted
		bk := r.blocks[block(h.Date.Day)]
		bk.sessions.raw += h.Sessions
		bk.assisted.raw += h.Assisted
		for o, n := range [nOutcomes]int{h.Done, h.FollowUp, h.Referred, none} {
			r.outs[o].raw += n
			bk.outs[o].raw += n
		}
		r.addUsage(h.Usage)
	}
	for _, i := range b.x.cells[slot] {
		c := &b.in.Cells[i]
		r.total.raw += c.Sessions
		r.heat[c.Weekday][c.Hour].raw += c.Sessions
		if r.hasHours {
			if r.open[c.Weekday][c.Hour] {
				r.in.raw += c.Sessions
			} else {
				r.out.raw += c.Sessions
			}
		}
	}
	for _, i := range b.x.blocks[slot] {
		bl := &b.in.Blocks[i]
		none := bl.Assisted - bl.Done - bl.FollowUp - bl.Referred
		r.assisted.raw += bl.Assisted
		bk := r.blocks[bl.Block]
		bk.sessions.raw += bl.Sessions
		bk.assisted.raw += bl.Assisted
		for o, n := range [nOutcomes]int{bl.Done, bl.FollowUp, bl.Referred, none} {
			r.outs[o].raw += n
			bk.outs[o].raw += n
		}
		r.addUsage(bl.Usage)
	}
	cats := 0
	for _, i := range b.x.items[slot] {
		it := &b.in.Items[i]
		r.items[it.Dim][it.ID].raw += it.Sessions
		if it.Dim == Categories {
			cats += it.Sessions
		}
	}
	r.uncat.raw = r.assisted.raw - cats
}

func (r *release) addUsage(u Usage) {
	for i, n := range u.counts() {
		r.use[i].raw += n
	}
}

// addCounts adds child release c's true counts to r's.
func (r *release) addCounts(c *release) {
	for u := range r.use {
		r.use[u].raw += c.use[u].raw
	}
	r.total.raw += c.total.raw
	r.in.raw += c.in.raw
	r.out.raw += c.out.raw
	r.assisted.raw += c.assisted.raw
	r.uncat.raw += c.uncat.raw
	for o := range r.outs {
		r.outs[o].raw += c.outs[o].raw
	}
	for d := range r.heat {
		for h := range r.heat[d] {
			r.heat[d][h].raw += c.heat[d][h].raw
		}
	}
	for dim, ids := range c.items {
		for id, f := range ids {
			r.items[dim][id].raw += f.raw
		}
	}
	for i, bk := range r.blocks {
		cb := c.blocks[i]
		bk.sessions.raw += cb.sessions.raw
		bk.assisted.raw += cb.assisted.raw
		for o := range bk.outs {
			bk.outs[o].raw += cb.outs[o].raw
		}
	}
}

// protect applies the rule to every figure of r, parts before the totals
// they add up to. A figure that is a sum in several ways (the sessions are
// the sum of the hours, of the buckets, of in and out of hours, of the
// sites, of the months) is rounded so that none of those sums gives a
// hidden part away.
func (b *builder) protect(r *release) {
	for d := range r.heat {
		for h := range r.heat[d] {
			b.set(&r.heat[d][h], r.rels(func(c *release) *fig { return &c.heat[d][h] })...)
		}
	}
	for dim, ids := range r.items {
		for id, f := range ids {
			b.set(f, r.rels(func(c *release) *fig { return c.items[dim][id] })...)
		}
	}
	b.set(&r.uncat, r.rels(func(c *release) *fig { return &c.uncat })...)
	for u := range r.use {
		b.setUsage(r, UsageKind(u))
	}

	for i, bk := range r.blocks {
		sel := func(c *release) *blockFigs { return c.blocks[i] }
		for o := range bk.outs {
			b.set(&bk.outs[o], r.rels(func(c *release) *fig { return &sel(c).outs[o] })...)
		}
		b.set(&bk.sessions, r.rels(func(c *release) *fig { return &sel(c).sessions })...)
		b.set(&bk.assisted, append(r.rels(func(c *release) *fig { return &sel(c).assisted }), ptrs(bk.outs[:]))...)
	}

	b.protectInOut(r)

	for o := range r.outs {
		b.set(&r.outs[o], append(r.rels(func(c *release) *fig { return &c.outs[o] }),
			r.bucketParts(func(bk *blockFigs) *fig { return &bk.outs[o] })...)...)
	}
	catParts := []*fig{&r.uncat}
	for _, id := range sortedKeys(r.items[Categories]) {
		catParts = append(catParts, r.items[Categories][id])
	}
	assistedRels := append(r.rels(func(c *release) *fig { return &c.assisted }),
		r.bucketParts(func(bk *blockFigs) *fig { return &bk.assisted })...)
	assistedRels = append(assistedRels, ptrs(r.outs[:]), catParts)
	b.set(&r.assisted, assistedRels...)

	var cells []*fig
	for d := range r.heat {
		for h := range r.heat[d] {
			cells = append(cells, &r.heat[d][h])
		}
	}
	totalRels := append(r.rels(func(c *release) *fig { return &c.total }),
		r.bucketParts(func(bk *blockFigs) *fig { return &bk.sessions })...)
	totalRels = append(totalRels, cells)
	if r.allHours {
		totalRels = append(totalRels, []*fig{&r.in, &r.out})
	}
	b.set(&r.total, totalRels...)
}

// setUsage protects r's usage count u: withheld unless the sessions that
// used its feature are shown (at least K; a state that follows from shown
// figures only), so that no usage count is what fewer than K residents
// did; otherwise as any total of its sites and months.
func (b *builder) setUsage(r *release, u UsageKind) {
	f := &r.use[u]
	if by := r.items[Features][UsageFeatures[u]]; !b.plain && (by == nil || by.st != Shown) {
		f.st, f.pub, f.lo, f.hi = Withheld, 0, 0, unbounded
		return
	}
	b.set(f, r.rels(func(c *release) *fig { return &c.use[u] })...)
}

// protectInOut applies the rule to r's sessions in and out of opening
// hours, or marks them not applicable when r has no opening hours.
func (b *builder) protectInOut(r *release) {
	if !r.hasHours {
		r.in.st, r.out.st = NotApplicable, NotApplicable
		return
	}
	var openCells, closedCells []*fig
	if r.site != "" {
		for d := range r.heat {
			for h := range r.heat[d] {
				if r.open[d][h] {
					openCells = append(openCells, &r.heat[d][h])
				} else {
					closedCells = append(closedCells, &r.heat[d][h])
				}
			}
		}
	}
	inRels := r.rels(func(c *release) *fig { return &c.in })
	outRels := r.rels(func(c *release) *fig { return &c.out })
	if r.site != "" {
		inRels = append(inRels, openCells)
		outRels = append(outRels, closedCells)
	}
	b.set(&r.in, inRels...)
	b.set(&r.out, outRels...)
}

// rels is a figure's relations to r's children, both ways (its sites,
// its months), sel picking the figure from each child.
func (r *release) rels(sel func(*release) *fig) [][]*fig {
	var out [][]*fig
	if r.bySite != nil {
		out = append(out, childFigs(r.bySite, sel))
	}
	if r.byMonth != nil {
		out = append(out, childFigs(r.byMonth, sel))
	}
	return out
}

// childFigs collects the same figure from each child.
func childFigs(children []*release, sel func(*release) *fig) []*fig {
	out := make([]*fig, len(children))
	for i, c := range children {
		out[i] = sel(c)
	}
	return out
}

// bucketParts is a figure's relation to r's buckets: a month's blocks,
// sel picking the figure from each. A longer period's months are already
// a relation (rels), so it has none here.
func (r *release) bucketParts(sel func(*blockFigs) *fig) [][]*fig {
	if r.blocks != nil {
		var ps []*fig
		for _, bk := range r.blocks {
			ps = append(ps, sel(bk))
		}
		return [][]*fig{ps}
	}
	return nil // the months are already a relation (rels)
}

func ptrs(fs []fig) []*fig {
	out := make([]*fig, len(fs))
	for i := range fs {
		out[i] = &fs[i]
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// set protects f, given the relations it is the total of (each a list of
// parts already protected).
func (b *builder) set(f *fig, rels ...[]*fig) {
	k := b.k
	if b.keep {
		for _, parts := range rels {
			b.relations = append(b.relations, relation{f, parts})
		}
	}
	if b.plain {
		f.st, f.pub, f.lo, f.hi = Shown, f.raw, f.raw, f.raw
		return
	}
	if f.raw < k {
		f.st, f.pub, f.lo, f.hi = Fewer, 0, 0, k-1
		return
	}
	rd := nearest(k)
	if len(rels) > 0 {
		sums := make([]int, 0, len(rels))
		for _, parts := range rels {
			s := 0
			for _, p := range parts {
				if p.hi >= unbounded || s >= unbounded {
					s = unbounded
					continue
				}
				s += p.hi
			}
			sums = append(sums, s)
		}
		var ok bool
		if rd, ok = chooseRounding(k, sums); !ok {
			f.st, f.pub, f.lo, f.hi = Withheld, 0, k, unbounded
			return
		}
	}
	f.st = Shown
	f.pub = rd.publish(k, f.raw)
	f.lo, f.hi = rd.interval(k, f.pub)
}

func (f *fig) count(k int) Count { return Count{v: f.pub, st: f.st, k: k, lo: f.lo} }

// figures turns a protected release into Figures.
func (b *builder) figures(r *release, opt Options, name string, months []Period) *Figures {
	k := b.k
	f := &Figures{K: k, Site: opt.Site, SiteName: name, Period: opt.Period, Months: months,
		Partial: len(months) < len(opt.Period.Months()), Sessions: r.total.count(k), InHours: r.in.count(k),
		OutOfHours: r.out.count(k), OpeningHours: r.hours, Assisted: r.assisted.count(k), NoCategory: r.uncat.count(k), Open: r.open}
	for o := range f.Outcomes {
		f.Outcomes[o] = r.outs[o].count(k)
	}
	for u := range f.Usage {
		f.Usage[u] = r.use[u].count(k)
	}
	for d := range f.Heat {
		for h := range f.Heat[d] {
			f.Heat[d][h] = r.heat[d][h].count(k)
		}
	}
	if r.blocks != nil {
		for _, bk := range r.blocks {
			x := Bucket{Label: bk.b.label, Start: bk.b.start, End: bk.b.end, Sessions: bk.sessions.count(k), Assisted: bk.assisted.count(k)}
			for o := range x.Outcomes {
				x.Outcomes[o] = bk.outs[o].count(k)
			}
			f.Buckets = append(f.Buckets, x)
		}
	} else {
		for _, m := range r.byMonth {
			x := Bucket{Label: m.months[0].Label(), Start: m.months[0].Start(), End: m.months[0].End(), Sessions: m.total.count(k), Assisted: m.assisted.count(k)}
			for o := range x.Outcomes {
				x.Outcomes[o] = m.outs[o].count(k)
			}
			f.Buckets = append(f.Buckets, x)
		}
	}
	for _, dim := range Dimensions {
		rk := Ranking{Dim: dim}
		for id, x := range r.items[dim] {
			if x.st != Shown {
				continue
			}
			rk.Items = append(rk.Items, Item{ID: id, Label: b.label(dim, id), Sessions: x.count(k)})
		}
		sort.Slice(rk.Items, func(i, j int) bool {
			a, c := rk.Items[i], rk.Items[j]
			if a.Sessions.v != c.Sessions.v {
				return a.Sessions.v > c.Sessions.v
			}
			if a.Label != c.Label {
				return a.Label < c.Label
			}
			return a.ID < c.ID
		})
		f.Rankings = append(f.Rankings, rk)
	}
	for i, c := range r.bySite {
		s := b.order[i]
		row := SiteRow{ID: s.ID, Name: siteName(s), Sessions: c.total.count(k), InHours: c.in.count(k),
			Assisted: c.assisted.count(k), FollowUp: c.outs[FollowUp].count(k), OpeningHours: c.hours}
		for u := range row.Usage {
			row.Usage[u] = c.use[u].count(k)
		}
		f.Sites = append(f.Sites, row)
	}
	return f
}

func (b *builder) label(dim Dimension, id string) string {
	if l := b.in.Labels[dim][id]; l != "" {
		return l
	}
	return id
}

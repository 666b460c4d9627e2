package insights

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// Dimension is one kind of thing the kiosk counts per session, as
// identifiers from its configuration (never a URL or anything typed).
type Dimension string

const (
	// Services: a service page reached, by the id of the allowlist rule
	// that let it through.
	Services Dimension = "service"
	// Tiles: a home-screen tile opened, by tile id.
	Tiles Dimension = "tile"
	// Guides: an assisted-digital guide opened, by guide id.
	Guides Dimension = "guide"
	// Features: an accessibility feature used in the session: "keyboard"
	// (on-screen keyboard), "high_contrast", "large_text", and "scan",
	// "print", "remote_help", "upload", "download" where the kiosk has
	// them.
	Features Dimension = "feature"
	// Languages: a language other than the kiosk's default chosen in the
	// session, by language code ("cy", "pl").
	Languages Dimension = "language"
	// Categories: what a volunteer helped with (the volunteer category of
	// an assisted session; at most one per session).
	Categories Dimension = "category"
)

// Dimensions lists every Dimension in the order the page shows them.
var Dimensions = []Dimension{Services, Tiles, Guides, Features, Languages, Categories}

// Outcome indexes Figures.Outcomes and Bucket.Outcomes.
type Outcome int

const (
	Done      Outcome = iota // done there and then ("done")
	FollowUp                 // needs a follow-up ("needs_follow_up")
	Referred                 // referred elsewhere ("referred_elsewhere")
	NoOutcome                // assisted, no outcome recorded
	nOutcomes
)

// OutcomeIDs are the outcomes' identifiers in exports (the volunteer
// receipt's words, and "none").
var OutcomeIDs = [nOutcomes]string{"done", "needs_follow_up", "referred_elsewhere", "none"}

// OutcomeNames are the outcomes as a librarian reads them.
var OutcomeNames = [nOutcomes]string{"Done there and then", "Needs a follow-up", "Referred elsewhere", "No outcome recorded"}

// UsageKind indexes Figures.Usage and SiteRow.Usage: what sessions did
// with the kiosk's printer, scanner, files and remote help, as counts and
// durations only.
type UsageKind int

const (
	PagesPrinted       UsageKind = iota // pages printed (pages × copies)
	PrintJobs                           // print jobs sent
	PagesScanned                        // pages scanned and photos taken
	FilesUploaded                       // files handed to a service's page
	FilesDownloaded                     // files saved from a service's page
	RemoteHelpSessions                  // remote-help sessions staff ran
	RemoteHelpMinutes                   // minutes staff saw the screen, all shares
	nUsage
)

// UsageIDs are the usage counts' identifiers in exports.
var UsageIDs = [nUsage]string{"pages_printed", "print_jobs", "pages_scanned", "files_uploaded", "files_downloaded",
	"remote_help_sessions", "remote_help_minutes"}

// UsageNames are the usage counts as a librarian reads them.
var UsageNames = [nUsage]string{"Pages printed", "Print jobs", "Pages scanned or photographed", "Files uploaded to services",
	"Files downloaded", "Remote-help sessions", "Minutes of remote help"}

// UsageFeatures are, per usage count, the feature (Features dimension)
// of the sessions it comes from: a usage count is shown only when at
// least K sessions used that feature, whatever its size, so that no
// figure is what one resident printed or uploaded.
var UsageFeatures = [nUsage]string{"print", "print", "scan", "upload", "download", "remote_help", "remote_help"}

// Usage is what the sessions counted in an entry did with the kiosk's
// devices and files (see UsageKind); zero from kiosks that do not report
// it.
type Usage struct {
	Prints, PrintJobs, Scans, Uploads, Downloads, Assists, AssistMinutes int
}

func (u Usage) counts() [nUsage]int {
	return [nUsage]int{u.Prints, u.PrintJobs, u.Scans, u.Uploads, u.Downloads, u.Assists, u.AssistMinutes}
}

// valid reports whether every count is 0 to a billion.
func (u Usage) valid() bool {
	for _, n := range u.counts() {
		if n < 0 || n > 1_000_000_000 {
			return false
		}
	}
	return true
}

// Input is everything Build needs, as the store fills it: sessions
// counted per site and per clock hour, and per site and day for each
// identifier of each Dimension. Nothing in it names a device or a person.
// Entries outside the period asked for are ignored, so the store may fill
// a wider range; Build needs at least every month of the period, for every
// site in scope (all of Sites when figures are for all sites).
type Input struct {
	// Sites lists every site (all of them, including sites with no
	// sessions, so that a quiet site shows as "fewer than 5" rather than
	// not at all). IDs are unique.
	Sites []Site
	// Hours has one entry per site and local clock hour in which at least
	// one session started; no two entries for the same site, date and hour.
	Hours []HourCount
	// Cells and Blocks are the other way to give a site's month, for a
	// store that keeps its counts by month (the fleet's does): Cells the
	// sessions per weekday and hour the month had, Blocks its sessions,
	// assisted sessions and outcomes per block of days (1-7, 8-14, 15-21,
	// 22 to the end). No figure needs more: the heat map is by weekday and
	// hour, the time series by blocks. A site's month is given by Hours or
	// by Cells and Blocks, not both; its Cells and Blocks add up to the
	// same sessions.
	Cells  []CellCount
	Blocks []BlockCount
	// Items has one entry per site, local date, dimension and identifier
	// that at least one session used; no two for the same four. An entry
	// may instead count a whole month (ItemCount.Month), since no figure
	// is finer than a month; an identifier's month is then given that way
	// only.
	Items []ItemCount
	// Labels gives, per dimension, the identifiers the kiosks are
	// configured with and the words to show for each ("council_tax":
	// "Council tax"). Optional; an identifier without a label is shown as
	// it is. Give the whole vocabulary when it is known: identifiers with
	// no sessions are then treated like small ones, which makes the rule
	// safer, not weaker.
	Labels map[Dimension]map[string]string
}

// Site is a site as the figures need it.
type Site struct {
	ID   string
	Name string // shown; "" shows the ID
	// Hours are the site's opening hours; zero means not set.
	Hours Week
}

// HourCount counts the sessions that started at one site in one local
// clock hour (the kiosk reports a session's start rounded down to the
// hour). Outcomes are of assisted sessions, so Done+FollowUp+Referred ≤
// Assisted ≤ Sessions; the rest of Assisted had no outcome recorded.
type HourCount struct {
	Site     string
	Date     Date
	Hour     int // 0-23
	Sessions int
	Assisted int // sessions a volunteer helped with
	Done     int // outcome "done"
	FollowUp int // outcome "needs_follow_up"
	Referred int // outcome "referred_elsewhere"
	Usage        // what the hour's sessions printed, scanned, uploaded...
}

// CellCount counts the sessions that started at one site in one month
// on one day of the week, in one local clock hour.
type CellCount struct {
	Site     string
	Month    Date // the 1st of the month
	Weekday  int  // Monday = 0 ... Sunday = 6
	Hour     int  // 0-23
	Sessions int
}

// BlockCount counts the sessions that started at one site in one block of
// a month's days (Block 0: days 1-7, 1: 8-14, 2: 15-21, 3: 22 to the end),
// with the assisted ones and their outcomes, as HourCount does.
type BlockCount struct {
	Site     string
	Month    Date // the 1st of the month
	Block    int  // 0-3
	Sessions int
	Assisted int
	Done     int
	FollowUp int
	Referred int
	Usage    // what the block's sessions printed, scanned, uploaded...
}

// ItemCount counts the sessions at one site on one local date that used
// an identifier of a dimension (a session that opened a guide twice counts
// once). Each is at most that day's sessions (for Categories, its assisted
// sessions, and the categories of a day together at most those).
type ItemCount struct {
	Site string
	Date Date
	// Month says the entry counts the sessions of Date's whole month
	// (Date is then the 1st): each is at most that month's sessions (for
	// Categories, its assisted sessions, and a month's categories
	// together at most those).
	Month    bool
	Dim      Dimension
	ID       string
	Sessions int
}

// maxErrors bounds how many problems one error lists.
const maxErrors = 10

// Validate checks the whole input and returns every problem found (up to
// ten), each naming the entry (hours[12], items[3], sites[0]) and what is
// wrong. Build checks the same, but only of the entries it uses.
func (in *Input) Validate() error {
	_, err := in.index("", Date{}, Date{})
	return err
}

// inputIndex is the input's entries for one scope and range of dates,
// checked, and grouped by site and month for Build.
type inputIndex struct {
	site   map[string]int // id → position in Input.Sites
	from   Date           // first day of the first month
	months int
	hours  [][]int32 // [site*months + month] → positions in Input.Hours
	cells  [][]int32 // ... in Input.Cells
	blocks [][]int32 // ... in Input.Blocks
	items  [][]int32
	vocab  map[Dimension]map[string]bool
}

func (x *inputIndex) slot(site int, d Date) int {
	return site*x.months + (d.Year-x.from.Year)*12 + int(d.Month) - int(x.from.Month)
}

// index checks and groups the entries of site (every site when "") dated
// from the first of from's month up to to; a zero from means every entry.
// Other sites' entries are not looked at; entries outside the dates only
// have their site and date checked.
func (in *Input) index(site string, from, to Date) (*inputIndex, error) {
	var errs []error
	add := func(format string, a ...any) bool {
		errs = append(errs, fmt.Errorf(format, a...))
		return len(errs) < maxErrors
	}
	x := &inputIndex{site: map[string]int{}, vocab: map[Dimension]map[string]bool{}}
	in.indexSites(x, add)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if from == (Date{}) {
		from, to = in.span()
	}
	x.from = from.firstOfMonth()
	for d := x.from; d.Before(to); d = d.nextMonth() {
		x.months++
	}
	first, ndays := x.from.ordinal(), to.ordinal()-x.from.ordinal()
	ndays = max(ndays, 0)
	x.hours = make([][]int32, len(in.Sites)*x.months)
	x.cells = make([][]int32, len(in.Sites)*x.months)
	x.blocks = make([][]int32, len(in.Sites)*x.months)
	x.items = make([][]int32, len(in.Sites)*x.months)
	scope := -1
	if site != "" {
		si, ok := x.site[site]
		if !ok {
			return nil, fmt.Errorf("site %q: no such site", site)
		}
		scope = si
	}
	ix := &indexer{
		in: in, x: x, site: site, first: first, ndays: ndays, add: add,
		dayN:   make([]int32, 2*len(in.Sites)*ndays), // sessions, assisted per site and day
		monthN: make([]int32, 2*len(x.hours)),        // sessions, assisted per site and month
	}
	ix.use = func(si int, d Date) bool {
		n := d.ordinal() - first
		return (scope < 0 || si == scope) && n >= 0 && n < ndays
	}
	if !ix.hours() {
		return nil, errors.Join(errs...)
	}
	in.indexMonths(x, site, ix.use, ix.monthN, add)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if !ix.items() {
		return nil, errors.Join(errs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return x, nil
}

// indexSites checks Sites and Labels, and fills x's sites and its
// vocabulary from them; add collects the problems.
func (in *Input) indexSites(x *inputIndex, add func(string, ...any) bool) {
	for i, s := range in.Sites {
		switch _, dup := x.site[s.ID]; {
		case !validID(s.ID):
			add("sites[%d]: id %q: use 1 to 64 letters, digits, '.', '_', ':' or '-'", i, s.ID)
		case dup:
			add("sites[%d]: id %q is given twice", i, s.ID)
		case !validText(s.Name):
			add("sites[%d] (%s): name: at most 200 printable characters", i, s.ID)
		}
		if err := s.Hours.Validate(); err != nil {
			add("sites[%d] (%s): %v", i, s.ID, err)
		}
		if _, dup := x.site[s.ID]; !dup {
			x.site[s.ID] = i
		}
	}
	for _, d := range Dimensions {
		x.vocab[d] = map[string]bool{}
	}
	for dim, labels := range in.Labels {
		if !knownDim(dim) {
			add("labels: dimension %q is not one of service, tile, guide, feature, language, category", dim)
			continue
		}
		for id, l := range labels {
			if !validID(id) || !validText(l) {
				add("labels[%s][%q]: the id or its label is not allowed", dim, id)
			}
			x.vocab[dim][id] = true
		}
	}
}

// span returns the dates the input's entries cover: from the earliest
// valid date to the day after the latest.
func (in *Input) span() (from, to Date) {
	lo, hi := Date{2200, time.December, 31}, Date{2000, time.January, 1}
	for _, h := range in.Hours {
		if h.Date.Valid() {
			lo, hi = minDate(lo, h.Date), maxDate(hi, h.Date)
		}
	}
	for _, c := range in.Cells {
		if c.Month.Valid() {
			lo, hi = minDate(lo, c.Month), maxDate(hi, c.Month)
		}
	}
	for _, b := range in.Blocks {
		if b.Month.Valid() {
			lo, hi = minDate(lo, b.Month), maxDate(hi, b.Month)
		}
	}
	for _, it := range in.Items {
		if it.Date.Valid() {
			lo, hi = minDate(lo, it.Date), maxDate(hi, it.Date)
		}
	}
	from, to = lo, hi.AddDays(1)
	if to.Before(from) {
		from, to = hi, hi
	}
	return from, to
}

// indexer is index's work in progress on Hours and Items: the scope and
// days asked for, the sessions counted so far per day and month (to check
// the items against), and what has been seen (to find entries given twice).
type indexer struct {
	in     *Input
	x      *inputIndex
	site   string                      // "" for every site
	use    func(site int, d Date) bool // whether an entry is in scope and range
	first  int                         // ordinal of x.from
	ndays  int
	add    func(string, ...any) bool // collects a problem; false: stop
	dayN   []int32                   // sessions, assisted per site and day
	monthN []int32                   // sessions, assisted per site and month

	ids         map[Dimension]map[string]uint16
	seenItem    [][]uint16
	cats        []int32 // categories' sessions per site and day
	how         map[monthItem]int8
	wholeMonths bool
	monthCats   []int32 // categories' sessions per site and month
}

// monthItem is an identifier of a dimension in one site's month: its
// month is given per day or as a whole, not both.
type monthItem struct {
	slot int
	dim  Dimension
	id   string
}

// day is the position of site si's date d among the sites' days.
func (ix *indexer) day(si int, d Date) int { return si*ix.ndays + d.ordinal() - ix.first }

// hours checks and groups Hours, counting each day's and month's
// sessions; false means it stopped early, with enough problems.
func (ix *indexer) hours() bool {
	x, add := ix.x, ix.add
	seenHour := make([]uint32, len(ix.in.Sites)*ix.ndays)
	for i, h := range ix.in.Hours {
		if ix.site != "" && h.Site != ix.site {
			continue // another site's: not looked at
		}
		si, known := x.site[h.Site]
		ok := true
		switch {
		case !known:
			ok = add("hours[%d]: site %q is not in sites", i, h.Site)
		case !h.Date.Valid():
			ok = add("hours[%d]: date %s is not a calendar day", i, h.Date)
		case !ix.use(si, h.Date):
			continue
		case h.Hour < 0 || h.Hour > 23:
			ok = add("hours[%d]: hour %d is not 0 to 23", i, h.Hour)
		case h.Sessions < 0 || h.Assisted < 0 || h.Done < 0 || h.FollowUp < 0 || h.Referred < 0:
			ok = add("hours[%d]: a count is negative", i)
		case !h.Usage.valid():
			ok = add("hours[%d]: a usage count is not 0 to 1,000,000,000", i)
		case h.Assisted > h.Sessions:
			ok = add("hours[%d]: %s %s %02d:00: assisted %d is more than sessions %d", i, h.Site, h.Date, h.Hour, h.Assisted, h.Sessions)
		case h.Done+h.FollowUp+h.Referred > h.Assisted:
			ok = add("hours[%d]: %s %s %02d:00: outcomes add up to more than assisted %d", i, h.Site, h.Date, h.Hour, h.Assisted)
		case h.Sessions > 1_000_000:
			ok = add("hours[%d]: %d sessions in an hour is not a count a kiosk makes", i, h.Sessions)
		default:
			day := ix.day(si, h.Date)
			if seenHour[day]&(1<<h.Hour) != 0 {
				ok = add("hours[%d]: %s %s %02d:00 is given twice", i, h.Site, h.Date, h.Hour)
				break
			}
			seenHour[day] |= 1 << h.Hour
			ix.dayN[2*day] += int32(h.Sessions)
			ix.dayN[2*day+1] += int32(h.Assisted)
			slot := x.slot(si, h.Date)
			ix.monthN[2*slot] += int32(h.Sessions)
			ix.monthN[2*slot+1] += int32(h.Assisted)
			x.hours[slot] = append(x.hours[slot], int32(i))
		}
		if !ok {
			return false
		}
	}
	return true
}

// items checks and groups Items against the sessions counted; false
// means it stopped early, with enough problems.
func (ix *indexer) items() bool {
	in, x, add := ix.in, ix.x, ix.add
	ix.ids = map[Dimension]map[string]uint16{}
	for _, d := range Dimensions {
		ix.ids[d] = map[string]uint16{}
	}
	ix.seenItem = make([][]uint16, len(in.Sites)*ix.ndays)
	ix.cats = make([]int32, len(in.Sites)*ix.ndays)
	ix.how = map[monthItem]int8{} // 1: per day, 2: a whole month (kept only when there are whole months)
	ix.wholeMonths = slices.ContainsFunc(in.Items, func(it ItemCount) bool { return it.Month })
	ix.monthCats = make([]int32, len(x.hours))
	for i, it := range in.Items {
		if ix.site != "" && it.Site != ix.site {
			continue
		}
		si, known := x.site[it.Site]
		ok := true
		switch {
		case !known:
			ok = add("items[%d]: site %q is not in sites", i, it.Site)
		case !it.Date.Valid():
			ok = add("items[%d]: date %s is not a calendar day", i, it.Date)
		case !ix.use(si, it.Date):
			continue
		case !knownDim(it.Dim):
			ok = add("items[%d]: dimension %q is not one of service, tile, guide, feature, language, category", i, it.Dim)
		case !validID(it.ID):
			ok = add("items[%d]: %s id %q: use 1 to 64 letters, digits, '.', '_', ':' or '-'", i, it.Dim, it.ID)
		case it.Sessions < 0:
			ok = add("items[%d]: sessions is negative", i)
		case it.Month && it.Date.Day != 1:
			ok = add("items[%d]: a whole month's entry is dated the 1st, not %s", i, it.Date)
		case it.Month:
			ok = ix.monthEntry(i, it, si)
		default:
			ok = ix.dayEntry(i, it, si)
		}
		if !ok {
			return false
		}
	}
	return true
}

// monthEntry checks and groups Items[i], a whole month's entry of site si;
// false means stop, with enough problems.
func (ix *indexer) monthEntry(i int, it ItemCount, si int) bool {
	x, add := ix.x, ix.add
	slot := x.slot(si, it.Date)
	k := monthItem{slot, it.Dim, it.ID}
	n, assisted := ix.monthN[2*slot], ix.monthN[2*slot+1]
	switch {
	case ix.how[k] != 0:
		return add("items[%d]: %s %s %s %q is given twice for the month", i, it.Site, it.Date.Month, it.Dim, it.ID)
	case it.Dim != Categories && int32(it.Sessions) > n:
		return add("items[%d]: %s %d-%02d: %s %q has %d sessions, more than the %d that month", i, it.Site, it.Date.Year, int(it.Date.Month), it.Dim, it.ID, it.Sessions, n)
	case it.Dim == Categories && ix.monthCats[slot]+int32(it.Sessions) > assisted:
		return add("items[%d]: %s %d-%02d: categories add up to more than the %d assisted sessions that month", i, it.Site, it.Date.Year, int(it.Date.Month), assisted)
	}
	ix.how[k] = 2
	if it.Dim == Categories {
		ix.monthCats[slot] += int32(it.Sessions)
	}
	x.vocab[it.Dim][it.ID] = true
	x.items[slot] = append(x.items[slot], int32(i))
	return true
}

// dayEntry checks and groups Items[i], one day's entry of site si; false
// means stop, with enough problems.
func (ix *indexer) dayEntry(i int, it ItemCount, si int) bool {
	x, add := ix.x, ix.add
	day := ix.day(si, it.Date)
	n, assisted := ix.dayN[2*day], ix.dayN[2*day+1]
	id, seen := ix.ids[it.Dim][it.ID]
	if !seen {
		if len(ix.ids[it.Dim]) >= 1<<16-1 {
			return add("items[%d]: more than 65,535 %s identifiers", i, it.Dim)
		}
		id = uint16(len(ix.ids[it.Dim]))
		ix.ids[it.Dim][it.ID] = id
	}
	key := id<<3 | uint16(dimIndex(it.Dim))
	if seen && slices.Contains(ix.seenItem[day], key) {
		return add("items[%d]: %s %s %s %q is given twice", i, it.Site, it.Date, it.Dim, it.ID)
	}
	slot := x.slot(si, it.Date)
	switch {
	case it.Dim != Categories && int32(it.Sessions) > n:
		return add("items[%d]: %s %s: %s %q has %d sessions, more than the %d that day", i, it.Site, it.Date, it.Dim, it.ID, it.Sessions, n)
	case it.Dim == Categories && ix.cats[day]+int32(it.Sessions) > assisted:
		return add("items[%d]: %s %s: categories add up to more than the %d assisted sessions that day", i, it.Site, it.Date, assisted)
	case it.Dim == Categories && ix.wholeMonths && ix.monthCats[slot]+int32(it.Sessions) > ix.monthN[2*slot+1]:
		return add("items[%d]: %s %d-%02d: categories add up to more than the %d assisted sessions that month", i, it.Site, it.Date.Year, int(it.Date.Month), ix.monthN[2*slot+1])
	case ix.wholeMonths && ix.how[monthItem{slot, it.Dim, it.ID}] == 2:
		return add("items[%d]: %s %s %s %q: its month is also given as a whole", i, it.Site, it.Date, it.Dim, it.ID)
	}
	ix.seenItem[day] = append(ix.seenItem[day], key)
	if it.Dim == Categories {
		ix.cats[day] += int32(it.Sessions)
		ix.monthCats[slot] += int32(it.Sessions)
	}
	if ix.wholeMonths {
		ix.how[monthItem{slot, it.Dim, it.ID}] = 1
	}
	x.vocab[it.Dim][it.ID] = true
	x.items[slot] = append(x.items[slot], int32(i))
	return true
}

func dimIndex(d Dimension) int { return slices.Index(Dimensions, d) }

func minDate(a, b Date) Date {
	if b.Before(a) {
		return b
	}
	return a
}

func maxDate(a, b Date) Date {
	if a.Before(b) {
		return b
	}
	return a
}

func knownDim(d Dimension) bool {
	for _, k := range Dimensions {
		if d == k {
			return true
		}
	}
	return false
}

func validID(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == ':' || r == '-') {
			return false
		}
	}
	return true
}

func validText(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 200 {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// indexMonths checks and groups Cells and Blocks (of site, "" for all)
// into x, adds the blocks' sessions and assisted sessions to monthN, and
// checks that each month is given one way and adds up; add collects the
// problems.
func (in *Input) indexMonths(x *inputIndex, site string, use func(int, Date) bool, monthN []int32, add func(string, ...any) bool) {
	if len(in.Cells) == 0 && len(in.Blocks) == 0 {
		return
	}
	cellSum := map[int]int{}
	blockSum := map[int]int{}
	if !in.indexCells(x, site, use, cellSum, add) {
		return
	}
	if !in.indexBlocks(x, site, use, monthN, blockSum, add) {
		return
	}
	in.checkMonths(x, cellSum, blockSum, add)
}

// indexCells checks and groups Cells (of site, "" for all) into x and
// adds each month's sessions to sum; false means it stopped early, with
// enough problems.
func (in *Input) indexCells(x *inputIndex, site string, use func(int, Date) bool, sum map[int]int, add func(string, ...any) bool) bool {
	type cellKey struct{ slot, wd, h int }
	seenCell := map[cellKey]bool{}
	for i, c := range in.Cells {
		if site != "" && c.Site != site {
			continue
		}
		si, known := x.site[c.Site]
		ok := true
		switch {
		case !known:
			ok = add("cells[%d]: site %q is not in sites", i, c.Site)
		case !c.Month.Valid() || c.Month.Day != 1:
			ok = add("cells[%d]: month %s is not the 1st of a month", i, c.Month)
		case !use(si, c.Month):
			continue
		case c.Weekday < 0 || c.Weekday > 6 || c.Hour < 0 || c.Hour > 23:
			ok = add("cells[%d]: weekday %d, hour %d: not 0-6 and 0-23", i, c.Weekday, c.Hour)
		case c.Sessions < 0 || c.Sessions > 1_000_000_000:
			ok = add("cells[%d]: %d sessions is not a count", i, c.Sessions)
		default:
			slot := x.slot(si, c.Month)
			k := cellKey{slot, c.Weekday, c.Hour}
			if seenCell[k] {
				ok = add("cells[%d]: %s %d-%02d weekday %d %02d:00 is given twice", i, c.Site, c.Month.Year, int(c.Month.Month), c.Weekday, c.Hour)
				break
			}
			seenCell[k] = true
			sum[slot] += c.Sessions
			x.cells[slot] = append(x.cells[slot], int32(i))
		}
		if !ok {
			return false
		}
	}
	return true
}

// indexBlocks checks and groups Blocks (of site, "" for all) into x, adds
// their sessions and assisted sessions to monthN and their sessions to
// sum; false means it stopped early, with enough problems.
func (in *Input) indexBlocks(x *inputIndex, site string, use func(int, Date) bool, monthN []int32, sum map[int]int, add func(string, ...any) bool) bool {
	seenBlock := map[[2]int]bool{}
	for i, b := range in.Blocks {
		if site != "" && b.Site != site {
			continue
		}
		si, known := x.site[b.Site]
		ok := true
		switch {
		case !known:
			ok = add("blocks[%d]: site %q is not in sites", i, b.Site)
		case !b.Month.Valid() || b.Month.Day != 1:
			ok = add("blocks[%d]: month %s is not the 1st of a month", i, b.Month)
		case !use(si, b.Month):
			continue
		case b.Block < 0 || b.Block > 3:
			ok = add("blocks[%d]: block %d is not 0 to 3", i, b.Block)
		case b.Sessions < 0 || b.Assisted < 0 || b.Done < 0 || b.FollowUp < 0 || b.Referred < 0:
			ok = add("blocks[%d]: a count is negative", i)
		case !b.Usage.valid():
			ok = add("blocks[%d]: a usage count is not 0 to 1,000,000,000", i)
		case b.Sessions > 1_000_000_000:
			ok = add("blocks[%d]: %d sessions is not a count", i, b.Sessions)
		case b.Assisted > b.Sessions:
			ok = add("blocks[%d]: %s %d-%02d block %d: assisted %d is more than sessions %d", i, b.Site, b.Month.Year, int(b.Month.Month), b.Block, b.Assisted, b.Sessions)
		case b.Done+b.FollowUp+b.Referred > b.Assisted:
			ok = add("blocks[%d]: %s %d-%02d block %d: outcomes add up to more than assisted %d", i, b.Site, b.Month.Year, int(b.Month.Month), b.Block, b.Assisted)
		default:
			slot := x.slot(si, b.Month)
			if seenBlock[[2]int{slot, b.Block}] {
				ok = add("blocks[%d]: %s %d-%02d block %d is given twice", i, b.Site, b.Month.Year, int(b.Month.Month), b.Block)
				break
			}
			seenBlock[[2]int{slot, b.Block}] = true
			sum[slot] += b.Sessions
			monthN[2*slot] += int32(b.Sessions)
			monthN[2*slot+1] += int32(b.Assisted)
			x.blocks[slot] = append(x.blocks[slot], int32(i))
		}
		if !ok {
			return false
		}
	}
	return true
}

// checkMonths checks that each month given by cells and blocks is not
// also given by hours, and that its cells and blocks add up to the same
// sessions; add collects the problems.
func (in *Input) checkMonths(x *inputIndex, cellSum, blockSum map[int]int, add func(string, ...any) bool) {
	for slot := range x.cells {
		if len(x.cells[slot]) == 0 && len(x.blocks[slot]) == 0 {
			continue
		}
		sid, m := slot/x.months, slot%x.months
		month := x.from
		for range m {
			month = month.nextMonth()
		}
		name := in.Sites[sid].ID
		switch {
		case len(x.hours[slot]) > 0:
			add("%s %d-%02d is given both by hours and by cells and blocks", name, month.Year, int(month.Month))
		case cellSum[slot] != blockSum[slot]:
			add("%s %d-%02d: its cells add up to %d sessions, its blocks to %d", name, month.Year, int(month.Month), cellSum[slot], blockSum[slot])
		}
	}
}

package api

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"accesskiosk/internal/ident"
)

// Counted is what a kiosk counted in one session, carried in its wipe
// receipt (Receipt.Counted, capability 5) for the fleet's Insights: when
// it started (to the hour) and how long it lasted (to 5 minutes), which
// configured things it used, as identifiers from the kiosk's configuration,
// and how many scans, prints and remote-help sessions it had. Nothing
// else: never a URL, a host, a page title or anything a resident typed.
//
// The lists name each identifier at most once (a guide opened twice is
// one guide). The fleet keeps only identifiers of its Vocabulary; any
// other is dropped before anything is stored, and counted as dropped.
type Counted struct {
	// StartedHourUnixMs is when the session started, rounded down to the
	// whole hour: a multiple of 3,600,000 ms. The fleet turns it into its
	// council's local date and hour.
	StartedHourUnixMs int64 `json:"started_hour_unix_ms"`
	// Minutes is how long the session lasted, rounded to the nearest 5
	// minutes (0, 5, 10, ...; at most MaxCountedMinutes).
	Minutes int `json:"minutes"`
	// Tiles are the home-screen tiles opened, by tile id.
	Tiles []string `json:"tiles,omitempty"`
	// Guides are the assisted-digital guides opened, by guide id.
	Guides []string `json:"guides,omitempty"`
	// Services are the allowlist rules whose pages the session reached, by
	// rule id (never the page's address).
	Services []string `json:"services,omitempty"`
	// Features are the accessibility features and devices used: the
	// Feature* identifiers.
	Features []string `json:"features,omitempty"`
	// Languages are the languages other than the kiosk's default chosen in
	// the session, by code ("cy", "pl").
	Languages []string `json:"languages,omitempty"`
	// Scans is how many pages were scanned or photographed, Prints how
	// many pages were printed, Assists how many remote-help sessions a
	// member of staff ran: 0 when the kiosk has no such device.
	Scans   int `json:"scans,omitempty"`
	Prints  int `json:"prints,omitempty"`
	Assists int `json:"assists,omitempty"`

	// Capability 7. Downloads is how many files the session saved into
	// its private folder, Uploads how many files it handed to a page,
	// PrintJobs how many print jobs it sent (Prints are their pages),
	// AssistMs how long council staff saw the screen through remote help,
	// all shares added up: at most the session's length (Minutes, which
	// is rounded: Minutes plus 2.5 minutes). Absent (0) from agents
	// before 7.
	Downloads int   `json:"downloads,omitempty"`
	Uploads   int   `json:"uploads,omitempty"`
	PrintJobs int   `json:"print_jobs,omitempty"`
	AssistMs  int64 `json:"assist_ms,omitempty"`
}

// Usage reports whether c carries any count of capability 7.
func (c *Counted) Usage() bool {
	return c.Downloads != 0 || c.Uploads != 0 || c.PrintJobs != 0 || c.AssistMs != 0
}

// WithoutUsage is a copy of c without the counts of capability 7, for a
// fleet older than 7.
func (c *Counted) WithoutUsage() *Counted {
	w := *c
	w.Downloads, w.Uploads, w.PrintJobs, w.AssistMs = 0, 0, 0, 0
	return &w
}

// MaxAssistMs is the most remote help a session of minutes (Counted.Minutes,
// rounded to the nearest 5) can have had: its length, rounded up.
func MaxAssistMs(minutes int) int64 {
	return int64(min(max(minutes, 0), MaxCountedMinutes))*60_000 + 150_000
}

// Features a session can use (Counted.Features). Scan, print, remote
// help, upload and download are also set by the fleet from Counted's
// counts.
const (
	FeatureKeyboard     = "keyboard"      // the on-screen keyboard
	FeatureHighContrast = "high_contrast" // high contrast
	FeatureLargeText    = "large_text"    // a larger text size
	FeatureScan         = "scan"          // the scanner or camera
	FeaturePrint        = "print"         // the printer
	FeatureRemoteHelp   = "remote_help"   // remote help from staff
	FeatureUpload       = "upload"        // a file handed to a page (capability 7)
	FeatureDownload     = "download"      // a file saved from a page (capability 7)
)

// FeatureLabels are the features as staff read them, in the order the
// console lists them.
var FeatureLabels = []IDLabel{
	{FeatureKeyboard, "On-screen keyboard"}, {FeatureHighContrast, "High contrast"}, {FeatureLargeText, "Larger text"},
	{FeatureScan, "Scanner or camera"}, {FeaturePrint, "Printer"}, {FeatureRemoteHelp, "Remote help"},
	{FeatureUpload, "Uploaded a file"}, {FeatureDownload, "Downloaded a file"},
}

// Outcomes a volunteer can record for an assisted session (Receipt.Outcome).
const (
	OutcomeDone      = "done"
	OutcomeFollowUp  = "needs_follow_up"
	OutcomeReferred  = "referred_elsewhere"
	MaxCountedIDs    = 32   // identifiers in each list of Counted
	MaxCountedPages  = 1000 // Scans, Prints per session
	MaxCountedAssist = 20   // Assists per session
	MaxCountedFiles  = 1000 // Downloads, Uploads, PrintJobs per session
	// MaxCountedMinutes bounds Counted.Minutes: a day.
	MaxCountedMinutes = 24 * 60
)

// IDLabel is an identifier and the words staff read for it.
type IDLabel struct{ ID, Label string }

func (c *Counted) validate(f string, endedUnixMs int64) error {
	const hour = int64(time.Hour / time.Millisecond)
	switch {
	case c.StartedHourUnixMs <= 0 || c.StartedHourUnixMs%hour != 0:
		return bad(f+"started_hour_unix_ms", "must be a positive Unix time in milliseconds rounded down to the hour")
	case endedUnixMs > 0 && c.StartedHourUnixMs > endedUnixMs:
		return bad(f+"started_hour_unix_ms", "is after the session ended")
	case endedUnixMs > 0 && endedUnixMs-c.StartedHourUnixMs > 25*hour:
		return bad(f+"started_hour_unix_ms", "is more than a day before the session ended")
	case c.Minutes < 0 || c.Minutes > MaxCountedMinutes || c.Minutes%5 != 0:
		return bad(f+"minutes", "must be 0 to %d, rounded to 5 minutes", MaxCountedMinutes)
	case c.Scans < 0 || c.Scans > MaxCountedPages:
		return bad(f+"scans", "must be 0 to %d", MaxCountedPages)
	case c.Prints < 0 || c.Prints > MaxCountedPages:
		return bad(f+"prints", "must be 0 to %d", MaxCountedPages)
	case c.Assists < 0 || c.Assists > MaxCountedAssist:
		return bad(f+"assists", "must be 0 to %d", MaxCountedAssist)
	case c.Downloads < 0 || c.Downloads > MaxCountedFiles:
		return bad(f+"downloads", "must be 0 to %d", MaxCountedFiles)
	case c.Uploads < 0 || c.Uploads > MaxCountedFiles:
		return bad(f+"uploads", "must be 0 to %d", MaxCountedFiles)
	case c.PrintJobs < 0 || c.PrintJobs > MaxCountedFiles:
		return bad(f+"print_jobs", "must be 0 to %d", MaxCountedFiles)
	case c.AssistMs < 0 || c.AssistMs > MaxAssistMs(c.Minutes):
		return bad(f+"assist_ms", "must be 0 to the session's length (minutes + 2.5 minutes: %d)", MaxAssistMs(c.Minutes))
	}
	for _, l := range []struct {
		name string
		ids  []string
	}{{"tiles", c.Tiles}, {"guides", c.Guides}, {"services", c.Services}, {"features", c.Features}, {"languages", c.Languages}} {
		if len(l.ids) > MaxCountedIDs {
			return bad(f+l.name, "has %d identifiers; at most %d", len(l.ids), MaxCountedIDs)
		}
		for i, id := range l.ids {
			if err := checkIdent(fmt.Sprintf("%s%s[%d]", f, l.name, i), id, MaxShortLen, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// Vocabulary is what a fleet counts: per kind, the identifiers its kiosks
// are configured with and the words staff read for each. The fleet keeps
// only these identifiers from receipts (Filter); FeatureLabels and the
// Outcome* identifiers are fixed and always known.
type Vocabulary struct {
	Services   map[string]string `yaml:"services" json:"services"`     // allowlist rule id → label
	Tiles      map[string]string `yaml:"tiles" json:"tiles"`           // home-screen tile id → label
	Guides     map[string]string `yaml:"guides" json:"guides"`         // guide id → label
	Languages  map[string]string `yaml:"languages" json:"languages"`   // language code → its own name ("Cymraeg")
	Categories map[string]string `yaml:"categories" json:"categories"` // volunteer category id → label
}

// DefaultVocabulary is the vocabulary of the kiosk's embedded defaults:
// its built-in guides, the volunteer categories of kiosk/volunteer, and
// Welsh and Polish. The default config has no tile or rule ids, so it
// counts no tiles or services: a council lists its own.
func DefaultVocabulary() Vocabulary {
	return Vocabulary{
		Services: map[string]string{},
		Tiles:    map[string]string{},
		Guides: map[string]string{
			"apply-parking-permit": "Apply for a parking permit", "create-council-account": "Create a council account",
			"digital-skills-help": "Digital skills help", "housing-benefit-council-tax-reduction": "Housing Benefit and Council Tax Reduction",
			"pay-council-tax": "Pay your council tax", "report-missed-bin": "Report a missed bin", "using-this-kiosk": "Using this kiosk",
		},
		Languages: map[string]string{"cy": "Cymraeg", "pl": "Polski"},
		Categories: map[string]string{
			"council_account": "Council account", "council_tax": "Council tax", "benefits": "Benefits and council tax reduction",
			"bins_recycling": "Bins and recycling", "parking": "Parking permits", "housing": "Housing", "digital_skills": "Digital skills",
			"email_online_accounts": "Email and online accounts", "other": "Something else",
		},
	}
}

// Dropped counts the identifiers Filter took out of receipts, by kind
// ("tile", "guide", "service", "feature", "language", "category",
// "outcome").
type Dropped map[string]int

// Total is how many identifiers were dropped.
func (d Dropped) Total() int {
	n := 0
	for _, v := range d {
		n += v
	}
	return n
}

// Kinds lists the kinds with drops, sorted.
func (d Dropped) Kinds() []string {
	var out []string
	for k, v := range d {
		if v > 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Filter takes out of every receipt of b each identifier that is not in
// v (see FilterReceipt), adds what it took out to into (when not nil)
// and returns how many it took. Call it after Validate.
func (v *Vocabulary) Filter(b *ReportBatch, into Dropped) int {
	n := 0
	drop := func(kind string) {
		n++
		if into != nil {
			into[kind]++
		}
	}
	for ri := range b.Reports {
		for ci := range b.Reports[ri].Receipts {
			v.FilterReceipt(&b.Reports[ri].Receipts[ci], drop)
		}
	}
	return n
}

// FilterReceipt takes out of rc each identifier that is not in v: those
// of Counted's lists (and repeats within a list), and a Category or
// Outcome the fleet does not know, which then read as not recorded. It
// calls drop with the kind of each ("tile", "guide", "service",
// "feature", "language", "category", "outcome"). Counted is replaced by
// a filtered copy: whatever else shares the old one is left as it was.
func (v *Vocabulary) FilterReceipt(rc *Receipt, drop func(kind string)) {
	if rc.Category != "" {
		if _, ok := v.Categories[rc.Category]; !ok {
			rc.Category = ""
			drop("category")
		}
	}
	switch rc.Outcome {
	case "", OutcomeDone, OutcomeFollowUp, OutcomeReferred:
	default:
		rc.Outcome = ""
		drop("outcome")
	}
	if rc.Counted == nil {
		return
	}
	c := *rc.Counted
	c.Tiles = keep(c.Tiles, v.Tiles, "tile", drop)
	c.Guides = keep(c.Guides, v.Guides, "guide", drop)
	c.Services = keep(c.Services, v.Services, "service", drop)
	c.Languages = keep(c.Languages, v.Languages, "language", drop)
	c.Features = keep(c.Features, featureSet, "feature", drop)
	rc.Counted = &c
}

var featureSet = func() map[string]string {
	m := map[string]string{}
	for _, f := range FeatureLabels {
		m[f.ID] = f.Label
	}
	return m
}()

// keep returns the identifiers of ids found in known, each once, in
// order (in a new slice), calling drop for every other.
func keep(ids []string, known map[string]string, kind string, drop func(string)) []string {
	var out []string
	for _, id := range ids {
		if _, ok := known[id]; !ok || slices.Contains(out, id) {
			drop(kind)
			continue
		}
		out = append(out, id)
	}
	return out
}

// Check says whether v can be used: every identifier 1 to 64 letters,
// digits, '.', '_', ':' or '-', every label 1 to 200 characters of text.
// The error is a *ValidationError whose Field is "KIND.ID" ("tiles.bins").
func (v Vocabulary) Check() error {
	for _, k := range []struct {
		kind string
		m    map[string]string
	}{{"services", v.Services}, {"tiles", v.Tiles}, {"guides", v.Guides}, {"languages", v.Languages}, {"categories", v.Categories}} {
		ids := make([]string, 0, len(k.m))
		for id := range k.m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if !vocabID(id) {
				return bad(k.kind+"."+id, "an identifier is 1 to 64 letters, digits, '.', '_', ':' or '-'")
			}
			if l := k.m[id]; l == "" || len([]rune(l)) > 200 || !ident.Text.Chars(l) {
				return bad(k.kind+"."+id, "the label must be 1 to 200 characters of text")
			}
		}
	}
	return nil
}

func vocabID(s string) bool {
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

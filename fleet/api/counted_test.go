package api

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"accesskiosk/kiosk/guides"
	"accesskiosk/kiosk/volunteer"
)

const hourMs = 3_600_000

func countedReport() Report {
	r := goodReport()
	r.Receipts[0].EndedUnixMs = 1_800_000_000_000
	r.Receipts[0].Counted = &Counted{StartedHourUnixMs: 1_800_000_000_000 - 1_800_000_000_000%hourMs, Minutes: 15,
		Tiles: []string{"pay-council-tax"}, Guides: []string{"pay-council-tax"}, Services: []string{"camden"},
		Features: []string{FeatureKeyboard, FeatureHighContrast}, Languages: []string{"cy"}, Scans: 2, Prints: 3, Assists: 1}
	return r
}

func TestCountedValidate(t *testing.T) {
	tests := []struct {
		name      string
		change    func(c *Counted)
		wantField string
	}{
		{"good", func(c *Counted) {}, ""},
		{"empty lists", func(c *Counted) { c.Tiles, c.Guides, c.Services, c.Features, c.Languages = nil, nil, nil, nil, nil }, ""},
		{"start not on the hour", func(c *Counted) { c.StartedHourUnixMs += 60_000 }, "started_hour_unix_ms"},
		{"no start", func(c *Counted) { c.StartedHourUnixMs = 0 }, "started_hour_unix_ms"},
		{"start after end", func(c *Counted) { c.StartedHourUnixMs += 2 * hourMs }, "started_hour_unix_ms"},
		{"start days before end", func(c *Counted) { c.StartedHourUnixMs -= 48 * hourMs }, "started_hour_unix_ms"},
		{"exact minutes", func(c *Counted) { c.Minutes = 13 }, "minutes"},
		{"negative minutes", func(c *Counted) { c.Minutes = -5 }, "minutes"},
		{"minutes beyond a day", func(c *Counted) { c.Minutes = MaxCountedMinutes + 5 }, "minutes"},
		{"a URL as a service", func(c *Counted) { c.Services = []string{"https://www.gov.uk/benefits"} }, "services[0]"},
		{"a search as a tile", func(c *Counted) { c.Tiles = []string{"ok", "my rent arrears"} }, "tiles[1]"},
		{"a control character", func(c *Counted) { c.Guides = []string{"a\x00b"} }, "guides[0]"},
		{"bidi override", func(c *Counted) { c.Languages = []string{"cy\u202e"} }, "languages[0]"},
		{"empty id", func(c *Counted) { c.Features = []string{""} }, "features[0]"},
		{"long id", func(c *Counted) { c.Tiles = []string{strings.Repeat("a", MaxShortLen+1)} }, "tiles[0]"},
		{"too many ids", func(c *Counted) { c.Guides = slices.Repeat([]string{"g"}, MaxCountedIDs+1) }, "guides"},
		{"negative scans", func(c *Counted) { c.Scans = -1 }, "scans"},
		{"too many prints", func(c *Counted) { c.Prints = MaxCountedPages + 1 }, "prints"},
		{"too many assists", func(c *Counted) { c.Assists = MaxCountedAssist + 1 }, "assists"},
		{"usage counts", func(c *Counted) { c.Downloads, c.Uploads, c.PrintJobs, c.AssistMs = 3, 2, 1, 17*60_000 }, ""},
		{"negative downloads", func(c *Counted) { c.Downloads = -1 }, "downloads"},
		{"too many uploads", func(c *Counted) { c.Uploads = MaxCountedFiles + 1 }, "uploads"},
		{"too many print jobs", func(c *Counted) { c.PrintJobs = MaxCountedFiles + 1 }, "print_jobs"},
		{"negative assist time", func(c *Counted) { c.AssistMs = -1 }, "assist_ms"},
		{"assist longer than the session", func(c *Counted) { c.AssistMs = MaxAssistMs(c.Minutes) + 1 }, "assist_ms"},
		{"assist a whole day", func(c *Counted) { c.Minutes, c.AssistMs = MaxCountedMinutes, MaxAssistMs(MaxCountedMinutes) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &ReportBatch{Capability: CapabilityVersion, Reports: []Report{countedReport()}}
			tt.change(b.Reports[0].Receipts[0].Counted)
			err := b.Validate()
			got := ""
			if ve, ok := err.(*ValidationError); ok {
				got = strings.TrimPrefix(ve.Field, "reports[0].receipts[0].counted.")
			} else if err != nil {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			if got != tt.wantField {
				t.Errorf("Validate() field = %q (%v), want %q", got, err, tt.wantField)
			}
		})
	}
}

// TestCountedOnTheWire: the field names are the contract the agent and the
// fleet share; a receipt without counted (an agent before capability 5)
// still decodes.
func TestCountedOnTheWire(t *testing.T) {
	b, err := json.Marshal(countedReport().Receipts[0].Counted)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"started_hour_unix_ms":1800000000000,"minutes":15,"tiles":["pay-council-tax"],"guides":["pay-council-tax"],"services":["camden"],` +
		`"features":["keyboard","high_contrast"],"languages":["cy"],"scans":2,"prints":3,"assists":1}`
	if string(b) != want {
		t.Errorf("counted on the wire:\n got %s\nwant %s", b, want)
	}
	c := *countedReport().Receipts[0].Counted
	c.Downloads, c.Uploads, c.PrintJobs, c.AssistMs = 4, 3, 2, 90_000
	if b, err = json.Marshal(&c); err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(want, "}") + `,"downloads":4,"uploads":3,"print_jobs":2,"assist_ms":90000}`; string(b) != want {
		t.Errorf("counted with capability 7's counts on the wire:\n got %s\nwant %s", b, want)
	}
	if !c.Usage() || c.WithoutUsage().Usage() || c.WithoutUsage().Scans != c.Scans || !c.Usage() {
		t.Errorf("Usage/WithoutUsage: %+v → %+v", c, c.WithoutUsage())
	}
	if b, _ := json.Marshal(c.WithoutUsage()); string(b) != strings.TrimSuffix(want, "}")+"}" {
		t.Errorf("without capability 7's counts: %s", b)
	}
	var rc Receipt
	if err := json.Unmarshal([]byte(`{"reason":"idle_timeout","cleared":["web_view"],"reset_ms":1,"session_ms":2,"ended_unix_ms":3}`), &rc); err != nil || rc.Counted != nil {
		t.Errorf("an older receipt: %+v, %v", rc, err)
	}
}

func TestVocabularyFilter(t *testing.T) {
	v := DefaultVocabulary()
	v.Tiles = map[string]string{"pay-council-tax": "Pay your council tax", "bins": "Bins"}
	v.Services = map[string]string{"camden": "Camden council website"}
	b := &ReportBatch{Capability: CapabilityVersion, Reports: []Report{countedReport()}}
	rc := &b.Reports[0].Receipts[0]
	rc.Assisted, rc.Category, rc.Outcome = true, "benefits", OutcomeFollowUp
	c := rc.Counted
	c.Tiles = []string{"bins", "evil.example.com", "pay-council-tax", "bins"}
	c.Services = []string{"camden", "www.facebook.com"}
	c.Features = []string{FeatureLargeText, "screen_reader", FeatureKeyboard}
	c.Languages = []string{"cy", "fr"}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	dropped := Dropped{}
	sent := *c
	if n := v.Filter(b, dropped); n != 5 {
		t.Errorf("Filter dropped %d, want 5", n)
	}
	if !reflect.DeepEqual(*c, sent) {
		t.Errorf("Filter changed the Counted it was given: %+v", c)
	}
	c = rc.Counted
	want := Dropped{"tile": 2, "service": 1, "feature": 1, "language": 1}
	if !maps.Equal(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
	if !reflect.DeepEqual(c.Tiles, []string{"bins", "pay-council-tax"}) || !reflect.DeepEqual(c.Services, []string{"camden"}) ||
		!reflect.DeepEqual(c.Features, []string{FeatureLargeText, FeatureKeyboard}) || !reflect.DeepEqual(c.Languages, []string{"cy"}) ||
		!reflect.DeepEqual(c.Guides, []string{"pay-council-tax"}) {
		t.Errorf("kept %+v", c)
	}
	if rc.Category != "benefits" || rc.Outcome != OutcomeFollowUp {
		t.Errorf("a known category and outcome were dropped: %q %q", rc.Category, rc.Outcome)
	}
	// Unknown category and outcome: blanked (as if not recorded), counted.
	rc.Category, rc.Outcome = "my-neighbours-name", "cried"
	dropped = Dropped{}
	v.Filter(b, dropped)
	if rc.Category != "" || rc.Outcome != "" || dropped["category"] != 1 || dropped["outcome"] != 1 || dropped.Total() != 2 {
		t.Errorf("after filtering an unknown category and outcome: %q %q %v", rc.Category, rc.Outcome, dropped)
	}
	if got := dropped.Kinds(); !reflect.DeepEqual(got, []string{"category", "outcome"}) {
		t.Errorf("Kinds() = %v", got)
	}
	// Everything unknown: the lists become empty (nil), not [""].
	rc.Counted.Tiles, rc.Counted.Guides = []string{"x"}, []string{"y"}
	v.Filter(b, nil)
	if c = rc.Counted; c.Tiles != nil || c.Guides != nil {
		t.Errorf("emptied lists: %#v %#v", c.Tiles, c.Guides)
	}
}

func TestVocabularyCheck(t *testing.T) {
	if err := DefaultVocabulary().Check(); err != nil {
		t.Fatalf("the default vocabulary: %v", err)
	}
	for _, tt := range []struct {
		name string
		v    Vocabulary
		want string
	}{
		{"a plus", Vocabulary{Tiles: map[string]string{"a+b": "A"}}, "tiles.a+b: an identifier is"},
		{"a slash", Vocabulary{Services: map[string]string{"www.gov.uk/x": "A"}}, "services.www.gov.uk/x: an identifier is"},
		{"no label", Vocabulary{Guides: map[string]string{"g": ""}}, "guides.g: the label"},
		{"a control in a label", Vocabulary{Categories: map[string]string{"c": "a\nb"}}, "categories.c: the label"},
	} {
		if err := tt.v.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Check() = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestDefaultVocabularyMatchesTheKiosk: the fleet's default counts what the
// kiosk's embedded defaults produce: its built-in guides and the default
// volunteer categories.
func TestDefaultVocabularyMatchesTheKiosk(t *testing.T) {
	v := DefaultVocabulary()
	var cats []string
	for _, c := range volunteer.DefaultCategories() {
		cats = append(cats, c.ID)
		if v.Categories[c.ID] != c.Label {
			t.Errorf("category %s: fleet label %q, kiosk label %q", c.ID, v.Categories[c.ID], c.Label)
		}
	}
	if got := slices.Sorted(maps.Keys(v.Categories)); !reflect.DeepEqual(got, slices.Sorted(slices.Values(cats))) {
		t.Errorf("categories %v, kiosk's %v", got, cats)
	}
	lib, err := guides.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, g := range lib.List("en") {
		ids = append(ids, g.ID)
	}
	if got := slices.Sorted(maps.Keys(v.Guides)); !reflect.DeepEqual(got, slices.Sorted(slices.Values(ids))) {
		t.Errorf("guides %v, kiosk's built-in %v", got, ids)
	}
}

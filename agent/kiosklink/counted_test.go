package kiosklink_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

// TestCountedFeaturesMatchTheWire: the kiosk's feature identifiers are
// the fleet's.
func TestCountedFeaturesMatchTheWire(t *testing.T) {
	if bus.FeatureKeyboard != api.FeatureKeyboard || bus.FeatureHighContrast != api.FeatureHighContrast ||
		bus.FeatureLargeText != api.FeatureLargeText || bus.MaxCountedIDs != api.MaxCountedIDs {
		t.Error("kiosk/bus and fleet/api name the counted features differently")
	}
}

// TestCountedOverRealBus: what the kiosk counted crosses the real bus in
// SessionEnded and comes out of Take as api.Receipt.Counted, scans and
// photos added up, pages printed as prints; whatever the fleet would refuse (an address as an
// identifier, repeats, too many, a start not on the hour or after the
// end, counts out of bounds) is dropped here, and every receipt passes
// the wire's validation.
func TestCountedOverRealBus(t *testing.T) {
	addr, _, link, _ := startLink(t)
	srv, err := bus.Serve(bustest.Conn(t, addr), &shell{state: bus.StateIdle})
	if err != nil {
		t.Fatal(err)
	}
	const hour = int64(3_600_000)
	ended := time.Now().UnixMilli()
	start := ended - 20*60_000
	h, minutes := bus.RoundCounted(start, ended-start)
	many := make([]string, 40)
	for i := range many {
		many[i] = fmt.Sprintf("tile-%d", i)
	}
	receipts := []bus.Receipt{
		{Scans: 2, Photos: 1, PrintJobs: 2, PrintPages: 6, PrintCancelled: 1, Downloads: 3, Uploads: 2, RemoteHelp: true, RemoteHelpMs: 4 * 60_000, Counted: &bus.Counted{StartedHourUnixMs: h, Minutes: minutes,
			Tiles: []string{"pay-council-tax", "pay-council-tax"}, Guides: []string{"using-this-kiosk"},
			Services: []string{"council-tax", "https://evil.example/path", "gov uk"},
			Features: []string{bus.FeatureHighContrast, bus.FeatureKeyboard}, Languages: []string{"cy"}, Assists: 1}},
		{Counted: &bus.Counted{StartedHourUnixMs: h, Minutes: 99_999, Tiles: many, Assists: 500}, Photos: 5000, PrintPages: 5000,
			Downloads: 5000, Uploads: 5000, PrintJobs: 5000, RemoteHelp: true, RemoteHelpMs: 48 * 3_600_000},
		{Counted: &bus.Counted{StartedHourUnixMs: h, Minutes: 10}, PrintPages: -3, Downloads: -1, RemoteHelp: true, RemoteHelpMs: 3_600_000},
		{Counted: &bus.Counted{StartedHourUnixMs: h + 1, Tiles: []string{"x"}}},       // not on the hour
		{Counted: &bus.Counted{StartedHourUnixMs: h + 2*hour, Tiles: []string{"x"}}},  // after the end
		{Counted: &bus.Counted{StartedHourUnixMs: h - 30*hour, Tiles: []string{"x"}}}, // more than a day before it
		{Counted: nil, Category: "benefits", Assisted: true},                          // an older kiosk
	}
	for _, r := range receipts {
		r.Cleared, r.ResetMs, r.StartedUnixMs, r.EndedUnixMs, r.SessionMs = []string{bus.ClearedWebView}, 100, start, ended, ended-start
		if err := srv.SessionEnded(bus.ReasonToolbar, r); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "seven sessions", func() bool { return link.SessionsToday() == len(receipts) })
	_, got := link.Take()
	if len(got) != len(receipts) {
		t.Fatalf("%d receipts, want %d", len(got), len(receipts))
	}
	want := &api.Counted{StartedHourUnixMs: h, Minutes: int(minutes), Tiles: []string{"pay-council-tax"}, Guides: []string{"using-this-kiosk"},
		Services: []string{"council-tax"}, Features: []string{"high_contrast", "keyboard"}, Languages: []string{"cy"}, Scans: 3, Prints: 6, Assists: 1,
		Downloads: 3, Uploads: 2, PrintJobs: 2, AssistMs: 4 * 60_000}
	if !reflect.DeepEqual(got[0].Counted, want) {
		t.Errorf("counted = %+v\nwant      %+v", got[0].Counted, want)
	}
	if c := got[1].Counted; c == nil || len(c.Tiles) != api.MaxCountedIDs || c.Minutes != api.MaxCountedMinutes ||
		c.Assists != api.MaxCountedAssist || c.Scans != api.MaxCountedPages || c.Prints != api.MaxCountedPages ||
		c.Downloads != api.MaxCountedFiles || c.Uploads != api.MaxCountedFiles || c.PrintJobs != api.MaxCountedFiles ||
		c.AssistMs != api.MaxAssistMs(api.MaxCountedMinutes) {
		t.Errorf("bounded counted = %+v", c)
	}
	if c := got[2].Counted; c == nil || c.Prints != 0 || c.Downloads != 0 || c.AssistMs != api.MaxAssistMs(10) {
		t.Errorf("negative counts, remote help longer than the session: counted = %+v, want prints 0, downloads 0, assist_ms %d", c, api.MaxAssistMs(10))
	}
	for i := 3; i < len(got); i++ {
		if got[i].Counted != nil {
			t.Errorf("receipt %d: counted = %+v, want none", i, got[i].Counted)
		}
	}
	b := api.ReportBatch{Capability: api.CapabilityVersion, Reports: []api.Report{{ID: "r1", CreatedUnixMs: ended, Receipts: got}}}
	if err := b.Validate(); err != nil {
		t.Errorf("the fleet would refuse these receipts: %v", err)
	}
	if s := fmt.Sprintf("%+v", got); strings.Contains(s, "evil") || strings.Contains(s, "gov uk") {
		t.Errorf("an address or text got through: %s", s)
	}
}

package server_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// TestHostileReceipts: a device sends receipts whose counted part holds
// what a kiosk must never report: addresses, hosts, text, controls, too
// many identifiers, times that are not rounded. Malformed ones are refused
// whole (400, naming the field, nothing stored); well-formed identifiers
// outside the vocabulary are dropped and counted, and the sessions still
// count. A byte scan of the database afterwards finds none of it.
func TestHostileReceipts(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "fleet.db")
	st, err := store.Open(context.Background(), store.Config{Dialect: store.SQLite, Path: dbPath}, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v := api.DefaultVocabulary()
	v.Tiles = map[string]string{"pay-council-tax": "Pay your council tax"}
	v.Services = map[string]string{"council-website": "The council's website"}
	st.SetInsights(store.InsightsConfig{Zone: time.UTC, Vocabulary: v})
	f := newFixture(t, st)
	dev := f.enrol(f.token(1, time.Hour))

	start := f.clock.Add(-2 * time.Hour).Truncate(time.Hour)
	receipt := func(c api.Counted) api.Receipt {
		c.StartedHourUnixMs, c.Minutes = start.UnixMilli(), 10
		return api.Receipt{Reason: "idle_timeout", Cleared: []string{"web_view"}, ResetMs: 100, SessionMs: 600_000,
			EndedUnixMs: start.Add(10 * time.Minute).UnixMilli(), Counted: &c}
	}
	seq := uint64(0)
	send := func(rcs ...api.Receipt) (int, []byte) {
		t.Helper()
		seq++
		code, body, _ := f.do("POST", api.PathReport, dev.Credential, api.ReportBatch{Capability: api.CapabilityVersion,
			Reports: []api.Report{{ID: "r" + string(rune('a'+seq)), Seq: seq, CreatedUnixMs: f.clock.UnixMilli(),
				Health: api.Health{AgentVersion: "1.0", KioskState: "idle"}, Receipts: rcs}}})
		return code, body
	}

	// Refused whole.
	for _, c := range []struct {
		name    string
		counted api.Counted
		field   string
	}{
		{"an address", api.Counted{Services: []string{"https://canary-url.example/benefits?name=Jo"}}, "services[0]"},
		{"a search typed", api.Counted{Tiles: []string{"canary rent arrears Jo Bloggs"}}, "tiles[0]"},
		{"a bidi override", api.Counted{Guides: []string{"canary\u202egnp.exe"}}, "guides[0]"},
		{"a line break", api.Counted{Languages: []string{"canary\ncy"}}, "languages[0]"},
		{"too many", api.Counted{Tiles: strings.Split(strings.Repeat("canary-x,", api.MaxCountedIDs+1), ",")[:api.MaxCountedIDs+1]}, "tiles"},
		{"a long one", api.Counted{Features: []string{"canary" + strings.Repeat("y", 100)}}, "features[0]"},
		{"too many prints", api.Counted{Prints: 1_000_000}, "prints"},
	} {
		code, body := send(receipt(c.counted))
		if code != http.StatusBadRequest || !strings.Contains(string(body), "counted."+c.field) {
			t.Errorf("%s: %d %s, want 400 naming counted.%s", c.name, code, body, c.field)
		}
	}
	exact := receipt(api.Counted{})
	exact.Counted.StartedHourUnixMs += 17 * 60_000
	if code, body := send(exact); code != http.StatusBadRequest || !strings.Contains(string(body), "started_hour_unix_ms") {
		t.Errorf("a start not rounded to the hour: %d %s", code, body)
	}
	in, err := st.InsightsInput(context.Background(), "", insights.DateOf(start.AddDate(0, -1, 0)), insights.DateOf(start.AddDate(0, 1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Cells) != 0 || len(in.Blocks) != 0 || len(in.Items) != 0 {
		t.Fatalf("refused batches were counted: %+v %+v %+v", in.Cells, in.Blocks, in.Items)
	}

	// Well formed, not in the vocabulary: dropped and counted.
	hostile := receipt(api.Counted{
		Tiles:     []string{"pay-council-tax", "canary_free_text_jo_bloggs", "pay-council-tax"},
		Services:  []string{"council-website", "canary-host.example.org", "www.canary.example"},
		Guides:    []string{"pay-council-tax", "canary-guide"},
		Features:  []string{api.FeatureHighContrast, "canary_screen_reader"},
		Languages: []string{"cy", "canary-lang"},
	})
	hostile.Assisted, hostile.Category, hostile.Outcome = true, "canary_category_neighbour_dispute", "canary_outcome_cried"
	plain := receipt(api.Counted{Tiles: []string{"pay-council-tax"}})
	if code, body := send(hostile, plain); code != http.StatusOK {
		t.Fatalf("well-formed receipts: %d %s", code, body)
	}
	in, err = st.InsightsInput(context.Background(), "", insights.DateOf(start.AddDate(0, -1, 0)), insights.DateOf(start.AddDate(0, 1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Cells) != 1 || in.Cells[0].Sessions != 2 || len(in.Blocks) != 1 || in.Blocks[0].Sessions != 2 || in.Blocks[0].Assisted != 1 ||
		in.Blocks[0].Done+in.Blocks[0].FollowUp+in.Blocks[0].Referred != 0 {
		t.Errorf("cells %+v, blocks %+v: want 2 sessions, 1 assisted, no outcome", in.Cells, in.Blocks)
	}
	got := map[string]int{}
	for _, it := range in.Items {
		got[string(it.Dim)+":"+it.ID] = it.Sessions
	}
	want := map[string]int{"tile:pay-council-tax": 2, "service:council-website": 1, "guide:pay-council-tax": 1, "feature:high_contrast": 1, "language:cy": 1}
	if len(got) != len(want) {
		t.Errorf("counted %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("counted %v, want %v", got, want)
			break
		}
	}
	dropped, err := st.InsightsDropped(context.Background(), insights.DateOf(start.AddDate(0, -1, 0)), insights.DateOf(start.AddDate(0, 1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	for _, d := range dropped {
		n += d.N
	}
	if n != 9 { // 2 tiles (one a repeat), 2 services, a guide, a feature, a language, the category, the outcome
		t.Errorf("dropped %d identifiers (%+v), want 9", n, dropped)
	}
	code, metrics, _ := f.do("GET", "/metrics", "", nil)
	if code != 200 || !bytes.Contains(metrics, []byte("fleet_insights_uncounted_total 9")) {
		t.Errorf("metrics do not count the 9 dropped identifiers")
	}

	// Nothing of it is anywhere in the database's bytes.
	f.srv.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm"} {
		if b, err := os.ReadFile(p); err == nil {
			all = append(all, b...)
		}
	}
	low := bytes.ToLower(all)
	for _, bad := range []string{"canary", "://", ".example", "jo bloggs", "neighbour", "cried"} {
		if i := bytes.Index(low, []byte(bad)); i >= 0 {
			t.Errorf("the database holds %q: …%q…", bad, all[max(0, i-40):min(len(all), i+60)])
		}
	}
	// Control: the scan sees what was stored.
	if !bytes.Contains(all, []byte("pay-council-tax")) || !bytes.Contains(all, []byte("council-website")) {
		t.Error("the scan does not find the identifiers that were counted: it would see nothing")
	}
}

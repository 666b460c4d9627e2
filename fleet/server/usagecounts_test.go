package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// usageSum adds up the usage counts the store holds for the month of at.
func usageSum(t *testing.T, st *store.Store, at time.Time) (insights.Usage, int) {
	t.Helper()
	from := insights.Date{Year: at.Year(), Month: at.Month(), Day: 1}
	in, err := st.InsightsInput(context.Background(), "", from, insights.DateOf(at.AddDate(0, 1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var u insights.Usage
	n := 0
	for _, b := range in.Blocks {
		n += b.Sessions
		u.Prints += b.Prints
		u.PrintJobs += b.PrintJobs
		u.Scans += b.Scans
		u.Uploads += b.Uploads
		u.Downloads += b.Downloads
		u.Assists += b.Assists
		u.AssistMinutes += b.AssistMinutes
	}
	return u, n
}

// TestUsageCountsBounded: a stolen credential cannot make capability 7's
// counts more than one kiosk can. A session's count beyond its bound (a
// download count over MaxCountedFiles, remote help longer than the
// session) is refused whole (400 naming the field, nothing stored); a
// flood of sessions each at the bounds, back-dated into one hour and sent
// a little at a time so that no rate limit refuses them, stores at most
// SessionsPerHour sessions (one per 2 s: one kiosk has one screen), and
// of their counts no more than the device's budgets allow over the time
// it took: a session's most (1,000 files; a day of remote help) at once,
// then FilesPerHour of each kind of file an hour and remote help for at
// most the time that passed; it is marked flooding. An agent before 7 (a
// batch without the counts, capability 6) is taken as ever and counts
// none of them.
func TestUsageCountsBounded(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), fastRequests)
	dev := f.enrol(f.token(1, time.Hour))
	hour := f.clock.Add(-48 * time.Hour).Truncate(time.Hour)
	seq := uint64(0)
	batch := func(capability int, at time.Time, n int, c api.Counted) api.ReportBatch {
		seq++
		r := report(fmt.Sprint("b", seq), seq)
		r.CreatedUnixMs = at.UnixMilli()
		for j := range n {
			cc := c
			cc.StartedHourUnixMs = at.Truncate(time.Hour).UnixMilli()
			r.Receipts = append(r.Receipts, api.Receipt{Reason: "toolbar", Cleared: []string{"web_view"},
				EndedUnixMs: at.UnixMilli() + int64(j), Counted: &cc})
		}
		r.Sessions.Ended = n
		return api.ReportBatch{Capability: capability, Reports: []api.Report{r}}
	}

	for _, c := range []struct {
		counted api.Counted
		field   string
	}{
		{api.Counted{Downloads: api.MaxCountedFiles + 1}, "downloads"},
		{api.Counted{Uploads: -1}, "uploads"},
		{api.Counted{PrintJobs: 1_000_000}, "print_jobs"},
		{api.Counted{Minutes: 5, AssistMs: api.MaxAssistMs(5) + 1}, "assist_ms"},
	} {
		code, body, _ := f.do("POST", api.PathReport, dev.Credential, batch(api.CapabilityVersion, hour, 1, c.counted))
		if code != http.StatusBadRequest || !strings.Contains(string(body), "counted."+c.field) {
			t.Errorf("%+v: %d %s, want 400 naming counted.%s", c.counted, code, body, c.field)
		}
	}
	if u, n := usageSum(t, f.st, hour); n != 0 || u != (insights.Usage{}) {
		t.Fatalf("refused batches were counted: %d sessions, %+v", n, u)
	}

	// An agent before capability 7: its Counted has no such fields.
	old := `{"capability":6,"reports":[{"id":"old-1","seq":1,"created_unix_ms":%d,"health":{"agent_version":"0.9","kiosk_state":"idle"},` +
		`"sessions":{"ended":1},"receipts":[{"reason":"toolbar","cleared":["web_view"],"reset_ms":1,"session_ms":600000,"ended_unix_ms":%d,` +
		`"counted":{"started_hour_unix_ms":%d,"minutes":10,"prints":4,"scans":1}}]}]}`
	code, body, _ := f.do("POST", api.PathReport, dev.Credential, fmt.Sprintf(old, hour.UnixMilli(), hour.Add(10*time.Minute).UnixMilli(), hour.UnixMilli()))
	if code != http.StatusOK || !strings.Contains(string(body), fmt.Sprintf(`"capability":%d`, api.CapabilityVersion)) {
		t.Fatalf("a capability 6 batch: %d %s", code, body)
	}
	if u, n := usageSum(t, f.st, hour); n != 1 || u != (insights.Usage{Prints: 4, Scans: 1}) {
		t.Errorf("a capability 6 receipt counted %d sessions, %+v; want 1 session with 4 pages printed and 1 scanned, nothing else", n, u)
	}

	// The flood: every session at its bounds (a day long, so remote help
	// may be a day too), 1,000 sessions a batch, the clock moved an hour
	// between batches so that every budget refills.
	most := api.Counted{Minutes: api.MaxCountedMinutes, Downloads: api.MaxCountedFiles, Uploads: api.MaxCountedFiles,
		PrintJobs: api.MaxCountedFiles, Prints: api.MaxCountedPages, Scans: api.MaxCountedPages, AssistMs: api.MaxAssistMs(api.MaxCountedMinutes)}
	for i := range 5 {
		for j := range 20 {
			b := batch(api.CapabilityVersion, hour.Add(time.Duration(i*20+j)*time.Second), api.MaxReceiptsInReport, most)
			if code, body, _ := f.do("POST", api.PathReport, dev.Credential, b); code != http.StatusOK && code != http.StatusTooManyRequests {
				t.Fatalf("flood batch: %d %s", code, body)
			}
		}
		*f.clock = f.clock.Add(time.Hour)
	}
	u, n := usageSum(t, f.st, hour)
	limit := server.DefaultLimits.SessionsPerHour
	t.Logf("5,000 sessions at their bounds sent for one hour: %d stored; downloads %d, uploads %d, jobs %d, remote help %d min, pages printed %d, scanned %d",
		n, u.Downloads, u.Uploads, u.PrintJobs, u.AssistMinutes, u.Prints, u.Scans)
	if n > limit {
		t.Errorf("%d sessions stored in one hour of one kiosk, want at most %d", n, limit)
	}
	// The clock moved 5 hours over the flood.
	files := api.MaxCountedFiles + 5*server.DefaultLimits.FilesPerHour
	minutes := int(api.MaxAssistMs(api.MaxCountedMinutes)/60_000) + 1 + 5*60
	if u.Downloads > files || u.Uploads > files || u.PrintJobs > files || u.AssistMinutes > minutes {
		t.Errorf("usage %+v is more than one kiosk's budgets over 5 hours: %d of each kind of file, %d minutes of remote help", u, files, minutes)
	}
	// Pages too (the capability 6 receipt above had 4 printed, 1 scanned).
	pages := api.MaxCountedPages + 5*server.DefaultLimits.PagesPerHour
	if u.Prints > pages+4 || u.Scans > pages+1 {
		t.Errorf("pages printed %d, scanned %d: more than one kiosk's budget over 5 hours, %d of each", u.Prints, u.Scans, pages)
	}
	if u.Prints < api.MaxCountedPages || u.Scans < api.MaxCountedPages {
		t.Errorf("pages printed %d, scanned %d: not even one session's worth counted", u.Prints, u.Scans)
	}
	if u.Downloads < api.MaxCountedFiles || u.AssistMinutes < 24*60 {
		t.Errorf("usage %+v: not even one session's worth counted", u)
	}
	if n < limit/2 {
		t.Errorf("only %d sessions stored: the flood test did not reach the bound", n)
	}
	if code, metrics, _ := f.do("GET", "/metrics", "", nil); code != 200 || bytes.Contains(metrics, []byte("fleet_device_floods_total 0\n")) {
		t.Errorf("the flood was not counted as flooding")
	}
}

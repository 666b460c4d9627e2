package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"accesskiosk/fleet/alert"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// floodBatch is 100 reports of 50 receipts each, every session 0 ms long
// and ended at "at" plus a millisecond per receipt: what one stolen
// credential sent in the attack (1.9 MiB per request).
func floodBatch(prefix string, at time.Time) api.ReportBatch {
	b := api.ReportBatch{Capability: 1}
	for i := range api.MaxReportsPerBatch {
		r := report(fmt.Sprintf("%s-%d", prefix, i), uint64(i))
		r.CreatedUnixMs = at.UnixMilli()
		for j := range api.MaxReceiptsInReport {
			r.Receipts = append(r.Receipts, api.Receipt{Reason: "toolbar", Cleared: []string{"cookies"},
				EndedUnixMs: at.UnixMilli() + int64(i*api.MaxReceiptsInReport+j)})
		}
		r.Sessions.Ended = len(r.Receipts)
		b.Reports = append(b.Reports, r)
	}
	return b
}

func fastRequests(c *server.Config) { c.RatePerSecond, c.RateBurst = 1000, 1000 }

func receiptCount(t *testing.T, st *store.Store, from, to time.Time) int {
	t.Helper()
	rows, err := st.Usage(context.Background(), from, to, false, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		n += r.Sessions
	}
	return n
}

// TestDeviceFloodBounded: one credential sending batch after batch of
// 100 reports x 50 receipts (and, between them, batches of 20 x 50 sized
// to fit) stores at most what one kiosk could produce,
// is told 429 with Retry-After for the rest, and raises device_flooding.
// (Before, every batch was stored: 5,000 sessions a request.)
func TestDeviceFloodBounded(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), fastRequests)
	dev := f.enrol(f.token(1, time.Hour))
	refused := 0
	for i := range 20 {
		b := floodBatch(fmt.Sprint("f", i), f.clock.Add(-time.Minute))
		if i%2 == 1 {
			b.Reports = b.Reports[:20] // an attacker who sizes batches to fit: 1,000 sessions
		}
		code, body, hdr := f.do("POST", api.PathReport, dev.Credential, b)
		switch code {
		case 200:
		case 429:
			refused++
			if errCode(body) != api.CodeRateLimited || hdr.Get("Retry-After") == "" {
				t.Errorf("429 without code or Retry-After: %s %v", body, hdr)
			}
		default:
			t.Fatalf("flood batch %d: %d %s", i, code, body)
		}
	}
	if refused == 0 {
		t.Error("20 flood batches were all accepted")
	}
	n := receiptCount(t, f.st, f.clock.Add(-24*time.Hour), f.clock.Add(time.Hour))
	if n > 2000 {
		t.Errorf("%d sessions stored for one kiosk within minutes, want at most one per 2 s of the last hour (1800)", n)
	}
	reports, _ := f.st.ReportCount(context.Background(), dev.DeviceID)
	t.Logf("20 flood batches of 100 or 20 reports x 50 sessions: %d refused, %d sessions and %d reports stored", refused, n, reports)
	if reports > 1500 {
		t.Errorf("%d reports stored for one kiosk within minutes", reports)
	}
	w, err := alert.NewWatcher(alert.WatcherConfig{Store: f.st, Rules: alert.Rules{OfflineAfter: time.Hour, DiskLowPercent: 1, HotCelsius: 100, CrashLoopRestarts: 10},
		Log: storetest.Logger(t), Now: func() time.Time { return *f.clock }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	open, _ := f.st.OpenAlerts(context.Background())
	found := false
	for _, a := range open {
		found = found || a.DeviceID == dev.DeviceID && a.Kind == alert.DeviceFlooding
	}
	if !found {
		t.Errorf("no device_flooding alert for the flooding kiosk: %+v", open)
	}
	// A real kiosk beside it reports as ever.
	other := f.enrol(f.token(1, time.Hour))
	if code, body, _ := f.do("POST", api.PathReport, other.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{report("ok", 1)}}); code != 200 {
		t.Errorf("a normal kiosk while another floods: %d %s", code, body)
	}
}

// TestUsageNotInflatable: sessions back-dated into one past hour, sent a
// little at a time so that no rate limit refuses them, still count at most
// one per 2 s of that hour: one kiosk has one screen.
func TestUsageNotInflatable(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), fastRequests)
	dev := f.enrol(f.token(1, time.Hour))
	hour := f.clock.Add(-48 * time.Hour).Truncate(time.Hour)
	for i := range 10 {
		b := floodBatch(fmt.Sprint("u", i), hour.Add(time.Duration(i)*time.Minute))
		b.Reports = b.Reports[:20] // 1,000 sessions a batch
		f.do("POST", api.PathReport, dev.Credential, b)
		*f.clock = f.clock.Add(time.Hour) // whatever refills over time, refilled
	}
	if n := receiptCount(t, f.st, hour, hour.Add(time.Hour)); n > 1800 {
		t.Errorf("%d sessions in one hour of one kiosk, want at most 1800", n)
	}
}

// TestFutureTimestamps: a report and a receipt dated a year ahead are
// stored as of the server's clock, so the kiosk's next real report still
// shows. (Before, the future report stayed "newest" and froze the kiosk's
// shown state for a year.)
func TestFutureTimestamps(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	dev := f.enrol(f.token(1, time.Hour))
	future := report("future", 1)
	future.CreatedUnixMs = f.clock.AddDate(1, 0, 0).UnixMilli()
	future.Health.KioskState = "in_session"
	future.Receipts = []api.Receipt{{Reason: "toolbar", Cleared: []string{"cookies"}, SessionMs: 1000, EndedUnixMs: future.CreatedUnixMs}}
	if code, body, _ := f.do("POST", api.PathReport, dev.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{future}}); code != 200 {
		t.Fatalf("future report: %d %s", code, body)
	}
	*f.clock = f.clock.Add(time.Minute)
	now := report("now", 2)
	now.CreatedUnixMs = f.clock.UnixMilli()
	now.Health.KioskState = "idle"
	f.do("POST", api.PathReport, dev.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{now}})
	d, err := f.st.Device(context.Background(), dev.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if d.KioskState != "idle" {
		t.Errorf("after a real report the kiosk shows %q: the future-dated one is still newest", d.KioskState)
	}
	rs, _ := f.st.Receipts(context.Background(), dev.DeviceID, 10)
	if len(rs) != 1 || rs[0].EndedUnixMs > f.clock.Add(5*time.Minute).UnixMilli() {
		t.Errorf("receipts %+v: the future one is not clamped to the server's clock", rs)
	}
}

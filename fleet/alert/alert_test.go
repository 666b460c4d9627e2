package alert_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"accesskiosk/fleet/alert"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

var rules = alert.Rules{OfflineAfter: 10 * time.Minute, DiskLowPercent: 10, HotCelsius: 80, CrashLoopRestarts: 3}

func TestEvaluate(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	dev := func(seenAgo time.Duration, h api.Health, warn ...string) store.Device {
		d := store.Device{Last: &api.Report{Health: h}}
		d.LastSeenUnixMs = now.Add(-seenAgo).UnixMilli()
		for _, w := range warn {
			d.Last.Warnings = append(d.Last.Warnings, api.Warning{Code: w, Severity: "warning"})
		}
		return d
	}
	ok := api.Health{TempCelsius: 50, DiskTotalBytes: 100, DiskFreeBytes: 50}
	tests := []struct {
		name  string
		d     store.Device
		wipes int
		want  []string
	}{
		{"healthy", dev(time.Minute, ok), 0, nil},
		{"offline", dev(11*time.Minute, ok), 0, []string{alert.Offline}},
		{"never reported is not offline", store.Device{}, 0, nil},
		{"disk low", dev(0, api.Health{DiskTotalBytes: 100, DiskFreeBytes: 9}), 0, []string{alert.DiskLow}},
		{"disk low by warning", dev(0, api.Health{}, "disk_low"), 0, []string{alert.DiskLow}},
		{"hot", dev(0, api.Health{TempCelsius: 80, DiskTotalBytes: 1, DiskFreeBytes: 1}), 0, []string{alert.TooHot}},
		{"crash loop", dev(0, api.Health{KioskRestarts: 3, DiskTotalBytes: 1, DiskFreeBytes: 1}), 0, []string{alert.CrashLoop}},
		{"wipe failed", dev(0, ok), 2, []string{alert.WipeFailed}},
		{"everything", dev(time.Hour, api.Health{TempCelsius: 95, KioskRestarts: 9, DiskTotalBytes: 100, DiskFreeBytes: 1}), 1,
			[]string{alert.CrashLoop, alert.DiskLow, alert.Offline, alert.TooHot, alert.WipeFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range rules.Evaluate(tt.d, tt.wipes, now) {
				got = append(got, f.Kind)
			}
			sort.Strings(got)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestWatcherWebhook(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	var mu sync.Mutex
	var got []alert.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e alert.Event
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}))
	defer hook.Close()
	clock := time.Now()
	now := func() time.Time { return clock }
	st.SetClock(now)
	st.CreateSite(ctx, "central", "Central")
	tok, _ := st.CreateToken(ctx, "central", "a", time.Hour, 1)
	e, _ := st.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: "k1", Arch: "arm64", AgentVersion: "1", Capability: 2})
	st.Ingest(ctx, []store.IngestItem{{DeviceID: e.DeviceID, SiteID: "central", Batch: &api.ReportBatch{Capability: 2,
		Reports: []api.Report{{ID: "1", CreatedUnixMs: clock.UnixMilli(), Health: api.Health{TempCelsius: 90}}}}}})
	w, err := alert.NewWatcher(alert.WatcherConfig{Store: st, Rules: rules, WebhookURL: hook.URL, Log: storetest.Logger(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.Run(runCtx, time.Hour) // checks once now, then delivers
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	if got[0].Event != "opened" || got[0].Kind != alert.TooHot || got[0].Hostname != "k1" {
		t.Errorf("first event = %+v", got[0])
	}
	// Cooler, but silent for 20 minutes: too_hot closes, offline opens.
	st.Ingest(ctx, []store.IngestItem{{DeviceID: e.DeviceID, SiteID: "central", Batch: &api.ReportBatch{Capability: 2,
		Reports: []api.Report{{ID: "2", CreatedUnixMs: clock.UnixMilli() + 1, Health: api.Health{TempCelsius: 40}}}}}})
	clock = clock.Add(20 * time.Minute)
	if err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	kinds := map[string]string{}
	for _, e := range got[1:] {
		kinds[e.Kind] = e.Event
	}
	if kinds[alert.TooHot] != "closed" || kinds[alert.Offline] != "opened" {
		t.Errorf("events = %+v", got)
	}
	open, _ := st.OpenAlerts(ctx)
	if len(open) != 1 || open[0].Kind != alert.Offline {
		t.Errorf("open alerts = %+v", open)
	}
	// A second check changes nothing and sends nothing.
	w.Check(ctx)
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Errorf("repeated check sent %d more events", len(got)-3)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("condition not met in 5s")
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// simDevice is a simulated agent's identity.
type simDevice struct {
	id, cred string
	seq      uint64
}

// enrolMany enrols n devices straight through the store (the enrol API is
// tested on its own; its per-address rate limit would make this slow).
func enrolMany(tb testing.TB, st *store.Store, n int) []*simDevice {
	tb.Helper()
	ctx := context.Background()
	if ok, _ := st.SiteExists(ctx, "central"); !ok {
		st.CreateSite(ctx, "central", "Central")
	}
	tok, err := st.CreateToken(ctx, "central", "bench", time.Hour, n)
	if err != nil {
		tb.Fatal(err)
	}
	devs := make([]*simDevice, n)
	for i := range devs {
		e, err := st.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: fmt.Sprintf("kiosk-%05d", i), Arch: "arm64", AgentVersion: "1.0.0", Capability: 2})
		if err != nil {
			tb.Fatal(err)
		}
		devs[i] = &simDevice{id: e.DeviceID, cred: e.Credential}
	}
	return devs
}

// simReport is a realistic report: what an agent sends every 30 s.
func simReport(d *simDevice, now time.Time) api.Report {
	d.seq++
	r := api.Report{
		ID: fmt.Sprintf("%s-%d", d.id, d.seq), Seq: d.seq, CreatedUnixMs: now.UnixMilli(),
		Health: api.Health{AgentVersion: "1.0.0", KioskVersion: "1.0.0", OSRelease: "Debian GNU/Linux 12 (bookworm)",
			UptimeSeconds: 86400 + int64(d.seq)*30, Load1: 0.42, TempCelsius: 51.5, MemTotalBytes: 4 << 30, MemAvailBytes: 2 << 30,
			DiskTotalBytes: 32 << 30, DiskFreeBytes: 20 << 30, KioskState: "in_session", KioskUnit: "active", NetworkUp: true},
		Sessions: api.SessionCounts{Ended: 1, TotalMs: 754000, MedianMs: 754000, ResetMedianMs: 142, ResetMaxMs: 142},
		Warnings: []api.Warning{{Code: "clock_unsynchronised", Severity: "info", Text: "NTP has not synchronised yet"}},
	}
	if d.seq%2 == 0 {
		r.Receipts = []api.Receipt{{Reason: "idle_timeout", Cleared: []string{"cookies", "cache", "local_storage", "downloads", "clipboard"},
			ResetMs: 142, SessionMs: 754000, EndedUnixMs: now.UnixMilli(), Assisted: true, Category: "benefits", Outcome: "completed"}}
	}
	return r
}

type request struct {
	cred string
	body []byte
	n    int // reports in it
}

// loadResult is what a load run measured.
type loadResult struct {
	reports  int
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
	non2xx   int
}

func (r loadResult) perSecond() float64 { return float64(r.reports) / r.elapsed.Seconds() }

// drive sends reqs from workers concurrent simulated agents through client
// and times each request.
func drive(tb testing.TB, url string, reqs []request, workers int) loadResult {
	tb.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, DisableCompression: true}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	lat := make([][]time.Duration, workers)
	var non2xx atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				req, _ := http.NewRequest("POST", url+api.PathReport, bytes.NewReader(reqs[i].body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+reqs[i].cred)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					tb.Errorf("request: %v", err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[w] = append(lat[w], time.Since(t0))
				if resp.StatusCode != 200 {
					non2xx.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res := loadResult{elapsed: time.Since(start), requests: len(reqs), non2xx: int(non2xx.Load())}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	for _, r := range reqs {
		res.reports += r.n
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) > 0 {
		res.p50 = all[len(all)*50/100]
		res.p99 = all[min(len(all)-1, len(all)*99/100)]
	}
	return res
}

// bareHandler is the limit: net/http decoding the same JSON and doing nothing.
func bareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b api.ReportBatch
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes)).Decode(&b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		resp := api.ReportResponse{Capability: api.CapabilityVersion}
		for _, rep := range b.Reports {
			resp.Accepted = append(resp.Accepted, rep.ID)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
}

// BenchmarkIngest measures the fleet's report ingest: simulated agents on
// loopback send real report batches through the real API (auth, rate limit,
// strict decoding, validation, group commit) into SQLite; beside it, in the
// same run, a bare net/http handler decodes the same JSON and does nothing.
// One op is one request; batch=1 is the steady state (an agent reporting
// every 30 s), batch=10 an agent catching up after an outage.
func BenchmarkIngest(b *testing.B) {
	const devices, workers = 1000, 64
	for _, batch := range []int{1, 10} {
		var results [2]loadResult
		for i, kind := range []string{"fleet", "bare"} {
			b.Run(fmt.Sprintf("batch=%d/%s", batch, kind), func(b *testing.B) {
				st := storetest.SQLite(b)
				devs := enrolMany(b, st, devices)
				var h http.Handler
				if kind == "fleet" {
					srv, err := server.New(server.Config{Store: st, Log: storetest.Logger(b), RatePerSecond: 1e6, RateBurst: 1e6,
						Limits: unlimitedDevices})
					if err != nil {
						b.Fatal(err)
					}
					defer srv.Close()
					h = srv.Handler()
				} else {
					h = bareHandler()
				}
				hs := httptest.NewServer(h)
				defer hs.Close()
				now := time.Now()
				reqs := make([]request, b.N)
				for j := range reqs {
					d := devs[j%len(devs)]
					rb := api.ReportBatch{Capability: api.CapabilityVersion}
					for range batch {
						rb.Reports = append(rb.Reports, simReport(d, now))
					}
					body, _ := json.Marshal(rb)
					reqs[j] = request{cred: d.cred, body: body, n: batch}
				}
				b.ResetTimer()
				res := drive(b, hs.URL, reqs, workers)
				b.StopTimer()
				if res.non2xx > 0 {
					b.Fatalf("%d requests failed", res.non2xx)
				}
				if kind == "fleet" && b.N > 1 {
					if n, _ := st.ReportCount(context.Background(), ""); n != int64(res.reports) {
						b.Fatalf("stored %d reports, sent %d", n, res.reports)
					}
				}
				b.ReportMetric(res.perSecond(), "reports/s")
				b.ReportMetric(float64(res.p50.Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(res.p99.Microseconds())/1000, "p99-ms")
				results[i] = res
			})
		}
		if results[1].reports > 0 && results[0].reports > 0 {
			fmt.Printf("BenchmarkIngest batch=%d: fleet %.0f reports/s (p50 %.1f ms, p99 %.1f ms) vs bare net/http %.0f reports/s: fleet is %.0f%% of bare\n",
				batch, results[0].perSecond(), ms(results[0].p50), ms(results[0].p99), results[1].perSecond(), 100*results[0].perSecond()/results[1].perSecond())
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// unlimitedDevices lifts the per-device budgets: the benchmark's simulated
// agents send as fast as they can, far more than a kiosk produces.
var unlimitedDevices = server.Limits{DeviceReports: throttle.Rule{Rate: 1e9, Burst: 1e9}, SessionsPerHour: 1 << 30}

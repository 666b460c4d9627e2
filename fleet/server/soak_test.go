package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store/storetest"
)

// TestSoak runs many simulated agents against the real server and SQLite
// store: each reports on its interval, keeps unacknowledged reports queued
// and resends them (as the agent does), sometimes "loses" an answer and
// sends the same batch again, and acknowledges commands staff issue during
// the run. At the end every report must be stored exactly once, every
// command acknowledged, and no request may have got a 5xx.
//
// `make soak` runs 10,000 devices for 2 minutes (SOAK_DEVICES,
// SOAK_DURATION); plain `go test` runs a short form.
func TestSoak(t *testing.T) {
	devices, duration, interval := 300, 4*time.Second, time.Second
	if v := os.Getenv("SOAK_DEVICES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SOAK_DEVICES=%q", v)
		}
		devices, interval = n, 5*time.Second
	}
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOAK_DURATION=%q", v)
		}
		duration = d
	}
	st := storetest.SQLite(t)
	srv, err := server.New(server.Config{Store: st, Log: storetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	t0 := time.Now()
	devs := enrolMany(t, st, devices)
	t.Logf("enrolled %d devices in %s", devices, time.Since(t0).Round(time.Millisecond))

	const workers = 200
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}, Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()
	var (
		sent, requests, replays, status5xx, status429, otherErr atomic.Int64
		acked                                                   atomic.Int64
		latMu                                                   sync.Mutex
		lat                                                     []time.Duration
	)
	issued := map[string]bool{}
	var issuedMu sync.Mutex
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()

	// Staff issue commands now and then during the run.
	var cmdWG sync.WaitGroup
	cmdWG.Add(1)
	go func() {
		defer cmdWG.Done()
		tick := time.NewTicker(duration / 20)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				d := devs[rand.IntN(len(devs))]
				c, err := st.IssueCommand(context.Background(), d.id, "soak", api.Command{Kind: api.CommandEndSession})
				if err != nil {
					t.Errorf("issue command: %v", err)
					return
				}
				issuedMu.Lock()
				issued[c.ID] = true
				issuedMu.Unlock()
			}
		}
	}()

	type agent struct {
		d      *simDevice
		queue  []api.Report
		acks   []api.CommandAck
		next   time.Time
		stored map[string]bool
	}
	// send is one agent's report request, as the agent makes it.
	send := func(a *agent, final bool) {
		if len(a.queue) == 0 && len(a.acks) == 0 {
			return
		}
		batch := api.ReportBatch{Capability: api.CapabilityVersion, Reports: a.queue, Acks: a.acks}
		if len(batch.Reports) > api.MaxReportsPerBatch {
			batch.Reports = batch.Reports[:api.MaxReportsPerBatch]
		}
		body, _ := json.Marshal(batch)
		req, _ := http.NewRequest("POST", hs.URL+api.PathReport, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a.d.cred)
		start := time.Now()
		resp, err := client.Do(req)
		requests.Add(1)
		if err != nil {
			otherErr.Add(1)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		latMu.Lock()
		lat = append(lat, time.Since(start))
		latMu.Unlock()
		switch {
		case resp.StatusCode >= 500:
			status5xx.Add(1)
			t.Errorf("5xx: %d %s", resp.StatusCode, b)
			return
		case resp.StatusCode == 429:
			status429.Add(1)
			return
		case resp.StatusCode != 200:
			otherErr.Add(1)
			t.Errorf("status %d: %s", resp.StatusCode, b)
			return
		}
		// 1 in 50 answers is "lost": the agent keeps its queue and
		// sends the same reports again next time.
		if !final && rand.IntN(50) == 0 {
			replays.Add(1)
			return
		}
		var rr api.ReportResponse
		if err := json.Unmarshal(b, &rr); err != nil {
			t.Errorf("bad answer: %v", err)
			return
		}
		acc := map[string]bool{}
		for _, id := range rr.Accepted {
			acc[id] = true
			a.stored[id] = true
		}
		var keep []api.Report
		for _, r := range a.queue {
			if !acc[r.ID] {
				keep = append(keep, r)
			}
		}
		a.queue = keep
		acked.Add(int64(len(a.acks)))
		a.acks = nil
		for _, c := range rr.Commands {
			a.acks = append(a.acks, api.CommandAck{ID: c.ID, Status: api.AckDone, UnixMs: time.Now().UnixMilli()})
		}
	}
	finalSend := func(a *agent) { send(a, true) }
	var wg sync.WaitGroup
	perWorker := (devices + workers - 1) / workers
	allAgents := make([][]*agent, workers)
	for w := range workers {
		lo, hi := w*perWorker, min((w+1)*perWorker, devices)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []*agent
			for _, d := range devs[lo:hi] {
				mine = append(mine, &agent{d: d, next: time.Now().Add(rand.N(interval)), stored: map[string]bool{}})
			}
			allAgents[w] = mine
			for ctx.Err() == nil {
				now := time.Now()
				soonest := now.Add(interval)
				for _, a := range mine {
					if !now.Before(a.next) {
						a.queue = append(a.queue, simReport(a.d, now))
						sent.Add(1)
						send(a, false)
						a.next = a.next.Add(interval)
					}
					if a.next.Before(soonest) {
						soonest = a.next
					}
				}
				select {
				case <-ctx.Done():
				case <-time.After(time.Until(soonest)):
				}
			}
			// Flush: every agent sends what it still holds (bounded rounds).
			for round := 0; round < 5; round++ {
				for _, a := range mine {
					send(a, true)
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	cmdWG.Wait()
	// Last words: every agent reports once more, which picks up commands
	// issued at the very end, and then acknowledges them.
	var fwg sync.WaitGroup
	for _, mine := range allAgents {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			for _, a := range mine {
				a.queue = append(a.queue, simReport(a.d, time.Now()))
				sent.Add(1)
				for round := 0; round < 3; round++ {
					finalSend(a)
				}
			}
		}()
	}
	fwg.Wait()

	// Zero lost, zero duplicated: the store holds exactly the reports sent.
	held, err := st.ReportCount(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var queued int
	var stored int
	for _, mine := range allAgents {
		for _, a := range mine {
			queued += len(a.queue)
			stored += len(a.stored)
		}
	}
	latMu.Lock()
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	latMu.Unlock()
	t.Logf("soak: %d devices, %s: %d reports made, %d held by the store, %d still queued on agents; %d requests (%d answers dropped and replayed), p50 %s p99 %s; 5xx %d, 429 %d, other errors %d; %d commands issued, %d acks sent",
		devices, duration, sent.Load(), held, queued, requests.Load(), replays.Load(), p50, p99, status5xx.Load(), status429.Load(), otherErr.Load(), len(issued), acked.Load())
	if held != sent.Load() || queued != 0 || int64(stored) != held {
		t.Errorf("reports: made %d, store holds %d, agents saw %d accepted, %d still queued: want all equal and none queued", sent.Load(), held, stored, queued)
	}
	if status5xx.Load() != 0 || otherErr.Load() != 0 {
		t.Errorf("%d 5xx answers and %d other errors, want none", status5xx.Load(), otherErr.Load())
	}
	// Every command issued was acknowledged and recorded.
	pendingTotal := 0
	for _, d := range devs {
		cmds, _ := st.Commands(context.Background(), d.id, 100)
		for _, c := range cmds {
			if c.Status != api.AckDone {
				pendingTotal++
			}
		}
	}
	if pendingTotal != 0 {
		t.Errorf("%d of %d commands were not acknowledged", pendingTotal, len(issued))
	}
	fmt.Fprintf(os.Stderr, "soak: %d devices for %s: %d reports, %.0f reports/s, p50 %s, p99 %s, lost 0 of %d, duplicated %d, 5xx %d\n",
		devices, duration, held, float64(held)/duration.Seconds(), p50, p99, sent.Load(), held-int64(stored), status5xx.Load())
}

func percentile(v []time.Duration, p int) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)].Round(time.Microsecond)
}

package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"
	"time"

	"accesskiosk/agent/system/systemdtest"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/applog"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

// olderFleet serves the real fleet server as a fleet of capability 6
// answers: a report batch whose receipts carry capability 7's counts is
// refused as its strict decoding would (400, unknown field), and every
// report answer says capability 6.
func olderFleet(h http.Handler) http.Handler {
	newKeys := regexp.MustCompile(`"(downloads|uploads|print_jobs|assist_ms)":`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != api.PathReport {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if m := newKeys.FindSubmatch(body); m != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(api.Error{Code: api.CodeBadRequest, Message: fmt.Sprintf("json: unknown field %q", m[1])})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		out := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			var resp api.ReportResponse
			if err := json.Unmarshal(out, &resp); err == nil {
				resp.Capability = 6
				out, _ = json.Marshal(resp)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(out)
	})
}

// TestUsageCountsReachRealFleet: the kiosk's end-of-session receipt on
// the real bus (pages printed, print jobs, downloads, uploads, remote
// help and its length) reaches the real fleet's store through the real
// agent on loopback TLS, and the Insights figures built from it: with a
// fleet of this capability, every count; with the same fleet answering
// as capability 6 (it refuses the new fields), the agent sends them
// without capability 7's counts and the pages printed and remote-help
// sessions still arrive, no receipt lost.
func TestUsageCountsReachRealFleet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		older bool
	}{{"capability 7", false}, {"fleet of capability 6", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fleet := startRealFleet(t)
			fleet.st.SetInsights(store.InsightsConfig{Zone: time.UTC, Vocabulary: api.DefaultVocabulary()})
			if tc.older {
				// The same store and server behind the older fleet's front.
				fleet.stop()
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				fleet.addr = ln.Addr().String()
				srv, err := server.New(server.Config{Store: fleet.st, Log: fleet.log, RateBurst: 1000, RatePerSecond: 100})
				if err != nil {
					t.Fatal(err)
				}
				hs := httptest.NewUnstartedServer(olderFleet(srv.Handler()))
				hs.Listener.Close()
				hs.Listener = ln
				hs.TLS = fleet.tlsCfg
				hs.StartTLS()
				fleet.stop = func() { hs.Close(); srv.Close() }
			}
			if _, err := fleet.st.CreateSite(ctx, "central", "Central Library"); err != nil {
				t.Fatal(err)
			}
			tok, err := fleet.st.CreateToken(ctx, "central", "admin", time.Hour, 1)
			if err != nil {
				t.Fatal(err)
			}
			addr := bustest.Start(t)
			sd := systemdtest.Start(t, addr)
			sd.SetUnit("accesskiosk-kiosk.service", "active", "running", 0)
			srv, err := bus.Serve(bustest.Conn(t, addr), &shell{})
			if err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(t, fleet.url(), addr)
			cfg.Fleet.Fingerprint = fleet.fp
			os.WriteFile(cfg.Fleet.EnrolTokenFile, []byte(tok.Secret), 0o600)
			log, _ := applog.New(io.Discard, "info")
			actx, cancel := context.WithCancel(ctx)
			a, err := Start(actx, cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); a.Stop() }()
			waitFor(t, "the device enrolled", func() bool {
				ds, err := fleet.st.Devices(ctx, store.DeviceFilter{Site: "central"})
				return err == nil && len(ds) == 1 && ds[0].Last != nil
			})

			// Three sessions end on the kiosk.
			ended := time.Now()
			start := ended.Add(-20 * time.Minute)
			h, minutes := bus.RoundCounted(start.UnixMilli(), ended.Sub(start).Milliseconds())
			for i, r := range []bus.Receipt{
				{PrintJobs: 2, PrintPages: 7, Uploads: 3, Downloads: 1, RemoteHelp: true, RemoteHelpMs: 5 * 60_000,
					Counted: &bus.Counted{StartedHourUnixMs: h, Minutes: minutes, Assists: 1}},
				{Scans: 2, Photos: 1, Uploads: 1, Counted: &bus.Counted{StartedHourUnixMs: h, Minutes: minutes}},
				{Counted: &bus.Counted{StartedHourUnixMs: h, Minutes: minutes}},
			} {
				r.Cleared, r.ResetMs, r.StartedUnixMs, r.EndedUnixMs, r.SessionMs = []string{bus.ClearedWebView}, 100, start.UnixMilli(), ended.UnixMilli()+int64(i), ended.Sub(start).Milliseconds()
				if err := srv.SessionEnded(bus.ReasonToolbar, r); err != nil {
					t.Fatal(err)
				}
			}
			hu := time.UnixMilli(h).UTC()
			from, to := insights.Date{Year: hu.Year(), Month: hu.Month(), Day: 1}, insights.DateOf(time.Date(hu.Year(), hu.Month()+1, 1, 0, 0, 0, 0, time.UTC))
			var got insights.Usage
			sessions := 0
			waitFor(t, "three sessions in the fleet's Insights counts", func() bool {
				in, err := fleet.st.InsightsInput(ctx, "", from, to)
				if err != nil {
					return false
				}
				got, sessions = insights.Usage{}, 0
				for _, b := range in.Blocks {
					sessions += b.Sessions
					got.Prints += b.Prints
					got.PrintJobs += b.PrintJobs
					got.Scans += b.Scans
					got.Uploads += b.Uploads
					got.Downloads += b.Downloads
					got.Assists += b.Assists
					got.AssistMinutes += b.AssistMinutes
				}
				return sessions == 3
			})
			want := insights.Usage{Prints: 7, PrintJobs: 2, Scans: 3, Uploads: 4, Downloads: 1, Assists: 1, AssistMinutes: 5}
			if tc.older {
				want.PrintJobs, want.Uploads, want.Downloads, want.AssistMinutes = 0, 0, 0, 0
			}
			if got != want {
				t.Errorf("the fleet counted %+v\nwant              %+v", got, want)
			}
			if a.Queue().Stats().Dropped != 0 {
				t.Errorf("reports dropped: %+v", a.Queue().Stats())
			}
		})
	}
}

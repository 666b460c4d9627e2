package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

// panicHook counts log entries of recovered panics.
type panicHook struct{ n atomic.Int64 }

func (h *panicHook) Levels() []logrus.Level { return []logrus.Level{logrus.ErrorLevel} }
func (h *panicHook) Fire(e *logrus.Entry) error {
	if strings.Contains(e.Message, "panicked") {
		h.n.Add(1)
	}
	return nil
}

// FuzzHandler sends arbitrary requests (method, target, content type,
// body, and one of: no credentials, a device credential, a staff API
// token, a console session) through the whole server: device and admin
// API, console, metrics. No request may panic a handler, get a 500, or
// add a route label to /metrics beyond the server's routes.
func FuzzHandler(f *testing.F) {
	st := storetest.SQLite(f)
	log := storetest.Logger(f)
	hook := &panicHook{}
	log.AddHook(hook)
	reg := prometheus.NewRegistry()
	con, err := console.New(console.Config{Store: st, Log: log})
	if err != nil {
		f.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Log: log, Registry: reg, Console: con, RatePerSecond: 1e6, RateBurst: 1e6})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	ctx := context.Background()
	st.CreateSite(ctx, "central", "Central Library")
	st.CreateUser(ctx, "alice", store.RoleAdmin, "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	tok, _ := st.CreateToken(ctx, "central", "alice", 24*time.Hour, 1000)
	e, err := st.Enrol(ctx, tok.Secret, &api.EnrolRequest{Hostname: "k", Arch: "arm64", AgentVersion: "1", Capability: 2})
	if err != nil {
		f.Fatal(err)
	}
	_, apiToken, _ := st.CreateAPIToken(ctx, "alice")
	session, _ := st.CreateWebSession(ctx, "alice", 24*time.Hour)

	report, _ := json.Marshal(api.ReportBatch{Capability: 2, Reports: []api.Report{{ID: "r1", CreatedUnixMs: 1, Health: api.Health{KioskState: "idle"},
		Receipts: []api.Receipt{{Reason: "toolbar", Cleared: []string{"cookies"}}}, Warnings: []api.Warning{{Code: "x", Severity: "info", Text: "t"}}}},
		Acks: []api.CommandAck{{ID: "c", Status: api.AckDone}}})
	enrol, _ := json.Marshal(api.EnrolRequest{Token: tok.Secret, Hostname: "k2", Arch: "arm64", AgentVersion: "1", Capability: 4})
	for _, seed := range []struct {
		method, target, ctype string
		body                  []byte
		auth                  uint8
	}{
		{"GET", "/api/%ff", "", nil, 0},
		{"GET", "/api/v1/%ff%fe/x", "", nil, 1},
		{"POST", api.PathReport, "application/json", report, 1},
		{"POST", api.PathReport, "application/json", []byte(`{"capability":1,"reports":[{"id":"a","id":"b"}]}`), 1},
		{"POST", api.PathEnrol, "application/json", enrol, 0},
		{"POST", api.PathAdminSites, "application/json", []byte(`{"id":"x","name":"\u202e"}`), 2},
		{"DELETE", api.PathAdminToken + "%00", "", nil, 2},
		{"GET", api.PathAdminDevices + "?site=%ff", "", nil, 2},
		{"POST", "/login", "application/x-www-form-urlencoded", []byte("user=alice&password=x&next=/%09/evil"), 0},
		{"GET", "/kiosks/" + e.DeviceID + "?done=%ff", "", nil, 3},
		{"POST", "/kiosks/" + e.DeviceID + "/command", "application/x-www-form-urlencoded", []byte("kind=show_message&text=%E2%80%AE&confirm=yes"), 3},
		{"GET", "/usage.csv?days=%ff&period=week", "", nil, 3},
		{"POST", "/sites/tokens/%ff/revoke", "", nil, 3},
		{"GET", "/metrics", "", nil, 0},
		{"OPTIONS", "*", "", nil, 0},
	} {
		f.Add(seed.method, seed.target, seed.ctype, seed.body, seed.auth)
	}
	var runs atomic.Int64
	f.Fuzz(func(t *testing.T, method, target, ctype string, body []byte, auth uint8) {
		var raw bytes.Buffer
		fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: fleet.example\r\n", method, target)
		if ctype != "" {
			fmt.Fprintf(&raw, "Content-Type: %s\r\n", ctype)
		}
		switch auth % 4 {
		case 1:
			fmt.Fprintf(&raw, "Authorization: Bearer %s\r\n", e.Credential)
		case 2:
			fmt.Fprintf(&raw, "Authorization: Bearer %s\r\n", apiToken)
		case 3:
			fmt.Fprintf(&raw, "Cookie: ak_session=%s\r\n", session)
		}
		fmt.Fprintf(&raw, "Content-Length: %d\r\n\r\n", len(body))
		raw.Write(body)
		req, err := http.ReadRequest(bufio.NewReader(&raw))
		if err != nil {
			return // not HTTP: the server's own reader answers 400
		}
		req.RemoteAddr = "192.0.2.1:4000"
		w := httptest.NewRecorder()
		before := hook.n.Load()
		srv.Handler().ServeHTTP(w, req)
		if hook.n.Load() != before {
			t.Fatalf("%s %q (%q, %d bytes, auth %d) panicked a handler", method, target, ctype, len(body), auth%4)
		}
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %q (%q, %q, auth %d): %d %s", method, target, ctype, body, auth%4, w.Code, w.Body)
		}
		if runs.Add(1)%256 == 0 {
			checkRouteLabels(t, reg)
		}
	})
}

// checkRouteLabels fails when /metrics holds more route label values than
// the server and console have routes.
func checkRouteLabels(t *testing.T, reg *prometheus.Registry) {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "fleet_http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" {
					routes[l.GetValue()] = true
				}
			}
		}
	}
	if len(routes) > 40 {
		t.Fatalf("%d route labels: %v", len(routes), routes)
	}
}

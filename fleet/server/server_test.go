package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
)

type fixture struct {
	t     *testing.T
	st    *store.Store
	srv   *server.Server
	url   string
	admin string // API token of an admin
	view  string // API token of a viewer
	clock *time.Time
}

func newFixture(t *testing.T, st *store.Store, opts ...func(*server.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := time.Now()
	f := &fixture{t: t, st: st, clock: &clock}
	now := func() time.Time { return *f.clock }
	st.SetClock(now)
	cfg := server.Config{Store: st, Log: storetest.Logger(t), Now: now, RateBurst: 20, RatePerSecond: 1}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	f.srv, f.url = srv, hs.URL
	st.CreateSite(ctx, "central", "Central Library")
	st.CreateUser(ctx, "alice", store.RoleAdmin, "x")
	st.CreateUser(ctx, "victor", store.RoleViewer, "x")
	_, f.admin, _ = st.CreateAPIToken(ctx, "alice")
	_, f.view, _ = st.CreateAPIToken(ctx, "victor")
	return f
}

// do sends body (a value marshalled as JSON, or a string/[]byte sent as is).
func (f *fixture) do(method, path, auth string, body any, hdr ...string) (int, []byte, http.Header) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, f.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

func errCode(b []byte) string {
	var e api.Error
	json.Unmarshal(b, &e)
	return e.Code
}

func (f *fixture) token(uses int, ttl time.Duration) string {
	tok, err := f.st.CreateToken(context.Background(), "central", "alice", ttl, uses)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok.Secret
}

func (f *fixture) enrol(tok string) api.EnrolResponse {
	f.t.Helper()
	code, body, _ := f.do("POST", api.PathEnrol, "", api.EnrolRequest{Token: tok, Hostname: "kiosk-1", Arch: "arm64", AgentVersion: "1.0", Capability: 1})
	if code != 200 {
		f.t.Fatalf("enrol: %d %s", code, body)
	}
	var r api.EnrolResponse
	json.Unmarshal(body, &r)
	return r
}

func report(id string, seq uint64) api.Report {
	return api.Report{ID: id, Seq: seq, CreatedUnixMs: time.Now().UnixMilli() + int64(seq),
		Health:   api.Health{AgentVersion: "1.0", KioskState: "idle", UptimeSeconds: 100, MemTotalBytes: 100, MemAvailBytes: 50},
		Sessions: api.SessionCounts{Ended: 1, TotalMs: 1000, MedianMs: 1000}}
}

func TestEnrol(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	good := func(tok string) api.EnrolRequest {
		return api.EnrolRequest{Token: tok, Hostname: "kiosk-1", Arch: "arm64", AgentVersion: "1.0", Capability: 1}
	}
	tok := f.token(1, time.Hour)
	r := f.enrol(tok)
	if r.DeviceID == "" || !strings.HasPrefix(r.Credential, r.DeviceID+".") || r.Site != "central" || r.ReportIntervalSeconds != 30 || r.Capability != api.CapabilityVersion {
		t.Errorf("enrol response = %+v", r)
	}
	expired := f.token(1, time.Minute)
	*f.clock = f.clock.Add(2 * time.Minute)
	revoked, _ := f.st.CreateToken(context.Background(), "central", "alice", time.Hour, 1)
	f.st.RevokeToken(context.Background(), revoked.ID)
	big := `{"token":"` + strings.Repeat("a", api.MaxBodyBytes) + `"}`
	tests := []struct {
		name     string
		body     any
		hdr      []string
		wantCode int
		wantErr  string
	}{
		{"replayed token", good(tok), nil, 403, api.CodeTokenUsed},
		{"expired token", good(expired), nil, 403, api.CodeTokenExpired},
		{"revoked token", good(revoked.Secret), nil, 403, api.CodeTokenRevoked},
		{"unknown token", good("ake_doesnotexist"), nil, 401, api.CodeTokenUnknown},
		{"not JSON", "{not json", nil, 400, api.CodeBadRequest},
		{"empty body", "", nil, 400, api.CodeBadRequest},
		{"unknown field", `{"token":"x","hostname":"h","arch":"a","agent_version":"1","capability":1,"admin":true}`, nil, 400, api.CodeBadRequest},
		{"wrong type", `{"token":1}`, nil, 400, api.CodeBadRequest},
		{"trailing data", `{"token":"x","hostname":"h","arch":"a","agent_version":"1","capability":1} {}`, nil, 400, api.CodeBadRequest},
		{"missing hostname", api.EnrolRequest{Token: "ake_x", Arch: "a", AgentVersion: "1", Capability: 1}, nil, 400, api.CodeBadRequest},
		{"hostname with spaces", api.EnrolRequest{Token: "ake_x", Hostname: "a b", Arch: "a", AgentVersion: "1", Capability: 1}, nil, 400, api.CodeBadRequest},
		{"oversized", big, nil, 413, api.CodeTooLarge},
		{"form body", "token=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, api.CodeMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := f.do("POST", api.PathEnrol, "", tt.body, tt.hdr...)
			if code != tt.wantCode || errCode(body) != tt.wantErr {
				t.Errorf("got %d %s; want %d %s", code, body, tt.wantCode, tt.wantErr)
			}
		})
	}
	devs, _ := f.st.Devices(context.Background(), store.DeviceFilter{})
	if len(devs) != 1 {
		t.Errorf("%d devices after one good enrolment and bad ones, want 1", len(devs))
	}
	if code, body, _ := f.do("GET", api.PathEnrol, "", nil); code != 404 || errCode(body) != api.CodeNotFound {
		t.Errorf("GET enrol = %d, want 404 not_found", code)
	}
}

func TestReport(t *testing.T) {
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, storetest.Open(t, dialect))
			ctx := context.Background()
			dev := f.enrol(f.token(2, time.Hour))
			other := f.enrol(f.token(1, time.Hour))
			cmd, _ := f.st.IssueCommand(ctx, dev.DeviceID, "alice", api.Command{Kind: api.CommandEndSession})
			send := func(cred string, b any) (int, api.ReportResponse, []byte) {
				code, body, _ := f.do("POST", api.PathReport, cred, b)
				var r api.ReportResponse
				json.Unmarshal(body, &r)
				return code, r, body
			}
			batch := api.ReportBatch{Capability: 1, Reports: []api.Report{report("a1", 1), report("a2", 2)}}
			code, r, body := send(dev.Credential, batch)
			if code != 200 || len(r.Accepted) != 2 || len(r.Commands) != 1 || r.Commands[0].ID != cmd.ID || r.Capability != api.CapabilityVersion {
				t.Fatalf("first report: %d %s", code, body)
			}
			// Replayed (the agent lost the answer) plus one new: stored once.
			batch.Reports = append(batch.Reports, report("a3", 3))
			batch.Acks = []api.CommandAck{{ID: cmd.ID, Status: api.AckDone, UnixMs: time.Now().UnixMilli()}}
			code, r, body = send(dev.Credential, batch)
			if code != 200 || len(r.Accepted) != 3 || len(r.Commands) != 0 {
				t.Fatalf("replayed report: %d %s", code, body)
			}
			if n, _ := f.st.ReportCount(ctx, dev.DeviceID); n != 3 {
				t.Errorf("held %d reports, want 3", n)
			}
			cmds, _ := f.st.Commands(ctx, dev.DeviceID, 5)
			if cmds[0].Status != api.AckDone {
				t.Errorf("command status = %q, want done", cmds[0].Status)
			}
			// Acks only.
			if code, _, body := send(dev.Credential, api.ReportBatch{Capability: 2, Acks: []api.CommandAck{{ID: "zzz", Status: api.AckRefused}}}); code != 200 {
				t.Errorf("acks-only batch: %d %s", code, body)
			}
			// Another device acking dev's command changes nothing; its ids are its own.
			send(other.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{report("a1", 1)}})
			if n, _ := f.st.ReportCount(ctx, other.DeviceID); n != 1 {
				t.Errorf("other device held %d reports, want 1 (same report id, different device)", n)
			}

			many := api.ReportBatch{Capability: 1}
			for i := range api.MaxReportsPerBatch + 1 {
				many.Reports = append(many.Reports, report(fmt.Sprintf("m%d", i), uint64(i)))
			}
			bad := report("b1", 1)
			bad.Health.TempCelsius = 1000
			neg := report("b2", 1)
			neg.Sessions.Ended = -1
			dup := api.ReportBatch{Capability: 1, Reports: []api.Report{report("d", 1), report("d", 2)}}
			pad := strings.Repeat(" ", api.MaxBodyBytes)
			devID, secret, _ := strings.Cut(dev.Credential, ".")
			tests := []struct {
				name     string
				cred     string
				body     any
				wantCode int
				wantErr  string
			}{
				{"no credential", "", batch, 401, api.CodeUnauthorized},
				{"wrong secret", devID + ".akd_wrong", batch, 401, api.CodeUnauthorized},
				{"unknown device", "nodevice." + secret, batch, 401, api.CodeUnauthorized},
				{"other device's secret", other.DeviceID + "." + secret, batch, 401, api.CodeUnauthorized},
				{"enrolment token as credential", f.token(1, time.Hour), batch, 401, api.CodeUnauthorized},
				{"empty batch", dev.Credential, api.ReportBatch{Capability: 1}, 400, api.CodeBadRequest},
				{"too many reports", dev.Credential, many, 400, api.CodeBadRequest},
				{"implausible temperature", dev.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{bad}}, 400, api.CodeBadRequest},
				{"negative count", dev.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{neg}}, 400, api.CodeBadRequest},
				{"duplicate ids in batch", dev.Credential, dup, 400, api.CodeBadRequest},
				{"bad ack status", dev.Credential, api.ReportBatch{Capability: 1, Acks: []api.CommandAck{{ID: "x", Status: "ok"}}}, 400, api.CodeBadRequest},
				{"unknown field", dev.Credential, `{"capability":1,"reports":[],"url":"http://x"}`, 400, api.CodeBadRequest},
				{"not JSON", dev.Credential, "[1,2", 400, api.CodeBadRequest},
				{"oversized", dev.Credential, `{"capability":1` + pad + `}`, 413, api.CodeTooLarge},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					code, _, body := send(tt.cred, tt.body)
					if code != tt.wantCode || errCode(body) != tt.wantErr {
						t.Errorf("got %d %s; want %d %s", code, body, tt.wantCode, tt.wantErr)
					}
				})
			}
			if n, _ := f.st.ReportCount(ctx, dev.DeviceID); n != 3 {
				t.Errorf("after bad requests: held %d reports, want still 3", n)
			}
			// A revoked device is refused once the cache forgets it.
			f.st.RevokeDevice(ctx, other.DeviceID)
			f.srv.ForgetDevice(other.DeviceID)
			if code, _, body := send(other.Credential, batch); code != 401 {
				t.Errorf("revoked device: %d %s", code, body)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	dev := f.enrol(f.token(1, time.Hour))
	var limited bool
	for i := range 40 {
		code, body, hdr := f.do("POST", api.PathReport, dev.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{report(fmt.Sprint("r", i), uint64(i))}})
		if code == 429 {
			if errCode(body) != api.CodeRateLimited || hdr.Get("Retry-After") == "" {
				t.Errorf("429 without code or Retry-After: %s %v", body, hdr)
			}
			limited = true
			if i < 20 {
				t.Errorf("limited after %d requests; burst is 20", i)
			}
			break
		}
	}
	if !limited {
		t.Error("40 requests at once were never rate limited")
	}
	*f.clock = f.clock.Add(5 * time.Second)
	if code, _, _ := f.do("POST", api.PathReport, dev.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{report("late", 99)}}); code != 200 {
		t.Errorf("after waiting: %d, want 200", code)
	}
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	tests := []struct {
		name     string
		method   string
		path     string
		auth     string
		body     any
		wantCode int
	}{
		{"list sites as viewer", "GET", api.PathAdminSites, "view", nil, 200},
		{"list sites without token", "GET", api.PathAdminSites, "", nil, 401},
		{"list sites with a wrong token", "GET", api.PathAdminSites, "akapi_wrong", nil, 401},
		{"create site as viewer", "POST", api.PathAdminSites, "view", api.CreateSiteRequest{ID: "north"}, 403},
		{"create site", "POST", api.PathAdminSites, "admin", api.CreateSiteRequest{ID: "north", Name: "North Hub"}, 201},
		{"create site again", "POST", api.PathAdminSites, "admin", api.CreateSiteRequest{ID: "north"}, 409},
		{"create site bad id", "POST", api.PathAdminSites, "admin", api.CreateSiteRequest{ID: "North Hub"}, 400},
		{"create site unknown field", "POST", api.PathAdminSites, "admin", `{"id":"x","owner":"y"}`, 400},
		{"create token", "POST", api.PathAdminTokens, "admin", api.CreateTokenRequest{Site: "north", ExpiresSeconds: 3600, MaxUses: 5}, 201},
		{"create token unknown site", "POST", api.PathAdminTokens, "admin", api.CreateTokenRequest{Site: "nowhere"}, 404},
		{"create token too long", "POST", api.PathAdminTokens, "admin", api.CreateTokenRequest{Site: "north", ExpiresSeconds: 1 << 40}, 400},
		{"create token too many uses", "POST", api.PathAdminTokens, "admin", api.CreateTokenRequest{Site: "north", MaxUses: 1 << 20}, 400},
		{"create token as viewer", "POST", api.PathAdminTokens, "view", api.CreateTokenRequest{Site: "north"}, 403},
		{"list tokens", "GET", api.PathAdminTokens + "?site=north", "view", nil, 200},
		{"revoke unknown token", "DELETE", api.PathAdminToken + "nope", "admin", nil, 404},
		{"list devices", "GET", api.PathAdminDevices, "view", nil, 200},
		{"unknown endpoint", "GET", "/api/v1/admin/nothing", "admin", nil, 404},
	}
	auth := map[string]string{"view": f.view, "admin": f.admin}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.auth
			if v, ok := auth[a]; ok {
				a = v
			}
			code, body, _ := f.do(tt.method, tt.path, a, tt.body)
			if code != tt.wantCode {
				t.Errorf("got %d %s; want %d", code, body, tt.wantCode)
			}
		})
	}
	// The token made through the API enrols a device, five times, into north.
	code, body, _ := f.do("POST", api.PathAdminTokens, f.admin, api.CreateTokenRequest{Site: "north", MaxUses: 1})
	var ct api.CreatedToken
	json.Unmarshal(body, &ct)
	if code != 201 || !strings.HasPrefix(ct.Secret, "ake_") || ct.MaxUses != 1 || ct.Site != "north" {
		t.Fatalf("created token: %d %s", code, body)
	}
	if r := f.enrol(ct.Secret); r.Site != "north" {
		t.Errorf("enrolled into %q", r.Site)
	}
	code, body, _ = f.do("GET", api.PathAdminDevices+"?site=north", f.view, nil)
	var dl api.DeviceList
	json.Unmarshal(body, &dl)
	if code != 200 || len(dl.Devices) != 1 || dl.Devices[0].Hostname != "kiosk-1" {
		t.Errorf("devices: %d %s", code, body)
	}
	if code, _, _ := f.do("DELETE", api.PathAdminToken+ct.ID, f.admin, nil); code != 204 {
		t.Errorf("revoke: %d", code)
	}
	code, body, _ = f.do("GET", api.PathAdminTokens, f.view, nil)
	var tl api.TokenList
	json.Unmarshal(body, &tl)
	found := false
	for _, tk := range tl.Tokens {
		if tk.ID == ct.ID {
			found = tk.Revoked && tk.Uses == 1
		}
	}
	if !found {
		t.Errorf("revoked token not listed as revoked with 1 use: %s", body)
	}
	log, _ := f.st.AuditLog(context.Background(), 0, 50)
	actions := map[string]bool{}
	for _, e := range log {
		actions[e.Action] = true
	}
	for _, a := range []string{"site.create", "token.create", "token.revoke"} {
		if !actions[a] {
			t.Errorf("no audit entry %q", a)
		}
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	dev := f.enrol(f.token(1, time.Hour))
	f.do("POST", api.PathReport, dev.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{report("x", 1)}})
	if code, body, _ := f.do("GET", "/healthz", "", nil); code != 200 || string(body) != "ok\n" {
		t.Errorf("healthz = %d %q", code, body)
	}
	code, body, _ := f.do("GET", "/metrics", "", nil)
	for _, want := range []string{
		`fleet_reports_ingested_total 1`,
		`fleet_devices{site="central",state="online"} 1`,
		`fleet_enrolments_total 1`,
		`fleet_http_request_duration_seconds_count{code="200",route="/api/v1/report"} 1`,
	} {
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	f.st.Close()
	if code, _, _ := f.do("GET", "/healthz", "", nil); code != 503 {
		t.Errorf("healthz with the store closed = %d, want 503", code)
	}
}

func TestCrossOriginRefused(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	code, _, _ := f.do("POST", api.PathAdminSites, f.admin, api.CreateSiteRequest{ID: "evil"}, "Sec-Fetch-Site", "cross-site")
	if code != 403 {
		t.Errorf("cross-site POST = %d, want 403", code)
	}
	if ok, _ := f.st.SiteExists(context.Background(), "evil"); ok {
		t.Error("cross-site POST created a site")
	}
}

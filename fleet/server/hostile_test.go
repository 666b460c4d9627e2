package server_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store/storetest"
)

// routeLabels returns the route label values on /metrics.
func (f *fixture) routeLabels() map[string]bool {
	f.t.Helper()
	_, body, _ := f.do("GET", "/metrics", "", nil)
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`fleet_http_request_duration_seconds_count\{code="\d+",route="([^"]*)"\}`).FindAllSubmatch(body, -1) {
		out[string(m[1])] = true
	}
	return out
}

// TestMetricsByRoutePattern: 300 random paths under /api/ and elsewhere
// add no label values to /metrics; they all count as "other", and known
// endpoints by their pattern. (Before, each /api/ path was a label value:
// /metrics grew without bound.)
func TestMetricsByRoutePattern(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	dev := f.enrol(f.token(1, time.Hour))
	f.do("POST", api.PathReport, dev.Credential, api.ReportBatch{Capability: 1, Reports: []api.Report{report("x", 1)}})
	f.do("DELETE", api.PathAdminToken+"abcdef", f.admin, nil)
	for i := range 300 {
		b := make([]byte, 16)
		rand.Read(b)
		prefix := []string{"/api/", "/api/v1/", "/api/v1/admin/", "/", "/static/", "/release/"}[i%6]
		f.do("GET", prefix+hex.EncodeToString(b), "", nil)
	}
	_, metrics, _ := f.do("GET", "/metrics", "", nil)
	labels := f.routeLabels()
	for _, want := range []string{"/api/v1/report", "/api/v1/enrol", "/api/v1/admin/tokens/{id}", "other"} {
		if !labels[want] {
			t.Errorf("no route label %q in %v", want, labels)
		}
	}
	if len(labels) > 8 {
		t.Errorf("%d route labels after 300 random paths: %v", len(labels), labels)
	}
	if len(metrics) > 64<<10 {
		t.Errorf("/metrics is %d bytes after 300 random paths", len(metrics))
	}
}

// TestBadPathsAnswered: GET /api/%ff and other odd paths get an answer
// (a 4xx), never a dropped connection, and nothing is logged as a panic.
// (Before, /api/%ff panicked in the metrics label on every request.)
func TestBadPathsAnswered(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	for _, path := range []string{"/api/%ff", "/api/%ff%fe/x", "/%ff", "/kiosks/%ff", "/api/v1/admin/tokens/%ff", "/release/%ff", "/static/%ff"} {
		req, _ := http.NewRequest("GET", f.url+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("GET %s: %v (connection dropped)", path, err)
			continue
		}
		res.Body.Close()
		if res.StatusCode < 300 || res.StatusCode >= 500 {
			t.Errorf("GET %s: %d, want a 3xx/4xx", path, res.StatusCode)
		}
	}
	_, metrics, _ := f.do("GET", "/metrics", "", nil)
	if bytes.Contains(metrics, []byte("fleet_http_panics_total 1")) || !bytes.Contains(metrics, []byte("fleet_http_panics_total 0")) {
		t.Errorf("panics counted: %s", regexp.MustCompile(`fleet_http_panics_total \d+`).Find(metrics))
	}
}

// TestPanicRecovered: a handler that panics (here the release handler)
// answers 400 with a sentence, the panic is counted, and the server keeps
// serving.
func TestPanicRecovered(t *testing.T) {
	st := storetest.SQLite(t)
	srv, err := server.New(server.Config{Store: st, Log: storetest.Logger(t),
		Release: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("a bug") })})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	res, err := http.Get(hs.URL + "/release/anything")
	if err != nil {
		t.Fatalf("a panicking handler dropped the connection: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("panicking handler answered %d, want 400", res.StatusCode)
	}
	res, err = http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(b, []byte("fleet_http_panics_total 1")) {
		t.Errorf("panic not counted: %s", regexp.MustCompile(`fleet_http_panics_total \d+`).Find(b))
	}
}

// TestHSTS: over HTTPS every answer says Strict-Transport-Security; over
// plain HTTP (behind a TLS proxy, or loopback) none does.
func TestHSTS(t *testing.T) {
	st := storetest.SQLite(t)
	srv, err := server.New(server.Config{Store: st, Log: storetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	tlsSrv := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(srv.Handler())
	t.Cleanup(plain.Close)
	for _, path := range []string{"/healthz", "/api/v1/nothing"} {
		res, err := tlsSrv.Client().Get(tlsSrv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if h := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
			t.Errorf("HTTPS %s: Strict-Transport-Security %q", path, h)
		}
		res, err = http.Get(plain.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if h := res.Header.Get("Strict-Transport-Security"); h != "" {
			t.Errorf("plain HTTP %s: Strict-Transport-Security %q", path, h)
		}
	}
}

// serveFrom sends a request to the handler as if from addr.
func serveFrom(h http.Handler, addr, method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = addr + ":50000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestEnrolmentLimitedGlobally: enrolment attempts from ever new addresses
// meet a global limit (with Retry-After), not only the per-address one.
func TestEnrolmentLimitedGlobally(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	body, _ := json.Marshal(api.EnrolRequest{Token: "ake_unknown", Hostname: "k", Arch: "arm64", AgentVersion: "1", Capability: 1})
	limited := -1
	for i := range 1000 {
		w := serveFrom(f.srv.Handler(), fmt.Sprintf("10.3.%d.%d", i/250, i%250+1), "POST", api.PathEnrol, body)
		if w.Code == http.StatusTooManyRequests {
			if w.Header().Get("Retry-After") == "" || errCode(w.Body.Bytes()) != api.CodeRateLimited {
				t.Errorf("429 without Retry-After or code: %v %s", w.Header(), w.Body)
			}
			limited = i
			break
		}
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("enrol attempt %d: %d %s", i, w.Code, w.Body)
		}
	}
	if limited < 0 {
		t.Error("1000 enrolment attempts from 1000 addresses: none refused")
	}
}

// TestJSONKeysExact: a body with a key twice, or a key in another case
// than the field's, is refused naming the key. (Before, Go's decoder took
// the last of two keys and matched "Token" to "token", so what a proxy or
// log saw was not what the server used.)
func TestJSONKeysExact(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	tok := f.token(1, time.Hour)
	rest := `"hostname":"k","arch":"arm64","agent_version":"1","capability":1`
	for _, tc := range []struct{ name, body, key string }{
		{"duplicate", `{"token":"ake_x","token":"` + tok + `",` + rest + `}`, "token"},
		{"case folded", `{"Token":"` + tok + `",` + rest + `}`, "Token"},
		{"escaped duplicate", `{"token":"ake_x","\u0074oken":"` + tok + `",` + rest + `}`, "token"},
		{"nested duplicate", `{"capability":1,"reports":[{"id":"a","id":"b","created_unix_ms":1,"health":{"kiosk_state":"idle"},"sessions":{}}]}`, "id"},
		{"nested case folded", `{"capability":1,"reports":[{"ID":"a","created_unix_ms":1,"health":{"kiosk_state":"idle"},"sessions":{}}]}`, "ID"},
	} {
		path, cred := api.PathEnrol, ""
		if strings.Contains(tc.body, "reports") {
			path, cred = api.PathReport, f.enrol(f.token(1, time.Hour)).Credential
		}
		code, body, _ := f.do("POST", path, cred, tc.body)
		if code != 400 || errCode(body) != api.CodeBadRequest || !strings.Contains(string(body), `\"`+tc.key+`\"`) {
			t.Errorf("%s: %d %s; want 400 naming %q", tc.name, code, body, tc.key)
		}
	}
	// A stray closing brace after the object is trailing data too (found
	// by FuzzHandler: the decoder's More let it through).
	for _, trail := range []string{" }", "]", "\n}}"} {
		code, body, _ := f.do("POST", api.PathEnrol, "", `{"token":"`+tok+`",`+rest+`}`+trail)
		if code != 400 || !strings.Contains(string(body), "after its JSON object") {
			t.Errorf("body with %q after it: %d %s", trail, code, body)
		}
	}
	// The token was not spent by any refused body.
	if r := f.enrol(tok); r.DeviceID == "" {
		t.Error("the token was spent by a refused body")
	}
}

// TestFreeTextControls: bidi controls (U+202E and friends) and C1 controls
// in free-text fields are refused naming the field: they make text read
// differently from what it is, in the console and in logs.
func TestFreeTextControls(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	dev := f.enrol(f.token(1, time.Hour))
	withWarning := func(text string) api.ReportBatch {
		r := report("w"+hex.EncodeToString([]byte(text)), 1)
		r.Warnings = []api.Warning{{Code: "disk_low", Severity: "warning", Text: text}}
		return api.ReportBatch{Capability: 1, Reports: []api.Report{r}}
	}
	for _, tc := range []struct {
		name, path, cred string
		body             any
		field            string
	}{
		{"RLO in warning text", api.PathReport, dev.Credential, withWarning("disk \u202egnp.exe"), "reports[0].warnings[0].text"},
		{"isolate in warning text", api.PathReport, dev.Credential, withWarning("a\u2067b"), "reports[0].warnings[0].text"},
		{"C1 in ack detail", api.PathReport, dev.Credential, api.ReportBatch{Capability: 1, Acks: []api.CommandAck{{ID: "c1", Status: api.AckDone, Detail: "ok\u0085next"}}}, "acks[0].detail"},
		{"RLO in os_release", api.PathReport, dev.Credential, func() api.ReportBatch {
			b := withWarning("fine")
			b.Reports[0].Health.OSRelease = "Debian \u202e21"
			return b
		}(), "reports[0].health.os_release"},
		{"RLO in site name", api.PathAdminSites, f.admin, api.CreateSiteRequest{ID: "annex", Name: "Annex \u202eyrarbil"}, "name"},
		{"CSI in agent version", api.PathEnrol, "", api.EnrolRequest{Token: f.token(1, time.Hour), Hostname: "k", Arch: "arm64", AgentVersion: "1.0\u009b31m", Capability: 1}, "agent_version"},
	} {
		code, body, _ := f.do("POST", tc.path, tc.cred, tc.body)
		if code != 400 || !strings.Contains(string(body), tc.field) {
			t.Errorf("%s: %d %s; want 400 naming %s", tc.name, code, body, tc.field)
		}
	}
	// Right-to-left text itself is fine.
	if code, body, _ := f.do("POST", api.PathAdminSites, f.admin, api.CreateSiteRequest{ID: "rtl", Name: "مكتبة"}); code != 201 {
		t.Errorf("site with an Arabic name: %d %s", code, body)
	}
}

// TestLargeBodyToUnknownPath: a large body sent to a path nothing serves
// (or refused early) gets an answer the client reads, over HTTPS, even
// from a client that writes its whole body before reading, as many do
// (Python's http.client, a shell script with openssl). (Before, such a
// client's connection was reset: the server answered without reading the
// body and closed.)
func TestLargeBodyToUnknownPath(t *testing.T) {
	st := storetest.SQLite(t)
	srv, err := server.New(server.Config{Store: st, Log: storetest.Logger(t), Console: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.StartTLS()
	t.Cleanup(hs.Close)
	for _, path := range []string{"/api/v1/nothing", "/nothing", api.PathEnrol} {
		for _, size := range []int{2 << 20, 16 << 20} {
			code, err := writeThenRead(hs.Listener.Addr().String(), path, size)
			if err != nil {
				t.Errorf("POST %d MiB to %s: %v", size>>20, path, err)
				continue
			}
			if code != 404 && code != 413 {
				t.Errorf("POST %d MiB to %s: %d, want 404 or 413", size>>20, path, code)
			}
		}
	}
}

// writeThenRead sends a POST of size zero bytes over TLS, writing the
// whole body before reading the answer, and returns the answer's status.
func writeThenRead(addr, path string, size int) (int, error) {
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: fleet\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, size)
	if _, err := c.Write(make([]byte, size)); err != nil {
		return 0, fmt.Errorf("writing the body: %w (the server gave up on the connection)", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, fmt.Errorf("reading the answer: %w", err)
	}
	res.Body.Close()
	return res.StatusCode, nil
}

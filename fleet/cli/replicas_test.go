package cli_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/cli"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/release/releasetest"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/store/storetest"
	"accesskiosk/fleet/tlscert"
)

// replica is one `fleet serve` of a pair sharing one PostgreSQL.
type replica struct {
	name   string
	url    string
	fp     string
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startReplica runs `fleet serve --db dsn` in-process on a loopback
// listener with a data directory of its own (which must hold nothing that
// matters) and waits for its fingerprint.
func startReplica(t *testing.T, name, dsn string, cfg cli.Config) *replica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{name: name, url: "https://" + ln.Addr().String(), out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- cli.Serve(ctx, ln, cli.ServeOptionsForTestDB(t.TempDir(), dsn), cfg, storetest.Logger(t), r.out)
	}()
	t.Cleanup(r.stop)
	re := regexp.MustCompile(`fingerprint ([0-9A-F:]{95})`)
	deadline := time.Now().Add(60 * time.Second)
	for r.fp == "" {
		if m := re.FindStringSubmatch(r.out.String()); m != nil {
			r.fp = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s printed no fingerprint: %q", name, r.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

func (r *replica) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	<-r.done
}

// pinnedClient trusts exactly the certificate with fingerprint fp, as an agent does.
func pinnedClient(t testing.TB, fp string, jar http.CookieJar) *http.Client {
	t.Helper()
	return &http.Client{Timeout: 20 * time.Second, Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			sum := sha256.Sum256(raw[0])
			if got := strings.ToUpper(hex.EncodeToString(sum[:])); got != strings.ReplaceAll(fp, ":", "") {
				return fmt.Errorf("certificate %s is not the pinned one", got)
			}
			return nil
		},
	}}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// webhook counts the alert events posted to it.
type webhook struct {
	mu     sync.Mutex
	events []map[string]any
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var e map[string]any
	json.NewDecoder(r.Body).Decode(&e)
	h.mu.Lock()
	h.events = append(h.events, e)
	h.mu.Unlock()
}

func (h *webhook) count(event, kind, device string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if e["event"] == event && e["kind"] == kind && e["device_id"] == device {
			n++
		}
	}
	return n
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 60 s waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReplicas runs two `fleet serve` replicas on one real PostgreSQL 15
// started by the test, and checks that they are one fleet: one
// certificate fingerprint; a credential withdrawn on one replica refused
// on both at the very next report, and a re-enrolment's old credential
// refused on both at once; a console session and a sign-in hold valid on
// both; a rollout started on one console served by both; one alert
// webhook per event, also when the replica running the checks stops.
func TestReplicas(t *testing.T) {
	dsn := storetest.Postgres(t)
	code, out, errOut := run(t, "admin", "create", "--db", dsn, "--user", "alice")
	if code != 0 {
		t.Fatalf("admin create --db: %d %s", code, errOut)
	}
	password := strings.TrimSpace(out[strings.Index(out, "password: ")+len("password: "):])
	run(t, "admin", "site", "--db", dsn, "--id", "central", "--name", "Central Library")
	code, token, errOut := run(t, "admin", "enrol-token", "--db", dsn, "--site", "central", "--uses", "10")
	if code != 0 {
		t.Fatalf("enrol-token --db: %d %s", code, errOut)
	}
	token = strings.TrimSpace(token)
	// The release repository lives in the database: made and filled by
	// the command with --db, before the replicas start.
	offline := t.TempDir()
	for _, args := range [][]string{
		{"release", "keys", "generate", "--offline", offline},
		{"release", "init", "--db", dsn, "--offline", offline},
		{"release", "add", "--db", dsn, "--offline", offline, releasetest.Bundle(t, "2.0.0", "amd64", releasetest.Files("2.0.0", 5000, 1))},
	} {
		if code, _, errOut := run(t, args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}

	hook := &webhook{}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	cfg := cli.DefaultConfig()
	cfg.Alerts.WebhookURL = hs.URL
	cfg.Alerts.Interval = 100 * time.Millisecond
	cfg.Alerts.OfflineAfter = 3 * time.Second
	a := startReplica(t, "a", dsn, cfg)
	b := startReplica(t, "b", dsn, cfg)
	both := []*replica{a, b}

	t.Run("one certificate", func(t *testing.T) {
		if a.fp != b.fp {
			t.Fatalf("replicas serve two certificates: %s and %s (agents pin one)", a.fp, b.fp)
		}
		out := t.TempDir()
		code, stdout, errOut := run(t, "tls", "export", "--db", dsn, "--out", out)
		if code != 0 || !strings.Contains(stdout, a.fp) {
			t.Fatalf("tls export: %d %s %s; want the replicas' fingerprint %s", code, stdout, errOut, a.fp)
		}
		// Moving a fleet to PostgreSQL: import the certificate its kiosks
		// pin; a replica started after serves it.
		certPEM, keyPEM, err := tlscert.SelfSigned([]string{"fleet.example"})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := tlscert.Check(certPEM, keyPEM)
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644)
		os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
		if code, _, errOut := run(t, "tls", "import", "--db", dsn, "--cert", filepath.Join(dir, "cert.pem"), "--key", filepath.Join(dir, "key.pem")); code != 0 {
			t.Fatalf("tls import: %s", errOut)
		}
		if code, _, errOut := run(t, "tls", "import", "--db", dsn, "--cert", filepath.Join(dir, "cert.pem"), "--key", filepath.Join(out, "key.pem")); code == 0 || !strings.Contains(errOut, "key") {
			t.Errorf("tls import of a certificate with another's key: %d %s, want refused", code, errOut)
		}
		c := startReplica(t, "c", dsn, cfg)
		c.stop()
		if c.fp != want {
			t.Errorf("a replica started after the import serves %s, want the imported %s", c.fp, want)
		}
	})
	client := pinnedClient(t, a.fp, nil)
	post := func(r *replica, path, cred string, body any) (int, []byte) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", r.url+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if cred != "" {
			req.Header.Set("Authorization", "Bearer "+cred)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %s to replica %s: %v", path, r.name, err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	enrol := func(r *replica, key ed25519.PrivateKey) api.EnrolResponse {
		t.Helper()
		req := api.EnrolRequest{Token: token, Hostname: "kiosk-" + r.name, Arch: "amd64", AgentVersion: "1.0.0", Capability: api.CapabilityVersion}
		req.SignEnrol(key)
		code, body := post(r, api.PathEnrol, "", req)
		if code != 200 {
			t.Fatalf("enrol on %s: %d %s", r.name, code, body)
		}
		var e api.EnrolResponse
		json.Unmarshal(body, &e)
		return e
	}
	seq := uint64(0)
	report := func(r *replica, cred string) (int, api.ReportResponse) {
		t.Helper()
		seq++
		id, _, _ := strings.Cut(cred, ".")
		batch := api.ReportBatch{Capability: api.CapabilityVersion, Reports: []api.Report{{
			ID: fmt.Sprintf("%s-%d", id, seq), Seq: seq, CreatedUnixMs: time.Now().UnixMilli(),
			Health: api.Health{AgentVersion: "1.0.0", KioskVersion: "1.0.0", KioskState: "idle", NetworkUp: true,
				MemTotalBytes: 4 << 30, MemAvailBytes: 2 << 30, DiskTotalBytes: 32 << 30, DiskFreeBytes: 20 << 30},
		}}}
		code, body := post(r, api.PathReport, cred, batch)
		var rr api.ReportResponse
		json.Unmarshal(body, &rr)
		return code, rr
	}
	reportsEverywhere := func(cred string, want int, what string) {
		t.Helper()
		for _, r := range both {
			if code, _ := report(r, cred); code != want {
				t.Errorf("%s: report to replica %s answered %d, want %d", what, r.name, code, want)
			}
		}
	}

	// Staff sign in on a; the session works on b.
	jar, _ := cookiejar.New(nil)
	staff := pinnedClient(t, a.fp, jar)
	signIn := func(r *replica, pw string) int {
		resp, err := staff.PostForm(r.url+"/login", url.Values{"user": {"alice"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := signIn(a, password); code != http.StatusSeeOther {
		t.Fatalf("sign in on a: %d", code)
	}
	// Both replicas share one host (127.0.0.1), so the jar sends a's cookie to b.
	t.Run("console session on both", func(t *testing.T) {
		resp, err := staff.Get(b.url + "/kiosks")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("a session made on a, used on b: %d (want 200, not a redirect to sign in)", resp.StatusCode)
		}
	})

	t.Run("withdrawn on one, refused on both at once", func(t *testing.T) {
		key := newKey(t)
		e := enrol(a, key)
		reportsEverywhere(e.Credential, 200, "enrolled") // both replicas now cache the credential
		resp, err := staff.PostForm(b.url+"/kiosks/"+e.DeviceID+"/revoke", url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke on b: %d", resp.StatusCode)
		}
		// The very next report, on either replica, is refused: no waiting.
		reportsEverywhere(e.Credential, 401, "withdrawn on b")
	})

	t.Run("re-enrolled on one, the old credential refused on both at once", func(t *testing.T) {
		key := newKey(t)
		old := enrol(a, key)
		reportsEverywhere(old.Credential, 200, "enrolled")
		fresh := enrol(b, key) // the same device key and token: same device, new credential
		if fresh.DeviceID != old.DeviceID || !fresh.Reenrolled {
			t.Fatalf("second enrolment = %+v, want the same device re-enrolled", fresh)
		}
		reportsEverywhere(old.Credential, 401, "old credential after re-enrolment on b")
		reportsEverywhere(fresh.Credential, 200, "new credential after re-enrolment on b")
	})

	t.Run("sign-in hold shared", func(t *testing.T) {
		// Five wrong passwords are free; the sixth holds alice at this
		// address, whichever replica it came through.
		jar2, _ := cookiejar.New(nil)
		other := pinnedClient(t, a.fp, jar2)
		for i := range 6 {
			r := both[i%2]
			resp, err := other.PostForm(r.url+"/login", url.Values{"user": {"alice"}, "password": {"wrong"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password %d on %s: %d", i+1, r.name, resp.StatusCode)
			}
		}
		for _, r := range both {
			resp, err := other.PostForm(r.url+"/login", url.Values{"user": {"alice"}, "password": {password}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Errorf("right password on %s after 6 wrong ones spread over both replicas: %d (Retry-After %q), want 429 on both",
					r.name, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		}
	})

	t.Run("usage budget shared", func(t *testing.T) {
		// A stolen credential sends sessions with a session's most
		// downloads (1,000) through both replicas: one budget, in the
		// device's row, so at most 1,000 (and the few refilled since)
		// are counted, not 1,000 per replica.
		e := enrol(a, newKey(t))
		now := time.Now()
		for i := range 4 {
			seq++
			ended := now.Add(time.Duration(i) * time.Millisecond)
			batch := api.ReportBatch{Capability: api.CapabilityVersion, Reports: []api.Report{{
				ID: fmt.Sprintf("usage-%d", seq), Seq: seq, CreatedUnixMs: ended.UnixMilli(),
				Health: api.Health{AgentVersion: "1.0.0", KioskState: "idle"}, Sessions: api.SessionCounts{Ended: 1},
				Receipts: []api.Receipt{{Reason: "toolbar", Cleared: []string{"web_view"}, EndedUnixMs: ended.UnixMilli(),
					Counted: &api.Counted{StartedHourUnixMs: ended.Truncate(time.Hour).UnixMilli(), Downloads: api.MaxCountedFiles}}},
			}}}
			if code, body := post(both[i%2], api.PathReport, e.Credential, batch); code != 200 {
				t.Fatalf("report to %s: %d %s", both[i%2].name, code, body)
			}
		}
		st, err := store.Open(context.Background(), store.Config{Dialect: store.Postgres, DSN: dsn}, storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		m := insights.DateOf(now)
		in, err := st.InsightsInput(context.Background(), "central", insights.Date{Year: m.Year, Month: m.Month, Day: 1},
			insights.DateOf(time.Date(m.Year, m.Month+1, 1, 12, 0, 0, 0, time.UTC)))
		if err != nil {
			t.Fatal(err)
		}
		downloads := 0
		for _, b := range in.Blocks {
			downloads += b.Downloads
		}
		// 1,000 at once, then 1,800 an hour (0.5 a second) for as long as the test took.
		if most := api.MaxCountedFiles + int(time.Since(now).Seconds()/2) + 1; downloads < api.MaxCountedFiles || downloads > most {
			t.Errorf("%d downloads counted from 4,000 sent through two replicas, want 1,000 to %d: one budget", downloads, most)
		}
	})

	t.Run("a rollout started on one is served by both", func(t *testing.T) {
		key := newKey(t)
		e := enrol(a, key)
		for _, r := range both {
			if code, rr := report(r, e.Credential); code != 200 || rr.Desired.Release != "" {
				t.Fatalf("before the rollout %s answered %d, desired %q", r.name, code, rr.Desired.Release)
			}
		}
		resp, err := staff.PostForm(a.url+"/releases/rollouts", url.Values{"release": {"2.0.0"}, "canary": {"site:central"}, "confirm": {"yes"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start a rollout on a's console: %d %s", resp.StatusCode, body)
		}
		for _, r := range both {
			waitUntil(t, "replica "+r.name+" to serve the rollout", func() bool {
				code, rr := report(r, e.Credential)
				return code == 200 && rr.Desired.Release == "2.0.0"
			})
		}
		// Both serve the one repository: the same signed timestamp.
		var ts [2][]byte
		for i, r := range both {
			resp, err := client.Get(r.url + "/release/metadata/timestamp.json")
			if err != nil {
				t.Fatal(err)
			}
			ts[i], _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("timestamp.json from %s: %d", r.name, resp.StatusCode)
			}
		}
		if !bytes.Equal(ts[0], ts[1]) {
			t.Errorf("the replicas serve different timestamp metadata")
		}
	})

	t.Run("one webhook per alert event", func(t *testing.T) {
		key := newKey(t)
		e := enrol(b, key)
		report(b, e.Credential) // then silence: offline after 3 s
		waitUntil(t, "the offline alert's webhook", func() bool { return hook.count("opened", "offline", e.DeviceID) > 0 })
		time.Sleep(time.Second) // ten more check rounds on each replica
		if n := hook.count("opened", "offline", e.DeviceID); n != 1 {
			t.Errorf("offline alert opened: %d webhook events, want 1", n)
		}
		report(a, e.Credential) // back: the alert closes once
		waitUntil(t, "the alert to close", func() bool { return hook.count("closed", "offline", e.DeviceID) > 0 })
		time.Sleep(time.Second)
		if n := hook.count("closed", "offline", e.DeviceID); n != 1 {
			t.Errorf("offline alert closed: %d webhook events, want 1", n)
		}

		// The replica running the checks stops; the other takes over and
		// the next event is posted once.
		leader, follower := a, b
		if leads(t, client, b) {
			leader, follower = b, a
		}
		if leads(t, client, follower) || !leads(t, client, leader) {
			t.Fatalf("want exactly one replica with fleet_alerts_leader 1")
		}
		leader.stop()
		key2 := newKey(t)
		e2 := enrol(follower, key2)
		report(follower, e2.Credential)
		waitUntil(t, "the alert after the leader stopped", func() bool { return hook.count("opened", "offline", e2.DeviceID) > 0 })
		time.Sleep(time.Second)
		if n := hook.count("opened", "offline", e2.DeviceID); n != 1 {
			t.Errorf("after failover: %d webhook events for one alert, want 1", n)
		}
	})
}

// leads reports whether r says (on /metrics) it runs the alert checks.
func leads(t *testing.T, c *http.Client, r *replica) bool {
	t.Helper()
	resp, err := c.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return regexp.MustCompile(`(?m)^fleet_alerts_leader 1$`).Match(b)
}

func newKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

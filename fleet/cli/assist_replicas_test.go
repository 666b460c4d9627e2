package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	_ "github.com/jackc/pgx/v5/stdlib"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/assist/wire"
	"accesskiosk/fleet/cli"
	"accesskiosk/fleet/store/storetest"
	"accesskiosk/fleet/tlscert"
)

// startAssistReplica is startReplica with remote help on and an internal
// address on loopback; it returns the replica and its internal address.
func startAssistReplica(t testing.TB, name, dsn string, cfg cli.Config) (*replica, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{name: name, url: "https://" + ln.Addr().String(), out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- cli.Serve(ctx, ln, cli.ServeOptionsForTestReplica(t.TempDir(), dsn, "127.0.0.1:0"), cfg, storetest.Logger(t), r.out)
	}()
	t.Cleanup(r.stop)
	fpRe := regexp.MustCompile(`fingerprint ([0-9A-F:]{95})`)
	inRe := regexp.MustCompile(`remote help between replicas at (\S+)`)
	var internal string
	waitUntil(t, "replica "+name+" to print its fingerprint and internal address", func() bool {
		out := r.out.String()
		if m := fpRe.FindStringSubmatch(out); m != nil {
			r.fp = m[1]
		}
		if m := inRe.FindStringSubmatch(out); m != nil {
			internal = m[1]
		}
		return r.fp != "" && internal != ""
	})
	return r, internal
}

// assistRig is two `fleet serve` replicas with remote help on one real
// PostgreSQL, two admins (alice, bob) signed in, and the means to play an
// agent and a viewer against either replica.
type assistRig struct {
	ctx        context.Context
	a, b       *replica
	aInternal  string
	db         *sql.DB
	token      string
	client     *http.Client
	wsClient   *http.Client
	alice, bob *http.Client
}

func newAssistRig(t testing.TB) *assistRig {
	t.Helper()
	dsn := storetest.Postgres(t)
	pw := func(out string) string {
		m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no password in %q", out)
		}
		return m[1]
	}
	_, aliceOut, _ := run(t, "admin", "create", "--db", dsn, "--user", "alice")
	_, bobOut, _ := run(t, "admin", "create", "--db", dsn, "--user", "bob")
	run(t, "admin", "site", "--db", dsn, "--id", "central", "--name", "Central Library")
	_, token, _ := run(t, "admin", "enrol-token", "--db", dsn, "--site", "central", "--uses", "10")

	cfg := cli.DefaultConfig()
	cfg.Assist.Enabled = true
	r := &assistRig{token: strings.TrimSpace(token)}
	r.a, r.aInternal = startAssistReplica(t, "a", dsn, cfg)
	r.b, _ = startAssistReplica(t, "b", dsn, cfg)
	if r.a.fp != r.b.fp {
		t.Fatalf("two certificates: %s, %s", r.a.fp, r.b.fp)
	}
	var err error
	if r.db, err = sql.Open("pgx", dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	r.ctx = ctx
	r.client = pinnedClient(t, r.a.fp, nil)
	// WebSockets take their deadlines from the context, not the client.
	r.wsClient = &http.Client{Transport: r.client.Transport}
	r.alice, r.bob = r.signIn(t, "alice", pw(aliceOut)), r.signIn(t, "bob", pw(bobOut))
	return r
}

func (r *assistRig) signIn(t testing.TB, user, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := pinnedClient(t, r.a.fp, jar)
	resp, err := c.PostForm(r.a.url+"/login", url.Values{"user": {user}, "password": {password}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %v %v", user, err, resp)
	}
	resp.Body.Close()
	return c
}

func (r *assistRig) enrol(t testing.TB) api.EnrolResponse {
	t.Helper()
	req := api.EnrolRequest{Token: r.token, Hostname: "kiosk", Arch: "amd64", AgentVersion: "1.0.0", Capability: api.CapabilityVersion}
	req.SignEnrol(newKey(t))
	body, _ := json.Marshal(req)
	resp, err := r.client.Post(r.a.url+api.PathEnrol, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e api.EnrolResponse
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != 200 {
		t.Fatalf("enrol: %d", resp.StatusCode)
	}
	return e
}

// agent dials rep's device WebSocket and says hello.
func (r *assistRig) agent(t testing.TB, rep *replica, cred string, hello *wire.Msg) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(r.ctx, "wss"+strings.TrimPrefix(rep.url, "https")+wire.PathDevice, &websocket.DialOptions{HTTPClient: r.wsClient,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + cred}}, Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		t.Fatalf("agent on %s: %v", rep.name, err)
	}
	ws.SetReadLimit(wire.MaxFrameBytes)
	t.Cleanup(func() { ws.CloseNow() })
	r.send(t, ws, hello)
	return ws
}

func (r *assistRig) send(t testing.TB, ws *websocket.Conn, m *wire.Msg) {
	t.Helper()
	b, _ := m.Encode()
	if err := ws.Write(r.ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("send %s: %v", m.Type, err)
	}
}

// next reads until a message of type typ (others skipped), within 20 s.
func (r *assistRig) next(t testing.TB, ws *websocket.Conn, who, typ string) *wire.Msg {
	t.Helper()
	rctx, rcancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer rcancel()
	for {
		mt, b, err := ws.Read(rctx)
		if err != nil {
			t.Fatalf("%s: waiting for %s: %v", who, typ, err)
		}
		if mt != websocket.MessageText {
			continue
		}
		m, err := wire.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		if m.Type == typ {
			return m
		}
	}
}

// nextFrame reads until a frame, within 20 s.
func (r *assistRig) nextFrame(t testing.TB, ws *websocket.Conn) []byte {
	t.Helper()
	rctx, rcancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer rcancel()
	for {
		mt, b, err := ws.Read(rctx)
		if err != nil {
			t.Fatalf("no frame reached the viewer: %v", err)
		}
		if mt == websocket.MessageBinary {
			return b
		}
	}
}

// command posts a console form on rep (the console's own origin).
func (r *assistRig) command(t testing.TB, c *http.Client, rep *replica, path string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", rep.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", rep.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// viewer opens share id's WebSocket on rep as c's staff user.
func (r *assistRig) viewer(t testing.TB, c *http.Client, rep *replica, id string) (*websocket.Conn, int, error) {
	t.Helper()
	vc := &http.Client{Transport: c.Transport, Jar: c.Jar}
	ws, resp, err := websocket.Dial(r.ctx, "wss"+strings.TrimPrefix(rep.url, "https")+wire.ViewerPath(id), &websocket.DialOptions{
		HTTPClient: vc, HTTPHeader: http.Header{"Origin": {rep.url}}, Subprotocols: []string{wire.Subprotocol}})
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if err == nil {
		ws.SetReadLimit(wire.MaxFrameBytes)
		t.Cleanup(func() { ws.CloseNow() })
	}
	return ws, status, err
}

func testFrame(t testing.TB, seq uint32) []byte {
	b, err := wire.AppendFrame(nil, &wire.Frame{Key: true, Width: 64, Height: 48, Seq: seq,
		Regions: []wire.Region{{X: 0, Y: 0, W: 8, H: 8, Image: []byte{0xFF, 0xD8, 0xFF, 0xE0, 'm', 'a', 'r', 'k'}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// share runs consent → a frame to the viewer → a point to the agent.
func (r *assistRig) share(t testing.TB, ag, v *websocket.Conn) {
	t.Helper()
	if m := r.next(t, v, "viewer", wire.TypeState); m.State != wire.StateWaitingConsent {
		t.Fatalf("viewer's first state %q, want %s", m.State, wire.StateWaitingConsent)
	}
	r.send(t, ag, &wire.Msg{Type: wire.TypeConsent, Granted: true})
	r.next(t, v, "viewer", wire.TypeState) // sharing
	f := testFrame(t, 1)
	if err := ag.Write(r.ctx, websocket.MessageBinary, f); err != nil {
		t.Fatal(err)
	}
	if got := r.nextFrame(t, v); !bytes.Equal(got, f) {
		t.Fatal("the viewer got another frame than the kiosk sent")
	}
	r.send(t, v, &wire.Msg{Type: wire.TypeAck, Seq: 1})
	r.send(t, v, &wire.Msg{Type: wire.TypePoint, X: 10, Y: 20, Text: "Tap Next"})
	if m := r.next(t, ag, "agent", wire.TypePoint); m.X != 10 || m.Y != 20 || m.Text != "Tap Next" {
		t.Fatalf("the agent got point %+v", m)
	}
}

// newCode makes a help code and the hello of a kiosk showing it.
func newCode() (code string, hello *wire.Msg) {
	salt := make([]byte, 16)
	rand.Read(salt)
	var n [3]byte
	rand.Read(n[:])
	v := int(n[0])<<16 | int(n[1])<<8 | int(n[2])
	d := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	code = string(d)
	return code, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaCode, CodeHash: wire.CodeHash(salt, code), CodeSalt: salt,
		CodeExpiresMs: time.Now().Add(wire.CodeTTL).UnixMilli()}
}

// codeWaiting is a condition: the code of hello (this one, not one the
// kiosk showed before) is in the database.
func (r *assistRig) codeWaiting(device string, hello *wire.Msg) func() bool {
	return func() bool {
		var n int
		r.db.QueryRow(`SELECT COUNT(*) FROM assist_codes WHERE device_id = $1 AND code_hash = $2`, device, hello.CodeHash).Scan(&n)
		return n == 1
	}
}

func shareID(t testing.TB, loc string) string {
	t.Helper()
	id := strings.TrimPrefix(loc, "/assist/")
	if !wire.ValidShareID(id) {
		t.Fatalf("redirected to %q, want a share", loc)
	}
	return id
}

// TestAssistReplicas runs remote help on two `fleet serve` replicas on one
// real PostgreSQL, with the agent and the staff member on different
// replicas: a code shown through a is claimed on b and viewed on b; an
// offer made on b reaches an agent that dialled a, and is viewed on a
// (both WebSockets relayed); an offer on a goes to the kiosk waiting with
// a code on b; a replica stopping mid-share ends it on both sides. And the
// hostile side: another staff user, a second viewer, forged and replayed
// share ids, the internal hop without the replicas' certificate or from
// the public listener, and the wrong-code limit spread over both replicas.
func TestAssistReplicas(t *testing.T) {
	rig := newAssistRig(t)
	a, b, aInternal, db, ctx, alice, bob, wsClient := rig.a, rig.b, rig.aInternal, rig.db, rig.ctx, rig.alice, rig.bob, rig.wsClient
	k1, k2 := rig.enrol(t), rig.enrol(t)
	var firstShare string
	t.Run("a code shown through a is claimed and viewed on b", func(t *testing.T) {
		code, hello := newCode()
		ag := rig.agent(t, a, k1.Credential, hello)
		waitUntil(t, "the code in the database", rig.codeWaiting(k1.DeviceID, hello))
		status, loc := rig.command(t, alice, b, "/assist/code", url.Values{"code": {code}})
		if status != http.StatusSeeOther {
			t.Fatalf("claim on b of a code waiting on a: %d, want 303 to the viewer", status)
		}
		firstShare = shareID(t, loc)
		rig.next(t, ag, "agent", wire.TypeOffer)
		if resp, err := alice.Get(b.url + loc); err != nil || resp.StatusCode != 200 {
			t.Fatalf("the viewer page on b for a share on a: %v %v", err, resp)
		} else {
			resp.Body.Close()
		}
		var n int
		db.QueryRow(`SELECT COUNT(*) FROM assist_shares WHERE id_hash = $1 OR id_hash LIKE '%' || $1 || '%' OR device_id = $1`, firstShare).Scan(&n)
		if n != 0 {
			t.Error("the database holds the share id itself")
		}
		v, status, err := rig.viewer(t, alice, b, firstShare)
		if err != nil {
			t.Fatalf("viewer on b for a share on a: %d %v", status, err)
		}
		rig.share(t, ag, v)
		// One viewer, whichever replica a second one reaches; only the
		// share's own staff user.
		for _, r := range []*replica{a, b} {
			if _, status, err := rig.viewer(t, alice, r, firstShare); err == nil || status != http.StatusConflict {
				t.Errorf("a second viewer on %s: %d %v, want 409", r.name, status, err)
			}
			if _, status, err := rig.viewer(t, bob, r, firstShare); err == nil || status != http.StatusForbidden {
				t.Errorf("another staff user's viewer on %s: %d %v, want 403", r.name, status, err)
			}
		}
		// A code works once, on either replica.
		if status, _ := rig.command(t, alice, a, "/assist/code", url.Values{"code": {code}}); status != http.StatusNotFound {
			t.Errorf("the same code again on a: %d, want 404", status)
		}
		rig.send(t, v, &wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonStaffClosed})
		if m := rig.next(t, ag, "agent", wire.TypeEnd); m.Reason != wire.ReasonStaffClosed {
			t.Errorf("the agent was told %q, want %s", m.Reason, wire.ReasonStaffClosed)
		}
		// Replayed after its end, on the other replica: told how it
		// ended, nothing relayed.
		waitUntil(t, "the end in the database", func() bool {
			var reason string
			db.QueryRow(`SELECT ended_reason FROM assist_shares WHERE device_id = $1`, k1.DeviceID).Scan(&reason)
			return reason != ""
		})
		late, status, err := rig.viewer(t, alice, b, firstShare)
		if err != nil {
			t.Fatalf("a late viewer on b: %d %v", status, err)
		}
		if m := rig.next(t, late, "late viewer", wire.TypeEnd); m.Reason != wire.ReasonStaffClosed {
			t.Errorf("a late viewer was told %q", m.Reason)
		}
	})

	t.Run("an offer made on b reaches an agent on a and is viewed on a", func(t *testing.T) {
		status, loc := rig.command(t, alice, b, "/assist/offer", url.Values{"device": {k2.DeviceID}})
		if status != http.StatusSeeOther {
			t.Fatalf("offer on b: %d", status)
		}
		id := shareID(t, loc)
		// Another kiosk's agent cannot take it, nor can a made-up id.
		forged := rig.agent(t, a, k1.Credential, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaOffer, OfferID: id})
		if m := rig.next(t, forged, "another kiosk's agent", wire.TypeEnd); m.Reason != wire.ReasonExpired {
			t.Errorf("another kiosk's agent dialling in with the offer: %q, want refused", m.Reason)
		}
		madeUp := rig.agent(t, a, k2.Credential, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaOffer, OfferID: strings.Repeat("ab", 16)})
		if m := rig.next(t, madeUp, "agent with a made-up id", wire.TypeEnd); m.Reason != wire.ReasonExpired {
			t.Errorf("a made-up share id: %q, want refused", m.Reason)
		}
		ag := rig.agent(t, a, k2.Credential, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaOffer, OfferID: id})
		rig.next(t, ag, "agent", wire.TypeOffer)
		v, status, err := rig.viewer(t, alice, a, id)
		if err != nil {
			t.Fatalf("viewer on a for a share on b: %d %v", status, err)
		}
		rig.share(t, ag, v)
		// A kiosk sharing is busy on both replicas.
		for _, r := range []*replica{a, b} {
			if status, _ := rig.command(t, bob, r, "/assist/offer", url.Values{"device": {k2.DeviceID}}); status != http.StatusConflict {
				t.Errorf("offer on %s to a kiosk sharing through b: %d, want 409", r.name, status)
			}
		}
		rig.send(t, ag, &wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonStop})
		if m := rig.next(t, v, "viewer", wire.TypeEnd); m.Reason != wire.ReasonStop {
			t.Errorf("the viewer was told %q, want %s", m.Reason, wire.ReasonStop)
		}
		// The ended offer's id, replayed by its own kiosk on either replica.
		for _, r := range []*replica{a, b} {
			again := rig.agent(t, r, k2.Credential, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaOffer, OfferID: id})
			if m := rig.next(t, again, "agent replaying an ended offer", wire.TypeEnd); m.Reason != wire.ReasonExpired {
				t.Errorf("an ended offer replayed on %s: %q, want refused", r.name, m.Reason)
			}
		}
	})

	t.Run("forged share ids", func(t *testing.T) {
		for _, r := range []*replica{a, b} {
			if _, status, err := rig.viewer(t, alice, r, strings.Repeat("cd", 16)); err == nil || status != http.StatusNotFound {
				t.Errorf("viewer of a made-up share on %s: %d %v, want 404", r.name, status, err)
			}
		}
	})

	t.Run("the internal hop admits only a replica", func(t *testing.T) {
		body := strings.NewReader(`{"staff":"alice","device":"` + k1.DeviceID + `"}`)
		// No client certificate.
		bare := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		if resp, err := bare.Post("https://"+aInternal+"/internal/assist/claim", "application/json", body); err == nil {
			resp.Body.Close()
			t.Errorf("the internal hop without a client certificate answered %d", resp.StatusCode)
		}
		// Another certificate (the attacker's own).
		certPEM, keyPEM, err := tlscert.SelfSigned([]string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		own, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		forged := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true,
			Certificates: []tls.Certificate{own}}}}
		for _, path := range []string{"/internal/assist/claim", "/internal/assist/offer"} {
			resp, err := forged.Post("https://"+aInternal+path, "application/json", strings.NewReader(`{"staff":"alice","device":"`+k1.DeviceID+`"}`))
			if err == nil {
				resp.Body.Close()
				t.Errorf("the internal hop with another certificate answered %d on %s", resp.StatusCode, path)
			}
		}
		_, _, err = websocket.Dial(ctx, "wss://"+aInternal+"/internal/assist/viewer/"+strings.Repeat("ab", 16), &websocket.DialOptions{
			HTTPClient: &http.Client{Transport: forged.Transport}, HTTPHeader: http.Header{"Assist-Staff": {"alice"}}, Subprotocols: []string{wire.Subprotocol}})
		if err == nil {
			t.Error("an internal viewer WebSocket with another certificate was accepted")
		}
		// The internal paths are not on the public listener, even for a
		// signed-in admin.
		for _, r := range []*replica{a, b} {
			for _, path := range []string{"/internal/assist/claim", "/internal/assist/offer"} {
				resp, err := alice.Post(r.url+path, "application/json", strings.NewReader(`{"staff":"alice","device":"`+k1.DeviceID+`"}`))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					t.Errorf("%s on %s's public listener: 200", path, r.name)
				}
			}
			req, _ := http.NewRequest("GET", r.url+"/internal/assist/device", nil)
			req.Header.Set("Assist-Device", k1.DeviceID)
			resp, err := alice.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("the internal device path on %s's public listener: %d", r.name, resp.StatusCode)
			}
		}
		// The device's own credential is still checked on the public side.
		_, resp, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(a.url, "https")+wire.PathDevice, &websocket.DialOptions{HTTPClient: wsClient,
			HTTPHeader: http.Header{"Authorization": {"Bearer " + k1.DeviceID + ".forged"}, "Assist-Device": {k1.DeviceID}}, Subprotocols: []string{wire.Subprotocol}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a forged device credential with the internal header: %v, want 401", err)
		}
	})

	t.Run("wrong codes counted across replicas", func(t *testing.T) {
		_, hello := newCode()
		rig.agent(t, b, k1.Credential, hello) // so wrong codes are compared with a real one
		waitUntil(t, "the code in the database", rig.codeWaiting(k1.DeviceID, hello))
		for i := range 5 {
			r := []*replica{a, b}[i%2]
			if status, _ := rig.command(t, bob, r, "/assist/code", url.Values{"code": {"000000"}}); status != http.StatusNotFound {
				t.Fatalf("wrong code %d on %s: %d, want 404", i+1, r.name, status)
			}
		}
		for _, r := range []*replica{a, b} {
			if status, _ := rig.command(t, bob, r, "/assist/code", url.Values{"code": {"000001"}}); status != http.StatusTooManyRequests {
				t.Errorf("a sixth code in the minute on %s after five spread over both: %d, want 429", r.name, status)
			}
		}
	})
	t.Run("an offer on a to a kiosk waiting with a code on b", func(t *testing.T) {
		_, hello := newCode()
		ag := rig.agent(t, b, k1.Credential, hello)
		waitUntil(t, "the code in the database", rig.codeWaiting(k1.DeviceID, hello))
		status, loc := rig.command(t, alice, a, "/assist/offer", url.Values{"device": {k1.DeviceID}})
		if status != http.StatusSeeOther {
			t.Fatalf("offer on a: %d", status)
		}
		id := shareID(t, loc)
		rig.next(t, ag, "agent", wire.TypeOffer)
		v, status, err := rig.viewer(t, alice, a, id)
		if err != nil {
			t.Fatalf("viewer on a: %d %v", status, err)
		}
		rig.share(t, ag, v)
		rig.send(t, ag, &wire.Msg{Type: wire.TypeEnd, Reason: wire.ReasonSessionEnd})
		if m := rig.next(t, v, "viewer", wire.TypeEnd); m.Reason != wire.ReasonSessionEnd {
			t.Errorf("the viewer was told %q, want %s", m.Reason, wire.ReasonSessionEnd)
		}
	})
	t.Run("a replica stopping mid-share ends it on both sides", func(t *testing.T) {
		status, loc := rig.command(t, alice, b, "/assist/offer", url.Values{"device": {k2.DeviceID}})
		if status != http.StatusSeeOther {
			t.Fatalf("offer on b: %d", status)
		}
		id := shareID(t, loc)
		ag := rig.agent(t, a, k2.Credential, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaOffer, OfferID: id})
		rig.next(t, ag, "agent", wire.TypeOffer)
		v, status, err := rig.viewer(t, alice, a, id)
		if err != nil {
			t.Fatalf("viewer on a: %d %v", status, err)
		}
		rig.share(t, ag, v)
		b.stop()
		if m := rig.next(t, v, "viewer", wire.TypeEnd); m.Reason != wire.ReasonShutdown {
			t.Errorf("the viewer was told %q, want %s", m.Reason, wire.ReasonShutdown)
		}
		if m := rig.next(t, ag, "agent", wire.TypeEnd); m.Reason != wire.ReasonShutdown {
			t.Errorf("the agent was told %q, want %s", m.Reason, wire.ReasonShutdown)
		}
		late, status, err := rig.viewer(t, alice, a, id)
		if err != nil {
			t.Fatalf("a late viewer on a: %d %v", status, err)
		}
		if m := rig.next(t, late, "late viewer", wire.TypeEnd); m.Reason != wire.ReasonShutdown {
			t.Errorf("a late viewer was told %q, want %s", m.Reason, wire.ReasonShutdown)
		}
		// The kiosk is free again for staff on the replica left.
		if status, _ := rig.command(t, alice, a, "/assist/offer", url.Values{"device": {k2.DeviceID}}); status != http.StatusSeeOther {
			t.Errorf("offer on a after b stopped: %d, want 303", status)
		}
	})
	if err := ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the test ran out of time")
	}
}

// BenchmarkAssistRelay measures what the hop between replicas adds to
// remote help, side by side in one run on two real replicas: a frame from
// the agent to the viewer and the viewer's ack back to the agent (one op),
// with the agent and the viewer on one replica, and with the viewer on the
// other replica (frame and ack relayed over the internal hop).
func BenchmarkAssistRelay(b *testing.B) {
	rig := newAssistRig(b)
	pair := func(viewerOn *replica) (ag, v *websocket.Conn) {
		k := rig.enrol(b)
		status, loc := rig.command(b, rig.alice, rig.a, "/assist/offer", url.Values{"device": {k.DeviceID}})
		if status != http.StatusSeeOther {
			b.Fatalf("offer: %d", status)
		}
		id := shareID(b, loc)
		ag = rig.agent(b, rig.a, k.Credential, &wire.Msg{Type: wire.TypeHello, Via: wire.ViaOffer, OfferID: id})
		rig.next(b, ag, "agent", wire.TypeOffer)
		v, status, err := rig.viewer(b, rig.alice, viewerOn, id)
		if err != nil {
			b.Fatalf("viewer: %d %v", status, err)
		}
		rig.next(b, v, "viewer", wire.TypeState)
		rig.send(b, ag, &wire.Msg{Type: wire.TypeConsent, Granted: true})
		rig.next(b, v, "viewer", wire.TypeState)
		return ag, v
	}
	for _, c := range []struct {
		name     string
		viewerOn *replica
	}{{"agent_and_viewer_on_one_replica", rig.a}, {"viewer_on_the_other_replica", rig.b}} {
		ag, v := pair(c.viewerOn)
		seq := uint32(0) // each share's frames count from 1
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				seq++
				if err := ag.Write(rig.ctx, websocket.MessageBinary, testFrame(b, seq)); err != nil {
					b.Fatal(err)
				}
				rig.nextFrame(b, v)
				rig.send(b, v, &wire.Msg{Type: wire.TypeAck, Seq: seq})
				rig.next(b, ag, "agent", wire.TypeAck)
			}
		})
	}
}

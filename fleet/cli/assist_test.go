package cli_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
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

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/assist/wire"
	"accesskiosk/fleet/cli"
	"accesskiosk/fleet/store/storetest"
)

// TestServeAssist: `fleet serve` with assist: enabled wires remote help
// into the real server and console: the Remote help page and the Offer
// help button for admins (the default assist permission), not for
// viewers; Offer help makes an assist_offer command carrying the share id
// that the kiosk's agent receives in its next report answer (and the
// console never shows); the agent's WebSocket is authenticated by the
// device API's own credential check and dials in with that id; the audit
// log says who offered help to which kiosk; /metrics counts it.
func TestServeAssist(t *testing.T) {
	dir := t.TempDir()
	_, aliceOut, _ := run(t, "admin", "create", "--data", dir, "--user", "alice")
	_, victorOut, _ := run(t, "admin", "create", "--data", dir, "--user", "victor", "--role", "viewer")
	pw := func(out string) string {
		m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no password in %q", out)
		}
		return m[1]
	}
	run(t, "admin", "site", "--data", dir, "--id", "central", "--name", "Central Library")
	_, tokOut, _ := run(t, "admin", "enrol-token", "--data", dir, "--site", "central")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := cli.DefaultConfig()
	cfg.Assist.Enabled = true
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- cli.Serve(ctx, ln, cli.ServeOptionsForTest(dir), cfg, storetest.Logger(t), &out) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}()
	base := "https://" + ln.Addr().String()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	device := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	for i := 0; ; i++ {
		resp, err := device.Get(base + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("healthz: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	body, _ := json.Marshal(api.EnrolRequest{Token: strings.TrimSpace(tokOut), Hostname: "kiosk-1", Arch: "amd64", AgentVersion: "1", Capability: api.CapabilityVersion})
	resp, err := device.Post(base+api.PathEnrol, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var er api.EnrolResponse
	json.NewDecoder(resp.Body).Decode(&er)
	resp.Body.Close()

	signIn := func(user, password string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Timeout: 10 * time.Second, Transport: tr, Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.PostForm(base+"/login", url.Values{"user": {user}, "password": {password}})
		if err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in %s: %v %v", user, err, resp)
		}
		resp.Body.Close()
		return c
	}
	get := func(c *http.Client, path string) (int, string) {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(c *http.Client, path string, form url.Values) *http.Response {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	alice, victor := signIn("alice", pw(aliceOut)), signIn("victor", pw(victorOut))

	if code, page := get(alice, "/remote-help"); code != 200 || !strings.Contains(page, `action="/assist/code"`) {
		t.Errorf("alice's Remote help page: %d", code)
	}
	if _, page := get(alice, "/kiosks/"+er.DeviceID); !strings.Contains(page, `id="assist-offer"`) {
		t.Error("no Offer help button for an admin")
	}
	if code, _ := get(victor, "/remote-help"); code != http.StatusForbidden {
		t.Errorf("a viewer's Remote help page: %d, want 403", code)
	}
	if _, page := get(victor, "/kiosks/"+er.DeviceID); strings.Contains(page, `id="assist-offer"`) || strings.Contains(page, `href="/remote-help"`) {
		t.Error("a viewer is offered remote help")
	}
	if r := post(victor, "/assist/offer", url.Values{"device": {er.DeviceID}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's Offer help: %d, want 403", r.StatusCode)
	}
	if r := post(&http.Client{Transport: tr}, "/assist/offer", url.Values{"device": {er.DeviceID}}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("Offer help signed out: %d, want 401", r.StatusCode)
	}

	// Offer help.
	r := post(alice, "/assist/offer", url.Values{"device": {er.DeviceID}})
	loc := r.Header.Get("Location")
	share := strings.TrimPrefix(loc, "/assist/")
	if r.StatusCode != http.StatusSeeOther || !wire.ValidShareID(share) {
		t.Fatalf("Offer help: %d to %q", r.StatusCode, loc)
	}
	if code, _ := get(alice, loc); code != 200 {
		t.Errorf("the viewer page: %d", code)
	}
	if _, page := get(alice, "/kiosks/"+er.DeviceID); strings.Contains(page, share) {
		t.Error("the kiosk's page shows the share id")
	}

	// The agent's next report gets the command.
	batch, _ := json.Marshal(api.ReportBatch{Capability: api.CapabilityVersion, Reports: []api.Report{{ID: "r1", Seq: 1, CreatedUnixMs: time.Now().UnixMilli(),
		Health: api.Health{AgentVersion: "1.0", KioskState: "idle", UptimeSeconds: 100, MemTotalBytes: 100, MemAvailBytes: 50}}}})
	req, _ := http.NewRequest("POST", base+api.PathReport, bytes.NewReader(batch))
	req.Header.Set("Authorization", "Bearer "+er.Credential)
	req.Header.Set("Content-Type", "application/json")
	resp, err = device.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rr api.ReportResponse
	json.NewDecoder(resp.Body).Decode(&rr)
	resp.Body.Close()
	var offer *api.Command
	for i := range rr.Commands {
		if rr.Commands[i].Kind == api.CommandAssistOffer {
			offer = &rr.Commands[i]
		}
	}
	if offer == nil || offer.Text != share || api.CheckAssistOffer(offer.Text, offer.Seconds) != nil {
		t.Fatalf("report answer %d: commands %+v, want assist_offer for %s", resp.StatusCode, rr.Commands, share)
	}

	// The agent's WebSocket: a wrong credential is refused; the right one
	// dials in with the offer.
	wsURL := "wss://" + ln.Addr().String() + wire.PathDevice
	dial := func(cred string) (*websocket.Conn, int, error) {
		ws, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr},
			HTTPHeader: http.Header{"Authorization": {"Bearer " + cred}}, Subprotocols: []string{wire.Subprotocol}})
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		return ws, code, err
	}
	if _, code, err := dial(er.DeviceID + ".wrong"); err == nil || code != http.StatusUnauthorized {
		t.Errorf("a wrong device credential: %d %v, want 401", code, err)
	}
	ws, _, err := dial(er.Credential)
	if err != nil {
		t.Fatalf("the agent's WebSocket: %v", err)
	}
	defer ws.CloseNow()
	hello, _ := (&wire.Msg{Type: wire.TypeHello, Via: wire.ViaOffer, OfferID: share}).Encode()
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	_, b, err := ws.Read(rctx)
	if err != nil {
		t.Fatalf("no offer from the fleet: %v", err)
	}
	if m, err := wire.Decode(b); err != nil || m.Type != wire.TypeOffer {
		t.Fatalf("the fleet sent %s (%v), want an offer", b, err)
	}

	// Audit and metrics.
	if code, page := get(alice, "/audit"); code != 200 || !strings.Contains(page, "assist.start") {
		t.Errorf("the audit log lacks assist.start (%d)", code)
	}
	if _, m := get(device, "/metrics"); !strings.Contains(m, "assist") {
		t.Error("/metrics has no assist counts")
	}
}

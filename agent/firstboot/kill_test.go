package firstboot

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"accesskiosk/fleet/realfleet"
)

// holdProxy is a loopback TCP proxy in front of the fleet: while holding it
// accepts connections and says nothing (a fleet that hangs); once released
// it forwards them.
type holdProxy struct {
	ln      net.Listener
	target  string
	arrived chan struct{}
	mu      sync.Mutex
	forward bool
	conns   []net.Conn
}

func startHoldProxy(t *testing.T, target string) *holdProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{ln: ln, target: target, arrived: make(chan struct{}, 16)}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			fwd := p.forward
			p.mu.Unlock()
			if !fwd {
				p.arrived <- struct{}{}
				continue
			}
			go func() {
				up, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					return
				}
				go func() { io.Copy(up, c); up.Close() }()
				io.Copy(c, up)
				c.Close()
			}()
		}
	}()
	return p
}

func (p *holdProxy) release() {
	p.mu.Lock()
	p.forward = true
	p.mu.Unlock()
}

// TestKilledFirstBootResumes runs the real bin/agent's firstboot command,
// kills it with SIGKILL while it waits for the fleet, and runs it again.
func TestKilledFirstBootResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bin/agent")
	}
	bin := filepath.Join(t.TempDir(), "agent")
	build := exec.Command("go", "build", "-o", bin, "accesskiosk/agent/cmd/agent")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build agent: %v\n%s", err, out)
	}
	fl := realfleet.Start(t)
	ctx := context.Background()
	if _, err := fl.Admin.CreateSite(ctx, "central", ""); err != nil {
		t.Fatal(err)
	}
	tok, err := fl.Admin.CreateToken(ctx, "central", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startHoldProxy(t, strings.TrimPrefix(fl.URL, "https://"))
	d := newDevice(t)
	r := &rig{t: t, img: d.img, fleetURL: "https://" + proxy.ln.Addr().String(), fleetFP: fl.Fingerprint}
	f := r.file(tok.Secret)
	r.write(f)

	args := []string{"firstboot", "--i-know-this-is-not-a-kiosk", "--config", d.cfg, "--boot", d.img, "--hostname-file", d.hostnameFile, "--kiosk-wait", "1s", "--attempts", "1"}
	cmd := exec.Command(bin, args...)
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-proxy.arrived:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("agent firstboot never reached the fleet:\n%s", logs.String())
	}
	cmd.Process.Kill() // SIGKILL: no deferred cleanup runs
	cmd.Wait()

	var st state
	data, err := os.ReadFile(filepath.Join(d.state, StateFile))
	if err != nil || json.Unmarshal(data, &st) != nil || st.Step != StepWiFi {
		t.Fatalf("state after the kill: %s, %v; want step %q", data, err, StepWiFi)
	}
	if _, ok, _ := LoadIdentity(d.state); ok {
		t.Fatal("an identity exists though enrolment never answered")
	}

	proxy.release()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rerun after the kill: %v\n%s", err, out)
	}
	idn, ok, err := LoadIdentity(d.state)
	if err != nil || !ok || idn.Site != "central" {
		t.Fatalf("identity after the rerun: %+v %v %v", idn, ok, err)
	}
	if d.imageHolds(t, tok.Secret) || d.imageHolds(t, f.WiFi.PSK) {
		t.Error("a secret is still in the image after the rerun")
	}
	if got := fl.Enrolled(); got != 1 {
		t.Errorf("fleet lists %d kiosks, want 1", got)
	}
	d.sys.Lock()
	adds := d.sys.Adds
	d.sys.Unlock()
	if adds != 1 {
		t.Errorf("NetworkManager got %d AddConnection calls, want 1 (the rerun updates)", adds)
	}
}

// fleetProxy is a TLS proxy with the fleet's own certificate (so the pin
// matches) in front of the rig's fleet; answer, when it returns true, has
// answered the request itself; drop hangs up after the fleet answered.
func fleetProxy(t *testing.T, r *rig, answer func(w http.ResponseWriter, body []byte) bool, drop *atomic.Bool) string {
	t.Helper()
	fl := r.fleet
	up := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	px := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if answer != nil && answer(w, body) {
			return
		}
		out, _ := http.NewRequestWithContext(req.Context(), req.Method, fl.URL+req.URL.Path, bytes.NewReader(body))
		out.Header = req.Header.Clone()
		resp, err := up.Do(out)
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer resp.Body.Close()
		if drop != nil && drop.Load() {
			panic(http.ErrAbortHandler) // the fleet answered; the device never hears it
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	px.TLS = &tls.Config{Certificates: []tls.Certificate{fl.Cert}}
	px.Config.ErrorLog = log.New(io.Discard, "", 0)
	px.StartTLS()
	t.Cleanup(px.Close)
	return px.URL
}

// TestCutOffWhileEnrolling: the fleet takes the token but its answer never
// reaches the device (the link drops, or the power is cut, at the worst
// moment). Another kiosk with the same, now used, token is refused; the
// kiosk itself, rerun with the same token and its own device key, gets its
// enrolment back: the same device id, a fresh credential, one kiosk on the
// fleet, the token erased from its card.
func TestCutOffWhileEnrolling(t *testing.T) {
	r := newRig(t)
	tok := r.token(time.Hour, 1)
	fl := r.fleet
	var dropping atomic.Bool
	dropping.Store(true)
	r.fleetURL = fleetProxy(t, r, nil, &dropping)
	f := r.file(tok)
	r.write(f)

	_, err := r.run(nil)
	if err == nil || ExitStatus(err) != ExitRetry {
		t.Fatalf("first run: %v (exit %d), want a retryable failure", err, ExitStatus(err))
	}
	devs, err := fl.Admin.Devices(context.Background(), "")
	if err != nil || len(devs) != 1 {
		t.Fatalf("setup: the fleet lists %d kiosks (%v), want 1 (it took the token)", len(devs), err)
	}
	dropping.Store(false)

	// Another kiosk (its own state, so its own key) with a copy of the card.
	other := *r
	other.state = filepath.Join(t.TempDir(), "other-state")
	if _, err := other.run(nil); ExitStatus(err) != ExitNeedsPerson {
		t.Fatalf("another kiosk with the used token: %v, want it refused", err)
	}
	if msgs := r.kiosk.Messages(); len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1], "already been used") {
		t.Errorf("on screen for the other kiosk: %q", msgs)
	}

	res, err := r.run(nil)
	if err != nil {
		t.Fatalf("rerun of the cut-off kiosk: %v, want its enrolment back\n%s", err, r.logs.String())
	}
	if res.DeviceID != devs[0].ID {
		t.Errorf("rerun got device %s, want the one the fleet took the token for, %s", res.DeviceID, devs[0].ID)
	}
	r.checkEnrolled(res, f)
	if got := fl.Enrolled(); got != 1 {
		t.Errorf("the fleet lists %d kiosks, want 1", got)
	}
	if msgs := r.kiosk.Messages(); len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1], "This kiosk is set up") {
		t.Errorf("on screen after the rerun: %q", msgs)
	}
	if !strings.Contains(r.logs.String(), "enrolled again") {
		t.Errorf("no log line says the device enrolled again:\n%s", r.logs.String())
	}
}

// TestEnrolWithOlderFleet: a fleet server before capability 4 refuses the
// device key fields as unknown; first boot enrols without them.
func TestEnrolWithOlderFleet(t *testing.T) {
	r := newRig(t)
	tok := r.token(time.Hour, 1)
	var refused atomic.Int32
	r.fleetURL = fleetProxy(t, r, func(w http.ResponseWriter, body []byte) bool {
		if !bytes.Contains(body, []byte(`"device_key"`)) {
			return false
		}
		refused.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"code":"bad_request","message":"the body is not valid JSON for this endpoint: unknown field \"device_key\""}`))
		return true
	}, nil)
	f := r.file(tok)
	r.write(f)
	res, err := r.run(nil)
	if err != nil {
		t.Fatalf("first boot against an older fleet: %v\n%s", err, r.logs.String())
	}
	r.checkEnrolled(res, f)
	if refused.Load() != 1 {
		t.Errorf("the older fleet refused %d requests with a device key, want 1", refused.Load())
	}
	if !strings.Contains(r.logs.String(), "older than this agent") {
		t.Errorf("no log line says the fleet is older:\n%s", r.logs.String())
	}
}

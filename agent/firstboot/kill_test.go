package firstboot

import (
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

	"accesskiosk/provisioning/fleetclient/fleettest"
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
	fl := fleettest.Start(t)
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

	args := []string{"firstboot", "--config", d.cfg, "--boot", d.img, "--hostname-file", d.hostnameFile, "--kiosk-wait", "1s", "--attempts", "1"}
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
	d.sys.mu.Lock()
	adds := d.sys.adds
	d.sys.mu.Unlock()
	if adds != 1 {
		t.Errorf("NetworkManager got %d AddConnection calls, want 1 (the rerun updates)", adds)
	}
}

// TestCutOffWhileEnrolling: the fleet takes the token but its answer never
// reaches the device (the link drops at the worst moment). The rerun is
// refused, since the token is used up, and the message says why.
func TestCutOffWhileEnrolling(t *testing.T) {
	r := newRig(t)
	tok := r.token(time.Hour, 1)
	fl := r.fleet
	// A TLS proxy with the fleet's own certificate (so the pin matches)
	// that passes requests on and, while dropping, hangs up instead of
	// answering.
	var dropping atomic.Bool
	dropping.Store(true)
	up := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	px := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		out, _ := http.NewRequestWithContext(req.Context(), req.Method, fl.URL+req.URL.Path, req.Body)
		out.Header = req.Header.Clone()
		resp, err := up.Do(out)
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer resp.Body.Close()
		if dropping.Load() {
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
	r.fleetURL = px.URL
	r.write(r.file(tok))

	_, err := r.run(nil)
	if err == nil || ExitStatus(err) != ExitRetry {
		t.Fatalf("first run: %v (exit %d), want a retryable failure", err, ExitStatus(err))
	}
	if got := fl.Enrolled(); got != 1 {
		t.Fatalf("setup: the fleet lists %d kiosks, want 1 (it took the token)", got)
	}
	dropping.Store(false)
	_, err = r.run(nil)
	if ExitStatus(err) != ExitNeedsPerson {
		t.Fatalf("rerun: %v, want the token refused", err)
	}
	msgs := r.kiosk.Messages()
	if len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1], "lost the fleet's answer while it was enrolling") {
		t.Errorf("on screen: %q", msgs)
	}
}

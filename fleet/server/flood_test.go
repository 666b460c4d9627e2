package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildFleet builds bin/fleet into a temp dir, or returns $FLOOD_FLEET_BIN
// (to measure another build, e.g. an older one, with the same test).
func buildFleet(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("FLOOD_FLEET_BIN"); bin != "" {
		return bin
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build fleet: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "fleet")
	out, err := exec.Command(gobin, "build", "-o", bin, "accesskiosk/fleet/cmd/fleet").CombinedOutput()
	if err != nil {
		t.Fatalf("build fleet: %v\n%s", err, out)
	}
	return bin
}

// startServe runs `fleet serve` on a loopback port with a fresh store and
// an admin, and returns its process, base URL and the admin's password.
func startServe(t *testing.T, bin string) (*exec.Cmd, string, string) {
	t.Helper()
	data := t.TempDir()
	out, err := exec.Command(bin, "admin", "create", "--data", data, "--user", "alice").CombinedOutput()
	if err != nil {
		t.Fatalf("fleet admin create: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`password: (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no password in %s", out)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--mdns=false", "--log-level", "error")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u := regexp.MustCompile(`at (https://127\.0\.0\.1:\d+)/`).FindStringSubmatch(sc.Text()); u != nil {
				urls <- u[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return cmd, u, string(m[1])
	case <-time.After(2 * time.Minute):
		t.Fatal("fleet serve did not say where it serves within 2 minutes")
	}
	return nil, "", ""
}

// clientFrom is an HTTPS client whose connections come from the loopback
// address local (the server's certificate is its own self-signed one). A
// flooding client makes a new connection (a new TLS handshake) for every
// request, as an attacker would; a browser keeps its connection.
func clientFrom(local string, keepAlive bool) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives: !keepAlive},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// procKiB reads a "VmRSS"/"VmHWM" line of /proc/PID/status in KiB.
func procKiB(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// TestSignInFloodRealServer floods the sign-in of a real `fleet serve`
// child process: five waves of 100 concurrent sign-ins from 100 loopback
// addresses (127.0.1.1-100, so the per-address limit alone does not
// stop them), while a probe from another address GETs /login every 100 ms.
// It measures the child, not the test process, because the test's own
// 100 clients live in the test process; and it reads the child's VmHWM,
// the kernel's high-water mark of its resident memory, so the peak is
// seen however short. The server must stay under 300 MiB and every /login
// answer come within 1 s; afterwards alice signs in once the limit's
// Retry-After has passed. (Before, 100 concurrent sign-ins took the server
// to 4.6 GiB.)
func TestSignInFloodRealServer(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc to measure memory with")
	}
	bin := buildFleet(t)
	cmd, base, pw := startServe(t, bin)
	pid := cmd.Process.Pid
	idle := procKiB(pid, "VmRSS")

	ctx, stopProbe := context.WithCancel(context.Background())
	var lat []time.Duration
	var probeErrs int
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		c := clientFrom("127.0.0.200", true)
		for ctx.Err() == nil {
			start := time.Now()
			res, err := c.Get(base + "/login")
			d := time.Since(start)
			if err != nil || res.StatusCode != http.StatusOK {
				probeErrs++
			} else {
				io.Copy(io.Discard, res.Body)
			}
			if res != nil {
				res.Body.Close()
			}
			lat = append(lat, d)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	codes := map[int]int{}
	var mu sync.Mutex
	clients := make([]*http.Client, 100)
	for i := range clients {
		clients[i] = clientFrom(fmt.Sprintf("127.0.1.%d", i+1), false)
	}
	start := time.Now()
	for wave := range 5 {
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Go(func() {
				form := url.Values{"user": {[]string{"alice", "bob", "admin"}[i%3]}, "password": {fmt.Sprintf("guess %d of wave %d", i, wave)}}
				res, err := c.PostForm(base+"/login", form)
				code := -1
				if err == nil {
					code = res.StatusCode
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	flood := time.Since(start)
	stopProbe()
	<-probeDone
	peak := procKiB(pid, "VmHWM")
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Millisecond)
	}
	inServer, slowInServer := loginTimes(t, clientFrom("127.0.0.201", true), base)
	t.Logf("server RSS idle %d MiB, peak %d MiB during 5 x 100 concurrent sign-ins (%.1f s); answers %v; "+
		"GET /login seen by a client p50 %v p95 %v max %v over %d probes (%d failed), in the server %d answers, %d of them over 1 s",
		idle>>10, peak>>10, flood.Seconds(), codes, pct(0.5), pct(0.95), pct(1), len(lat), probeErrs, inServer, slowInServer)
	if peak > 300<<10 {
		t.Errorf("server peak RSS %d MiB, want under 300 MiB", peak>>10)
	}
	// The server's own time for each GET /login (its latency histogram)
	// must be under 1 s; what a client sees also holds the machine's
	// scheduling, which a busy test machine stretches, so its p95 is held
	// to 1 s and its slowest is reported.
	if slowInServer > 0 || probeErrs > 0 || pct(0.95) >= time.Second {
		t.Errorf("GET /login during the flood: %d of %d answers took the server over 1 s, %d failed, client p95 %v; want every answer within 1 s",
			slowInServer, inServer, probeErrs, pct(0.95))
	}
	if codes[-1] > 0 {
		t.Errorf("%d sign-ins got no answer", codes[-1])
	}
	if codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("no sign-in of the flood was refused with 429: %v", codes)
	}

	// Once the global limit has refilled, alice signs in.
	c := clientFrom("127.0.2.1", true)
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := c.PostForm(base+"/login", url.Values{"user": {"alice"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusSeeOther {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice cannot sign in a minute after the flood: %d", res.StatusCode)
		}
		wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		time.Sleep(time.Duration(max(wait, 1)) * time.Second)
	}
}

// loginTimes reads the server's latency histogram of GET /login (route
// "/login" with status 200: a POST is never answered 200) and returns how
// many answers it holds and how many took over 1 s.
func loginTimes(t *testing.T, c *http.Client, base string) (total, slow int) {
	t.Helper()
	res, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var le1 int
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, `code="200"`) || !strings.Contains(l, `route="/login"`) {
			continue
		}
		f := strings.Fields(l)
		n, _ := strconv.Atoi(f[len(f)-1])
		switch {
		case strings.HasPrefix(l, "fleet_http_request_duration_seconds_count"):
			total = n
		case strings.Contains(l, `le="1"`):
			le1 = n
		}
	}
	if total == 0 {
		t.Fatalf("no GET /login in the server's metrics:\n%s", b)
	}
	return total, total - le1
}

package discovery

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"accesskiosk/internal/fleetclient"
	"accesskiosk/internal/pin"
)

// These tests run real mDNS between two network namespaces they create: a
// veth pair with 198.18.0.1/24 (namespace A) and 198.18.0.2/24 (namespace
// B). Each side is this test binary re-executed inside its namespace
// (ip netns exec), running TestNetnsHelper in a role given by environment
// variables and reporting on stdout as JSON lines. Nothing touches the
// host's own interfaces.

type netns struct {
	a, b   string // namespace names
	va, vb string // veth ends
}

func requireNetns(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("ip")
	if os.Geteuid() != 0 || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("network namespace tests need root and iproute2 (uid %d, ip: %v)", os.Geteuid(), err)
		}
		t.Skip("network namespace tests need root and iproute2")
	}
}

func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newNetns makes two namespaces joined by a veth pair, removed when the test ends.
func newNetns(t *testing.T) *netns {
	t.Helper()
	requireNetns(t)
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, time.Now().UnixNano()%1000)
	n := &netns{a: "akA" + id, b: "akB" + id, va: "akva" + id, vb: "akvb" + id}
	if len(n.va) > 15 {
		n.va, n.vb = n.va[:15], n.vb[:15]
	}
	run(t, "ip", "netns", "add", n.a)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.a).Run() })
	run(t, "ip", "netns", "add", n.b)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.b).Run() })
	run(t, "ip", "link", "add", n.va, "netns", n.a, "type", "veth", "peer", "name", n.vb, "netns", n.b)
	for _, c := range [][]string{
		{n.a, "addr", "add", "198.18.0.1/24", "dev", n.va},
		{n.b, "addr", "add", "198.18.0.2/24", "dev", n.vb},
		{n.a, "link", "set", n.va, "up", "multicast", "on"},
		{n.b, "link", "set", n.vb, "up", "multicast", "on"},
		{n.a, "link", "set", "lo", "up"},
		{n.b, "link", "set", "lo", "up"},
	} {
		run(t, append([]string{"ip", "-n"}, c...)...)
	}
	return n
}

// helper is a re-executed test binary running a role inside a namespace.
type helper struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan map[string]any
}

func (n *netns) start(t *testing.T, ns, role string, env ...string) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^TestNetnsHelper$", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), append([]string{"AK_NETNS_ROLE=" + role}, env...)...)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{t: t, cmd: cmd, stdin: stdin, lines: make(chan map[string]any, 64)}
	go func() {
		defer close(h.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				h.lines <- m
			}
		}
	}()
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	return h
}

// next waits for a line for which ok holds.
func (h *helper) next(what string, d time.Duration, ok func(map[string]any) bool) map[string]any {
	h.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m, open := <-h.lines:
			if !open {
				h.t.Fatalf("helper ended before %s", what)
			}
			if ok(m) {
				return m
			}
		case <-deadline:
			h.t.Fatalf("no %s within %s", what, d)
		}
	}
}

// stop closes the helper's stdin (its signal to finish) and waits.
func (h *helper) stop() {
	h.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- h.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		h.cmd.Process.Kill()
		h.t.Fatal("helper did not stop")
	}
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// TestNetnsHelper is the body of the re-executed helpers.
func TestNetnsHelper(t *testing.T) {
	role := os.Getenv("AK_NETNS_ROLE")
	if role == "" {
		t.Skip("helper process only")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }() // stdin closed: stop
	switch role {
	case "advertise-kiosk":
		info := Info{DeviceID: "dev-42", Site: "central-library", Version: "1.2.3", State: "idle"}
		a, err := Advertise(ctx, AdvertiseOptions{Instance: "kiosk dev-42", Port: 9, Recheck: 300 * time.Millisecond}, info.Text())
		if err != nil {
			emit(map[string]any{"error": err.Error()})
			os.Exit(1)
		}
		emit(map[string]any{"ready": true})
		<-ctx.Done()
		emit(map[string]any{"announcements": a.Announcements()})
		a.Close()
	case "browse-kiosks":
		bctx, bcancel := context.WithTimeout(ctx, 20*time.Second)
		defer bcancel()
		entries, err := Browse(bctx, KioskService, nil)
		if err != nil {
			emit(map[string]any{"error": err.Error()})
			os.Exit(1)
		}
		emit(map[string]any{"ready": true})
		for e := range entries {
			var addrs []string
			for _, a := range e.Addrs {
				addrs = append(addrs, a.String())
			}
			emit(map[string]any{"instance": e.Instance, "addrs": addrs, "text": e.Text, "port": e.Port})
		}
		emit(map[string]any{"done": true})
	case "fleet":
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		ln, err := net.Listen("tcp", "198.18.0.2:0")
		if err != nil {
			emit(map[string]any{"error": err.Error()})
			os.Exit(1)
		}
		srv.Listener = ln
		srv.StartTLS()
		defer srv.Close()
		fp := sha256.Sum256(srv.Certificate().Raw)
		a, err := Advertise(ctx, AdvertiseOptions{Service: FleetService, Instance: "fleet", Port: ln.Addr().(*net.TCPAddr).Port}, []string{"txtvers=1"})
		if err != nil {
			emit(map[string]any{"error": err.Error()})
			os.Exit(1)
		}
		emit(map[string]any{"fingerprint": hex.EncodeToString(fp[:]), "port": ln.Addr().(*net.TCPAddr).Port})
		<-ctx.Done()
		a.Close()
	case "find-fleet":
		fp, _ := pin.Parse(os.Getenv("AK_FP"))
		fctx, fcancel := context.WithTimeout(ctx, 8*time.Second)
		defer fcancel()
		url, err := FindFleet(fctx, nil, fp, nil)
		m := map[string]any{"url": url}
		if err != nil {
			m["error"] = err.Error()
			m["fingerprint_refused"] = errors.Is(err, fleetclient.ErrFingerprint)
		}
		emit(m)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

func strs(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

// TestKioskAdvertisementAcrossNamespaces: a browser in B sees the kiosk in
// A with the right TXT and address; when A gains an address, the kiosk
// announces again and B sees it; once A stops, nobody answers any more.
func TestKioskAdvertisementAcrossNamespaces(t *testing.T) {
	n := newNetns(t)
	adv := n.start(t, n.a, "advertise-kiosk")
	adv.next("advertiser ready", 10*time.Second, func(m map[string]any) bool {
		if e, ok := m["error"]; ok {
			t.Fatalf("advertiser: %v", e)
		}
		return m["ready"] == true
	})
	br := n.start(t, n.b, "browse-kiosks")
	got := br.next("kiosk entry", 15*time.Second, func(m map[string]any) bool { return m["instance"] != nil })
	info := ParseText(strs(got["text"]))
	want := Info{DeviceID: "dev-42", Site: "central-library", Version: "1.2.3", State: "idle"}
	if info != want {
		t.Errorf("TXT = %+v, want %+v", info, want)
	}
	if addrs := strs(got["addrs"]); !slices.Contains(addrs, "198.18.0.1") {
		t.Errorf("addresses = %v, want 198.18.0.1 (the interface the query came in on)", addrs)
	}
	if got["instance"] != "kiosk dev-42" {
		t.Errorf("instance = %v", got["instance"])
	}

	// A new address on A's interface: re-announced, with the new address.
	run(t, "ip", "-n", n.a, "addr", "add", "198.18.0.11/24", "dev", n.va)
	br.next("re-announcement with the new address", 15*time.Second, func(m map[string]any) bool {
		return slices.Contains(strs(m["addrs"]), "198.18.0.11")
	})
	br.stop()

	adv.stop()
	// Withdrawn: a fresh browse finds nothing.
	br2 := n.start(t, n.b, "browse-kiosks")
	br2.next("browser ready", 10*time.Second, func(m map[string]any) bool { return m["ready"] == true })
	select {
	case m := <-br2.lines:
		if m["instance"] != nil {
			t.Errorf("kiosk still answers after shutdown: %v", m)
		}
	case <-time.After(3 * time.Second):
	}
}

// TestFindFleetAcrossNamespaces: the agent in A finds the fleet advertised
// in B and trusts it only with the right certificate fingerprint.
func TestFindFleetAcrossNamespaces(t *testing.T) {
	n := newNetns(t)
	fleet := n.start(t, n.b, "fleet")
	m := fleet.next("fleet ready", 10*time.Second, func(m map[string]any) bool {
		if e, ok := m["error"]; ok {
			t.Fatalf("fleet: %v", e)
		}
		return m["fingerprint"] != nil
	})
	fp := m["fingerprint"].(string)
	port := int(m["port"].(float64))

	find := n.start(t, n.a, "find-fleet", "AK_FP="+fp)
	res := find.next("find result", 20*time.Second, func(m map[string]any) bool { return m["url"] != nil })
	if want := fmt.Sprintf("https://198.18.0.2:%d", port); res["url"] != want || res["error"] != nil {
		t.Errorf("found %v (error %v), want %s", res["url"], res["error"], want)
	}

	wrong := strings.Repeat("11", 32)
	find2 := n.start(t, n.a, "find-fleet", "AK_FP="+wrong)
	res = find2.next("find result", 20*time.Second, func(m map[string]any) bool { return m["url"] != nil })
	if res["url"] != "" || res["fingerprint_refused"] != true {
		t.Errorf("with a wrong fingerprint: url %v, error %v; want refused for its fingerprint", res["url"], res["error"])
	}
}

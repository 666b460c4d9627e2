package assist_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sirupsen/logrus"

	"accesskiosk/agent/assist"
	"accesskiosk/fleet/assist/hubtest"
	"accesskiosk/fleet/assist/wire"
	"accesskiosk/internal/pin"
	kioskassist "accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/assist/assisttest"
	"accesskiosk/kiosk/assist/link"
)

const hubEnv = "ASSIST_BENCH_HUB"

// runHubChild serves a hub (for the shaped-link benchmark, inside the
// test's network namespace) until SIGTERM; cfg is "DIR ADDR DELAY". With a
// DELAY other than 0 the hub listens on loopback and a delay line (below)
// listens on ADDR in front of it. It prints "READY PIN" once listening.
func runHubChild(cfg string) int {
	parts := strings.Fields(cfg)
	if len(parts) != 3 {
		fmt.Fprintln(os.Stderr, "want DIR ADDR DELAY")
		return 2
	}
	dir, addr := parts[0], parts[1]
	delay, err := time.ParseDuration(parts[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	hubAddr := addr
	if delay > 0 {
		hubAddr = "127.0.0.1:0"
	}
	f, err := hubtest.New(dir, hubAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if delay > 0 {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go delayLine(ln, f.Addr, delay)
	}
	fmt.Println("READY", f.Pin.Hex())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	f.Close()
	return 0
}

// delayLine forwards every connection on ln to target, holding the bytes
// of each direction for delay: the one-way delay netem would add, for
// kernels without sch_netem (the rate is the kernel's tbf either way).
func delayLine(ln net.Listener, target string, delay time.Duration) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				return
			}
			go delayCopy(u, c, delay)
			delayCopy(c, u, delay)
		}()
	}
}

func delayCopy(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		at time.Time
		b  []byte
	}
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 {
				q <- chunk{time.Now().Add(delay), b[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for ch := range q {
		time.Sleep(time.Until(ch.at))
		if _, err := dst.Write(ch.b); err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// shareRun is one measured share: kiosk Sharer → agent Relay → hub → a
// Go viewer that decodes every frame (JPEG/PNG) and acks it, for d.
type shareRun struct {
	frames   int
	upBytes  int64
	secs     float64
	g2g      []time.Duration
	busy     time.Duration
	quality  int
	keys     int
	skipped  int
	dropped  int
	drawnErr error
}

func runShare(b *testing.B, fleetURL string, fp pin.Fingerprint, d time.Duration, scrollEvery int) shareRun {
	b.Helper()
	dir := b.TempDir()
	log := logrus.New()
	log.SetOutput(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relay, err := assist.New(assist.Options{Listen: link.ListenOptions{Path: filepath.Join(dir, "assist.sock"), Group: -1},
		FleetURL: fleetURL, Pin: fp, Credential: func() string { return hubtest.DeviceCred }, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	relayDone := make(chan struct{})
	go func() { relay.Run(ctx); close(relayDone) }()
	defer func() { cancel(); <-relayDone }()

	// The kiosk, its capture loop and the moments captures were handed over.
	var (
		mu         sync.Mutex
		submitted  = map[uint32]time.Time{}
		lastSubmit atomic.Int64
	)
	ev := &benchEvents{offers: make(chan string, 4), ended: make(chan string, 4)}
	s := kioskassist.New(kioskassist.Options{Socket: relay.Socket(), Events: ev, Log: log,
		RedialMin: 50 * time.Millisecond, RedialMax: 200 * time.Millisecond,
		OnFrame: func(seq uint32, _ int, _ bool) {
			mu.Lock()
			submitted[seq] = time.Unix(0, lastSubmit.Load())
			mu.Unlock()
		}})
	sdone := make(chan struct{})
	go func() { s.Run(ctx); close(sdone) }()
	defer func() { cancel(); <-sdone }()
	w, err := assisttest.NewWorkload()
	if err != nil {
		b.Fatal(err)
	}
	w.ScrollEvery = scrollEvery
	form := w.Form()
	go func() {
		masks := kioskassist.Masks{Rects: []image.Rectangle{form.Password, form.Card}}
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.Want():
				img := w.Next()
				lastSubmit.Store(time.Now().UnixNano())
				s.Submit(img, masks)
			}
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); !s.Connected(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the kiosk did not reach the agent")
		}
	}

	// The resident asks; staff claim the code over HTTP, as the console will.
	code, _, err := s.RequestHelp()
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(fleetURL)
	client := &http.Client{Transport: (&hubtest.Fleet{Pin: fp}).Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var share string
	for deadline := time.Now().Add(30 * time.Second); share == ""; {
		req, _ := http.NewRequest(http.MethodPost, fleetURL+"/assist/code", strings.NewReader(url.Values{"code": {code}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "test_staff=alice")
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusSeeOther {
				share = strings.TrimPrefix(resp.Header.Get("Location"), "/assist/")
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("claiming the code: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the code's hash is still on its way
	}
	vctx, vcancel := context.WithTimeout(ctx, 30*time.Second)
	v, resp, err := websocket.Dial(vctx, "wss://"+u.Host+wire.ViewerPath(share), &websocket.DialOptions{HTTPClient: client,
		HTTPHeader: http.Header{"Cookie": {"test_staff=alice"}, "Origin": {fleetURL}}, Subprotocols: []string{wire.Subprotocol}})
	vcancel()
	if err != nil {
		b.Fatalf("viewer: %v %v", resp, err)
	}
	defer v.CloseNow()
	v.SetReadLimit(wire.MaxFrameBytes)
	select {
	case <-ev.offers:
	case <-time.After(30 * time.Second):
		b.Fatal("no consent prompt")
	}
	if err := s.Answer(true); err != nil {
		b.Fatal(err)
	}

	var run shareRun
	var viewer assisttest.Viewer
	start := time.Now()
	rctx, rcancel := context.WithTimeout(ctx, d)
	defer rcancel()
	for {
		typ, data, err := v.Read(rctx)
		if err != nil {
			break
		}
		if typ != websocket.MessageBinary {
			continue
		}
		if err := viewer.Apply(data); err != nil {
			run.drawnErr = err
			continue
		}
		drawn := time.Now()
		ack, _ := (&wire.Msg{Type: wire.TypeAck, Seq: viewer.Seq}).Encode()
		v.Write(ctx, websocket.MessageText, ack)
		run.frames++
		mu.Lock()
		if t0, ok := submitted[viewer.Seq]; ok {
			run.g2g = append(run.g2g, drawn.Sub(t0))
			delete(submitted, viewer.Seq)
		}
		mu.Unlock()
	}
	run.secs = time.Since(start).Seconds()
	st := s.Stats()
	rs := relay.Stats()
	run.upBytes, run.busy, run.quality, run.keys, run.skipped, run.dropped = rs.BytesRelayed, st.Busy, st.Quality, st.KeyFrames, st.Skipped, rs.FramesDropped
	s.Stop(wire.ReasonStop)
	return run
}

type benchEvents struct{ offers, ended chan string }

func (e *benchEvents) Offer(via string) {
	select {
	case e.offers <- via:
	default:
	}
}
func (e *benchEvents) Sharing() {}
func (e *benchEvents) Ended(r string, _ kioskassist.Summary) {
	select {
	case e.ended <- r:
	default:
	}
}
func (e *benchEvents) Point(kioskassist.Point) {}
func (e *benchEvents) Link(bool)               {}

func report(b *testing.B, r shareRun) {
	if r.drawnErr != nil {
		b.Errorf("a frame did not draw: %v", r.drawnErr)
	}
	if len(r.g2g) == 0 {
		b.Fatal("no frame was drawn")
	}
	g := slices.Clone(r.g2g)
	slices.Sort(g)
	p := func(q float64) float64 {
		return float64(g[min(len(g)-1, int(q*float64(len(g))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(r.frames)/r.secs, "frames/s")
	b.ReportMetric(float64(r.upBytes)/r.secs, "up-B/s")
	b.ReportMetric(p(0.5), "g2g-p50-ms")
	b.ReportMetric(p(0.99), "g2g-p99-ms")
	b.ReportMetric(100*r.busy.Seconds()/r.secs, "kiosk-cpu-%")
	b.ReportMetric(float64(r.quality), "jpeg-quality")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d frames in %.1f s (%d key), %d captures replaced before sending, %d dropped at the agent", r.frames, r.secs, r.keys, r.skipped, r.dropped)
}

// BenchmarkShare measures a share of the typical form page (the real
// capture, typing into a field, scrolling every 40 frames) from the
// kiosk's Sharer through the agent's relay and the fleet's hub to a viewer
// that decodes and acks every frame: frames drawn per second, upstream
// bytes per second, glass-to-glass latency (capture handed to the sharer →
// drawn by the viewer; the shell's own capture time is not in it), and the
// kiosk's CPU for masking, comparing and encoding (% of one core).
//
// Workloads: "form" scrolls every 40 frames, "scrolling" every 3 (nearly
// every other frame changes the whole screen).
//
//	loopback          everything on 127.0.0.1
//	shaped-1mbit-80ms the hub in a network namespace the benchmark makes
//	                  (198.18.0.0/30), kiosk→fleet shaped by tc netem to
//	                  1 Mbit/s and 40 ms, fleet→kiosk 20 Mbit/s and 40 ms
//	                  (80 ms round trips): a rural ADSL up link. Root only.
//	                  Without sch_netem in the kernel: tbf for the rates and
//	                  a delay line for the 40 ms (logged).
//
//	go test -run '^$' -bench Share -benchtime 1x ./fleet/assist/
func BenchmarkShare(b *testing.B) {
	const d = 15 * time.Second
	workloads := []struct {
		name   string
		scroll int
	}{{"form", 40}, {"scrolling", 3}}
	for _, wl := range workloads {
		b.Run("loopback/"+wl.name, func(b *testing.B) {
			for b.Loop() {
				f, err := hubtest.New(b.TempDir(), "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				r := runShare(b, f.URL, f.Pin, d, wl.scroll)
				f.Close()
				report(b, r)
			}
		})
	}
	for _, wl := range workloads {
		b.Run("shaped-1mbit-80ms/"+wl.name, func(b *testing.B) {
			ns, lineDelay := shapedNamespace(b)
			for b.Loop() {
				url, fp := startHubIn(b, ns, lineDelay)
				report(b, runShare(b, url, fp, d, wl.scroll))
			}
		})
	}
}

// shapedNamespace makes a network namespace joined to this one by a veth
// pair (198.18.0.1 here, 198.18.0.2 there) and shapes it: kiosk→fleet
// 1 Mbit/s, fleet→kiosk 20 Mbit/s, 40 ms each way. With sch_netem, netem
// does both; a kernel without it (this build machine's) gets the rates
// from tbf and the delay from a delay line in front of the hub, and the
// returned delay says so (0 means netem adds it). It skips, saying why,
// when neither can be done.
func shapedNamespace(b *testing.B) (ns string, lineDelay time.Duration) {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("needs root to make a network namespace and shape it with tc")
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("needs %s (iproute2): %v", tool, err)
		}
	}
	id := os.Getpid() % 100000
	ns = fmt.Sprintf("akassist%d", id)
	host, peer := fmt.Sprintf("akah%d", id), fmt.Sprintf("akan%d", id)
	try := func(args ...string) error {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	run := func(args ...string) {
		if err := try(args...); err != nil {
			b.Skipf("network namespace setup: %v", err)
		}
	}
	exec.Command("ip", "netns", "del", ns).Run()
	run("ip", "netns", "add", ns)
	b.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run(); exec.Command("ip", "link", "del", host).Run() })
	run("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
	run("ip", "link", "set", peer, "netns", ns)
	run("ip", "addr", "add", "198.18.0.1/30", "dev", host)
	run("ip", "link", "set", host, "up")
	run("ip", "-n", ns, "addr", "add", "198.18.0.2/30", "dev", peer)
	run("ip", "-n", ns, "link", "set", peer, "up")
	run("ip", "-n", ns, "link", "set", "lo", "up")
	err := try("tc", "qdisc", "add", "dev", host, "root", "netem", "delay", "40ms", "rate", "1mbit", "limit", "1000")
	if err == nil {
		run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", peer, "root", "netem", "delay", "40ms", "rate", "20mbit", "limit", "1000")
		return ns, 0
	}
	b.Logf("tc netem is not available (%v): rates by tbf, 40 ms each way by a delay line in front of the hub", err)
	run("tc", "qdisc", "add", "dev", host, "root", "tbf", "rate", "1mbit", "burst", "4kb", "latency", "200ms")
	run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", peer, "root", "tbf", "rate", "20mbit", "burst", "32kb", "latency", "200ms")
	return ns, 40 * time.Millisecond
}

// startHubIn runs the hub as a child process inside ns on 198.18.0.2.
func startHubIn(b *testing.B, ns string, lineDelay time.Duration) (string, pin.Fingerprint) {
	b.Helper()
	dir := b.TempDir()
	exe, _ := os.Executable()
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run", "^$")
	cmd.Env = append(os.Environ(), hubEnv+"="+dir+" 198.18.0.2:7443 "+lineDelay.String())
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "READY ") {
				line <- strings.TrimPrefix(sc.Text(), "READY ")
			}
		}
	}()
	select {
	case hexPin := <-line:
		fp, err := pin.Parse(hexPin)
		if err != nil {
			b.Fatal(err)
		}
		return "https://198.18.0.2:7443", fp
	case <-time.After(30 * time.Second):
		b.Fatal("the hub in the namespace did not start")
	}
	return "", pin.Fingerprint{}
}

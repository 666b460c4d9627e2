package shell

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit/webkittest"
)

var privateHome string

// benchChildEnv, when set to a config path, makes the test binary run as
// the kiosk itself (shell.Main, as bin/kiosk does) for the benchmark.
const benchChildEnv = "ACCESSKIOSK_BENCH_KIOSK_CONFIG"

func TestMain(m *testing.M) {
	if p := os.Getenv(benchChildEnv); p != "" {
		os.Exit(benchChild(p))
	}
	if p := os.Getenv(filesRootChildEnv); p != "" {
		os.Exit(filesRootChild(p))
	}
	dir, cleanup, err := PrivateHome()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	privateHome = dir
	defer cleanup()
	webkittest.Main(m)
}

// recorder is a loopback HTTP server that remembers every request it got.
type recorder struct {
	name string
	addr string // host:port
	mu   sync.Mutex
	reqs []string // "METHOD /path?query"
	srv  *http.Server
}

func startServer(t testing.TB, name, ip string, h http.Handler) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	r := &recorder{name: name, addr: ln.Addr().String()}
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><title>off-list</title><h1>OFF-LIST PAGE REACHED</h1>")
		})
	}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.RequestURI())
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	})}
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

// URL is the server's base URL.
func (r *recorder) URL() string { return "http://" + r.addr }

// Port is the server's port.
func (r *recorder) Port() string {
	_, p, _ := net.SplitHostPort(r.addr)
	return p
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

func (r *recorder) count(prefix string) int {
	n := 0
	for _, q := range r.requests() {
		if strings.HasPrefix(q, prefix) {
			n++
		}
	}
	return n
}

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// testConfig is a config allowing base (and frames from frames), with long timeouts.
func testConfig(t testing.TB, allow, frames []string, idle, warn time.Duration) *config.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("home_url: kiosk://home\nallow:\n")
	for _, a := range allow {
		fmt.Fprintf(&b, "  - %s\n", a)
	}
	if len(frames) > 0 {
		b.WriteString("allow_frames:\n")
		for _, f := range frames {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
	}
	fmt.Fprintf(&b, "session:\n  idle_timeout: %s\n  idle_warning: %s\ncouncil:\n  name: Test Council\n", idle, warn)
	c, err := config.Parse("test.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("test config: %v\n%s", err, b.String())
	}
	return c
}

type testShell struct {
	s     *Shell
	ready chan struct{}
	ended chan endedEvent
	log   *strings.Builder
	mu    sync.Mutex
}

type endedEvent struct {
	reason string
	ms     int64
	whole  bool
}

// defaultUIConfig is the built-in pages' part of the embedded default config.
func defaultUIConfig(t testing.TB) ui.Config {
	t.Helper()
	c, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c.UI
}

// startPagesShell starts a shell on cfg with the built-in pages (quiet),
// no D-Bus, and waits for its home page.
func startPagesShell(t testing.TB, cfg *config.Config) *testShell {
	t.Helper()
	log := logrus.New()
	log.SetOutput(io.Discard)
	pages, err := NewPages(&cfg.UI, log)
	if err != nil {
		t.Fatal(err)
	}
	return startShell(t, Options{Config: cfg, NoBus: true, UI: pages})
}

// startShell starts a shell on the GTK loop and waits for its home page.
func startShell(t testing.TB, o Options) *testShell {
	t.Helper()
	ts := &testShell{ready: make(chan struct{}), ended: make(chan endedEvent, 16), log: &strings.Builder{}}
	if o.Log == nil {
		o.Log = testLog(t)
	}
	if o.Width == 0 {
		o.Width, o.Height = 1280, 800
	}
	o.Observer.Ready = func() { close(ts.ready) }
	prev := o.Observer.SessionEnded
	o.Observer.SessionEnded = func(reason string, r bus.Receipt) {
		if prev != nil {
			prev(reason, r)
		}
		select {
		case ts.ended <- endedEvent{reason: reason, ms: r.ResetMs, whole: len(r.Failed) == 0}:
		default:
		}
	}
	var err error
	webkittest.Do(t, func() { ts.s, err = Start(o) })
	if err != nil {
		t.Fatalf("start shell: %v", err)
	}
	t.Cleanup(func() { webkittest.Do(t, func() { ts.s.Close() }) })
	select {
	case <-ts.ready:
	case <-time.After(60 * time.Second):
		t.Fatal("home page not shown within 60s")
	}
	return ts
}

// uri is the view's current URI.
func (ts *testShell) uri(t testing.TB) string {
	var u string
	webkittest.Do(t, func() {
		if ts.s.view != nil {
			u = ts.s.view.URI()
		}
	})
	return u
}

func (ts *testShell) load(t testing.TB, u string) {
	webkittest.Do(t, func() { ts.s.view.LoadURI(u) })
}

// post hands body to the shell as the bridge does with a message a
// kiosk:// page in the session's service view (or pane) posted.
func (ts *testShell) post(t testing.TB, f from, body string) {
	t.Helper()
	webkittest.Do(t, func() { ts.s.bridgeMessage(ts.s.cur, f, body) })
}

// prefsLink changes the session's prefs as a link of the accessibility
// page does (query as in its kiosk://settings?... href): through the bridge.
func (ts *testShell) prefsLink(t testing.TB, query string) {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{"action": "prefs"}
	for k := range q {
		m[k] = q.Get(k)
	}
	b, _ := json.Marshal(m)
	ts.post(t, fromService, string(b))
}

// refused is how many bridge messages the shell refused so far.
func (ts *testShell) refused(t testing.TB) uint64 {
	var n uint64
	webkittest.Do(t, func() { n = ts.s.bridge.refused })
	return n
}

// click clicks the middle of the web view with a real (XTEST) mouse click.
func click(t testing.TB) {
	t.Helper()
	xdo(t, "mousemove", "640", "450", "click", "1")
}

// key types keys with a real (XTEST) keyboard.
func key(t testing.TB, keys ...string) {
	t.Helper()
	xdo(t, append([]string{"key"}, keys...)...)
}

func xdo(t testing.TB, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("xdotool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xdotool not installed (make deps installs it)")
		}
		t.Skip("xdotool not installed")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+webkittest.Display())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
}

func benchChild(path string) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l := logrus.New()
	l.SetOutput(os.Stderr)
	if os.Getenv("KIOSK_BENCH_LOG") != "" {
		l.SetLevel(logrus.DebugLevel)
	}
	if err := Main(ctx, cfg, CommandLine{Windowed: true}, l, "bench"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testLog is a debug-level logger for a shell under test: to stderr with
// KIOSK_TEST_LOG set, else kept (its last 300 lines) and printed only if
// the test fails, so that a failure on a CI machine says what the shell
// did (a refusal, a session's end, a crash) without a rerun.
func testLog(t testing.TB) *logrus.Logger {
	l := logrus.New()
	l.SetLevel(logrus.DebugLevel)
	if os.Getenv("KIOSK_TEST_LOG") != "" {
		l.SetOutput(os.Stderr)
		return l
	}
	tail := &logTail{}
	l.SetOutput(tail)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the shell's log, last lines:\n%s", tail.String())
		}
	})
	return l
}

// logTail keeps the last lines written to it.
type logTail struct {
	mu    sync.Mutex
	lines []string
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimRight(string(p), "\n"))
	if len(l.lines) > 300 {
		l.lines = l.lines[len(l.lines)-300:]
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

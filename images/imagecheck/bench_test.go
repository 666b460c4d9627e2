//go:build imagetest

package imagecheck

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
)

// TestKioskBench runs the same kiosk benchmark against the packaged kiosk
// of each built image root in AK_BENCH_ROOTS ("trixie=DIR bookworm=DIR",
// `make image-bench`), in one run on this machine, the roots taking turns:
// each root's own /usr/bin/accesskiosk-kiosk (linked against that release's
// WebKitGTK) runs inside that root (chroot, in a private mount namespace
// with /proc, /dev and /sys), as root, on an Xvfb display and a private
// dbus-daemon of this machine, against a home page on loopback. It measures
// what kiosk/shell's BenchmarkResetVsChromium measures of the kiosk: cold
// start to home page loaded, the process tree's PSS with home shown,
// reset (D-Bus EndSession after a key press started a session) to home page
// loaded again, and PSS during a session (with the spare view ready).
func TestKioskBench(t *testing.T) {
	spec := os.Getenv("AK_BENCH_ROOTS")
	if spec == "" {
		t.Skip("AK_BENCH_ROOTS not set (make image-bench)")
	}
	type root struct{ name, dir, webkit string }
	var roots []root
	for _, f := range strings.Fields(spec) {
		name, dir, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("AK_BENCH_ROOTS: %q is not NAME=DIR", f)
		}
		if _, err := os.Stat(filepath.Join(dir, "usr/bin/accesskiosk-kiosk")); err != nil {
			t.Fatalf("%s: no packaged kiosk in %s: %v", name, dir, err)
		}
		roots = append(roots, root{name, dir, dpkgVersion(dir, "libwebkit2gtk-4.1-0")})
	}
	for _, tool := range []string{"Xvfb", "xdotool", "dbus-daemon", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (make deps)", tool)
		}
	}
	display := startXvfb(t)
	srv, loads := benchHomeServer(t)
	rounds := 2
	if v, err := strconv.Atoi(os.Getenv("AK_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	results := map[string]*kioskFigures{}
	for r := 0; r < rounds; r++ {
		for _, rt := range roots {
			fig := results[rt.name]
			if fig == nil {
				fig = &kioskFigures{}
				results[rt.name] = fig
			}
			if err := benchKioskInRoot(t, rt.dir, display, srv, loads, fig); err != nil {
				t.Fatalf("%s round %d: %v", rt.name, r+1, err)
			}
			t.Logf("%s round %d: cold %v, PSS home %.0f MiB, session %.0f MiB, resets %v", rt.name, r+1, fig.cold[len(fig.cold)-1],
				mib(fig.pssHome[len(fig.pssHome)-1]), mib(fig.pssSession[len(fig.pssSession)-1]), fig.reset[len(fig.reset)-benchResets:])
		}
	}
	fmt.Printf("\nkiosk in each image root, same machine, same run (%d rounds, roots taking turns; medians, p90 of resets):\n", rounds)
	fmt.Printf("  %-10s %-22s %10s %12s %12s %12s %14s\n", "root", "WebKitGTK", "cold start", "PSS home", "reset p50", "reset p90", "PSS session")
	for _, rt := range roots {
		f := results[rt.name]
		fmt.Printf("  %-10s %-22s %8.0fms %9.0fMiB %10.0fms %10.0fms %11.0fMiB\n", rt.name, rt.webkit,
			ms(quantile(f.cold, 0.5)), mib(medianInt(f.pssHome)), ms(quantile(f.reset, 0.5)), ms(quantile(f.reset, 0.9)), mib(medianInt(f.pssSession)))
	}
	if len(roots) == 2 {
		a, b := results[roots[0].name], results[roots[1].name]
		fmt.Printf("  %s/%s: cold start %.2f, PSS home %.2f, reset p50 %.2f, PSS session %.2f\n", roots[0].name, roots[1].name,
			ms(quantile(a.cold, 0.5))/ms(quantile(b.cold, 0.5)), float64(medianInt(a.pssHome))/float64(medianInt(b.pssHome)),
			ms(quantile(a.reset, 0.5))/ms(quantile(b.reset, 0.5)), float64(medianInt(a.pssSession))/float64(medianInt(b.pssSession)))
	}
}

const benchResets = 5

// kioskFigures collects one root's measurements across rounds.
type kioskFigures struct {
	cold, reset         []time.Duration
	pssHome, pssSession []int // KiB
}

// benchKioskInRoot starts the root's kiosk once (cold start, PSS), then
// starts and ends benchResets sessions, and stops it.
func benchKioskInRoot(t *testing.T, root, display string, srv string, loads *homeLoads, fig *kioskFigures) error {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	busAddr, stopBus, err := startBenchBus(dir)
	if err != nil {
		return err
	}
	defer stopBus()
	// Inside the root, dir is /tmp (bind-mounted): the config and the bus
	// socket are there.
	cfg := fmt.Sprintf("home_url: %s/home\nallow:\n  - %s\nsession:\n  idle_timeout: 30m\n  idle_warning: 30s\ndbus: unix:path=/tmp/bus\ncouncil:\n  name: Bench Council\n", srv, srv)
	if err := os.WriteFile(filepath.Join(dir, "kiosk.yaml"), []byte(cfg), 0o644); err != nil {
		return err
	}
	abs, _ := filepath.Abs(root)
	script := `set -e
r=$1
mount --make-rprivate /
# The root a mount point of its own: bubblewrap makes / a slave mount.
mount --bind "$r" "$r"
mount --bind "$2" "$r/tmp"
# The X server's socket where WebKit's sandbox looks for it: a web process
# that opens the display (WebKitGTK 2.50 does) has its own network
# namespace, where the abstract socket is not reachable.
mkdir -p "$r/tmp/.X11-unix"
mount --bind /tmp/.X11-unix "$r/tmp/.X11-unix"
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount --rbind /dev "$r/dev"
mkdir -p "$r/tmp/home" "$r/tmp/run" && chmod 700 "$r/tmp/run"
exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin HOME=/tmp/home XDG_RUNTIME_DIR=/tmp/run \
	DISPLAY="$3" GDK_BACKEND=x11 NO_AT_BRIDGE=1 /usr/bin/accesskiosk-kiosk --config /tmp/kiosk.yaml`
	v, _ := loads.get()
	t0 := time.Now()
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", abs, dir, display)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logf, _ := os.Create(filepath.Join(dir, "kiosk.log"))
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	defer stopGroup(cmd)
	tail := func() string { b, _ := os.ReadFile(filepath.Join(dir, "kiosk.log")); return lastLines(string(b), 15) }
	if !waitUntil(90*time.Second, func() bool { n, _ := loads.get(); return n > v }) {
		return fmt.Errorf("home page not loaded within 90s of start; kiosk log:\n%s", tail())
	}
	fig.cold = append(fig.cold, time.Since(t0))
	time.Sleep(3 * time.Second)
	fig.pssHome = append(fig.pssHome, treePSS(cmd.Process.Pid))

	conn, err := bus.Connect(context.Background(), busAddr)
	if err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	defer conn.Close()
	client := bus.NewClient(conn)
	for r := 0; r < benchResets; r++ {
		_, h := loads.get()
		key := exec.Command("xdotool", "key", "shift")
		key.Env = append(os.Environ(), "DISPLAY="+display) // xdotool has no --display
		if out, err := key.CombinedOutput(); err != nil {
			return fmt.Errorf("xdotool: %v %s", err, out)
		}
		if !waitUntil(30*time.Second, func() bool { _, h2 := loads.get(); return h2 > h }) {
			return fmt.Errorf("the next session's view did not load within 30s of a key press; kiosk log:\n%s", tail())
		}
		if r == 0 {
			time.Sleep(3 * time.Second)
			fig.pssSession = append(fig.pssSession, treePSS(cmd.Process.Pid))
		}
		v, _ := loads.get()
		t0 := time.Now()
		if err := client.EndSession(context.Background(), bus.ReasonDBus); err != nil {
			return fmt.Errorf("EndSession: %w", err)
		}
		if !waitUntil(30*time.Second, func() bool { n, _ := loads.get(); return n > v }) {
			return fmt.Errorf("home page not back within 30s of EndSession; kiosk log:\n%s", tail())
		}
		fig.reset = append(fig.reset, time.Since(t0))
	}
	return nil
}

// homeLoads counts the bench page's "loaded" callbacks: shown (visible)
// and loaded hidden (the kiosk's spare view for the next session).
type homeLoads struct {
	mu              sync.Mutex
	visible, hidden int
}

func (l *homeLoads) get() (visible, hidden int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.visible, l.hidden
}

// benchHome is the page of kiosk/shell's benchmark: it calls back once
// loaded and visible, or loaded while hidden.
const benchHome = `<!doctype html><html lang=en><head><meta charset=utf-8><title>Home</title>
<style>body{font-family:sans-serif;font-size:22px;margin:32px} li{margin:12px;padding:16px;border:3px solid #1d70b8}</style></head>
<body><h1>Example Council</h1><p>Choose a service.</p><ul>
<li>Parking permits</li><li>Report a missed bin</li><li>Bulky waste</li><li>Council Tax</li><li>Benefits</li><li>Learn to use the internet</li></ul>
<script>
let sent = false;
function report() {
  if (!sent && document.visibilityState === "visible") { sent = true; fetch("/loaded?vis=visible"); }
}
addEventListener("load", () => { if (document.visibilityState !== "visible") fetch("/loaded?vis=hidden"); report(); });
document.addEventListener("visibilitychange", report);
</script></body></html>`

func benchHomeServer(t *testing.T) (string, *homeLoads) {
	l := &homeLoads{}
	mux := http.NewServeMux()
	mux.HandleFunc("/home", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, benchHome)
	})
	mux.HandleFunc("/loaded", func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		if r.URL.Query().Get("vis") == "visible" {
			l.visible++
		} else {
			l.hidden++
		}
		l.mu.Unlock()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &http.Server{Handler: mux}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return "http://" + ln.Addr().String(), l
}

// startXvfb runs an X server on a free display for the whole test.
func startXvfb(t *testing.T) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	got := make(chan string, 1)
	go func() { line, _ := bufio.NewReader(r).ReadString('\n'); got <- strings.TrimSpace(line) }()
	select {
	case n := <-got:
		if n == "" {
			t.Fatal("Xvfb printed no display")
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start within 30s")
	}
	return ""
}

// startBenchBus runs a private dbus-daemon listening on dir/bus and
// returns its address as seen from this machine. Its policy must allow
// receiving too: with no receive rule dbus-daemon drops the answer to the
// kiosk's Hello ("Rejected receive message, 0 matched rules"), and the
// kiosk waits for it before it loads its home page.
func startBenchBus(dir string) (string, func(), error) {
	conf := filepath.Join(dir, "bus.conf")
	sock := filepath.Join(dir, "bus")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=`+sock+`</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*"/><allow receive_sender="*"/><allow own="*"/></policy></busconfig>`), 0o644)
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	if !waitUntil(30*time.Second, func() bool { _, err := os.Stat(sock); return err == nil }) {
		stop()
		return "", nil, fmt.Errorf("dbus-daemon made no socket in 30s")
	}
	return "unix:path=" + sock, stop, nil
}

// stopGroup ends a process group: SIGTERM, then SIGKILL after 10s.
func stopGroup(cmd *exec.Cmd) {
	pg := -cmd.Process.Pid
	syscall.Kill(pg, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(pg, syscall.SIGKILL)
		<-done
	}
	syscall.Kill(pg, syscall.SIGKILL)
}

func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// treePSS is the PSS (KiB) of pid and every process below it.
func treePSS(pid int) int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 {
				parent[p], _ = strconv.Atoi(f[1])
			}
		}
	}
	total := 0
	for p := range parent {
		for q := p; q > 1; q = parent[q] {
			if q != pid {
				continue
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p))
			if err == nil {
				if m := rePss.FindSubmatch(b); m != nil {
					n, _ := strconv.Atoi(string(m[1]))
					total += n
				}
			}
			break
		}
	}
	return total
}

var rePss = regexp.MustCompile(`(?m)^Pss:\s+(\d+) kB`)

// dpkgVersion is the installed version of pkg in root.
func dpkgVersion(root, pkg string) string {
	b, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		return "?"
	}
	for _, para := range strings.Split(string(b), "\n\n") {
		if !strings.Contains(para+"\n", "Package: "+pkg+"\n") {
			continue
		}
		if m := regexp.MustCompile(`(?m)^Version: (\S+)`).FindStringSubmatch(para); m != nil {
			return m[1]
		}
	}
	return "?"
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(q*float64(len(s)-1)+0.5)]
}

func medianInt(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int(nil), xs...)
	sort.Ints(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(kib int) float64        { return float64(kib) / 1024 }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

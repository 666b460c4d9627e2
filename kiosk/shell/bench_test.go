package shell

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

// benchHome is the page both browsers show. It calls back to the server
// when it has loaded and is visible: that moment is "home page loaded" for
// both (a pre-warmed kiosk view loads hidden and becomes visible on reset).
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

type loadCounter struct {
	mu      sync.Mutex
	visible int
	hidden  int
}

func (c *loadCounter) get() (v, h int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.visible, c.hidden
}

func benchServer(b *testing.B) (*recorder, *loadCounter) {
	c := &loadCounter{}
	mux := http.NewServeMux()
	mux.HandleFunc("/home", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, benchHome)
	})
	mux.HandleFunc("/loaded", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		if r.URL.Query().Get("vis") == "visible" {
			c.visible++
		} else {
			c.hidden++
		}
		c.mu.Unlock()
	})
	return startServer(b, "home", "127.0.0.1", mux), c
}

// waitVisible waits for the next "loaded and visible" callback after n.
func waitVisible(c *loadCounter, n int, d time.Duration) bool {
	return waitFor(d, func() bool { v, _ := c.get(); return v > n })
}

// mem is the memory of a process tree, KiB: PSS (shared pages split among
// the processes mapping them, so it moves with whatever else runs) and USS
// (pages only this tree has: Private_Clean + Private_Dirty).
type mem struct{ pss, uss int }

// descendants lists pid and every process below it.
func descendants(pid int) []int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		bs, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		s := string(bs)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 {
				parent[p], _ = strconv.Atoi(f[1])
			}
		}
	}
	var out []int
	for p := range parent {
		for q := p; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// treeMem samples the memory of pid and all its descendants.
func treeMem(pid int) mem {
	var m mem
	for _, p := range descendants(pid) {
		bs, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(bs), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			n, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "Pss:":
				m.pss += n
			case "Private_Clean:", "Private_Dirty:":
				m.uss += n
			}
		}
	}
	return m
}

// treeComm lists the processes under pid whose command name is comm.
func treeComm(pid int, comm string) []int {
	var out []int
	for _, p := range descendants(pid) {
		bs, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		if err == nil && strings.TrimSpace(string(bs)) == comm {
			out = append(out, p)
		}
	}
	return out
}

// settledMem waits for a freshly loaded browser to settle, then samples.
func settledMem(pid int) mem {
	time.Sleep(3 * time.Second)
	return treeMem(pid)
}

func medianMem(ms []mem) mem {
	p := make([]int, len(ms))
	u := make([]int, len(ms))
	for i, m := range ms {
		p[i], u[i] = m.pss, m.uss
	}
	sort.Ints(p)
	sort.Ints(u)
	return mem{p[len(p)/2], u[len(u)/2]}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// proc is a browser under test, in its own process group.
type proc struct{ cmd *exec.Cmd }

func startProc(b *testing.B, name string, args []string, env []string) *proc {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if os.Getenv("KIOSK_BENCH_LOG") == "" {
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	} else {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", name, err)
	}
	return &proc{cmd: cmd}
}

// stop ends the process group: SIGTERM, then SIGKILL after 5s.
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	pg := -p.cmd.Process.Pid
	syscall.Kill(pg, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(pg, syscall.SIGKILL)
		<-done
	}
	syscall.Kill(pg, syscall.SIGKILL) // stragglers of the group
}

const benchRounds = 5

// BenchmarkResetVsChromium measures, side by side on the same local page,
// the kiosk (bin/kiosk built from this tree, WebKit sandbox on) and
// Debian's Chromium in --kiosk mode reset the way Chromium kiosks are
// reset (restart with a fresh --user-data-dir): cold start to home page
// loaded, reset to home page loaded, and the PSS of the process tree with
// the home page shown. It prints the medians and the kiosk/Chromium ratios.
func BenchmarkResetVsChromium(b *testing.B) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatal("chromium not installed (make deps installs it)")
		}
		b.Skip("chromium not installed")
	}
	srv, loads := benchServer(b)
	home := srv.URL() + "/home"
	dir := b.TempDir()
	// The kiosk is this test binary re-run as shell.Main (what bin/kiosk
	// runs), so the benchmark needs no separate build.
	kioskBin, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	addr := bustest.Start(b)
	cfgPath := filepath.Join(dir, "kiosk.yaml")
	cfg := fmt.Sprintf("home_url: %s\nallow:\n  - %s\nsession:\n  idle_timeout: 30m\n  idle_warning: 30s\ndbus: %q\ncouncil:\n  name: Bench Council\n", home, srv.URL(), addr)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	client := bus.NewClient(bustest.Conn(b, addr))
	ctx := context.Background()

	b.ResetTimer()
	var kCold, kReset, kCrash, cCold, cReset []time.Duration
	var kMem, cMem []mem
	var kSession mem

	// The kiosk: cold starts.
	for i := 0; i < 3; i++ {
		v, _ := loads.get()
		t0 := time.Now()
		k := startProc(b, kioskBin, nil, []string{benchChildEnv + "=" + cfgPath})
		if !waitVisible(loads, v, 60*time.Second) {
			k.stop()
			b.Fatal("kiosk: home page not loaded within 60s")
		}
		kCold = append(kCold, time.Since(t0))
		kMem = append(kMem, settledMem(k.cmd.Process.Pid))
		if i < 2 {
			k.stop()
			continue
		}
		// Resets: a key press starts a session (the kiosk then prepares the
		// next session's view); EndSession over D-Bus wipes it.
		for r := 0; r < benchRounds; r++ {
			_, h := loads.get()
			xdo(b, "key", "shift")
			if !waitFor(30*time.Second, func() bool { _, h2 := loads.get(); return h2 > h }) {
				b.Fatal("kiosk: the next session's view did not load within 30s")
			}
			if r == 0 {
				kSession = settledMem(k.cmd.Process.Pid)
			}
			v, _ := loads.get()
			t0 := time.Now()
			if err := client.EndSession(ctx, bus.ReasonDBus); err != nil {
				b.Fatal(err)
			}
			if !waitVisible(loads, v, 30*time.Second) {
				b.Fatal("kiosk: home page not back within 30s of EndSession")
			}
			kReset = append(kReset, time.Since(t0))
		}
		// Crash recovery with nobody there: the shown view's web process
		// dies while home shows and no spare view exists yet.
		for r := 0; r < 3; r++ {
			pids := treeComm(k.cmd.Process.Pid, "WebKitWebProces")
			if len(pids) != 1 {
				b.Fatalf("kiosk: %d web processes while idle, want 1", len(pids))
			}
			v, _ := loads.get()
			t0 := time.Now()
			syscall.Kill(pids[0], syscall.SIGKILL)
			if !waitVisible(loads, v, 30*time.Second) {
				b.Fatal("kiosk: home page not back within 30s of a web process crash")
			}
			kCrash = append(kCrash, time.Since(t0))
			time.Sleep(2 * time.Second) // the dead view is destroyed after crashDestroyDelay
		}
		k.stop()
	}

	// Chromium: every start is with a fresh profile, so a reset is a
	// stop plus a cold start.
	chromeArgs := func(profile string) []string {
		return []string{"--kiosk", "--user-data-dir=" + profile, "--no-sandbox", "--no-first-run",
			"--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--noerrdialogs", "--password-store=basic", "--disable-features=Translate", home}
	}
	var c *proc
	for i := 0; i < benchRounds; i++ {
		profile := filepath.Join(dir, fmt.Sprintf("chromium-%d", i))
		v, _ := loads.get()
		t0 := time.Now()
		if c != nil {
			c.stop()
			os.RemoveAll(filepath.Join(dir, fmt.Sprintf("chromium-%d", i-1)))
		}
		c = startProc(b, chromium, chromeArgs(profile), nil)
		if !waitVisible(loads, v, 60*time.Second) {
			c.stop()
			b.Fatal("chromium: home page not loaded within 60s")
		}
		if i == 0 {
			cCold = append(cCold, time.Since(t0))
		} else {
			cReset = append(cReset, time.Since(t0))
		}
		cMem = append(cMem, settledMem(c.cmd.Process.Pid))
	}
	c.stop()
	// Two more cold starts for the median.
	for i := 0; i < 2; i++ {
		profile := filepath.Join(dir, fmt.Sprintf("chromium-cold-%d", i))
		v, _ := loads.get()
		t0 := time.Now()
		c = startProc(b, chromium, chromeArgs(profile), nil)
		if !waitVisible(loads, v, 60*time.Second) {
			c.stop()
			b.Fatal("chromium: home page not loaded within 60s")
		}
		cCold = append(cCold, time.Since(t0))
		c.stop()
	}
	b.StopTimer()

	kc, kr, cc, cr := median(kCold), median(kReset), median(cCold), median(cReset)
	km, cm := medianMem(kMem), medianMem(cMem)
	b.ReportMetric(msOf(kr), "kiosk-reset-ms")
	b.ReportMetric(msOf(cr), "chromium-reset-ms")
	b.ReportMetric(msOf(kr)/msOf(cr), "reset-ratio")
	b.ReportMetric(msOf(median(kCrash)), "kiosk-idle-crash-ms")
	b.ReportMetric(msOf(kc)/msOf(cc), "cold-start-ratio")
	b.ReportMetric(float64(km.pss)/float64(cm.pss), "pss-ratio")
	b.ReportMetric(float64(km.uss)/float64(cm.uss), "uss-ratio")
	fmt.Printf("\nkiosk vs Chromium --kiosk, same local page, medians (%d resets, 3 cold starts each):\n", benchRounds)
	fmt.Printf("  %-34s %10s %10s %8s\n", "", "kiosk", "chromium", "ratio")
	fmt.Printf("  %-34s %8.0fms %8.0fms %8.2f\n", "cold start to home loaded", msOf(kc), msOf(cc), msOf(kc)/msOf(cc))
	fmt.Printf("  %-34s %8.0fms %8.0fms %8.2f\n", "reset to home loaded", msOf(kr), msOf(cr), msOf(kr)/msOf(cr))
	fmt.Printf("  %-34s %8.0fms %10s\n", "web process crash (idle) to home", msOf(median(kCrash)), "n/a")
	fmt.Printf("  %-34s %7.0fMiB %7.0fMiB %8.2f\n", "PSS of process tree, home shown", float64(km.pss)/1024, float64(cm.pss)/1024, float64(km.pss)/float64(cm.pss))
	fmt.Printf("  %-34s %7.0fMiB %7.0fMiB %8.2f\n", "USS (private) of the tree, home", float64(km.uss)/1024, float64(cm.uss)/1024, float64(km.uss)/float64(cm.uss))
	fmt.Printf("  %-34s %7.0fMiB (USS %.0fMiB)\n", "kiosk PSS in a session (+spare)", float64(kSession.pss)/1024, float64(kSession.uss)/1024)
	fmt.Printf("  kiosk resets: %v\n  chromium resets: %v\n", kReset, cReset)
}

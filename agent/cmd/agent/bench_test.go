package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"accesskiosk/agent/fakefleet"
	"accesskiosk/agent/system/systemdtest"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

type idleShell struct{}

func (idleShell) EndSession(string) error          { return nil }
func (idleShell) Status() bus.Status               { return bus.Status{State: bus.StateIdle} }
func (idleShell) ShowMessage(string, uint32) error { return nil }

// cpuNs is the CPU time all of pid's threads have used, from schedstat.
func cpuNs(b *testing.B, pid int) int64 {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("schedstat of %d: %v", pid, err)
	}
	var sum int64
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue // thread ended
		}
		f := strings.Fields(string(data))
		n, _ := strconv.ParseInt(f[0], 10, 64)
		sum += n
	}
	return sum
}

// rssKiB is VmRSS of pid.
func rssKiB(b *testing.B, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

func goBuild(b *testing.B, dir string, args ...string) {
	cmd := exec.Command("go", append([]string{"build", "-o"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %v: %v\n%s", args, err, out)
	}
}

// BenchmarkAgentIdle runs the real bin/agent (built with CGO_ENABLED=0)
// for a minute on its default 30 s report interval against a loopback
// fake fleet, an idle kiosk on a private dbus-daemon and the systemd fake,
// and measures its resident memory and CPU time, extrapolated to CPU
// seconds per hour. Side by side: a Go program that only sleeps (the
// floor any Go daemon pays).
func BenchmarkAgentIdle(b *testing.B) {
	if _, err := exec.LookPath("go"); err != nil {
		b.Skip("needs the go tool to build bin/agent")
	}
	dir := b.TempDir()
	wd, _ := os.Getwd()
	goBuild(b, wd, filepath.Join(dir, "agent"), ".")
	os.WriteFile(filepath.Join(dir, "floor.go"), []byte("package main\n\nimport \"time\"\n\nfunc main() {\n\tfor {\n\t\ttime.Sleep(time.Hour)\n\t}\n}\n"), 0o600)
	goBuild(b, dir, filepath.Join(dir, "floor"), "floor.go")

	addr := bustest.Start(b)
	sd := systemdtest.Start(b, addr)
	sd.SetUnit("accesskiosk-kiosk.service", "active", "running", 0)
	if _, err := bus.Serve(bustest.Conn(b, addr), idleShell{}); err != nil {
		b.Fatal(err)
	}
	fs := fakefleet.Start(b, false)
	os.WriteFile(filepath.Join(dir, "token"), []byte(fs.Token), 0o600)
	cfg := fmt.Sprintf(`log_level: warn
state_dir: %s/state
fleet:
  url: %s
  enrol_token_file: %s/token
kiosk:
  bus: %q
system:
  bus: %q
discovery:
  advertise: false
`, dir, fs.URL, dir, addr, addr)
	os.WriteFile(filepath.Join(dir, "agent.yaml"), []byte(cfg), 0o600)

	start := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(dir, name), args...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	agent := start("agent", "--config", filepath.Join(dir, "agent.yaml"))
	floor := start("floor")
	// Warm up: enrolled and first report sent.
	for deadline := time.Now().Add(20 * time.Second); len(fs.Reports()) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the agent sent no report within 20s")
		}
	}
	const window = 60 * time.Second
	for b.Loop() {
		a0, f0, t0 := cpuNs(b, agent.Process.Pid), cpuNs(b, floor.Process.Pid), time.Now()
		time.Sleep(window)
		a1, f1, el := cpuNs(b, agent.Process.Pid), cpuNs(b, floor.Process.Pid), time.Since(t0)
		perHour := func(ns int64) float64 { return float64(ns) / 1e9 / el.Hours() }
		aCPU, fCPU := perHour(a1-a0), perHour(f1-f0)
		aRSS, fRSS := float64(rssKiB(b, agent.Process.Pid))/1024, float64(rssKiB(b, floor.Process.Pid))/1024
		b.ReportMetric(aCPU, "agent-cpu-s/h")
		b.ReportMetric(aRSS, "agent-rss-MiB")
		b.ReportMetric(fCPU, "floor-cpu-s/h")
		b.ReportMetric(fRSS, "floor-rss-MiB")
		fmt.Printf("agent idle over %s (%d reports sent): RSS %.1f MiB, CPU %.2f s/hour (%.3f%% of one core); "+
			"bare sleeping Go program: RSS %.1f MiB, CPU %.3f s/hour; agent/floor RSS ratio %.1f\n",
			el.Round(time.Second), len(fs.Reports()), aRSS, aCPU, aCPU/36, fRSS, fCPU, aRSS/fRSS)
	}
}

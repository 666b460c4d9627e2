package scan

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/kiosk/capture"
)

// need skips a test when a program it needs is missing, except under
// CI=true, where `make deps` must have installed it.
func need(t testing.TB, prog, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (Debian %s; make deps installs it)", prog, pkg)
	}
	t.Skipf("%s is missing (Debian %s; make deps installs it)", prog, pkg)
	return ""
}

// saneTest makes a SANE config directory that loads only SANE's test
// backend, with test.conf's defaults changed by set ("test-picture":
// `"Color pattern"`, "br_x": "200", ...), and returns the environment
// that points scanimage at it.
func saneTest(t testing.TB, set map[string]string) []string {
	t.Helper()
	need(t, "scanimage", "sane-utils")
	conf := map[string]string{
		"number_of_devices": "2", "mode": "Gray", "depth": "8", "hand-scanner": "false",
		"three-pass": "false", "three-pass-order": "RGB",
		"resolution_min": "1.0", "resolution_max": "1200.0", "resolution_quant": "1.0", "resolution": "50.0",
		"test-picture": `"Solid black"`, "invert-endianess": "false", "read-limit": "false",
		"read-limit-size": "1", "read-delay": "false", "read-delay-duration": "1000",
		"read-status-code": `"Default"`, "fuzzy-parameters": "false", "ppl-loss": "0",
		"non-blocking": "false", "select-fd": "false", "enable-test-options": "false",
		"geometry_min": "0.0", "geometry_max": "200.0", "geometry_quant": "1.0",
		"tl_x": "0.0", "tl_y": "0.0", "br_x": "80.0", "br_y": "100.0",
	}
	for k, v := range set {
		if _, ok := conf[k]; !ok {
			t.Fatalf("saneTest: %s is not a test.conf key", k)
		}
		conf[k] = v
	}
	dir := t.TempDir()
	var b strings.Builder
	for k, v := range conf {
		b.WriteString(k + " " + v + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "test.conf"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dll.conf"), []byte("test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"SANE_CONFIG_DIR=" + dir}
}

// privateDir is a fresh directory with mode 0700.
func privateDir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// children lists this process's child processes named comm.
func children(t testing.TB, comm string) []int {
	t.Helper()
	return childrenOf(t, os.Getpid(), comm)
}

func childrenOf(t testing.TB, ppid int, comm string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(s[close+1:])
		if len(f) < 2 || s[open+1:close] != comm {
			continue
		}
		if p, _ := strconv.Atoi(f[1]); p == ppid {
			out = append(out, pid)
		}
	}
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	return len(f) > 0 && f[0] != "Z"
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// collect reads a job's events to the end and returns its pages and error.
func collect(t testing.TB, j *Job, timeout time.Duration) ([]*capture.Page, []float64, error) {
	t.Helper()
	var pages []*capture.Page
	var progress []float64
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-j.Events():
			if !ok {
				return pages, progress, j.Err()
			}
			if ev.Page != nil {
				pages = append(pages, ev.Page)
			} else {
				progress = append(progress, ev.Progress)
			}
		case <-deadline:
			j.Cancel()
			t.Fatalf("scan did not finish within %v", timeout)
		}
	}
}

// filesIn lists every file under dir.
func filesIn(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// syncBuffer is a bytes.Buffer safe to write from a child's output copier
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

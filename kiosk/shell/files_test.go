package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/kiosk/webkit/webkittest"
)

// filesOf lists the regular files under dir (relative paths).
func filesOf(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != ".lock" {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestSessionFiles(t *testing.T) {
	root := t.TempDir()
	f, err := newSessionFiles(root, 1000, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(f.Dir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("folder %v %v, want mode 0700", fi, err)
	}
	a, err := f.Add(KindDownload, "../../etc/Receipt 12.pdf", "application/pdf", strings.NewReader("%PDF-1.4 receipt"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Receipt 12.pdf" || a.Kind != KindDownload || a.Size != 16 || a.ID == "" {
		t.Errorf("added %+v", a)
	}
	p, err := f.Path(a.ID)
	if err != nil || filepath.Dir(filepath.Dir(p)) != f.Dir() {
		t.Fatalf("path %q %v, want in its own folder in %s", p, err, f.Dir())
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v %v, want 0600", fi, err)
	}
	r, got, err := f.Open(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "%PDF-1.4 receipt" || got != a {
		t.Errorf("open: %q %+v", b, got)
	}
	// Two files of one name never meet.
	b2, err := f.Add(KindDownload, "Receipt 12.pdf", "application/pdf", strings.NewReader("second"))
	if err != nil || b2.Name != a.Name || b2.ID == a.ID {
		t.Fatalf("second file %+v %v", b2, err)
	}
	// A file made in a folder of the session is adopted; one elsewhere is not.
	dir, err := f.NewDir()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "scan.pdf"), []byte("%PDF scan"), 0o644)
	c, err := f.Adopt(KindScan, filepath.Join(dir, "scan.pdf"), "application/pdf", 2, nil)
	if err != nil || c.Pages != 2 || c.Name != "scan.pdf" {
		t.Fatalf("adopt %+v %v", c, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "scan.pdf")); fi.Mode().Perm() != 0o600 {
		t.Errorf("adopted file mode %v, want 0600", fi.Mode().Perm())
	}
	outside := filepath.Join(t.TempDir(), "x", "y.pdf")
	os.MkdirAll(filepath.Dir(outside), 0o700)
	os.WriteFile(outside, []byte("x"), 0o600)
	if _, err := f.Adopt(KindScan, outside, "application/pdf", 1, nil); err == nil {
		t.Error("adopted a file outside the session's folder")
	}
	if len(f.List()) != 3 {
		t.Fatalf("list %+v", f.List())
	}
	// The session's limit: what does not fit is refused and leaves nothing.
	before := filesOf(t, f.Dir())
	if _, err := f.Add(KindDownload, "big.bin", "application/octet-stream", strings.NewReader(strings.Repeat("x", 2000))); !errors.Is(err, errFilesFull) {
		t.Errorf("over the limit: %v, want errFilesFull", err)
	}
	if after := filesOf(t, f.Dir()); len(after) != len(before) {
		t.Errorf("a refused file left %v (before %v)", after, before)
	}
	if err := f.Remove(b2.ID); err != nil || len(f.List()) != 2 {
		t.Errorf("remove: %v, list %+v", err, f.List())
	}
	f.count(FileCounts{Scans: 2, Uploads: 1})
	f.count(FileCounts{Downloads: 1})
	if c := f.Counts(); c != (FileCounts{Scans: 2, Downloads: 1, Uploads: 1}) {
		t.Errorf("counts %+v", c)
	}
	// Wiped: the folder is gone and nothing answers, even with a file open.
	r, _, _ = f.Open(a.ID)
	defer r.Close()
	if err := f.wipe(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("folder still there after the wipe: %v", err)
	}
	if _, _, err := f.Open(a.ID); !errors.Is(err, errFilesWiped) {
		t.Errorf("open after the wipe: %v", err)
	}
	if _, err := f.Add(KindPhoto, "photo.jpg", "image/jpeg", strings.NewReader("x")); err == nil {
		t.Error("added a file after the wipe")
	}
	if len(f.List()) != 0 || f.wipe() != nil {
		t.Error("list not empty, or a second wipe failed")
	}
	if c := f.Counts(); c.Scans != 2 {
		t.Errorf("counts after the wipe %+v, want kept for the receipt", c)
	}
	if len(filesOf(t, root)) != 0 {
		t.Errorf("files left in the root: %v", filesOf(t, root))
	}
}

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"receipt.pdf":                       "receipt.pdf",
		"../../../etc/passwd":               "passwd",
		`C:\Users\x\form.pdf`:               "form.pdf",
		".bashrc":                           "bashrc",
		"a\x00b\nc.pdf":                     "abc.pdf",
		"":                                  "download",
		"..":                                "download",
		strings.Repeat("ł", 100) + ".pdf":   strings.Repeat("ł", 58) + ".pdf",
		"bad\xffutf8.pdf":                   "badutf8.pdf",
		"  Council tax bill 2025.pdf  ":     "Council tax bill 2025.pdf",
		"report.pdf/":                       "download",
		"x." + strings.Repeat("y", 200):     "x." + strings.Repeat("y", 118),
		"name with spaces & ünïcode ✓.jpeg": "name with spaces & ünïcode ✓.jpeg",
	} {
		if got := safeFileName(in, KindDownload); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFilesRootSweep: a new shell removes the files roots of shells that
// are gone (their lock is free) and leaves running ones alone.
func TestFilesRootSweep(t *testing.T) {
	parent := t.TempDir()
	live, _, err := openFilesRoot(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer live.close()
	os.WriteFile(filepath.Join(live.dir, "kept"), []byte("x"), 0o600)
	dead := filepath.Join(parent, filesRootPrefix+"dead")
	os.MkdirAll(filepath.Join(dead, "session-1", "ab"), 0o700)
	os.WriteFile(filepath.Join(dead, ".lock"), nil, 0o600)
	os.WriteFile(filepath.Join(dead, "session-1", "ab", "scan.pdf"), []byte("%PDF"), 0o600)
	unlocked := filepath.Join(parent, filesRootPrefix+"nolock") // cannot happen, but is not a live shell's
	os.MkdirAll(unlocked, 0o700)
	making := filepath.Join(parent, filesRootNew+"x") // another shell between mkdir and lock
	os.MkdirAll(making, 0o700)
	other := filepath.Join(parent, "something-else")
	os.MkdirAll(other, 0o700)

	next, swept, err := openFilesRoot(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer next.close()
	if swept != 2 {
		t.Errorf("swept %d roots, want 2", swept)
	}
	for _, d := range []string{dead, unlocked} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", filepath.Base(d), err)
		}
	}
	for _, d := range []string{live.dir, making, other, filepath.Join(live.dir, "kept")} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
	if fi, _ := os.Stat(next.dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("root mode %v, want 0700", fi.Mode().Perm())
	}
}

// filesRootChildEnv makes the test binary a process that opens a files
// root in the parent directory it names, writes a session file, says so
// on stdout and waits to be killed.
const filesRootChildEnv = "ACCESSKIOSK_TEST_FILES_ROOT_PARENT"

func filesRootChild(parent string) int {
	root, _, err := openFilesRoot(parent)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	f, err := newSessionFiles(root.dir, 1<<20, time.Now)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	if _, err := f.Add(KindScan, "scan.pdf", "application/pdf", strings.NewReader("%PDF-1.4 resident's page")); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("ready", root.dir)
	select {}
}

// TestFilesOfKilledKiosk: a kiosk killed with a session's file in its
// folder leaves it only until the next kiosk starts, which removes it
// before anything else.
func TestFilesOfKilledKiosk(t *testing.T) {
	parent := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), filesRootChildEnv+"="+parent)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	dir, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q", line)
	}
	if len(filesOf(t, dir)) != 1 {
		t.Fatalf("child's files: %v", filesOf(t, dir))
	}
	// Alive, its root is left alone.
	probe, _, err := openFilesRoot(parent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("a live kiosk's root was removed: %v", err)
	}
	probe.close()
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	next, swept, err := openFilesRoot(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer next.close()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) || swept != 1 {
		t.Errorf("killed kiosk's root %s: %v (swept %d)", dir, err, swept)
	}
	if left := filesOf(t, parent); len(left) != 0 {
		t.Errorf("files left after the next start: %v", left)
	}
}

// TestFilesWiped: every way a session ends removes its files folder before
// the next resident starts, the receipt says "files" and carries the
// session's counts, and the next session starts with an empty folder.
func TestFilesWiped(t *testing.T) {
	addr := bustest.Start(t)
	cfg := testConfig(t, []string{"http://127.0.0.1"}, nil, time.Hour, time.Minute)
	cfg.Session.IdleTimeout, cfg.Session.IdleWarning = time.Hour, time.Second
	parent := t.TempDir()
	ts := startShell(t, Options{Config: cfg, Bus: bustest.Conn(t, addr), Tick: 50 * time.Millisecond, FilesParent: parent})
	client := bus.NewClient(bustest.Conn(t, addr))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := client.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var root string
	webkittest.Do(t, func() { root = ts.s.FilesRoot() })
	if filepath.Dir(root) != parent {
		t.Fatalf("files root %s, want in %s", root, parent)
	}
	ends := []struct {
		reason string
		end    func(t *testing.T)
	}{
		{bus.ReasonIdle, func(t *testing.T) {
			webkittest.Do(t, func() { cfg.Session.IdleTimeout = 200 * time.Millisecond })
		}},
		{bus.ReasonToolbar, func(t *testing.T) {
			webkittest.Do(t, func() { ts.s.win.Press(toolEnd) })
			if !waitFor(5*time.Second, func() bool {
				var ok bool
				webkittest.Do(t, func() { ok = ts.s.win.Press(panelConfirmEnd) })
				return ok
			}) {
				t.Fatal("no Yes on the End session panel")
			}
		}},
		{bus.ReasonDBus, func(t *testing.T) {
			if err := client.EndSession(ctx, bus.ReasonDBus); err != nil {
				t.Fatal(err)
			}
		}},
		{bus.ReasonWebCrash, func(t *testing.T) {
			webkittest.Do(t, func() { ts.s.view.TerminateWebProcess() })
		}},
		{bus.ReasonHandover, func(t *testing.T) {
			const code = "31415926"
			webkittest.Do(t, func() { ts.s.Volunteer().Gate().AddCode(code, time.Minute) })
			ts.post(t, fromService, `{"action":"volunteer_unlock","entry":"`+code+`"}`)
			if !waitFor(10*time.Second, func() bool {
				var on bool
				webkittest.Do(t, func() { on = ts.s.assisted() })
				return on
			}) {
				t.Fatal("the one-time code did not start an assisted session")
			}
			webkittest.Do(t, func() { ts.s.button(toolEnd) })
			ts.post(t, fromService, `{"action":"volunteer_outcome","outcome":"done"}`)
		}},
	}
	for _, e := range ends {
		t.Run(e.reason, func(t *testing.T) {
			webkittest.Do(t, func() { cfg.Session.IdleTimeout = time.Hour })
			key(t, "shift")
			if !waitFor(5*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
				t.Fatalf("no session after a key press; state %s", ts.state(t))
			}
			if ev := nextEvent(t, events); ev.Kind != bus.EventStarted {
				t.Fatalf("want SessionStarted, got %+v", ev)
			}
			var dir string
			var err error
			webkittest.Do(t, func() {
				f := ts.s.cur.files
				dir = f.Dir()
				if len(f.List()) != 0 {
					err = fmt.Errorf("a new session starts with files: %+v", f.List())
					return
				}
				if _, err = f.Add(KindDownload, "receipt.pdf", "application/pdf", strings.NewReader("%PDF-1.4 resident")); err != nil {
					return
				}
				f.count(FileCounts{Scans: 2, Photos: 1, Downloads: 1, Uploads: 3})
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(filesOf(t, dir)) != 1 {
				t.Fatalf("session folder holds %v", filesOf(t, dir))
			}
			e.end(t)
			ev := nextEvent(t, events)
			if ev.Kind != bus.EventEnded || ev.Reason != e.reason {
				t.Fatalf("want SessionEnded(%s), got %+v", e.reason, ev)
			}
			r := ev.Receipt
			if !contains(r.Cleared, bus.ClearedFiles) || len(r.Failed) != 0 {
				t.Errorf("receipt cleared %v failed %v, want files cleared", r.Cleared, r.Failed)
			}
			if r.Scans != 2 || r.Photos != 1 || r.Downloads != 1 || r.Uploads != 3 {
				t.Errorf("receipt counts %+v", r)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the session's folder is still there: %v", err)
			}
			if !waitFor(10*time.Second, func() bool { return ts.state(t) == bus.StateIdle }) {
				t.Fatalf("state %s after the end, want idle", ts.state(t))
			}
			var next []SessionFile
			var nextDir string
			webkittest.Do(t, func() { next, nextDir = ts.s.cur.files.List(), ts.s.cur.files.Dir() })
			if len(next) != 0 || nextDir == dir {
				t.Errorf("next session's files %+v in %s (ended one's %s)", next, nextDir, dir)
			}
			if left := filesOf(t, root); len(left) != 0 {
				t.Errorf("files under the kiosk's files root after the wipe: %v", left)
			}
		})
	}
}

package notifyrelay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// TestMain lets the test binary play the kiosk: with RELAY_TEST_CHILD set
// it notifies the way the kiosk does and exits with status 3.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("RELAY_TEST_LINGER") != "":
		// What a crashed compositor leaves behind (its kiosk).
		time.Sleep(30 * time.Second)
		os.Exit(0)
	case os.Getenv("RELAY_TEST_LEADER") != "":
		// The relay as a unit's main process: leading its process group.
		os.Unsetenv("RELAY_TEST_LEADER")
		code, err := Run(context.Background(), []string{os.Args[0]}, Options{Dir: os.Getenv("RELAY_TEST_DIR"), Log: os.Stderr, RetryEnv: "AK_TEST_RENDERER=soft"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(code)
	case os.Getenv("RELAY_TEST_CHILD") == "orphan-then-crash":
		orphan := os.Getenv("RELAY_TEST_ORPHAN")
		if os.Getenv("AK_TEST_RENDERER") != "soft" {
			// Start something that outlives this run, then crash.
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), "RELAY_TEST_LINGER=1")
			if err := c.Start(); err != nil {
				os.Exit(9)
			}
			os.WriteFile(orphan, []byte(strconv.Itoa(c.Process.Pid)), 0o600)
			os.Exit(1)
		}
		// The second run: is the first run's leftover gone?
		b, _ := os.ReadFile(orphan)
		pid, _ := strconv.Atoi(string(b))
		seen := "gone"
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); pid > 0 && err == nil {
			// A zombie is gone too: its parent died, and reaping it is
			// PID 1's business.
			if i := bytes.LastIndexByte(st, ')'); i < 0 || !strings.HasPrefix(string(st[i+1:]), " Z") {
				seen = "alive"
			}
		}
		os.WriteFile(orphan+".seen", []byte(seen), 0o600)
		daemon.SdNotify(false, daemon.SdNotifyReady)
		os.Exit(3)
	}
	if f := os.Getenv("RELAY_TEST_RUNS"); f != "" {
		// Count this run, then act as RELAY_TEST_CHILD says.
		fh, _ := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		fmt.Fprintln(fh, os.Getenv("AK_TEST_RENDERER"))
		fh.Close()
		switch os.Getenv("RELAY_TEST_CHILD") {
		case "crash-unless-soft":
			// A compositor whose GPU renderer fails before it is ready.
			if os.Getenv("AK_TEST_RENDERER") != "soft" {
				os.Exit(1)
			}
			daemon.SdNotify(false, daemon.SdNotifyReady)
			os.Exit(3)
		case "ready-then-fail":
			daemon.SdNotify(false, daemon.SdNotifyReady)
			os.Exit(4)
		case "hang":
			time.Sleep(10 * time.Second)
			os.Exit(5)
		}
	}
	if os.Getenv("RELAY_TEST_CHILD") != "" {
		wd, _ := daemon.SdWatchdogEnabled(false)
		daemon.SdNotify(false, "MAINPID=1\nSTATUS=watchdog "+wd.String())
		daemon.SdNotify(false, daemon.SdNotifyReady)
		if wd > 0 {
			daemon.SdNotify(false, daemon.SdNotifyWatchdog)
		}
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func TestRelay(t *testing.T) {
	dir := t.TempDir()
	// systemd's socket, as the unit's main process sees it.
	sys, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "systemd-notify"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	t.Setenv("NOTIFY_SOCKET", filepath.Join(dir, "systemd-notify"))
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "1") // the main process's, not the kiosk's
	t.Setenv("RELAY_TEST_CHILD", "1")
	relayDir := t.TempDir()
	var logb bytes.Buffer
	code, err := Run(context.Background(), []string{os.Args[0]}, Options{Dir: relayDir, Log: &logb, RetryEnv: "AK_TEST_RENDERER=soft"})
	if err != nil || code != 3 {
		t.Fatalf("Run = %d, %v; want the command's status 3", code, err)
	}
	var got []string
	sys.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for len(got) < 3 {
		n, err := sys.Read(buf)
		if err != nil {
			break
		}
		got = append(got, string(buf[:n]))
	}
	want := []string{"STATUS=watchdog 30s", "READY=1", "WATCHDOG=1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("systemd got %q, want %q (MAINPID dropped, watchdog on for the child); relay log: %s", got, want, logb.String())
	}
	if _, err := os.Stat(filepath.Join(relayDir, SocketName)); !os.IsNotExist(err) {
		t.Errorf("relay socket left behind: %v", err)
	}
}

func TestRelayWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("RELAY_TEST_CHILD", "1")
	code, err := Run(context.Background(), []string{os.Args[0]}, Options{Dir: t.TempDir(), Log: os.Stderr})
	if err != nil || code != 3 {
		t.Fatalf("Run = %d, %v; want 3", code, err)
	}
	if code, err := Run(context.Background(), []string{"/nonexistent/program"}, Options{Dir: t.TempDir(), Log: os.Stderr}); err == nil || code != 127 {
		t.Errorf("a missing command: %d, %v; want 127 and an error", code, err)
	}
}

// TestRetryBeforeReady: a command that ends before READY=1 runs once more
// with the retry environment; one that got ready, one whose key the unit set
// already, and one the relay was told to stop do not.
func TestRetryBeforeReady(t *testing.T) {
	cases := []struct {
		name, child, preset string
		signal              bool
		wantCode            int
		wantRuns            []string // AK_TEST_RENDERER of each run
		wantReady           bool
	}{
		{name: "crash at start, retried soft", child: "crash-unless-soft", wantCode: 3, wantRuns: []string{"", "soft"}, wantReady: true},
		{name: "ready, then failed: not retried", child: "ready-then-fail", wantCode: 4, wantRuns: []string{""}, wantReady: true},
		{name: "key set by the unit: not retried", child: "crash-unless-soft", preset: "gpu", wantCode: 1, wantRuns: []string{"gpu"}},
		{name: "stopped by systemd: not retried", child: "hang", signal: true, wantCode: 128 + int(syscall.SIGTERM), wantRuns: []string{""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			sys, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "systemd-notify"), Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer sys.Close()
			runs := filepath.Join(dir, "runs")
			t.Setenv("NOTIFY_SOCKET", filepath.Join(dir, "systemd-notify"))
			t.Setenv("RELAY_TEST_RUNS", runs)
			t.Setenv("RELAY_TEST_CHILD", c.child)
			if c.preset != "" {
				t.Setenv("AK_TEST_RENDERER", c.preset)
			} else {
				os.Unsetenv("AK_TEST_RENDERER")
			}
			if c.signal {
				go func() {
					// Once the command runs, systemd stops the unit.
					for i := 0; i < 100; i++ {
						if b, _ := os.ReadFile(runs); len(b) > 0 {
							syscall.Kill(os.Getpid(), syscall.SIGTERM)
							return
						}
						time.Sleep(50 * time.Millisecond)
					}
				}()
			}
			var logb bytes.Buffer
			code, err := Run(context.Background(), []string{os.Args[0]}, Options{Dir: t.TempDir(), Log: &logb, RetryEnv: "AK_TEST_RENDERER=soft"})
			if err != nil || code != c.wantCode {
				t.Fatalf("Run = %d, %v; want %d; log: %s", code, err, c.wantCode, logb.String())
			}
			b, _ := os.ReadFile(runs)
			got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if strings.Join(got, ",") != strings.Join(c.wantRuns, ",") {
				t.Errorf("runs with AK_TEST_RENDERER %q, want %q", got, c.wantRuns)
			}
			retried := strings.Contains(logb.String(), "running it again with AK_TEST_RENDERER=soft")
			if retried != (len(c.wantRuns) == 2) {
				t.Errorf("relay log %q: retried %v, want %v", logb.String(), retried, len(c.wantRuns) == 2)
			}
			sys.SetReadDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 4096)
			n, _ := sys.Read(buf)
			if gotReady := strings.Contains(string(buf[:n]), "READY=1"); gotReady != c.wantReady {
				t.Errorf("systemd got %q: READY=1 %v, want %v", buf[:n], gotReady, c.wantReady)
			}
		})
	}
}

// TestRetryEndsWhatTheFirstRunLeft: before the second run, the relay (as a
// unit's main process, leading its process group) ends what the first run
// left behind: a kiosk outliving its crashed cage would keep the kiosk's
// D-Bus name, and the second kiosk would fail to start.
func TestRetryEndsWhatTheFirstRunLeft(t *testing.T) {
	dir := t.TempDir()
	sys, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "systemd-notify"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	orphan := filepath.Join(dir, "orphan")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AK_TEST_RENDERER=") && !strings.HasPrefix(kv, "RELAY_TEST_") && !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(env, "RELAY_TEST_LEADER=1", "RELAY_TEST_CHILD=orphan-then-crash", "RELAY_TEST_ORPHAN="+orphan,
		"RELAY_TEST_DIR="+t.TempDir(), "NOTIFY_SOCKET="+filepath.Join(dir, "systemd-notify"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() {
		if b, _ := os.ReadFile(orphan); len(b) > 0 {
			if pid, _ := strconv.Atoi(string(b)); pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("relay: %v, want exit status 3 from the second run\n%s", err, out)
	}
	seen, _ := os.ReadFile(orphan + ".seen")
	if string(seen) != "gone" {
		t.Errorf("the second run found the first run's leftover %q, want gone\n%s", seen, out)
	}
}

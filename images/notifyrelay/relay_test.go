package notifyrelay

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// TestMain lets the test binary play the kiosk: with RELAY_TEST_CHILD set
// it notifies the way the kiosk does and exits with status 3.
func TestMain(m *testing.M) {
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
	code, err := Run(context.Background(), []string{os.Args[0]}, relayDir, &logb)
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
	code, err := Run(context.Background(), []string{os.Args[0]}, t.TempDir(), os.Stderr)
	if err != nil || code != 3 {
		t.Fatalf("Run = %d, %v; want 3", code, err)
	}
	if code, err := Run(context.Background(), []string{"/nonexistent/program"}, t.TempDir(), os.Stderr); err == nil || code != 127 {
		t.Errorf("a missing command: %d, %v; want 127 and an error", code, err)
	}
}

package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"accesskiosk/agent"
	"accesskiosk/agent/fakefleet"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/pin"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/provisioning/bootfile"
)

// TestFirstbootThenRun: `agent firstboot` enrols from a boot directory
// against a pinned (fake) fleet and erases the token; the agent then runs
// on the identity it stored, with no fleet in its config, and reports.
func TestFirstbootThenRun(t *testing.T) {
	fs := fakefleet.Start(t, true)
	fp := pin.Of(fs.Certificate().Raw).String()
	boot, state := t.TempDir(), t.TempDir()
	f := bootfile.File{Version: bootfile.Version, Fleet: bootfile.Fleet{URL: fs.URL, Fingerprint: fp}, Token: fs.Token}
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(boot, bootfile.FileName), data, 0o600)
	// First boot talks to the system bus (hostnamed, NetworkManager) and the
	// kiosk's bus; a private dbus-daemon with nobody on it stands in for both.
	busAddr := bustest.Start(t)
	startHostnamed(t, busAddr)
	cfgPath := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(cfgPath, []byte("state_dir: "+state+"\nkiosk:\n  bus: "+busAddr+"\nsystem:\n  bus: "+busAddr+"\ndiscovery:\n  advertise: false\nreport:\n  interval: 200ms\n  jitter: 0s\n"), 0o600)

	var stderr bytes.Buffer
	if code := runMain([]string{"firstboot", "--boot", boot, "--config", cfgPath, "--hostname-file", "", "--kiosk-wait", "1s"}, &stderr); code != 0 {
		t.Fatalf("firstboot exit %d:\n%s", code, stderr.String())
	}
	after, _ := os.ReadFile(filepath.Join(boot, bootfile.FileName))
	if strings.Contains(string(after), fs.Token) {
		t.Errorf("the token is still on the boot partition:\n%s", after)
	}
	// Rerun: already done, still fine.
	if code := runMain([]string{"firstboot", "--boot", boot, "--config", cfgPath, "--hostname-file", "", "--kiosk-wait", "1s"}, &stderr); code != 0 {
		t.Fatalf("second firstboot exit %d:\n%s", code, stderr.String())
	}

	cfg, err := agent.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := applog.New(io.Discard, "info")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); a.Stop() }()
	deadline := time.Now().Add(20 * time.Second)
	for len(fs.Reports()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no report reached the fleet the device enrolled with; warnings %v", a.Health().Warnings())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if id := a.Identity(); id.DeviceID == "" || id.Site != "central-library" {
		t.Errorf("identity = %+v", id)
	}
}

// hostnamed is the one method of systemd-hostnamed first boot calls, on the
// test's private bus (systemd cannot run here).
type hostnamed struct{}

func (hostnamed) SetStaticHostname(string, bool) *dbus.Error { return nil }
func (hostnamed) SetHostname(string, bool) *dbus.Error       { return nil }

func startHostnamed(t *testing.T, addr string) {
	conn := bustest.Conn(t, addr)
	if err := conn.Export(hostnamed{}, "/org/freedesktop/hostname1", "org.freedesktop.hostname1"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.RequestName("org.freedesktop.hostname1", dbus.NameFlagDoNotQueue); err != nil {
		t.Fatal(err)
	}
}

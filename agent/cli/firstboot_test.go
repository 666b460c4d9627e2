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

	"accesskiosk/agent"
	"accesskiosk/agent/fakefleet"
	"accesskiosk/agent/firstboot/firstboottest"
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
	firstboottest.Start(t, busAddr, firstboottest.Hostnamed)
	cfgPath := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(cfgPath, []byte("state_dir: "+state+"\nkiosk:\n  bus: "+busAddr+"\nsystem:\n  bus: "+busAddr+"\ndiscovery:\n  advertise: false\nreport:\n  interval: 200ms\n  jitter: 0s\n"), 0o600)

	var stderr bytes.Buffer
	if code := runMain([]string{"firstboot", "--i-know-this-is-not-a-kiosk", "--boot", boot, "--config", cfgPath, "--hostname-file", "", "--kiosk-wait", "1s"}, &stderr); code != 0 {
		t.Fatalf("firstboot exit %d:\n%s", code, stderr.String())
	}
	after, _ := os.ReadFile(filepath.Join(boot, bootfile.FileName))
	if strings.Contains(string(after), fs.Token) {
		t.Errorf("the token is still on the boot partition:\n%s", after)
	}
	// Rerun: already done, still fine.
	if code := runMain([]string{"firstboot", "--i-know-this-is-not-a-kiosk", "--boot", boot, "--config", cfgPath, "--hostname-file", "", "--kiosk-wait", "1s"}, &stderr); code != 0 {
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

// offKiosk is a laptop: a first-boot file on a boot directory, an agent
// config, and a system bus with hostnamed but no NetworkManager and no
// kiosk.
type offKiosk struct {
	boot, state, cfg, file string
	before                 []byte
	sys                    *firstboottest.System
}

func newOffKiosk(t *testing.T) *offKiosk {
	o := &offKiosk{boot: t.TempDir(), state: filepath.Join(t.TempDir(), "state")}
	psk := filepath.Join(t.TempDir(), "psk")
	os.WriteFile(psk, []byte("correct horse battery\n"), 0o600)
	f := bootfile.File{Version: bootfile.Version, Fleet: bootfile.Fleet{URL: "https://fleet.example:8443", Fingerprint: pin.Of([]byte("cert")).Hex()},
		Token: fakefleet.Token, HostnamePrefix: "riverside", WiFi: &bootfile.WiFi{SSID: "Library Public", PSK: "correct horse battery"}}
	o.before, _ = f.Marshal()
	o.file = filepath.Join(o.boot, bootfile.FileName)
	os.WriteFile(o.file, o.before, 0o600)
	addr := bustest.Start(t)
	o.sys = firstboottest.Start(t, addr, firstboottest.Hostnamed)
	o.cfg = filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(o.cfg, []byte("state_dir: "+o.state+"\nkiosk:\n  bus: "+addr+"\nsystem:\n  bus: "+addr+"\n"), 0o600)
	return o
}

// untouched fails the test if first boot changed anything.
func (o *offKiosk) untouched(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(o.state); err == nil {
		t.Errorf("the state directory %s was created", o.state)
	}
	if after, _ := os.ReadFile(o.file); !bytes.Equal(after, o.before) {
		t.Error("the first-boot file was changed")
	}
	o.sys.Lock()
	defer o.sys.Unlock()
	if o.sys.Static != "" || o.sys.Transient != "" {
		t.Errorf("the host name was set to %q", o.sys.Static)
	}
}

// First boot refuses to run on a machine that is not a kiosk image unless
// told, and --dry-run says what it would do without doing it.
func TestFirstbootOffAKiosk(t *testing.T) {
	o := newOffKiosk(t)
	args := []string{"firstboot", "--config", o.cfg, "--boot", o.boot, "--hostname-file", "", "--kiosk-wait", "1s"}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	want := "agent firstboot: this computer is not an Access Kiosk image (it has no /usr/share/accesskiosk/kiosk-image): first boot would rename it, add a Wi-Fi network to NetworkManager and enrol it with a fleet; --dry-run shows what it would do, --i-know-this-is-not-a-kiosk does it anyway\n"
	if code != 2 || stderr.String() != want {
		t.Errorf("not a kiosk: exit %d\n got %q\nwant %q", code, stderr.String(), want)
	}
	o.untouched(t)

	stdout.Reset()
	stderr.Reset()
	code = Main(context.Background(), append(args, "--dry-run"), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("--dry-run: exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{
		"would name this computer riverside-", "through systemd-hostnamed (found on the system bus)",
		`would add the Wi-Fi network "Library Public" to NetworkManager (NOT on the system bus: a real run would stop here)`,
		"would enrol with https://fleet.example:8443 (certificate " + pin.Of([]byte("cert")).String() + ") using the enrolment token",
		"would store the device's credential in " + filepath.Join(o.state, "identity.json"),
		"would erase the enrolment token and the Wi-Fi passphrase from " + o.file,
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--dry-run output lacks %q:\n%s", want, stdout.String())
		}
	}
	o.untouched(t)

	// Told to run, it still says what it needs first: NetworkManager is
	// not on this bus, and nothing is changed.
	stderr.Reset()
	code = Main(context.Background(), append(args, "--i-know-this-is-not-a-kiosk"), io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "first boot needs NetworkManager (org.freedesktop.NetworkManager) on the system bus to join the Wi-Fi network in the first-boot file, and it is not there") {
		t.Errorf("no NetworkManager: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no kiosk on its bus yet; waiting up to 1s (--kiosk-wait)") || !strings.Contains(stderr.String(), "no kiosk appeared within 1s") {
		t.Errorf("--kiosk-wait waited silently:\n%s", stderr.String())
	}
	o.untouched(t)
}

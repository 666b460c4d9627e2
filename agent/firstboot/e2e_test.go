package firstboot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent/firstboot/firstboottest"
	"accesskiosk/fleet/realfleet"
	"accesskiosk/internal/diskimage/imagetest"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/provisioning/cli"
)

// device is one kiosk in the end-to-end test: its own bus with the system
// fakes and the kiosk's bus server, its own card image and state directory.
type device struct {
	img, state, cfg, hostnameFile string
	sys                           *firstboottest.System
	kiosk                         *firstboottest.Kiosk
	busAddr                       string
}

func newDevice(t *testing.T) *device {
	t.Helper()
	addr := bustest.Start(t)
	dir := t.TempDir()
	d := &device{
		img: imagetest.GPT(t), state: filepath.Join(dir, "state"), cfg: filepath.Join(dir, "agent.yaml"),
		hostnameFile: filepath.Join(dir, "hostname"),
		sys:          firstboottest.Start(t, addr), kiosk: firstboottest.StartKiosk(t, addr), busAddr: addr,
	}
	yaml := "state_dir: " + d.state + "\nsystem:\n  bus: \"" + addr + "\"\nkiosk:\n  bus: \"" + addr + "\"\n"
	if err := os.WriteFile(d.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// firstboot runs `agent firstboot` as the image's unit would, in-process.
func (d *device) firstboot(t *testing.T) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	err := Command(context.Background(), []string{"--i-know-this-is-not-a-kiosk", "--config", d.cfg, "--boot", d.img, "--hostname-file", d.hostnameFile, "--kiosk-wait", "2s", "--attempts", "2"}, io.Discard, &stderr)
	if err != nil {
		fmt.Fprintln(&stderr, "agent firstboot:", err)
	}
	return ExitStatus(err), stderr.String()
}

func (d *device) imageHolds(t *testing.T, s string) bool {
	t.Helper()
	raw, err := os.ReadFile(d.img)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(raw, []byte(s))
}

func provision(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	err := cli.Run(context.Background(), args, cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatalf("provision %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

var printedToken = regexp.MustCompile(`(?m)^  (\S{8,})$`)

// TestEndToEnd: provision makes a site and a token, writes a first-boot
// file into a card image, and agent firstboot against that image enrols;
// the token is gone from the image afterwards; a second use of the token is
// refused; an interrupted first boot resumes.
func TestEndToEnd(t *testing.T) {
	fl := realfleet.Start(t)
	env := map[string]string{cli.APITokenEnv: fl.APIToken}
	admin := []string{"--fleet", fl.URL, "--fingerprint", fl.Fingerprint}
	provision(t, env, append([]string{"site", "create", "--id", "riverside", "--name", "Riverside Library"}, admin...)...)
	out := provision(t, env, append([]string{"token", "create", "--site", "riverside", "--expires", "7d"}, admin...)...)
	m := printedToken.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no token in:\n%s", out)
	}
	token := m[1]

	dir := t.TempDir()
	psk := filepath.Join(dir, "wifi.psk")
	os.WriteFile(psk, []byte("riverside-reading-room\n"), 0o600)
	conf := filepath.Join(dir, "firstboot.yaml")
	provision(t, env, "config", "--fleet", fl.URL, "--fingerprint", fl.Fingerprint, "--token", token,
		"--wifi-ssid", "Riverside Public", "--wifi-psk-file", psk, "--hostname-prefix", "riverside", "--out", conf)

	d1 := newDevice(t)
	provision(t, nil, "write", "--config", conf, "--image", d1.img)
	if !d1.imageHolds(t, token) {
		t.Fatal("setup: the token is not in the image")
	}
	code, logs := d1.firstboot(t)
	if code != 0 {
		t.Fatalf("agent firstboot exited %d:\n%s", code, logs)
	}
	idn, ok, err := LoadIdentity(d1.state)
	if err != nil || !ok || idn.Site != "riverside" {
		t.Fatalf("identity: %+v %v %v", idn, ok, err)
	}
	if d1.imageHolds(t, token) || d1.imageHolds(t, "riverside-reading-room") {
		t.Error("the token or the Wi-Fi passphrase is still in the image after first boot")
	}
	if got := fl.Enrolled(); got != 1 {
		t.Errorf("fleet has %d devices, want 1", got)
	}
	if code, logs := d1.firstboot(t); code != 0 || !strings.Contains(logs, "already done") {
		t.Errorf("rerun: exit %d\n%s", code, logs)
	}

	// The same file on a second card: the token is refused.
	d2 := newDevice(t)
	provision(t, nil, "write", "--config", conf, "--image", d2.img)
	code, logs = d2.firstboot(t)
	if code != ExitNeedsPerson || !strings.Contains(logs, "already been used") {
		t.Errorf("second use of the token: exit %d, want %d with a clear line:\n%s", code, ExitNeedsPerson, logs)
	}
	if msgs := d2.kiosk.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "already been used") {
		t.Errorf("second kiosk's screen: %q", msgs)
	}
	if _, ok, _ := LoadIdentity(d2.state); ok {
		t.Error("the refused device stored a credential")
	}
	if !d2.imageHolds(t, token) {
		t.Error("the refused device changed its first-boot file")
	}
	if got := fl.Enrolled(); got != 1 {
		t.Errorf("fleet has %d devices after the refusal, want 1", got)
	}

	// A first boot cut off after enrolling (credential stored, token not yet
	// erased) resumes: the next run does not enrol again, and erases.
	out = provision(t, env, append([]string{"token", "create", "--site", "riverside", "--expires", "1h"}, admin...)...)
	token3 := printedToken.FindStringSubmatch(out)[1]
	conf3 := filepath.Join(dir, "firstboot3.yaml")
	provision(t, env, "config", "--fleet", fl.URL, "--fingerprint", fl.Fingerprint, "--token", token3, "--out", conf3)
	d3 := newDevice(t)
	provision(t, nil, "write", "--config", conf3, "--image", d3.img)
	boot, err := OpenBoot(d3.img, 0)
	if err != nil {
		t.Fatal(err)
	}
	sysConn, kConn := bustest.Conn(t, d3.busAddr), bustest.Conn(t, d3.busAddr)
	l := logrus.New()
	l.SetOutput(&bytes.Buffer{})
	_, err = Run(context.Background(), Config{
		Boot: boot, StateDir: d3.state, System: sysConn, Kiosk: bus.NewClient(kConn), KioskWait: time.Second, Log: l,
		afterStep: func(s string) error {
			if s == StepEnrolled {
				return errPowerCut
			}
			return nil
		},
	})
	boot.Close()
	if !errors.Is(err, errPowerCut) {
		t.Fatalf("interrupted run: %v", err)
	}
	if !d3.imageHolds(t, token3) {
		t.Fatal("setup: token erased before the interruption")
	}
	if code, logs := d3.firstboot(t); code != 0 || !strings.Contains(logs, "not enrolling again") {
		t.Fatalf("resumed first boot: exit %d\n%s", code, logs)
	}
	if d3.imageHolds(t, token3) {
		t.Error("the token is still in the image after the resumed first boot")
	}
	if got := fl.Enrolled(); got != 2 {
		t.Errorf("fleet has %d devices, want 2", got)
	}
}

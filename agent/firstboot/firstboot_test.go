package firstboot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/sirupsen/logrus"

	"accesskiosk/agent/firstboot/firstboottest"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/realfleet"
	"accesskiosk/internal/diskimage"
	"accesskiosk/internal/diskimage/imagetest"
	"accesskiosk/internal/fleetclient"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/provisioning/bootfile"
)

type rig struct {
	t        testing.TB
	img      string
	state    string
	sys      *firstboottest.System
	sysConn  *dbus.Conn
	kiosk    *firstboottest.Kiosk
	kclient  *bus.Client
	fleetURL string
	fleetFP  string
	fleet    *realfleet.Fleet
	admin    *fleetclient.Client
	site     string
	logs     *syncBuffer
}

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

// newRig starts a private bus with the fake system services and the kiosk's
// real bus server, the real fleet server with one site, and a test disk image.
func newRig(t testing.TB) *rig {
	t.Helper()
	addr := bustest.Start(t)
	f := realfleet.Start(t)
	admin := f.Admin
	if _, err := admin.CreateSite(context.Background(), "central", "Central Library"); err != nil {
		t.Fatal(err)
	}
	r := &rig{
		t: t, img: imagetest.GPT(t), state: filepath.Join(t.TempDir(), "state"),
		sys: firstboottest.Start(t, addr), sysConn: bustest.Conn(t, addr),
		kiosk: firstboottest.StartKiosk(t, addr), kclient: bus.NewClient(bustest.Conn(t, addr)),
		fleetURL: f.URL, fleetFP: f.Fingerprint, fleet: f, admin: admin, site: "central",
		logs: &syncBuffer{},
	}
	return r
}

func (r *rig) token(ttl time.Duration, uses int) string {
	r.t.Helper()
	tok, err := r.admin.CreateToken(context.Background(), r.site, ttl, uses)
	if err != nil {
		r.t.Fatal(err)
	}
	return tok.Secret
}

func (r *rig) file(token string) *bootfile.File {
	return &bootfile.File{
		Version:           1,
		Fleet:             bootfile.Fleet{URL: r.fleetURL, Fingerprint: r.fleetFP},
		Token:             token,
		HostnamePrefix:    "central",
		WiFi:              &bootfile.WiFi{SSID: "Library Public", PSK: "correct horse battery staple"},
		SSHAuthorizedKeys: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB it@council.example"},
	}
}

func (r *rig) writeRaw(data []byte) {
	r.t.Helper()
	im, err := diskimage.Open(r.img, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	defer im.Close()
	if err := im.WriteFile(bootfile.FileName, data); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) write(f *bootfile.File) {
	r.t.Helper()
	data, err := f.Marshal()
	if err != nil {
		r.t.Fatal(err)
	}
	r.writeRaw(data)
}

func (r *rig) readBoot() []byte {
	r.t.Helper()
	im, err := diskimage.Open(r.img, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	defer im.Close()
	data, err := im.ReadFile(bootfile.FileName)
	if err != nil {
		r.t.Fatal(err)
	}
	return data
}

func (r *rig) run(hook func(string) error) (Result, error) {
	r.t.Helper()
	boot, err := OpenBoot(r.img, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	defer boot.Close()
	l := logrus.New()
	l.SetOutput(io.MultiWriter(r.logs))
	res, err := Run(context.Background(), Config{
		Boot: boot, StateDir: r.state, HostnameFile: filepath.Join(r.state, "hostname"), System: r.sysConn, Kiosk: r.kclient,
		KioskWait: 2 * time.Second, AgentVersion: "test", EnrolAttempts: 2, Backoff: 10 * time.Millisecond,
		Timeout: 5 * time.Second, Log: l, afterStep: hook,
	})
	return res, err
}

func (r *rig) imageHolds(s string) bool {
	r.t.Helper()
	raw, err := os.ReadFile(r.img)
	if err != nil {
		r.t.Fatal(err)
	}
	return bytes.Contains(raw, []byte(s))
}

func mode(t testing.TB, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// checkEnrolled checks everything a finished first boot leaves behind.
func (r *rig) checkEnrolled(res Result, f *bootfile.File) {
	t := r.t
	t.Helper()
	if !strings.HasPrefix(res.Hostname, "central-") || len(res.Hostname) != len("central-")+6 {
		t.Errorf("hostname: got %q, want central-XXXXXX", res.Hostname)
	}
	r.sys.Lock()
	if r.sys.Static != res.Hostname || r.sys.Transient != res.Hostname {
		t.Errorf("hostnamed: static %q, transient %q; want %q", r.sys.Static, r.sys.Transient, res.Hostname)
	}
	if len(r.sys.Conns) != 1 {
		t.Errorf("NetworkManager has %d connections, want 1", len(r.sys.Conns))
	}
	for _, c := range r.sys.Conns {
		if got := string(c["802-11-wireless"]["ssid"].Value().([]byte)); got != f.WiFi.SSID {
			t.Errorf("Wi-Fi ssid: got %q", got)
		}
		if got := c["802-11-wireless-security"]["psk"].Value().(string); got != f.WiFi.PSK {
			t.Errorf("Wi-Fi psk not handed to NetworkManager")
		}
	}
	if len(r.sys.Activated) == 0 {
		t.Error("Wi-Fi never activated")
	}
	r.sys.Unlock()

	if b, err := os.ReadFile(filepath.Join(r.state, "hostname")); err != nil || string(b) != res.Hostname+"\n" {
		t.Errorf("hostname file: %q, %v", b, err)
	}
	idn, ok, err := LoadIdentity(r.state)
	if err != nil || !ok {
		t.Fatalf("identity: %v %v", ok, err)
	}
	wantFP := r.fleet.Pin.Hex()
	if idn.DeviceID != res.DeviceID || idn.Site != "central" || idn.FleetURL != r.fleetURL || idn.FleetFingerprint != wantFP {
		t.Errorf("identity: got %+v", idn)
	}
	for _, p := range []string{IdentityFile, DeviceKeyFile, StateFile} {
		if got := mode(t, filepath.Join(r.state, p)); got != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, got)
		}
	}
	boot := r.readBoot()
	back, err := bootfile.Parse("boot", boot)
	if err != nil {
		t.Fatalf("erased boot file does not parse: %v\n%s", err, boot)
	}
	if !back.SecretsErased || back.DeviceID != res.DeviceID || back.Token != "" || back.WiFi.PSK != "" {
		t.Errorf("boot file after first boot: %+v", back)
	}
	if r.imageHolds(f.Token) {
		t.Error("the enrolment token is still somewhere in the disk image")
	}
	if r.imageHolds(f.WiFi.PSK) {
		t.Error("the Wi-Fi passphrase is still somewhere in the disk image")
	}
}

func TestFirstBootEnrols(t *testing.T) {
	r := newRig(t)
	f := r.file(r.token(time.Hour, 1))
	r.write(f)
	if !r.imageHolds(f.Token) {
		t.Fatal("test setup: token not in the image before first boot")
	}
	res, err := r.run(nil)
	if err != nil {
		t.Fatalf("first boot: %v\n%s", err, r.logs)
	}
	r.checkEnrolled(res, f)
	if got := r.fleet.Enrolled(); got != 1 {
		t.Errorf("fleet enrolled %d devices, want 1", got)
	}
	if msgs := r.kiosk.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "This kiosk is set up") {
		t.Errorf("kiosk messages: %q", msgs)
	}

	// A rerun (the unit started again) does nothing.
	res2, err := r.run(nil)
	if err != nil || !res2.AlreadyDone || res2.DeviceID != res.DeviceID {
		t.Errorf("rerun: got %+v, %v", res2, err)
	}
	if got := r.fleet.Enrolled(); got != 1 {
		t.Errorf("after rerun the fleet enrolled %d devices, want 1", got)
	}

	// The token cannot enrol a second device.
	r2 := newRigSharing(t, r)
	r2.write(f)
	_, err = r2.run(nil)
	var se *fleetclient.Error
	if !errors.As(err, &se) || se.Code != api.CodeTokenUsed || ExitStatus(err) != ExitNeedsPerson {
		t.Errorf("second device with the same token: got %v (exit %d), want token used, exit %d", err, ExitStatus(err), ExitNeedsPerson)
	}
	if msgs := r2.kiosk.Messages(); len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1], "already been used") {
		t.Errorf("second device's screen: %q", msgs)
	}
	if !strings.Contains(r2.logs.String(), "already been used") {
		t.Errorf("no clear log line:\n%s", r2.logs)
	}
	if _, ok, _ := LoadIdentity(r2.state); ok {
		t.Error("refused device stored an identity")
	}
}

// newRigSharing is a second device (own bus, image and state) enrolling
// against r's fleet.
func newRigSharing(t testing.TB, r *rig) *rig {
	addr := bustest.Start(t)
	return &rig{
		t: t, img: imagetest.GPT(t), state: filepath.Join(t.TempDir(), "state"),
		sys: firstboottest.Start(t, addr), sysConn: bustest.Conn(t, addr),
		kiosk: firstboottest.StartKiosk(t, addr), kclient: bus.NewClient(bustest.Conn(t, addr)),
		fleetURL: r.fleetURL, fleetFP: r.fleetFP, fleet: r.fleet, admin: r.admin, site: r.site,
		logs: &syncBuffer{},
	}
}

var errPowerCut = errors.New("power cut (test)")

func TestInterruptedFirstBootResumes(t *testing.T) {
	for _, step := range []string{StepStarted, StepIdentity, StepHostname, StepWiFi, StepEnrolled, StepErased} {
		t.Run(step, func(t *testing.T) {
			r := newRig(t)
			f := r.file(r.token(time.Hour, 1))
			r.write(f)
			_, err := r.run(func(s string) error {
				if s == step {
					return errPowerCut
				}
				return nil
			})
			if !errors.Is(err, errPowerCut) {
				t.Fatalf("interrupted run: got %v, want the power cut", err)
			}
			res, err := r.run(nil)
			if err != nil {
				t.Fatalf("resumed run: %v\n%s", err, r.logs)
			}
			r.checkEnrolled(res, f)
			if got := r.fleet.Enrolled(); got != 1 {
				t.Errorf("fleet enrolled %d devices, want exactly 1", got)
			}
			if r.sys.Adds != 1 {
				t.Errorf("NetworkManager AddConnection called %d times, want 1", r.sys.Adds)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	closedURL := func(t testing.TB) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u := "https://" + ln.Addr().String()
		ln.Close()
		return u
	}
	tests := []struct {
		name     string
		prepare  func(r *rig) []byte // the boot file to write
		wantErr  string
		wantExit int
		wantMsg  string
	}{
		{"malformed file", func(r *rig) []byte {
			data, _ := r.file(r.token(time.Hour, 1)).Marshal()
			return bytes.Replace(data, []byte("token:"), []byte("tokn:"), 1)
		}, `tokn: unknown key (did you mean "token"?)`, ExitBadFile, "first-boot file is not valid"},
		{"wrong fingerprint", func(r *rig) []byte {
			f := r.file(r.token(time.Hour, 1))
			f.Fleet.Fingerprint = strings.Repeat("ab", 32)
			data, _ := f.Marshal()
			return data
		}, "does not match the pinned fingerprint", ExitNeedsPerson, "not the one it was set up for"},
		{"unreachable fleet", func(r *rig) []byte {
			f := r.file(r.token(time.Hour, 1))
			f.Fleet.URL = closedURL(r.t)
			data, _ := f.Marshal()
			return data
		}, "fleet server unreachable", ExitRetry, "cannot reach its fleet server"},
		{"expired token", func(r *rig) []byte {
			f := r.file(r.token(time.Hour, 1))
			r.fleet.Advance(2 * time.Hour)
			data, _ := f.Marshal()
			return data
		}, "expired", ExitNeedsPerson, "has expired"},
		{"unknown token", func(r *rig) []byte {
			data, _ := r.file("ake_" + strings.Repeat("unknown", 8)[:52]).Marshal() // well-formed, never made by this fleet
			return data
		}, "token_unknown", ExitNeedsPerson, "does not know its enrolment token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			data := tt.prepare(r)
			r.writeRaw(data)
			_, err := r.run(nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if got := ExitStatus(err); got != tt.wantExit {
				t.Errorf("exit status: got %d, want %d", got, tt.wantExit)
			}
			if msgs := r.kiosk.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0], tt.wantMsg) {
				t.Errorf("on screen: got %q, want one message containing %q", msgs, tt.wantMsg)
			}
			if !strings.Contains(r.logs.String(), "level=error") || !strings.Contains(r.logs.String(), tt.wantMsg) {
				t.Errorf("log has no clear error line:\n%s", r.logs)
			}
			// Nothing half-written: the boot file is as it was, no credential.
			if got := r.readBoot(); !bytes.Equal(got, data) {
				t.Errorf("boot file changed:\n%s", got)
			}
			if _, ok, _ := LoadIdentity(r.state); ok {
				t.Error("an identity was stored")
			}
			if r.fleet.Enrolled() != 0 {
				t.Error("the fleet enrolled a device")
			}
		})
	}
}

func TestNoFile(t *testing.T) {
	r := newRig(t)
	_, err := r.run(nil)
	if !errors.Is(err, ErrNoFile) || ExitStatus(err) != ExitNeedsPerson {
		t.Fatalf("got %v", err)
	}
	if msgs := r.kiosk.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "has not been set up") {
		t.Errorf("on screen: %q", msgs)
	}
}

func TestDirBoot(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.yaml")
	if err := os.WriteFile(p, []byte("secret-secret-secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := Dir(dir)
	if err := d.WriteFile("x.yaml", []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, err := d.ReadFile("x.yaml")
	if err != nil || string(got) != "new" {
		t.Errorf("got %q, %v", got, err)
	}
	if m := mode(t, p); m != 0o600 {
		t.Errorf("mode %v, want 0600", m)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left temporary files: %v", entries)
	}
}

// TestReprovision: a new first-boot file with a fresh token on an enrolled
// kiosk (moved to another site) enrols it again.
func TestReprovision(t *testing.T) {
	r := newRig(t)
	r.write(r.file(r.token(time.Hour, 1)))
	first, err := r.run(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.admin.CreateSite(context.Background(), "north", "North Hub"); err != nil {
		t.Fatal(err)
	}
	r.site = "north"
	f := r.file(r.token(time.Hour, 1))
	r.write(f)
	second, err := r.run(nil)
	if err != nil {
		t.Fatalf("re-provisioned first boot: %v\n%s", err, r.logs)
	}
	if second.AlreadyDone || second.DeviceID == first.DeviceID || second.Site != "north" {
		t.Errorf("second: %+v, first: %+v", second, first)
	}
	if second.Hostname != first.Hostname {
		t.Errorf("hostname changed %q → %q: the device key should stay", first.Hostname, second.Hostname)
	}
	if _, err := os.Stat(filepath.Join(r.state, IdentityFile+".previous")); err != nil {
		t.Errorf("old identity not kept: %v", err)
	}
	if r.imageHolds(f.Token) {
		t.Error("the new token is still in the image")
	}
}

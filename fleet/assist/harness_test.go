package assist_test

// The test harness for remote help end to end, with real parts: the
// kiosk's Sharer (fed the real capture of a form page), the agent's Relay
// in a child process (so it can be killed like a crashed agent), the
// fleet's Hub behind net/http on loopback TLS with a certificate from
// fleet/tlscert, and the viewer in headless Chromium. Fakes, named as such:
// fakeDeviceAuth and fakeStaffAuth stand in for fleet/server's bearer check
// and fleet/console's session cookie, which are wired in later.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent/assist"
	"accesskiosk/fleet/assist/wire"
	"accesskiosk/internal/pin"
	kioskassist "accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/assist/assisttest"
	"accesskiosk/kiosk/assist/link"
)

const agentEnv = "ASSIST_E2E_AGENT"

// TestMain runs the agent's relay when the test binary is started as the
// agent child (agentEnv holds its config as JSON).
func TestMain(m *testing.M) {
	if cfg := os.Getenv(agentEnv); cfg != "" {
		os.Exit(runAgentChild(cfg))
	}
	if cfg := os.Getenv(hubEnv); cfg != "" {
		os.Exit(runHubChild(cfg))
	}
	os.Exit(m.Run())
}

type agentConfig struct {
	Socket   string `json:"socket"`
	FleetURL string `json:"fleet_url"`
	Pin      string `json:"pin"`
	Cred     string `json:"cred"`
	Log      string `json:"log"`
}

func runAgentChild(raw string) int {
	var c agentConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	lf, err := os.OpenFile(c.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := logrus.New()
	log.SetOutput(lf)
	log.SetLevel(logrus.DebugLevel)
	p, err := pin.Parse(c.Pin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	r, err := assist.New(assist.Options{Listen: link.ListenOptions{Path: c.Socket, Group: -1}, FleetURL: c.FleetURL, Pin: p,
		Credential: func() string { return c.Cred }, Log: log, PingEvery: 2 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// The test offers help through the child's stdin (standing in for the
	// fleet command the report loop will hand the relay): one share id a line.
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := os.Stdin.Read(buf)
			if err != nil {
				return
			}
			id := strings.TrimSpace(string(buf[:n]))
			if err := r.Offer(ctx, id); err != nil {
				log.WithError(err).Warn("offer failed")
			}
		}
	}()
	fmt.Println("READY")
	if err := r.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// agentProc is the agent child.
type agentProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
}

func startAgent(t *testing.T, cfg agentConfig) *agentProc {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Env = append(os.Environ(), agentEnv+"="+string(raw))
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &agentProc{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		buf := make([]byte, 64)
		n, _ := out.Read(buf)
		ready <- strings.Contains(string(buf[:n]), "READY")
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(a.done) }()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the agent child did not start")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the agent child did not start within 30 s")
	}
	t.Cleanup(func() { a.kill() })
	return a
}

func (a *agentProc) offer(id string) error {
	_, err := fmt.Fprintln(a.stdin, id)
	return err
}

// kill is a crash: SIGKILL, no goodbye to anyone.
func (a *agentProc) kill() {
	a.cmd.Process.Kill()
	<-a.done
}

// kiosk is the kiosk's side: a Sharer fed the form workload with the
// password and card fields masked, and its events as channels.
type kiosk struct {
	s       *kioskassist.Sharer
	offers  chan string
	sharing chan struct{}
	ended   chan string
	points  chan kioskassist.Point
	links   chan bool
	form    assisttest.Form
	// still: the screen never changes (the first capture, again and again).
	still   bool
	submits atomic.Int64
}

func (k *kiosk) Offer(via string)                           { k.offers <- via }
func (k *kiosk) Sharing()                                   { k.sharing <- struct{}{} }
func (k *kiosk) Ended(reason string, _ kioskassist.Summary) { k.ended <- reason }
func (k *kiosk) Point(p kioskassist.Point)                  { k.points <- p }
func (k *kiosk) Link(up bool) {
	select {
	case k.links <- up:
	default:
	}
}

func startKiosk(t *testing.T, socket string) *kiosk {
	t.Helper()
	return startKioskWith(t, socket, kioskassist.Options{})
}

// startKioskWith is startKiosk with options (Socket, Events and the
// redial waits are set here).
func startKioskWith(t *testing.T, socket string, opts kioskassist.Options) *kiosk {
	t.Helper()
	return startKioskStill(t, socket, opts, false)
}

func startKioskStill(t *testing.T, socket string, opts kioskassist.Options, still bool) *kiosk {
	t.Helper()
	w, err := assisttest.NewWorkload()
	if err != nil {
		t.Fatal(err)
	}
	w.ScrollEvery = 1 << 30 // typing only: the marker stays where it is
	k := &kiosk{offers: make(chan string, 16), sharing: make(chan struct{}, 16), ended: make(chan string, 16),
		points: make(chan kioskassist.Point, 256), links: make(chan bool, 64), form: w.Form(), still: still}
	opts.Socket, opts.Events, opts.RedialMin, opts.RedialMax = socket, k, 100*time.Millisecond, 500*time.Millisecond
	k.s = kioskassist.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { k.s.Run(ctx); close(done) }()
	masks := kioskassist.Masks{Rects: []image.Rectangle{k.form.Password, k.form.Card}}
	stillImg, _, err := assisttest.LoadForm()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-k.s.Want():
				k.submits.Add(1)
				if k.still {
					img := image.NewRGBA(stillImg.Bounds())
					copy(img.Pix, stillImg.Pix)
					k.s.Submit(img, masks)
					continue
				}
				k.s.Submit(w.Next(), masks)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return k
}

// waitLink waits until the kiosk's link to the agent is up.
func (k *kiosk) waitLink(t *testing.T) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if k.s.Connected() {
			return
		}
		select {
		case <-deadline:
			t.Fatal("the kiosk did not reach the agent within 30 s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func recv[T any](t *testing.T, c <-chan T, what string, d time.Duration) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(d):
		t.Fatalf("no %s within %v", what, d)
	}
	var zero T
	return zero
}

// scanForFrames fails if any file under dirs holds frame bytes: a JPEG
// start (FF D8 FF), or the marker's colour as RGB or RGBA pixels.
func scanForFrames(t *testing.T, dirs ...string) (files int) {
	t.Helper()
	needles := map[string]string{"JPEG header": "\xff\xd8\xff", "PNG signature": "\x89PNG\r\n\x1a\n", "magenta RGB pixels": "\xff\x00\xff\xff\x00\xff\xff\x00\xff",
		"magenta RGBA pixels": "\xff\x00\xff\xff\xff\x00\xff\xff", "frame magic": wire.Magic}
	for _, d := range dirs {
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err != nil || !fi.Mode().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			files++
			for what, n := range needles {
				if strings.Contains(string(b), n) {
					t.Errorf("%s: holds %s (%s)", p, what, hex.EncodeToString([]byte(n)))
				}
			}
			return nil
		})
	}
	return files
}

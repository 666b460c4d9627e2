package shell

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/kiosk/webkit/webkittest"
)

// TestCompositorRenderer: only WLR_RENDERER=pixman (what the kiosk unit
// sets when it runs cage again without the GPU) reads as software.
func TestCompositorRenderer(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"pixman", bus.RendererSoftware},
		{"gles2", ""},
		{"vulkan", ""},
		{"", ""},
	} {
		t.Setenv("WLR_RENDERER", tc.env)
		if got := compositorRenderer(); got != tc.want {
			t.Errorf("WLR_RENDERER=%q: renderer %q, want %q", tc.env, got, tc.want)
		}
	}
}

// TestDBus drives the shell through its D-Bus contract on a real
// dbus-daemon, and checks sd_notify on a real notify socket.
func TestDBus(t *testing.T) {
	addr := bustest.Start(t)
	cfg := testConfig(t, []string{"http://127.0.0.1:9"}, nil, time.Hour, time.Minute)

	sock := filepath.Join(t.TempDir(), "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "400000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	// As under cage run again with the software renderer (notify-relay
	// --retry-env WLR_RENDERER=pixman): Status says so.
	t.Setenv("WLR_RENDERER", "pixman")

	// Read the notify socket as systemd does, from the start.
	notes := make(chan string, 1024)
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := notify.Read(buf)
			if err != nil {
				close(notes)
				return
			}
			for _, l := range strings.Split(string(buf[:n]), "\n") {
				select {
				case notes <- l:
				default:
				}
			}
		}
	}()
	ts := startShell(t, Options{Config: cfg, Bus: bustest.Conn(t, addr), Tick: 50 * time.Millisecond, Version: "test-1"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("sd_notify", func(t *testing.T) {
		got := map[string]bool{}
		timeout := time.After(5 * time.Second)
	read:
		for !(got["READY=1"] && got["WATCHDOG=1"]) {
			select {
			case l, ok := <-notes:
				if !ok {
					break read
				}
				got[l] = true
			case <-timeout:
				break read
			}
		}
		if !got["READY=1"] || !got["WATCHDOG=1"] {
			t.Errorf("notify socket got %v, want READY=1 and WATCHDOG=1", got)
		}
	})

	client := bus.NewClient(bustest.Conn(t, addr))
	events, err := client.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("status-idle", func(t *testing.T) {
		st, err := client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != bus.StateIdle || st.SessionStartedUnixMs != 0 || st.Version != "test-1" || st.UptimeMs <= 0 ||
			st.Renderer != bus.RendererSoftware {
			t.Errorf("Status = %+v, want idle, no session, version test-1, uptime, software renderer", st)
		}
	})

	var started int64
	t.Run("session-started", func(t *testing.T) {
		key(t, "shift")
		ev := nextEvent(t, events)
		if ev.Kind != bus.EventStarted || ev.UnixMs <= 0 {
			t.Fatalf("want SessionStarted, got %+v", ev)
		}
		started = ev.UnixMs
		st, err := client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != bus.StateInSession || st.SessionStartedUnixMs != started {
			t.Errorf("Status = %+v, want in_session since %d", st, started)
		}
	})

	t.Run("show-message", func(t *testing.T) {
		const text = "The library closes in 10 minutes"
		if err := client.ShowMessage(ctx, text, 2*time.Second); err != nil {
			t.Fatal(err)
		}
		banner := func() string {
			var s string
			webkittest.Do(t, func() { s = ts.s.win.BannerText() })
			return s
		}
		if !waitFor(2*time.Second, func() bool { return banner() == text }) {
			t.Errorf("banner %q, want %q", banner(), text)
		}
		if !waitFor(5*time.Second, func() bool { return banner() == "" }) {
			t.Errorf("banner still %q after its time", banner())
		}
	})

	t.Run("bad-arguments", func(t *testing.T) {
		if err := client.ShowMessage(ctx, "  ", 0); err == nil {
			t.Error("ShowMessage with empty text: no error")
		}
		if err := client.EndSession(ctx, "Bad Reason!"); err == nil {
			t.Error("EndSession with a bad reason: no error")
		}
		if st, _ := client.Status(ctx); st.State != bus.StateInSession {
			t.Errorf("a refused call changed the state to %s", st.State)
		}
	})

	t.Run("name-taken", func(t *testing.T) {
		_, err := bus.Serve(bustest.Conn(t, addr), service{ts.s})
		if !errors.Is(err, bus.ErrNameTaken) {
			t.Errorf("second kiosk on the bus: %v, want ErrNameTaken", err)
		}
	})

	t.Run("still-there-continues", func(t *testing.T) {
		webkittest.Do(t, func() { cfg.Session.IdleTimeout = 500 * time.Millisecond })
		defer webkittest.Do(t, func() { cfg.Session.IdleTimeout = time.Hour })
		if !waitFor(5*time.Second, func() bool { return ts.state(t) == bus.StateWarning }) {
			t.Fatalf("no warning; state %s", ts.state(t))
		}
		var visible bool
		webkittest.Do(t, func() { visible = ts.s.win.PanelVisible() })
		if !visible {
			t.Error("warning state without the full-screen panel")
		}
		webkittest.Do(t, func() { cfg.Session.IdleTimeout = time.Hour })
		key(t, "shift")
		if !waitFor(3*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
			t.Errorf("a key press did not continue the session; state %s", ts.state(t))
		}
	})

	t.Run("toolbar-end-session", func(t *testing.T) {
		// A real click on the toolbar's End session button asks first.
		xdo(t, "mousemove", "1165", "47", "click", "1")
		var visible bool
		if !waitFor(3*time.Second, func() bool {
			webkittest.Do(t, func() { visible = ts.s.win.PanelVisible() })
			return visible
		}) {
			t.Fatal("End session did not ask for confirmation")
		}
		if st := ts.state(t); st != bus.StateInSession {
			t.Fatalf("state %s before confirming, want in_session", st)
		}
		webkittest.Do(t, func() { ts.s.button(panelConfirmEnd) })
		ev := nextEvent(t, events)
		if ev.Kind != bus.EventEnded || ev.Reason != bus.ReasonToolbar {
			t.Fatalf("want SessionEnded(toolbar), got %+v", ev)
		}
		if ev.Receipt.StartedUnixMs != started || ev.Receipt.ResetMs < 0 || len(ev.Receipt.Failed) > 0 {
			t.Errorf("receipt %+v", ev.Receipt)
		}
		st, err := client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != bus.StateIdle || st.SessionStartedUnixMs != 0 || st.SessionsEnded != 1 {
			t.Errorf("Status after the end = %+v, want idle, no session, 1 ended", st)
		}
	})
}

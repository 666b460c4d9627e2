package shell

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/kiosk/guides"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/volunteer"
	"accesskiosk/kiosk/webkit/webkittest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestVolunteerCodeFromTheBus: the real shell (WebKitGTK under Xvfb, real
// D-Bus) takes a one-time code through AddVolunteerCode, as the agent sends
// it, and a volunteer unlocks with it once on the kiosk's volunteer page; a
// malformed code is refused by the bus; the code is never logged.
func TestVolunteerCodeFromTheBus(t *testing.T) {
	const code = "62950418"
	cfg := testConfig(t, []string{"https://www.example.gov.uk"}, nil, time.Minute, 30*time.Second)
	cfg.Volunteer = volunteer.DefaultConfig() // no PIN: codes are the only way in
	if err := cfg.Volunteer.Validate(nil, "volunteer", cfg.Session.IdleTimeout); err != nil {
		t.Fatal(err)
	}
	lib, err := guides.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := logrus.New()
	log.SetOutput(logs)
	log.SetLevel(logrus.DebugLevel)
	pages, err := ui.New(defaultUIConfig(t), lib, log)
	if err != nil {
		t.Fatal(err)
	}
	pages.SetVolunteer(cfg.Volunteer)
	addr := bustest.Start(t)
	ts := startShell(t, Options{Config: cfg, Pages: pages, Bus: bustest.Conn(t, addr), Log: log, Tick: 50 * time.Millisecond})
	client := bus.NewClient(bustest.Conn(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var xml string
	if err := bustest.Conn(t, addr).Object(bus.Name, bus.Path).CallWithContext(ctx, "org.freedesktop.DBus.Introspectable.Introspect", 0).Store(&xml); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(xml, "AddVolunteerCode") {
		t.Fatalf("the shell does not export AddVolunteerCode:\n%s", xml)
	}
	codes := func() int {
		var n int
		webkittest.Do(t, func() { n = ts.s.Volunteer().Gate().State().Codes })
		return n
	}
	if err := client.AddVolunteerCode(ctx, "6295041x", 5*time.Minute); err == nil {
		t.Error("a malformed code was accepted")
	}
	if n := codes(); n != 0 {
		t.Fatalf("gate holds %d codes before any valid one", n)
	}
	if err := client.AddVolunteerCode(ctx, code, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := codes(); n != 1 {
		t.Fatalf("gate holds %d codes, want 1", n)
	}

	// A volunteer opens the volunteer page and types the code.
	key(t, "shift")
	if !waitFor(3*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
		t.Fatalf("no session; state %s", ts.state(t))
	}
	webkittest.Do(t, func() { ts.s.button(toolVolunteer) })
	if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.uri(t), "kiosk://volunteer") }) {
		t.Fatalf("view shows %q, want the volunteer page", ts.uri(t))
	}
	webkittest.Do(t, func() { ts.s.bridgeMessage(ts.s.cur, fromService, `{"action":"volunteer_unlock","entry":"`+code+`"}`) })
	if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.paneURI(t), "kiosk://volunteer/services") }) {
		t.Fatalf("pane shows %q after the code, want the service picker", ts.paneURI(t))
	}
	var on bool
	webkittest.Do(t, func() { on = ts.s.assisted() })
	if !on {
		t.Fatal("not assisted after unlocking with the code")
	}
	if n := codes(); n != 0 {
		t.Errorf("gate holds %d codes after use, want 0 (single use)", n)
	}
	if l := logs.String(); !strings.Contains(l, "volunteer code added") || strings.Contains(l, code) || strings.Contains(l, "6295041x") {
		t.Errorf("log must say a code was added and never the code:\n%s", l)
	}
}

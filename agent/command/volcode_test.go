package command

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/agent/kiosklink"
	"accesskiosk/fleet/api"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"

	"github.com/sirupsen/logrus"
)

// The agent's real kiosk link must offer the optional method, or every
// volunteer_code would be refused in production.
var _ VolunteerCodes = (*kiosklink.Link)(nil)

// codeShell is a kiosk shell on the bus that may take volunteer codes.
type codeShell struct {
	mu      sync.Mutex
	codes   []string
	seconds []uint32
}

func (s *codeShell) EndSession(string) error          { return nil }
func (s *codeShell) Status() bus.Status               { return bus.Status{State: bus.StateIdle} }
func (s *codeShell) ShowMessage(string, uint32) error { return nil }

type volShell struct{ codeShell }

func (s *volShell) AddVolunteerCode(code string, seconds uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes = append(s.codes, code)
	s.seconds = append(s.seconds, seconds)
	return nil
}

// kioskOnBus serves shell on a real private bus and returns a client for it.
func kioskOnBus(t *testing.T, shell bus.Service) *bus.Client {
	t.Helper()
	addr := bustest.Start(t)
	if _, err := bus.Serve(bustest.Conn(t, addr), shell); err != nil {
		t.Fatal(err)
	}
	return bus.NewClient(bustest.Conn(t, addr))
}

func openLogged(t *testing.T, kiosk Kiosk) (*Executor, string, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	l := logrus.New()
	l.Out = &logs
	l.SetLevel(logrus.DebugLevel)
	journal := filepath.Join(t.TempDir(), "commands.json")
	e, err := Open(Options{Journal: journal, Kiosk: kiosk, Log: l})
	if err != nil {
		t.Fatal(err)
	}
	return e, journal, &logs
}

func TestVolunteerCodeOverRealBus(t *testing.T) {
	const code = "30571946"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	shell := &volShell{}
	e, journal, logs := openLogged(t, kioskOnBus(t, shell))
	cmds := []api.Command{
		{ID: "v1", Kind: api.CommandVolunteerCode, Text: code, Seconds: 600},
		{ID: "v2", Kind: api.CommandVolunteerCode, Text: "3057194", Seconds: 600},
		{ID: "v3", Kind: api.CommandVolunteerCode, Text: "30571947", Seconds: 901},
	}
	e.Run(ctx, cmds)
	e.Run(ctx, cmds[:1]) // sent again (lost ack): not run twice

	acks := e.Acks()
	want := map[string]string{"v1": api.AckDone, "v2": api.AckRefused, "v3": api.AckRefused}
	if len(acks) != len(want) {
		t.Fatalf("acks = %+v", acks)
	}
	for _, a := range acks {
		if a.Status != want[a.ID] {
			t.Errorf("ack %s = %s (%q), want %s", a.ID, a.Status, a.Detail, want[a.ID])
		}
		if strings.Contains(a.Detail, "3057194") {
			t.Errorf("ack %s detail %q repeats the code", a.ID, a.Detail)
		}
	}
	shell.mu.Lock()
	if len(shell.codes) != 1 || shell.codes[0] != code || shell.seconds[0] != 600 {
		t.Errorf("kiosk got codes %v seconds %v, want [%s] [600]", shell.codes, shell.seconds, code)
	}
	shell.mu.Unlock()

	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "3057194") {
		t.Errorf("journal holds the code: %s", b)
	}
	if logs.Len() == 0 {
		t.Fatal("nothing logged: the no-code check below would prove nothing")
	}
	if strings.Contains(logs.String(), "3057194") {
		t.Errorf("log holds the code:\n%s", logs)
	}
}

func TestVolunteerCodeRefusedWithoutVolunteerMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name  string
		kiosk func(t *testing.T) Kiosk
		want  string
	}{
		{"older shell on the bus", func(t *testing.T) Kiosk { return kioskOnBus(t, &codeShell{}) }, "does not accept volunteer codes"},
		{"link without the method", func(t *testing.T) Kiosk { return &recorder{} }, "cannot pass volunteer codes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, logs := openLogged(t, tc.kiosk(t))
			e.Run(ctx, []api.Command{{ID: "v1", Kind: api.CommandVolunteerCode, Text: "11223344", Seconds: 60}})
			acks := e.Acks()
			if len(acks) != 1 || acks[0].Status != api.AckRefused || !strings.Contains(acks[0].Detail, tc.want) {
				t.Errorf("acks = %+v, want refused %q", acks, tc.want)
			}
			if strings.Contains(logs.String(), "11223344") {
				t.Errorf("log holds the code:\n%s", logs)
			}
		})
	}
}

package command

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/fleet/api"
)

type recorder struct {
	mu       sync.Mutex
	calls    []string
	rebootFn func() error
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}
func (r *recorder) EndSession(ctx context.Context, reason string) error {
	r.add("end:" + reason)
	return nil
}
func (r *recorder) ShowMessage(ctx context.Context, text string, d time.Duration) error {
	r.add("msg:" + text)
	return nil
}
func (r *recorder) RestartUnit(ctx context.Context, unit string) error {
	r.add("restart:" + unit)
	return nil
}
func (r *recorder) Reboot(ctx context.Context) error {
	r.add("reboot")
	if r.rebootFn != nil {
		return r.rebootFn()
	}
	return nil
}

func open(t *testing.T, journal string, rec *recorder) *Executor {
	t.Helper()
	e, err := Open(Options{Journal: journal, Kiosk: rec, System: rec, KioskUnit: "kiosk.service", AllowReboot: true,
		Identity: func() string { return "This kiosk is dev1." }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		c    api.Command
		want string // "" means valid
	}{
		{api.Command{ID: "a", Kind: api.CommandEndSession}, ""},
		{api.Command{ID: "a", Kind: api.CommandShowMessage, Text: "hello", Seconds: 30}, ""},
		{api.Command{ID: "a", Kind: KindIdentify}, ""},
		{api.Command{Kind: api.CommandEndSession}, "no id"},
		{api.Command{ID: strings.Repeat("x", 65), Kind: api.CommandReboot}, "too long"},
		{api.Command{ID: "a"}, "no kind"},
		{api.Command{ID: "a", Kind: "rm_rf"}, `unknown command kind "rm_rf"`},
		{api.Command{ID: "a", Kind: api.CommandShowMessage}, "needs text"},
		{api.Command{ID: "a", Kind: api.CommandShowMessage, Text: strings.Repeat("é", 501)}, "longer than 500"},
		{api.Command{ID: "a", Kind: api.CommandShowMessage, Text: "x", Seconds: -1}, "seconds must be"},
		{api.Command{ID: "a", Kind: api.CommandReboot, Text: "now"}, "takes no text"},
		{api.Command{ID: "a", Kind: api.CommandVolunteerCode, Text: "01234567", Seconds: 900}, ""},
		{api.Command{ID: "a", Kind: api.CommandVolunteerCode, Text: "0123456", Seconds: 60}, "volunteer_code text: "},
		{api.Command{ID: "a", Kind: api.CommandVolunteerCode, Text: "01234567"}, "volunteer_code seconds: "},
		{api.Command{ID: "a", Kind: api.CommandAssistOffer, Text: strings.Repeat("ab", 16), Seconds: 120}, ""},
		{api.Command{ID: "a", Kind: api.CommandAssistOffer, Text: strings.Repeat("AB", 16), Seconds: 120}, "assist_offer text: "},
		{api.Command{ID: "a", Kind: api.CommandAssistOffer, Text: "../../etc", Seconds: 120}, "assist_offer text: "},
		{api.Command{ID: "a", Kind: api.CommandAssistOffer, Text: strings.Repeat("ab", 16), Seconds: 301}, "assist_offer seconds: "},
	} {
		got := validate(tc.c)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("validate(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestAtMostOnceAcrossRestarts(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "commands.json")
	rec := &recorder{}
	e := open(t, journal, rec)
	cmds := []api.Command{
		{ID: "c1", Kind: api.CommandEndSession},
		{ID: "c2", Kind: api.CommandRestartKiosk},
		{ID: "c3", Kind: "nonsense"},
		{ID: "c4", Kind: KindIdentify},
	}
	if n := e.Run(context.Background(), cmds); n != 4 {
		t.Errorf("new = %d, want 4", n)
	}
	acks := e.Acks()
	want := map[string]string{"c1": api.AckDone, "c2": api.AckDone, "c3": api.AckRefused, "c4": api.AckDone}
	if len(acks) != 4 {
		t.Fatalf("acks = %+v", acks)
	}
	for _, a := range acks {
		if want[a.ID] != a.Status {
			t.Errorf("ack %s = %s, want %s", a.ID, a.Status, want[a.ID])
		}
	}
	e.Sent(acks)
	if len(e.Acks()) != 0 {
		t.Errorf("acks after Sent = %+v", e.Acks())
	}
	// The agent restarts; the fleet sends the same commands again (its
	// answer with our acks was lost): nothing runs twice, acks come again.
	e = open(t, journal, rec)
	if n := e.Run(context.Background(), cmds); n != 0 {
		t.Errorf("new after restart = %d, want 0", n)
	}
	if got := len(e.Acks()); got != 4 {
		t.Errorf("re-acks = %d, want 4", got)
	}
	if got := strings.Join(rec.calls, ","); got != "end:fleet_command,restart:kiosk.service,msg:This kiosk is dev1." {
		t.Errorf("calls = %s", got)
	}
}

func TestRebootAckedEvenThoughItEndsTheAgent(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "commands.json")
	rec := &recorder{}
	e := open(t, journal, rec)
	// Simulate the reboot killing us: the journal on disk at the moment of
	// the reboot call must already say done.
	rec.rebootFn = func() error {
		e2 := open(t, journal, &recorder{})
		if a := e2.Acks(); len(a) != 1 || a[0].Status != api.AckDone {
			t.Errorf("journal at reboot time: %+v", a)
		}
		return nil
	}
	e.Run(context.Background(), []api.Command{{ID: "r1", Kind: api.CommandReboot}})

	// A reboot logind refuses is acked as failed, with logind's reason.
	rec2 := &recorder{rebootFn: func() error { return errors.New("interactive authorization required") }}
	e = open(t, filepath.Join(t.TempDir(), "c.json"), rec2)
	e.Run(context.Background(), []api.Command{{ID: "r2", Kind: api.CommandReboot}})
	if a := e.Acks(); len(a) != 1 || a[0].Status != api.AckFailed || !strings.Contains(a[0].Detail, "authorization") {
		t.Errorf("acks = %+v", a)
	}
}

func TestRefusedByConfig(t *testing.T) {
	e, err := Open(Options{Journal: filepath.Join(t.TempDir(), "j.json"), Kiosk: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	e.Run(context.Background(), []api.Command{{ID: "a", Kind: api.CommandReboot}, {ID: "b", Kind: api.CommandRestartKiosk}})
	for _, a := range e.Acks() {
		if a.Status != api.AckRefused {
			t.Errorf("ack %+v, want refused", a)
		}
	}
}

// TestAssistOffer: an offer of help reaches the relay with its share id
// and a deadline; without remote help it is refused; the share id is not
// kept in the journal.
func TestAssistOffer(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "j.json")
	id := strings.Repeat("0f", 16)
	var got string
	var deadline time.Duration
	e, err := Open(Options{Journal: journal, Assist: func(ctx context.Context, shareID string) error {
		got = shareID
		if d, ok := ctx.Deadline(); ok {
			deadline = time.Until(d)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.Run(context.Background(), []api.Command{{ID: "a", Kind: api.CommandAssistOffer, Text: id, Seconds: 60}})
	if got != id || deadline <= 0 || deadline > 60*time.Second {
		t.Errorf("relay got %q with %v left", got, deadline)
	}
	if a := e.Acks(); len(a) != 1 || a[0].Status != api.AckDone {
		t.Errorf("acks %+v", a)
	}
	if b, _ := os.ReadFile(journal); strings.Contains(string(b), id) {
		t.Error("the journal keeps the share id")
	}
	off, err := Open(Options{Journal: filepath.Join(t.TempDir(), "j.json")})
	if err != nil {
		t.Fatal(err)
	}
	off.Run(context.Background(), []api.Command{{ID: "b", Kind: api.CommandAssistOffer, Text: id, Seconds: 60}})
	if a := off.Acks(); len(a) != 1 || a[0].Status != api.AckRefused {
		t.Errorf("acks without remote help %+v, want refused", a)
	}
}

package report_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent/command"
	"accesskiosk/agent/fakefleet"
	"accesskiosk/agent/health"
	"accesskiosk/agent/queue"
	"accesskiosk/agent/report"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/clock"
	"accesskiosk/internal/fleetclient"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

type rig struct {
	fleet *fakefleet.Server
	clk   *clock.Fast
	q     *queue.Queue
	rep   *report.Reporter
	reg   *health.Registry
	kiosk *kioskDouble
	exec  *command.Executor
	logs  *logBuffer
}

// logBuffer keeps the reporter's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// kioskDouble records what the executor asked of the kiosk; the real
// kiosk bus is exercised in agent/kiosklink and the end-to-end test.
type kioskDouble struct {
	mu    sync.Mutex
	ended []string
	msgs  []string
}

func (k *kioskDouble) EndSession(ctx context.Context, reason string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ended = append(k.ended, reason)
	return nil
}

func (k *kioskDouble) ShowMessage(ctx context.Context, text string, d time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.msgs = append(k.msgs, text)
	return nil
}

func newRig(t *testing.T) *rig {
	t.Helper()
	fs := fakefleet.Start(t, false)
	c, err := fleetclient.New(fleetclient.Options{BaseURL: fs.URL, Timeout: 5 * time.Second, Retries: 1, BackoffMin: time.Millisecond, BackoffMax: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Enrol(context.Background(), api.EnrolRequest{Token: fs.Token, Capability: api.CapabilityVersion})
	if err != nil {
		t.Fatal(err)
	}
	c.SetCredential(id.Credential)
	dir := t.TempDir()
	q, err := queue.Open(filepath.Join(dir, "queue"), queue.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFast(t0)
	reg := health.NewRegistry(clk.Now)
	kd := &kioskDouble{}
	ex, err := command.Open(command.Options{Journal: filepath.Join(dir, "commands.json"), Kiosk: kd, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{fleet: fs, clk: clk, q: q, reg: reg, kiosk: kd, exec: ex, logs: &logBuffer{}}
	log := logrus.New()
	log.SetOutput(r.logs)
	r.rep = report.New(report.Options{
		Queue:    q,
		Snapshot: func(context.Context) api.Report { return api.Report{Warnings: reg.Wire()} },
		Fleet:    func() report.Fleet { return c },
		Commands: ex,
		Health:   reg,
		Clock:    clk,
		Interval: 30 * time.Second, Jitter: 5 * time.Second,
		BackoffMin: 2 * time.Second, BackoffMax: 5 * time.Minute,
		Log: log,
	})
	return r
}

// The agent says when things go well too: the first report the fleet
// accepts, and the fleet back after an outage.
func TestLogsGoodNews(t *testing.T) {
	r := newRig(t)
	outageEnd := t0.Add(10 * time.Minute)
	r.fleet.SetFault(func() fakefleet.Fault {
		if r.clk.Now().Before(outageEnd) {
			return fakefleet.Drop
		}
		return fakefleet.OK
	})
	r.run(t, func() bool { return r.clk.Now().After(outageEnd) && r.rep.Accepted() >= 1 })
	logs := r.logs.String()
	if strings.Count(logs, "first report accepted by the fleet") != 1 {
		t.Errorf("want one line saying the first report was accepted:\n%s", logs)
	}
	if !regexp.MustCompile(`fleet reachable again after \d+ failures`).MatchString(logs) {
		t.Errorf("no line saying the fleet is reachable again:\n%s", logs)
	}
	// The second outage: no second "first report", a second recovery.
	before := strings.Count(logs, "fleet reachable again")
	outage2 := r.clk.Now().Add(10 * time.Minute)
	r.fleet.SetFault(func() fakefleet.Fault {
		if r.clk.Now().Before(outage2) {
			return fakefleet.Unavailable
		}
		return fakefleet.OK
	})
	sent := r.rep.Accepted()
	r.run(t, func() bool { return r.clk.Now().After(outage2) && r.rep.Accepted() > sent })
	logs = r.logs.String()
	if strings.Count(logs, "first report accepted") != 1 || strings.Count(logs, "fleet reachable again") != before+1 {
		t.Errorf("after a second outage:\n%s", logs)
	}
}

// run runs the reporter until done says stop (checked in real time, bounded).
func (r *rig) run(t *testing.T, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.rep.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			cancel()
			<-errc
			t.Fatalf("not done after 60s real time (simulated %s, queue %+v)", r.clk.Now().Sub(t0), r.q.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestOutageHourThenBack: the fleet is unreachable for a simulated hour
// (connections dropped, 503 with Retry-After), then back, with some answers
// lost after the fleet stored the batch. Every report made arrives, in
// order, and none is stored twice.
func TestOutageHourThenBack(t *testing.T) {
	r := newRig(t)
	outageEnd := t0.Add(time.Hour)
	var n int
	r.fleet.SetFault(func() fakefleet.Fault {
		n++
		if r.clk.Now().Before(outageEnd) {
			if n%2 == 0 {
				return fakefleet.Unavailable
			}
			return fakefleet.Drop
		}
		if n%3 == 0 && r.clk.Now().Before(outageEnd.Add(20*time.Minute)) {
			return fakefleet.LoseAnswer
		}
		return fakefleet.OK
	})
	sawWarning := false
	r.run(t, func() bool {
		if r.clk.Now().Before(outageEnd) && r.reg.Has(health.CodeFleetUnreachable) {
			sawWarning = true
		}
		return r.clk.Now().After(outageEnd.Add(30*time.Minute)) && r.q.Len() == 0
	})
	got := r.fleet.Reports()
	if len(got) < 100 {
		t.Fatalf("fleet holds %d reports; want at least 100 (one per ~30s over 90 min)", len(got))
	}
	for i, rep := range got {
		if rep.Seq != uint64(i+1) {
			t.Fatalf("report %d has seq %d: want every report, in order, once", i, rep.Seq)
		}
	}
	if r.fleet.Duplicates() == 0 {
		t.Errorf("no report was resent after a lost answer: the idempotency path was not exercised")
	}
	if !sawWarning {
		t.Errorf("fleet_unreachable was never raised during the outage")
	}
	if r.reg.Has(health.CodeFleetUnreachable) {
		t.Errorf("fleet_unreachable still set after recovery")
	}
	var offline int
	for _, rep := range got {
		if !rep.Health.NetworkUp {
			offline++
		}
		if rep.Health.QueueDepth > 150 {
			t.Errorf("queue depth %d", rep.Health.QueueDepth)
		}
	}
	if offline < 100 {
		t.Errorf("%d reports say they were made offline; want the outage's ~110", offline)
	}
	t.Logf("%d reports arrived in order, %d resent copies ignored, %d batches, %d made offline",
		len(got), r.fleet.Duplicates(), r.fleet.Batches(), offline)
}

// TestCommandsRunOnceAndAreAcked: the fleet sends a command with every
// answer until it sees the ack; the agent runs it once and acks it, and an
// unknown command is refused with a reason.
func TestCommandsRunOnceAndAreAcked(t *testing.T) {
	r := newRig(t)
	r.fleet.Queue(api.Command{ID: "c1", Kind: api.CommandEndSession})
	r.fleet.Queue(api.Command{ID: "c2", Kind: "format_disk"})
	r.fleet.Queue(api.Command{ID: "c3", Kind: api.CommandShowMessage, Text: "Closing in 10 minutes", Seconds: 60})
	// Lose the answers now and then so commands come again.
	var n int
	r.fleet.SetFault(func() fakefleet.Fault {
		n++
		if n%2 == 0 {
			return fakefleet.LoseAnswer
		}
		return fakefleet.OK
	})
	r.run(t, func() bool { return len(r.fleet.Acks()) >= 3 && r.clk.Now().After(t0.Add(10*time.Minute)) })
	status := map[string]string{}
	for _, a := range r.fleet.Acks() {
		status[a.ID] = a.Status
	}
	for id, want := range map[string]string{"c1": api.AckDone, "c2": api.AckRefused, "c3": api.AckDone} {
		if status[id] != want {
			t.Errorf("ack %s = %q, want %q", id, status[id], want)
		}
	}
	r.kiosk.mu.Lock()
	defer r.kiosk.mu.Unlock()
	if len(r.kiosk.ended) != 1 || r.kiosk.ended[0] != "fleet_command" {
		t.Errorf("EndSession calls = %v, want exactly one with reason fleet_command", r.kiosk.ended)
	}
	if len(r.kiosk.msgs) != 1 {
		t.Errorf("ShowMessage calls = %v, want one", r.kiosk.msgs)
	}
}

// TestNoFleetYet: with no fleet known, reports queue up and nothing fails.
func TestNoFleetYet(t *testing.T) {
	dir := t.TempDir()
	q, _ := queue.Open(dir, queue.Limits{})
	clk := clock.NewFast(t0)
	rep := report.New(report.Options{
		Queue: q, Clock: clk, Interval: 30 * time.Second,
		Snapshot: func(context.Context) api.Report { return api.Report{} },
		Fleet:    func() report.Fleet { return nil },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- rep.Run(ctx) }()
	for q.Len() < 10 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestDiskFullIsReported: the queue directory's disk is full. Reports are
// still made (held in memory), still reach the fleet, and tell it so.
func TestDiskFullIsReported(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs (tests run as root under CI): %v", err)
		}
		t.Skipf("cannot mount a tmpfs (not root?): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	q, err := queue.Open(filepath.Join(dir, "queue"), queue.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// Fill the disk.
	f, _ := os.Create(filepath.Join(dir, "filler"))
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	f.Close()

	r := newRig(t)
	r.q = q
	c, _ := fleetclient.New(fleetclient.Options{BaseURL: r.fleet.URL, Retries: 0, BackoffMin: time.Millisecond})
	c.SetCredential("dev1.secret") // the fake's credential for the device newRig enrolled
	r.rep = report.New(report.Options{
		Queue:    q,
		Snapshot: func(context.Context) api.Report { return api.Report{Warnings: r.reg.Wire()} },
		Fleet:    func() report.Fleet { return c },
		Health:   r.reg, Clock: r.clk, Interval: 30 * time.Second,
	})
	r.run(t, func() bool {
		for _, rep := range r.fleet.Reports() {
			for _, w := range rep.Warnings {
				if w.Code == health.CodeQueueWrite && strings.Contains(w.Text, "no space") {
					return true
				}
			}
		}
		return false
	})
	if n := len(r.fleet.Reports()); n < 2 {
		t.Errorf("fleet has %d reports", n)
	}
}

// TestInvalidSnapshotStillReported: a snapshot that breaks the wire's
// rules is sent stripped, with a warning saying why, rather than being
// refused by the fleet.
func TestInvalidSnapshotStillReported(t *testing.T) {
	r := newRig(t)
	c, _ := fleetclient.New(fleetclient.Options{BaseURL: r.fleet.URL, BackoffMin: time.Millisecond})
	c.SetCredential("dev1.secret")
	r.rep = report.New(report.Options{
		Queue: r.q, Clock: r.clk, Interval: 30 * time.Second, Health: r.reg,
		Snapshot: func(context.Context) api.Report {
			return api.Report{Warnings: []api.Warning{{Code: "not an identifier", Severity: "warning"}}}
		},
		Fleet: func() report.Fleet { return c },
	})
	r.run(t, func() bool { return len(r.fleet.Reports()) > 0 })
	w := r.fleet.Reports()[0].Warnings
	if len(w) != 1 || w[0].Code != "report_invalid" || !strings.Contains(w[0].Text, "warnings[0].code") {
		t.Errorf("warnings = %+v", w)
	}
}

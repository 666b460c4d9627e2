package kiosklink_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"accesskiosk/agent/health"
	"accesskiosk/agent/kiosklink"
	"accesskiosk/fleet/api"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

// shell is the kiosk's side of the contract without WebKit: the real
// bus.Serve server half with a recording Service.
type shell struct {
	mu       sync.Mutex
	ended    []string
	msgs     []string
	state    string
	renderer string
	scanner  string
	camera   string
}

func (s *shell) EndSession(reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = append(s.ended, reason)
	return nil
}
func (s *shell) Status() bus.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bus.Status{State: s.state, Renderer: s.renderer, Scanner: s.scanner, Camera: s.camera}
}
func (s *shell) ShowMessage(text string, secs uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, text)
	return nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startLink runs a link on a fresh private bus with no kiosk on it yet,
// until the test ends, and waits until it reports the kiosk gone.
func startLink(t *testing.T) (addr string, reg *health.Registry, link *kiosklink.Link, ctx context.Context) {
	t.Helper()
	addr = bustest.Start(t)
	reg = health.NewRegistry(nil)
	link = kiosklink.New(kiosklink.Options{Bus: addr, Health: reg})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go link.Run(ctx)
	waitFor(t, "kiosk_gone with no kiosk", func() bool { return reg.Has(health.CodeKioskGone) })
	return addr, reg, link, ctx
}

func TestLinkOverRealBus(t *testing.T) {
	addr, reg, link, ctx := startLink(t)
	if err := link.EndSession(ctx, bus.ReasonFleetCommand); err == nil {
		t.Errorf("EndSession with no kiosk succeeded")
	}

	sh := &shell{state: bus.StateIdle}
	srv, err := bus.Serve(bustest.Conn(t, addr), sh)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "kiosk back", func() bool { return !reg.Has(health.CodeKioskGone) })
	if got := link.State(ctx); got != bus.StateIdle {
		t.Errorf("state = %q", got)
	}

	srv.SessionStarted(time.Now().UnixMilli())
	for i, r := range []bus.Receipt{
		{Cleared: []string{bus.ClearedWebView}, ResetMs: 300, SessionMs: 60_000},
		{Cleared: []string{bus.ClearedWebView}, ResetMs: 500, SessionMs: 600_000, Assisted: true, Category: "benefits"},
		{Cleared: []string{bus.ClearedWebView}, Failed: []string{bus.ClearedDownloads}, ResetMs: 900, SessionMs: 120_000},
	} {
		if err := srv.SessionEnded([]string{bus.ReasonIdle, bus.ReasonToolbar, bus.ReasonIdle}[i], r); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "three sessions", func() bool { return link.SessionsToday() == 3 })
	counts, receipts := link.Take()
	if counts.Ended != 3 || counts.Assisted != 1 || counts.MedianMs != 120_000 || counts.ResetMedianMs != 500 ||
		counts.ResetMaxMs != 900 || counts.TotalMs != 780_000 || counts.WipeFailures != 1 {
		t.Errorf("counts = %+v", counts)
	}
	if len(receipts) != 3 || receipts[1].Reason != bus.ReasonToolbar || receipts[1].Category != "benefits" {
		t.Errorf("receipts = %+v", receipts)
	}
	if !reg.Has(health.CodeWipeFailed) {
		t.Errorf("a failed wipe raised no warning")
	}
	if c, r := link.Take(); c.Ended != 0 || len(r) != 0 {
		t.Errorf("second Take = %+v %v, want empty", c, r)
	}

	if err := link.EndSession(ctx, bus.ReasonFleetCommand); err != nil {
		t.Fatal(err)
	}
	if err := link.ShowMessage(ctx, "Closing soon", time.Minute); err != nil {
		t.Fatal(err)
	}
	sh.mu.Lock()
	if len(sh.ended) != 1 || sh.ended[0] != bus.ReasonFleetCommand || len(sh.msgs) != 1 {
		t.Errorf("shell saw ended=%v msgs=%v", sh.ended, sh.msgs)
	}
	sh.mu.Unlock()

	// The kiosk crash-loops: gone and back three times.
	for range kiosklink.CrashLoopRestarts {
		srv.Close()
		waitFor(t, "gone", func() bool { return reg.Has(health.CodeKioskGone) })
		if srv, err = bus.Serve(bustest.Conn(t, addr), sh); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "back", func() bool { return !reg.Has(health.CodeKioskGone) })
	}
	waitFor(t, "crash loop", func() bool { return reg.Has(health.CodeKioskCrashLoop) })
	if n := link.Restarts(); n != 3 {
		t.Errorf("restarts = %d", n)
	}
}

// TestSoftwareRendererWarning: a kiosk whose compositor draws in software
// (Status renderer "software") raises software_renderer, a plain warning
// for IT staff; it clears when the kiosk reports otherwise or is gone.
func TestSoftwareRendererWarning(t *testing.T) {
	addr, reg, link, ctx := startLink(t)

	sh := &shell{state: bus.StateIdle, renderer: bus.RendererSoftware}
	srv, err := bus.Serve(bustest.Conn(t, addr), sh)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "software_renderer on arrival", func() bool { return reg.Has(health.CodeSoftwareRenderer) })
	var got []api.Warning
	for _, w := range reg.Wire() {
		if w.Code == health.CodeSoftwareRenderer {
			got = append(got, w)
		}
	}
	want := []api.Warning{{Code: "software_renderer", Severity: "warning", Text: kiosklink.SoftwareRendererText}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("wire warnings = %+v, want %+v", got, want)
	}
	if n := len(kiosklink.SoftwareRendererText); n > api.MaxTextLen {
		t.Errorf("warning text is %d bytes; the fleet takes at most %d", n, api.MaxTextLen)
	}

	// The kiosk reports the GPU renderer (restarted after a fix): the
	// next report's State refresh clears the warning.
	sh.mu.Lock()
	sh.renderer = ""
	sh.mu.Unlock()
	if st := link.State(ctx); st != bus.StateIdle {
		t.Fatalf("state = %q", st)
	}
	if reg.Has(health.CodeSoftwareRenderer) {
		t.Error("software_renderer still raised after the kiosk reported the GPU renderer")
	}

	// In software again, then gone: gone clears it.
	sh.mu.Lock()
	sh.renderer = bus.RendererSoftware
	sh.mu.Unlock()
	link.State(ctx)
	if !reg.Has(health.CodeSoftwareRenderer) {
		t.Fatal("software_renderer not raised by a State refresh")
	}
	srv.Close()
	waitFor(t, "gone", func() bool { return reg.Has(health.CodeKioskGone) })
	if reg.Has(health.CodeSoftwareRenderer) {
		t.Error("software_renderer still raised with the kiosk gone")
	}
}

// TestDeviceWarnings: the kiosk's Status says how its scanner and camera
// are (issue 15): a configured device absent raises scanner_missing or
// camera_missing, one failing scanner_failing or camera_failing, a plain
// warning for IT staff with no resident data; present or unconfigured
// says nothing; the warnings follow the next State refresh and clear when
// the kiosk is gone.
func TestDeviceWarnings(t *testing.T) {
	addr, reg, link, ctx := startLink(t)
	sh := &shell{state: bus.StateIdle, scanner: bus.DeviceAbsent, camera: bus.DevicePresent}
	srv, err := bus.Serve(bustest.Conn(t, addr), sh)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "scanner_missing on arrival", func() bool { return reg.Has(kiosklink.CodeScannerMissing) })
	codes := func() map[string]api.Warning {
		m := map[string]api.Warning{}
		for _, w := range reg.Wire() {
			if w.Code != health.CodeKioskGone {
				m[w.Code] = w
			}
		}
		return m
	}
	if got := codes(); len(got) != 1 || got[kiosklink.CodeScannerMissing].Severity != "warning" || len(got[kiosklink.CodeScannerMissing].Text) > api.MaxTextLen {
		t.Errorf("warnings %+v, want scanner_missing only", got)
	}
	for _, c := range []struct {
		scanner, camera string
		want            []string
	}{
		{bus.DeviceFailing, bus.DeviceAbsent, []string{kiosklink.CodeScannerFailing, kiosklink.CodeCameraMissing}},
		{bus.DevicePresent, bus.DeviceFailing, []string{kiosklink.CodeCameraFailing}},
		{"", "", nil}, // none configured
		{bus.DevicePresent, bus.DevicePresent, nil},
		{bus.DeviceAbsent, bus.DeviceAbsent, []string{kiosklink.CodeScannerMissing, kiosklink.CodeCameraMissing}},
	} {
		sh.mu.Lock()
		sh.scanner, sh.camera = c.scanner, c.camera
		sh.mu.Unlock()
		link.State(ctx)
		got := codes()
		if len(got) != len(c.want) {
			t.Errorf("scanner %q camera %q: warnings %v, want %v", c.scanner, c.camera, got, c.want)
		}
		for _, w := range c.want {
			if _, ok := got[w]; !ok {
				t.Errorf("scanner %q camera %q: no %s in %v", c.scanner, c.camera, w, got)
			}
		}
	}
	srv.Close()
	waitFor(t, "gone", func() bool { return reg.Has(health.CodeKioskGone) })
	if got := codes(); len(got) != 0 {
		t.Errorf("device warnings with the kiosk gone: %v", got)
	}
}

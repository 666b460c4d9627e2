package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"

	"github.com/godbus/dbus/v5"
)

type fakeShell struct {
	mu       sync.Mutex
	ended    []string
	messages []string
	failEnd  error
}

func (f *fakeShell) EndSession(reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failEnd != nil {
		return f.failEnd
	}
	f.ended = append(f.ended, reason)
	return nil
}

func (f *fakeShell) Status() bus.Status {
	return bus.Status{State: bus.StateInSession, SessionStartedUnixMs: 1700000000000, Version: "test", Renderer: bus.RendererSoftware}
}

func (f *fakeShell) ShowMessage(text string, seconds uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages = append(f.messages, text)
	if seconds != bus.DefaultMessageSeconds && seconds != 5 {
		return errors.New("unexpected seconds")
	}
	return nil
}

func TestContractOverRealBus(t *testing.T) {
	addr := bustest.Start(t)
	shell := &fakeShell{}
	srv, err := bus.Serve(bustest.Conn(t, addr), shell)
	if err != nil {
		t.Fatal(err)
	}
	// A second kiosk on the same bus is refused.
	if _, err := bus.Serve(bustest.Conn(t, addr), &fakeShell{}); !errors.Is(err, bus.ErrNameTaken) {
		t.Errorf("second Serve: err = %v, want ErrNameTaken", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := bus.NewClient(bustest.Conn(t, addr))
	events, err := client.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}

	st, err := client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != bus.StateInSession || st.SessionStartedUnixMs != 1700000000000 || st.Version != "test" || st.Renderer != bus.RendererSoftware {
		t.Errorf("Status = %+v", st)
	}

	if err := client.EndSession(ctx, bus.ReasonFleetCommand); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"Has Spaces", "https://evil.example/", strings.Repeat("a", 65)} {
		if err := client.EndSession(ctx, bad); err == nil || !strings.Contains(err.Error(), "reason") {
			t.Errorf("EndSession(%q) err = %v, want refusal", bad, err)
		}
	}
	if err := client.ShowMessage(ctx, "Closing in 10 minutes", 0); err != nil {
		t.Fatal(err)
	}
	if err := client.ShowMessage(ctx, "  ", 0); err == nil {
		t.Error("empty message accepted")
	}
	if err := client.ShowMessage(ctx, strings.Repeat("x", bus.MaxMessageLen+1), 0); err == nil {
		t.Error("long message accepted")
	}
	shell.mu.Lock()
	if len(shell.ended) != 1 || shell.ended[0] != bus.ReasonFleetCommand || len(shell.messages) != 1 {
		t.Errorf("shell saw ended=%v messages=%v", shell.ended, shell.messages)
	}
	shell.failEnd = errors.New("busy")
	shell.mu.Unlock()
	if err := client.EndSession(ctx, "dbus"); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("failing EndSession err = %v", err)
	}

	if err := srv.SessionStarted(42); err != nil {
		t.Fatal(err)
	}
	want := bus.Receipt{Cleared: []string{bus.ClearedWebView, bus.ClearedWebsiteData}, ResetMs: 123, WipedMs: 45, SessionMs: 5000, Assisted: true, Category: "council_tax"}
	if err := srv.SessionEnded(bus.ReasonIdle, want); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	ev := next(t, events)
	if ev.Kind != bus.EventStarted || ev.UnixMs != 42 {
		t.Errorf("first event = %+v", ev)
	}
	ev = next(t, events)
	if ev.Kind != bus.EventEnded || ev.Reason != bus.ReasonIdle || ev.Err != nil {
		t.Fatalf("second event = %+v", ev)
	}
	if ev.Receipt.ResetMs != 123 || ev.Receipt.WipedMs != 45 || len(ev.Receipt.Cleared) != 2 || !ev.Receipt.Assisted || ev.Receipt.Category != "council_tax" || ev.Receipt.Outcome != "" {
		t.Errorf("receipt = %+v", ev.Receipt)
	}
	if ev := next(t, events); ev.Kind != bus.EventGone {
		t.Errorf("after Close: event = %+v, want EventGone", ev)
	}
}

func next(t *testing.T, ch <-chan bus.Event) bus.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("event channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return bus.Event{}
}

func TestValidReason(t *testing.T) {
	for r, want := range map[string]bool{"idle_timeout": true, "a1": true, "": false, "Idle": false, "a-b": false, "x/y": false} {
		if got := bus.ValidReason(r); got != want {
			t.Errorf("ValidReason(%q) = %v", r, got)
		}
	}
}

func TestParseRequiresKeys(t *testing.T) {
	m := bus.Status{State: "idle"}.Map()
	delete(m, "state")
	if _, err := bus.ParseStatus(m); err == nil {
		t.Error("status without state parsed")
	}
	r := bus.Receipt{ResetMs: 1}.Map()
	delete(r, "reset_ms")
	if _, err := bus.ParseReceipt(r); err == nil {
		t.Error("receipt without reset_ms parsed")
	}
}

// TestStatusRenderer: the optional renderer key goes round the a{sv} both
// ways, and a map from an older shell (no renderer key, no optional keys
// at all) still parses, with the renderer unknown.
func TestStatusRenderer(t *testing.T) {
	old := bus.Status{State: bus.StateIdle}.Map()
	delete(old, "renderer")
	for _, k := range []string{"version", "uptime_ms", "sessions_ended", "web_process_crashes"} {
		delete(old, k)
	}
	wrongType := bus.Status{State: bus.StateIdle}.Map()
	wrongType["renderer"] = dbus.MakeVariant(int64(1))
	for _, tc := range []struct {
		name string
		m    map[string]dbus.Variant
		want string
	}{
		{"software", bus.Status{State: bus.StateIdle, Renderer: bus.RendererSoftware}.Map(), bus.RendererSoftware},
		{"gpu", bus.Status{State: bus.StateIdle}.Map(), ""},
		{"older shell", old, ""},
		{"wrong type", wrongType, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bus.ParseStatus(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if got.Renderer != tc.want || got.State != bus.StateIdle {
				t.Errorf("ParseStatus = %+v (renderer %q), want renderer %q", got, got.Renderer, tc.want)
			}
		})
	}
	m := bus.Status{Renderer: bus.RendererSoftware}.Map()
	if v, ok := m["renderer"]; !ok || v.Value() != "software" {
		t.Errorf("Map()[renderer] = %#v (present %v), want \"software\"", v.Value(), ok)
	}
}

// TestConnectOutlivesItsContext: the context bounds the dial only; a
// connection made under a short timeout keeps working after it ends (a
// kiosk once lost its bus name 80 ms after start this way).
func TestConnectOutlivesItsContext(t *testing.T) {
	addr := bustest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	conn, err := bus.Connect(ctx, addr)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := bus.Serve(conn, &fakeShell{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	client := bus.NewClient(bustest.Conn(t, addr))
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if _, err := client.Status(ctx2); err != nil {
		t.Fatalf("kiosk gone after its connect context ended: %v", err)
	}
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := bus.Connect(done, addr); err == nil {
		t.Error("Connect with an ended context succeeded")
	}
}

// volShell is a fakeShell that also takes volunteer codes.
type volShell struct {
	fakeShell
	codes   []string
	seconds []uint32
}

func (v *volShell) AddVolunteerCode(code string, seconds uint32) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.codes = append(v.codes, code)
	v.seconds = append(v.seconds, seconds)
	return nil
}

func introspect(t *testing.T, addr string) string {
	t.Helper()
	var xml string
	conn := bustest.Conn(t, addr)
	if err := conn.Object(bus.Name, bus.Path).Call("org.freedesktop.DBus.Introspectable.Introspect", 0).Store(&xml); err != nil {
		t.Fatal(err)
	}
	return xml
}

func TestAddVolunteerCodeOverRealBus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("supported", func(t *testing.T) {
		addr := bustest.Start(t)
		shell := &volShell{}
		if _, err := bus.Serve(bustest.Conn(t, addr), shell); err != nil {
			t.Fatal(err)
		}
		if xml := introspect(t, addr); !strings.Contains(xml, `<method name="AddVolunteerCode">`) {
			t.Errorf("introspection lacks AddVolunteerCode:\n%s", xml)
		}
		client := bus.NewClient(bustest.Conn(t, addr))
		if err := client.AddVolunteerCode(ctx, "04718263", 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			code string
			d    time.Duration
		}{
			{"1234567", time.Minute}, {"123456789", time.Minute}, {"1234567a", time.Minute},
			{"١٢٣٤٥٦٧٨", time.Minute}, {"12345678", 0}, {"12345678", 901 * time.Second}, {"12345678", -time.Second},
		} {
			err := client.AddVolunteerCode(ctx, tc.code, tc.d)
			if err == nil {
				t.Errorf("AddVolunteerCode(%q, %v) accepted", tc.code, tc.d)
			} else if strings.Contains(err.Error(), tc.code) {
				t.Errorf("error %q repeats the code", err)
			}
		}
		// The server checks too, not only the client.
		raw := bustest.Conn(t, addr).Object(bus.Name, bus.Path)
		for _, tc := range []struct {
			code string
			secs uint32
		}{{"1234", 60}, {"abcdefgh", 60}, {"12345678", 0}, {"12345678", 901}} {
			err := raw.CallWithContext(ctx, bus.Interface+".AddVolunteerCode", 0, tc.code, tc.secs).Err
			if err == nil || !strings.Contains(err.Error(), "must be") {
				t.Errorf("raw AddVolunteerCode(%q, %d) err = %v, want refusal", tc.code, tc.secs, err)
			}
		}
		shell.mu.Lock()
		defer shell.mu.Unlock()
		if len(shell.codes) != 1 || shell.codes[0] != "04718263" || shell.seconds[0] != 600 {
			t.Errorf("shell got codes=%v seconds=%v, want [04718263] [600]", shell.codes, shell.seconds)
		}
	})

	t.Run("not supported", func(t *testing.T) {
		addr := bustest.Start(t)
		if _, err := bus.Serve(bustest.Conn(t, addr), &fakeShell{}); err != nil {
			t.Fatal(err)
		}
		if xml := introspect(t, addr); strings.Contains(xml, "AddVolunteerCode") {
			t.Errorf("introspection lists AddVolunteerCode for a shell without it")
		}
		err := bus.NewClient(bustest.Conn(t, addr)).AddVolunteerCode(ctx, "12345678", time.Minute)
		if !errors.Is(err, bus.ErrNotSupported) {
			t.Errorf("err = %v, want ErrNotSupported", err)
		}
	})
}

// TestReceiptFileCounts: the session's file counts and "files" go round
// the a{sv} both ways, and a receipt from an older kiosk (no count keys)
// still parses, with the counts 0.
func TestReceiptFileCounts(t *testing.T) {
	want := bus.Receipt{Cleared: []string{bus.ClearedWebView, bus.ClearedFiles}, ResetMs: 5,
		Scans: 3, Photos: 1, Downloads: 2, Uploads: 4}
	got, err := bus.ParseReceipt(want.Map())
	if err != nil {
		t.Fatal(err)
	}
	if got.Scans != 3 || got.Photos != 1 || got.Downloads != 2 || got.Uploads != 4 || got.Cleared[1] != "files" {
		t.Errorf("round trip = %+v", got)
	}
	old := want.Map()
	for _, k := range []string{"scans", "photos", "downloads", "uploads"} {
		delete(old, k)
	}
	old["uploads"] = dbus.MakeVariant("many") // a wrong type is ignored like any optional key
	got, err = bus.ParseReceipt(old)
	if err != nil {
		t.Fatal(err)
	}
	if got.Scans != 0 || got.Photos != 0 || got.Downloads != 0 || got.Uploads != 0 {
		t.Errorf("older receipt = %+v, want zero counts", got)
	}
}

// TestStatusDevices: the optional scanner and camera keys go round the
// a{sv}; none is sent for a device that is not configured; an older map
// parses with both unknown, and a value outside the vocabulary is dropped.
func TestStatusDevices(t *testing.T) {
	got, err := bus.ParseStatus(bus.Status{State: bus.StateIdle, Scanner: bus.DeviceAbsent, Camera: bus.DevicePresent}.Map())
	if err != nil || got.Scanner != bus.DeviceAbsent || got.Camera != bus.DevicePresent {
		t.Errorf("round trip %+v %v", got, err)
	}
	m := bus.Status{State: bus.StateIdle}.Map()
	if _, ok := m["scanner"]; ok {
		t.Error("a scanner key without a scanner")
	}
	m["scanner"] = dbus.MakeVariant("on fire")
	m["camera"] = dbus.MakeVariant(int64(3))
	if got, err := bus.ParseStatus(m); err != nil || got.Scanner != "" || got.Camera != "" {
		t.Errorf("bad values parsed as %+v %v", got, err)
	}
}

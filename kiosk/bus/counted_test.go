package bus_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

// TestCountedOverRealBus: a receipt's counted a{sv} crosses a real
// dbus-daemon in a SessionEnded signal and reads back the same; a receipt
// without it (an older kiosk) parses with Counted nil.
func TestCountedOverRealBus(t *testing.T) {
	addr := bustest.Start(t)
	srv, err := bus.Serve(bustest.Conn(t, addr), &fakeShell{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events, err := bus.NewClient(bustest.Conn(t, addr)).Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := bus.Counted{StartedHourUnixMs: 1_700_000_000_000 - 1_700_000_000_000%3_600_000, Minutes: 15,
		Tiles: []string{"pay-council-tax"}, Guides: []string{"report-missed-bin", "using-this-kiosk"},
		Services: []string{"council-tax"}, Features: []string{bus.FeatureHighContrast, bus.FeatureKeyboard},
		Languages: []string{"cy"}, Assists: 1}
	old := bus.Receipt{Cleared: []string{bus.ClearedWebView}, ResetMs: 80, SessionMs: 900_000}
	with := old
	with.Counted = &want
	for _, r := range []bus.Receipt{with, old} {
		if err := srv.SessionEnded(bus.ReasonToolbar, r); err != nil {
			t.Fatal(err)
		}
	}
	ev := next(t, events)
	if ev.Kind != bus.EventEnded || ev.Err != nil || ev.Receipt.Counted == nil {
		t.Fatalf("event = %+v", ev)
	}
	if got := *ev.Receipt.Counted; !reflect.DeepEqual(got, want) {
		t.Errorf("counted = %+v\nwant      %+v", got, want)
	}
	if ev := next(t, events); ev.Kind != bus.EventEnded || ev.Receipt.Counted != nil || ev.Receipt.ResetMs != 80 {
		t.Errorf("older receipt = %+v, want no counted", ev)
	}
}

// TestCountedParse: empty lists round-trip as empty; a "counted" key of
// the wrong type, or without its start hour, reads as not counted and the
// receipt still parses; a list of the wrong type reads as empty.
func TestCountedParse(t *testing.T) {
	r := bus.Receipt{Cleared: []string{}, ResetMs: 1, Counted: &bus.Counted{StartedHourUnixMs: 3_600_000}}
	got, err := bus.ParseReceipt(r.Map())
	if err != nil || got.Counted == nil || got.Counted.StartedHourUnixMs != 3_600_000 || len(got.Counted.Tiles) != 0 {
		t.Fatalf("empty counted: %+v, %v", got.Counted, err)
	}
	for name, v := range map[string]dbus.Variant{
		"a string":     dbus.MakeVariant("https://www.example.gov.uk/"),
		"no hour":      dbus.MakeVariant(map[string]dbus.Variant{"tiles": dbus.MakeVariant([]string{"a"})}),
		"hour as text": dbus.MakeVariant(map[string]dbus.Variant{"started_hour_unix_ms": dbus.MakeVariant("3600000")}),
	} {
		m := r.Map()
		m["counted"] = v
		got, err := bus.ParseReceipt(m)
		if err != nil || got.Counted != nil {
			t.Errorf("%s: counted = %+v, err %v; want nil, nil", name, got.Counted, err)
		}
	}
	m := r.Map()
	m["counted"] = dbus.MakeVariant(map[string]dbus.Variant{"started_hour_unix_ms": dbus.MakeVariant(int64(7_200_000)),
		"tiles": dbus.MakeVariant(int64(3)), "guides": dbus.MakeVariant([]string{"g"})})
	if got, err := bus.ParseReceipt(m); err != nil || got.Counted == nil || len(got.Counted.Tiles) != 0 || got.Counted.Guides[0] != "g" {
		t.Errorf("wrong-typed list: %+v, %v", got.Counted, err)
	}
}

func TestRoundCounted(t *testing.T) {
	const h = 3_600_000
	for _, c := range []struct {
		start, length, hour, minutes int64
	}{
		{10*h + 59*60_000, 0, 10 * h, 0},
		{10 * h, 149_999, 10 * h, 0},
		{10 * h, 150_000, 10 * h, 5},
		{10*h + 1, 7*60_000 + 29_999, 10 * h, 5},
		{10*h + 1, 7*60_000 + 30_000, 10 * h, 10},
		{10 * h, -5, 10 * h, 0},
		{10 * h, 30 * h, 10 * h, 24 * 60},
	} {
		hour, minutes := bus.RoundCounted(c.start, c.length)
		if hour != c.hour || minutes != c.minutes {
			t.Errorf("RoundCounted(%d, %d) = %d, %d; want %d, %d", c.start, c.length, hour, minutes, c.hour, c.minutes)
		}
	}
}

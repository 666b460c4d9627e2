package health

import (
	"strings"
	"testing"
	"time"
)

func TestRegistry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRegistry(func() time.Time { return now })
	r.Set(CodeHot, Warn, "CPU at %d°C", 85)
	r.Set(CodeKioskGone, Critical, "kiosk not on the bus")
	r.Set(CodeClockUnsynced, Info, "x")
	now = now.Add(time.Minute)
	r.Set(CodeHot, Warn, "CPU at %d°C", 90) // update keeps Since
	r.Clear(CodeClockUnsynced)
	r.Clear("never_set")

	got := r.Warnings()
	if len(got) != 2 {
		t.Fatalf("got %d warnings, want 2: %+v", len(got), got)
	}
	if got[0].Code != CodeKioskGone || got[1].Code != CodeHot {
		t.Errorf("order = %s, %s; want critical first", got[0].Code, got[1].Code)
	}
	if got[1].Text != "CPU at 90°C" || !got[1].Since.Equal(now.Add(-time.Minute)) {
		t.Errorf("hot = %+v", got[1])
	}
	if w := r.Wire(); len(w) != 2 || w[0].Severity != "critical" {
		t.Errorf("wire = %+v", w)
	}
}

func TestMachineFromCapturedFiles(t *testing.T) {
	r := Machine{Root: "testdata/pi4"}.Read()
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"uptime", r.UptimeSeconds, int64(12345)},
		{"load1", r.Load1, 4.73},
		{"temp", r.TempCelsius, 82.345},
		{"memtotal", r.MemTotalBytes, uint64(24683620 * 1024)},
		{"memavail", r.MemAvailBytes, uint64(24212404 * 1024)},
		{"os", r.OSRelease, "Debian GNU/Linux 12 (bookworm)"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	reg := NewRegistry(nil)
	Thresholds{}.Judge(reg, r)
	if !reg.Has(CodeHot) {
		t.Errorf("82°C did not raise %s", CodeHot)
	}
	if reg.Has(CodeMemoryLow) {
		t.Errorf("memory_low raised with plenty free")
	}
}

func TestMachineLive(t *testing.T) {
	r := Machine{DataDir: t.TempDir()}.Read()
	if len(r.Missing) > 0 {
		t.Errorf("missing readings: %s", strings.Join(r.Missing, "; "))
	}
	if r.UptimeSeconds <= 0 || r.MemTotalBytes == 0 || r.DiskTotalBytes == 0 || r.DataTotalBytes == 0 {
		t.Errorf("reading = %+v", r)
	}
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Reading
		want []string
	}{
		{"healthy", Reading{DiskTotalBytes: 100, DiskFreeBytes: 50, MemTotalBytes: 100, MemAvailBytes: 50, TempCelsius: 50, ClockKnown: true, ClockSynced: true}, nil},
		{"disk low", Reading{DiskTotalBytes: 100, DiskFreeBytes: 5, MemTotalBytes: 100, MemAvailBytes: 50}, []string{CodeDiskLow}},
		{"unsynced", Reading{ClockKnown: true}, []string{CodeClockUnsynced}},
		{"hot and no memory", Reading{TempCelsius: 81, MemTotalBytes: 100, MemAvailBytes: 1}, []string{CodeHot, CodeMemoryLow}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry(nil)
			Thresholds{}.Judge(reg, tc.r)
			var got []string
			for _, w := range reg.Warnings() {
				got = append(got, w.Code)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("warnings = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"plain", 10, "plain"},
		{"line\nbreak\x00", 20, "linebreak"},
		{"café au lait", 4, "caf"}, // never cuts a rune in half
		{strings.Repeat("x", 600), 500, strings.Repeat("x", 500)},
	} {
		if got := Clip(tc.in, tc.n); got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

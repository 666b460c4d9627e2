package insights

import (
	"strings"
	"testing"
	"time"
)

func TestParseDay(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{"09:00-17:00", "09:00-17:00", ""},
		{" 9:30 - 12:30 , 13:30-17:00 ", "09:30-12:30, 13:30-17:00", ""},
		{"13:30-17:00, 09:00-12:00", "09:00-12:00, 13:30-17:00", ""},
		{"09:00–17:00", "09:00-17:00", ""},
		{"00:00-24:00", "00:00-24:00", ""},
		{"closed", "closed", ""},
		{"", "closed", ""},
		{"Closed", "closed", ""},
		{"9-5", "", `"9" is not a time such as 09:30`},
		{"09:00", "", `write a span as 09:00-17:00`},
		{"09:00-25:00", "", `"25:00" is not a time of day`},
		{"24:30-24:45", "", `"24:30" is not a time of day`},
		{"09:60-10:00", "", `"09:60" is not a time of day`},
		{"17:00-09:00", "", "closes at or before it opens"},
		{"09:00-09:00", "", "closes at or before it opens"},
		{"09:00-13:00, 12:00-17:00", "", "12:00-17:00 overlaps 09:00-13:00"},
		{"+9:00-10:00", "", `"+9:00" is not a time`},
		{"09:00-10:00,", "", `"": write a span`},
	} {
		spans, err := ParseDay(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		var w Week
		w[0] = spans
		if got := w.Day(0); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWeek(t *testing.T) {
	w, err := ParseWeek(map[string]string{"mon": "09:30-13:00, 14:00-17:00", "TUE": "09:00-19:00", "sat": "10:00-16:00", "sun": "closed"})
	if err != nil {
		t.Fatal(err)
	}
	if !w.Set() || (Week{}).Set() {
		t.Error("Set")
	}
	for _, c := range []struct {
		day, hour, mins int
	}{{0, 9, 30}, {0, 8, 0}, {0, 12, 60}, {0, 13, 0}, {0, 16, 60}, {0, 17, 0}, {1, 18, 60}, {5, 15, 60}, {6, 12, 0}, {2, 10, 0}} {
		if got := w.OpenMinutes(c.day, c.hour); got != c.mins {
			t.Errorf("%s %02d:00: open %d minutes, want %d", DayKeys[c.day], c.hour, got, c.mins)
		}
		if w.OpenDuring(c.day, c.hour) != (c.mins > 0) {
			t.Errorf("%s %02d:00: OpenDuring", DayKeys[c.day], c.hour)
		}
	}
	if got := w.HoursOn(0); got != 6.5 {
		t.Errorf("Monday: %v hours", got)
	}
	// March 2026: 5 Mondays, 5 Tuesdays, 4 Saturdays.
	if got := w.HoursBetween(Date{2026, time.March, 1}, Date{2026, time.April, 1}); got != 5*6.5+5*10+4*6 {
		t.Errorf("March: %v hours", got)
	}
	text, err := w.MarshalText()
	if err != nil || string(text) != "mon 09:30-13:00, 14:00-17:00; tue 09:00-19:00; wed closed; thu closed; fri closed; sat 10:00-16:00; sun closed" {
		t.Errorf("MarshalText: %q %v", text, err)
	}
	var back Week
	if err := back.UnmarshalText(text); err != nil || back.Day(0) != w.Day(0) || back.Day(5) != w.Day(5) || back.Day(2) != "closed" {
		t.Errorf("UnmarshalText: %v %v", back, err)
	}
	for in, want := range map[string]string{
		"mon 09:00-17:00; mon 10:00-11:00": "mon is given twice",
		"monday 09:00-17:00":               `"monday" is not a day`,
		"tue 09:00-08:00":                  "opening hours: tue: \"09:00-08:00\": closes at or before it opens",
	} {
		var x Week
		if err := x.UnmarshalText([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	bad := Week{}
	bad[3] = []Span{{600, 500}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "thu") {
		t.Errorf("Validate: %v", err)
	}
	if _, err := bad.MarshalText(); err == nil {
		t.Error("MarshalText of a bad week")
	}
}

package insights

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	for _, c := range []struct {
		key, label, start, end string
		months                 int
		yearStart              time.Month
	}{
		{"2026-03", "March 2026", "2026-03-01", "2026-04-01", 1, time.April},
		{"2025-12", "December 2025", "2025-12-01", "2026-01-01", 1, time.April},
		{"fy2025", "April 2025 to March 2026", "2025-04-01", "2026-04-01", 12, time.April},
		{"fy2025-q1", "April to June 2025", "2025-04-01", "2025-07-01", 3, time.April},
		{"fy2025-q4", "January to March 2026", "2026-01-01", "2026-04-01", 3, time.April},
		{"fy2025-q3", "October to December 2025", "2025-10-01", "2026-01-01", 3, time.April},
		{"fy2026", "2026", "2026-01-01", "2027-01-01", 12, time.January},
		{"fy2025-q4", "October to December 2025", "2025-10-01", "2026-01-01", 3, time.January},
		{"fy2025-q2", "November 2025 to January 2026", "2025-11-01", "2026-02-01", 3, time.August},
	} {
		p, err := ParsePeriod(c.key, c.yearStart)
		if err != nil {
			t.Errorf("%s: %v", c.key, err)
			continue
		}
		if p.Label() != c.label || p.Start().String() != c.start || p.End().String() != c.end || len(p.Months()) != c.months || p.Key() != c.key {
			t.Errorf("%s (year from %s): label %q start %s end %s months %d key %s", c.key, c.yearStart, p.Label(), p.Start(), p.End(), len(p.Months()), p.Key())
		}
		if !p.Contains(p.Start()) || p.Contains(p.End()) || !p.Contains(p.End().AddDays(-1)) {
			t.Errorf("%s: Contains is wrong at the edges", c.key)
		}
	}
	for _, key := range []string{"", "2026", "2026-3", "2026-13", "2026-00", "1999-01", "fy25", "fy2025-q5", "fy2025-q", "fy2025q1", "2026-03-01", "last-month", "fy2025-Q1"} {
		_, err := ParsePeriod(key, time.April)
		if !errors.Is(err, ErrPeriod) || !strings.Contains(err.Error(), "use 2026-03, fy2025 or fy2025-q1") {
			t.Errorf("%q: got %v, want a period error saying what to use", key, err)
		}
	}
	if _, err := ParsePeriod("2026-03", 13); !errors.Is(err, ErrPeriod) {
		t.Errorf("year start 13: %v", err)
	}
}

func TestMonthBlocks(t *testing.T) {
	for _, c := range []struct {
		m      Period
		labels string
	}{
		{MonthOf(2026, time.February), "1–7 Feb, 8–14 Feb, 15–21 Feb, 22–28 Feb"},
		{MonthOf(2024, time.February), "1–7 Feb, 8–14 Feb, 15–21 Feb, 22–29 Feb"},
		{MonthOf(2026, time.March), "1–7 Mar, 8–14 Mar, 15–21 Mar, 22–31 Mar"},
	} {
		var ls []string
		days := 0
		for _, b := range monthBlocks(c.m) {
			ls = append(ls, b.label)
			for d := b.start; d.Before(b.end); d = d.AddDays(1) {
				days++
				if got := block(d.Day); monthBlocks(c.m)[got].label != b.label {
					t.Errorf("day %s is in block %d", d, got)
				}
			}
		}
		if got := strings.Join(ls, ", "); got != c.labels {
			t.Errorf("%s: %s", c.m.Label(), got)
		}
		if days != c.m.End().AddDays(-1).Day {
			t.Errorf("%s: blocks cover %d days", c.m.Label(), days)
		}
	}
}

func TestDate(t *testing.T) {
	d := Date{2026, time.March, 2}
	if d.Weekday() != 0 || d.AddDays(6).Weekday() != 6 {
		t.Errorf("2 March 2026 is a Monday: got %d", d.Weekday())
	}
	if !(Date{2024, time.February, 29}).Valid() || (Date{2025, time.February, 29}).Valid() || (Date{1999, time.January, 1}).Valid() {
		t.Error("Valid is wrong about leap days or the range")
	}
	if DateOf(time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)) != (Date{2026, time.March, 31}) {
		t.Error("DateOf")
	}
}

func TestOrdinalAndWeekday(t *testing.T) {
	for d := (Date{2000, time.January, 1}); d.Before(Date{2031, time.January, 1}); d = d.AddDays(1) {
		if want := (int(d.t().Weekday()) + 6) % 7; d.Weekday() != want {
			t.Fatalf("%s: weekday %d, want %d", d, d.Weekday(), want)
		}
		if n := d.AddDays(1); n.ordinal() != d.ordinal()+1 || !n.Valid() {
			t.Fatalf("%s: ordinal does not step by one", d)
		}
	}
}

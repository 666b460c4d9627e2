package insights

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar day in the council's own time zone. The store turns
// each session's start into a Date and an hour of the day in that zone
// before filling Input; nothing here knows about time zones.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the calendar day of t in t's location.
func DateOf(t time.Time) Date { y, m, d := t.Date(); return Date{y, m, d} }

func (d Date) t() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// Valid reports whether d is a real calendar day (years 2000 to 2200).
func (d Date) Valid() bool {
	return d.Year >= 2000 && d.Year <= 2200 && d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// ordinal counts days from 1 March of year 0 (the proleptic Gregorian
// calendar), so that two dates' difference is the days between them.
func (d Date) ordinal() int {
	y, m := d.Year, int(d.Month)
	if m <= 2 {
		y--
		m += 12
	}
	return 365*y + y/4 - y/100 + y/400 + (153*(m-3)+2)/5 + d.Day - 1
}

// Weekday is the day of the week, Monday = 0 to Sunday = 6 (the order the
// charts use).
func (d Date) Weekday() int { return (d.ordinal() + 2) % 7 }

// AddDays is the day n days after d.
func (d Date) AddDays(n int) Date { return DateOf(d.t().AddDate(0, 0, n)) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// String is the ISO form, 2026-03-31.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

func (d Date) firstOfMonth() Date { return Date{d.Year, d.Month, 1} }

func (d Date) nextMonth() Date {
	if d.Month == time.December {
		return Date{d.Year + 1, time.January, 1}
	}
	return Date{d.Year, d.Month + 1, 1}
}

// PeriodKind is the length of a Period.
type PeriodKind uint8

const (
	MonthPeriod PeriodKind = iota + 1
	QuarterPeriod
	YearPeriod
)

// Period is what figures are made for: a calendar month, a quarter of the
// council's financial year, or a financial year. Other periods are not
// offered, on purpose: periods that partly overlap (1–31 March and 2–31
// March) could be subtracted from each other to uncover a day's small
// numbers, whereas months, quarters and years only nest.
type Period struct {
	kind      PeriodKind
	start     Date       // first day (the 1st of a month)
	yearStart time.Month // the month the financial year starts in
	q         int        // quarter 1-4 of the financial year
}

// ErrPeriod is wrapped by every error about a period.
var ErrPeriod = errors.New("not a period insights can show")

// MonthOf is the calendar month m of year y.
func MonthOf(y int, m time.Month) Period {
	return Period{kind: MonthPeriod, start: Date{y, m, 1}, yearStart: time.April}
}

// FinancialYear is the financial year starting on the 1st of yearStart
// in calendar year y (UK councils: yearStart April).
func FinancialYear(y int, yearStart time.Month) Period {
	return Period{kind: YearPeriod, start: Date{y, yearStart, 1}, yearStart: yearStart}
}

// FinancialQuarter is quarter q (1-4) of the financial year starting in
// calendar year y.
func FinancialQuarter(y, q int, yearStart time.Month) Period {
	s := Date{y, yearStart, 1}
	for i := 0; i < 3*(q-1); i++ {
		s = s.nextMonth()
	}
	return Period{kind: QuarterPeriod, start: s, yearStart: yearStart, q: q}
}

// ParsePeriod reads a period key: "2026-03" (a month), "fy2025" (the
// financial year starting in 2025) or "fy2025-q2" (its second quarter).
func ParsePeriod(key string, yearStart time.Month) (Period, error) {
	if yearStart < time.January || yearStart > time.December {
		return Period{}, fmt.Errorf("financial year start %d: %w", yearStart, ErrPeriod)
	}
	bad := func(why string) (Period, error) {
		return Period{}, fmt.Errorf("period %q: %s (use 2026-03, fy2025 or fy2025-q1): %w", key, why, ErrPeriod)
	}
	if rest, ok := strings.CutPrefix(key, "fy"); ok {
		ys, qs, hasQ := strings.Cut(rest, "-q")
		y, err := strconv.Atoi(ys)
		if err != nil || len(ys) != 4 || y < 2000 || y > 2200 {
			return bad("the year must be four digits, 2000 to 2200")
		}
		if !hasQ {
			return FinancialYear(y, yearStart), nil
		}
		q, err := strconv.Atoi(qs)
		if err != nil || len(qs) != 1 || q < 1 || q > 4 {
			return bad("the quarter must be 1 to 4")
		}
		return FinancialQuarter(y, q, yearStart), nil
	}
	ys, ms, ok := strings.Cut(key, "-")
	y, err1 := strconv.Atoi(ys)
	m, err2 := strconv.Atoi(ms)
	if !ok || err1 != nil || err2 != nil || len(ys) != 4 || len(ms) != 2 || y < 2000 || y > 2200 || m < 1 || m > 12 {
		return bad("not a month, quarter or year")
	}
	p := MonthOf(y, time.Month(m))
	p.yearStart = yearStart
	return p, nil
}

// Kind is the period's length.
func (p Period) Kind() PeriodKind { return p.kind }

// Start is the period's first day.
func (p Period) Start() Date { return p.start }

// End is the day after the period's last day.
func (p Period) End() Date {
	e := p.start
	for range p.months() {
		e = e.nextMonth()
	}
	return e
}

func (p Period) months() int {
	switch p.kind {
	case QuarterPeriod:
		return 3
	case YearPeriod:
		return 12
	}
	return 1
}

// Months lists the calendar months in the period, in order.
func (p Period) Months() []Period {
	out := make([]Period, 0, p.months())
	d := p.start
	for range p.months() {
		m := MonthOf(d.Year, d.Month)
		m.yearStart = p.yearStart
		out = append(out, m)
		d = d.nextMonth()
	}
	return out
}

// Contains reports whether d falls in the period.
func (p Period) Contains(d Date) bool { return !d.Before(p.start) && d.Before(p.End()) }

// Key is the period's key for URLs and exports ("2026-03", "fy2025",
// "fy2025-q1"); ParsePeriod reads it back.
func (p Period) Key() string {
	switch p.kind {
	case YearPeriod:
		return fmt.Sprintf("fy%04d", p.start.Year)
	case QuarterPeriod:
		return fmt.Sprintf("fy%04d-q%d", p.fyStartYear(), p.q)
	}
	return fmt.Sprintf("%04d-%02d", p.start.Year, int(p.start.Month))
}

func (p Period) fyStartYear() int {
	if p.start.Month < p.yearStart {
		return p.start.Year - 1
	}
	return p.start.Year
}

// Label is the period as a heading says it: "March 2026", "April to June
// 2025", "April 2025 to March 2026" (or "2026" when the financial year is
// the calendar year).
func (p Period) Label() string {
	last := p.End().AddDays(-1)
	switch {
	case p.kind == MonthPeriod:
		return fmt.Sprintf("%s %d", p.start.Month, p.start.Year)
	case p.kind == YearPeriod && p.start.Month == time.January:
		return strconv.Itoa(p.start.Year)
	case p.start.Year == last.Year:
		return fmt.Sprintf("%s to %s %d", p.start.Month, last.Month, last.Year)
	}
	return fmt.Sprintf("%s %d to %s %d", p.start.Month, p.start.Year, last.Month, last.Year)
}

// ended reports whether the whole period is over on today.
func (p Period) ended(today Date) bool { return !today.Before(p.End()) }

// bucket is one step of a time series: a month of a quarter or year, or a
// fixed part of a month (days 1-7, 8-14, 15-21, 22-end; fixed so that
// every figure shown is for a set of days that nests in the others).
type bucket struct {
	start, end Date // end exclusive
	label      string
}

func monthBlocks(m Period) []bucket {
	s, e := m.Start(), m.End()
	mon := m.start.Month.String()[:3]
	var out []bucket
	for _, d := range [][2]int{{1, 7}, {8, 14}, {15, 21}, {22, 0}} {
		to := Date{s.Year, s.Month, d[1]}
		if d[1] == 0 {
			to = e.AddDays(-1)
		}
		out = append(out, bucket{Date{s.Year, s.Month, d[0]}, to.AddDays(1), fmt.Sprintf("%d–%d %s", d[0], to.Day, mon)})
	}
	return out
}

// block is which of monthBlocks a day of the month falls in.
func block(day int) int { return min((day-1)/7, 3) }

// BlockOf is the block of its month d falls in, as BlockCount.Block
// counts them: 0 for days 1-7, 1 for 8-14, 2 for 15-21, 3 for 22 to the end.
func BlockOf(d Date) int { return block(d.Day) }

package insights

import (
	"fmt"
	"sort"
	"strings"
)

// Span is one opening time in a day, in minutes after midnight: Open
// inclusive, Close exclusive (24:00 = 1440 closes at midnight).
type Span struct{ Open, Close int }

func (s Span) String() string { return clock(s.Open) + "-" + clock(s.Close) }

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Week is a site's opening hours, Monday (0) to Sunday (6): for each day,
// its spans in order, none overlapping; an empty day is closed. The zero
// Week means "not set": such a site has no per-opening-hour figures and no
// out-of-hours count.
type Week [7][]Span

// DayKeys are the day names Week reads and writes, Monday first.
var DayKeys = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// DayNames are the days as charts say them, Monday first.
var DayNames = [7]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// ParseDay reads one day's opening hours: "09:00-17:00", several spans
// separated by commas ("09:00-12:30, 13:30-17:00"), or "closed" (or "").
// The error names the span and what is wrong with it.
func ParseDay(s string) ([]Span, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "closed") {
		return nil, nil
	}
	var spans []Span
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		a, b, ok := strings.Cut(part, "-")
		if !ok {
			a, b, ok = strings.Cut(part, "–")
		}
		if !ok {
			return nil, fmt.Errorf("%q: write a span as 09:00-17:00", part)
		}
		open, err := parseClock(strings.TrimSpace(a))
		if err != nil {
			return nil, fmt.Errorf("%q: %v", part, err)
		}
		closing, err := parseClock(strings.TrimSpace(b))
		if err != nil {
			return nil, fmt.Errorf("%q: %v", part, err)
		}
		if closing <= open {
			return nil, fmt.Errorf("%q: closes at or before it opens", part)
		}
		spans = append(spans, Span{open, closing})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].Open < spans[j].Open })
	for i := 1; i < len(spans); i++ {
		if spans[i].Open < spans[i-1].Close {
			return nil, fmt.Errorf("%s overlaps %s", spans[i], spans[i-1])
		}
	}
	return spans, nil
}

func parseClock(s string) (int, error) {
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 || !digits(hs) || !digits(ms) {
		return 0, fmt.Errorf("%q is not a time such as 09:30", s)
	}
	h, m := atoi(hs), atoi(ms)
	if m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, fmt.Errorf("%q is not a time of day (00:00 to 24:00)", s)
	}
	return h*60 + m, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// ParseWeek reads opening hours given per day ("mon" to "sun", as
// DayKeys; a missing day is closed), as a console form or a config file
// gives them. Errors name the day.
func ParseWeek(days map[string]string) (Week, error) {
	var w Week
	for k, v := range days {
		i := dayIndex(k)
		if i < 0 {
			return Week{}, fmt.Errorf("opening hours: %q is not a day (use mon, tue, wed, thu, fri, sat, sun)", k)
		}
		spans, err := ParseDay(v)
		if err != nil {
			return Week{}, fmt.Errorf("opening hours: %s: %w", k, err)
		}
		w[i] = spans
	}
	return w, nil
}

func dayIndex(k string) int {
	for i, d := range DayKeys {
		if strings.EqualFold(k, d) {
			return i
		}
	}
	return -1
}

// Set reports whether any opening hours are set.
func (w Week) Set() bool {
	for _, d := range w {
		if len(d) > 0 {
			return true
		}
	}
	return false
}

// Validate checks a Week built by hand (ParseWeek's results are valid).
func (w Week) Validate() error {
	for i, d := range w {
		for j, s := range d {
			if s.Open < 0 || s.Close > 1440 || s.Close <= s.Open {
				return fmt.Errorf("opening hours: %s: %s is not a span of one day", DayKeys[i], s)
			}
			if j > 0 && s.Open < d[j-1].Close {
				return fmt.Errorf("opening hours: %s: %s overlaps %s or is out of order", DayKeys[i], s, d[j-1])
			}
		}
	}
	return nil
}

// Day is a day's hours as ParseDay reads them: "09:00-12:30, 13:30-17:00"
// or "closed".
func (w Week) Day(i int) string {
	if len(w[i]) == 0 {
		return "closed"
	}
	parts := make([]string, len(w[i]))
	for j, s := range w[i] {
		parts[j] = s.String()
	}
	return strings.Join(parts, ", ")
}

// MarshalText writes the week on one line, "mon 09:00-17:00; tue closed;
// ...", for a database column or a config value.
func (w Week) MarshalText() ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	parts := make([]string, 7)
	for i := range w {
		parts[i] = DayKeys[i] + " " + w.Day(i)
	}
	return []byte(strings.Join(parts, "; ")), nil
}

// UnmarshalText reads what MarshalText writes; days left out are closed,
// and an empty text is "not set".
func (w *Week) UnmarshalText(b []byte) error {
	days := map[string]string{}
	for _, part := range strings.Split(string(b), ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, " ")
		if _, dup := days[strings.ToLower(k)]; dup {
			return fmt.Errorf("opening hours: %s is given twice", k)
		}
		days[strings.ToLower(k)] = v
	}
	got, err := ParseWeek(days)
	if err != nil {
		return err
	}
	*w = got
	return nil
}

// OpenMinutes is how many minutes of the clock hour [hour, hour+1) on
// weekday day (Monday = 0) the site is open.
func (w Week) OpenMinutes(day, hour int) int {
	from, to := hour*60, hour*60+60
	n := 0
	for _, s := range w[day] {
		n += max(0, min(to, s.Close)-max(from, s.Open))
	}
	return n
}

// OpenDuring reports whether the site is open at any time in the clock
// hour [hour, hour+1) on weekday day. Sessions are counted by the hour they
// started in (the kiosk rounds the start down to the hour), so a session
// that started in such an hour counts as in opening hours; one that
// started in an hour the site is closed throughout is out of hours.
func (w Week) OpenDuring(day, hour int) bool { return w.OpenMinutes(day, hour) > 0 }

// HoursOn is how long the site is open on weekday day, in hours.
func (w Week) HoursOn(day int) float64 {
	n := 0
	for _, s := range w[day] {
		n += s.Close - s.Open
	}
	return float64(n) / 60
}

// HoursBetween is how many hours the site is open from day from up to (not
// including) day to.
func (w Week) HoursBetween(from, to Date) float64 {
	var perDay [7]float64
	for i := range perDay {
		perDay[i] = w.HoursOn(i)
	}
	h := 0.0
	for d := from; d.Before(to); d = d.AddDays(1) {
		h += perDay[d.Weekday()]
	}
	return h
}

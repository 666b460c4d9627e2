package update

import (
	"fmt"
	"strings"
	"time"
)

// Window is a daily maintenance window in local time, such as 02:00-05:00.
// It may wrap midnight (22:00-06:00). The zero Window is always open.
type Window struct {
	Start, End time.Duration // since local midnight
	set        bool
}

// ParseWindow parses "HH:MM-HH:MM"; "" is the always-open window.
func ParseWindow(s string) (Window, error) {
	if s == "" {
		return Window{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("maintenance window %q: want HH:MM-HH:MM", s)
	}
	start, err := parseClock(a)
	if err != nil {
		return Window{}, fmt.Errorf("maintenance window %q: %w", s, err)
	}
	end, err := parseClock(b)
	if err != nil {
		return Window{}, fmt.Errorf("maintenance window %q: %w", s, err)
	}
	if start == end {
		return Window{}, fmt.Errorf("maintenance window %q: start equals end", s)
	}
	return Window{Start: start, End: end, set: true}, nil
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func (w Window) String() string {
	if !w.set {
		return "always"
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(w.Start) + "-" + f(w.End)
}

func sinceMidnight(t time.Time) time.Duration {
	y, m, d := t.Date()
	return t.Sub(time.Date(y, m, d, 0, 0, 0, 0, t.Location()))
}

// Contains reports whether t falls inside the window.
func (w Window) Contains(t time.Time) bool {
	if !w.set {
		return true
	}
	s := sinceMidnight(t)
	if w.Start < w.End {
		return s >= w.Start && s < w.End
	}
	return s >= w.Start || s < w.End
}

// Next returns the next time at or after t when the window opens (t itself
// when it is open).
func (w Window) Next(t time.Time) time.Time {
	if w.Contains(t) {
		return t
	}
	y, m, d := t.Date()
	open := time.Date(y, m, d, 0, 0, 0, 0, t.Location()).Add(w.Start)
	if !open.After(t) {
		open = time.Date(y, m, d+1, 0, 0, 0, 0, t.Location()).Add(w.Start)
	}
	return open
}

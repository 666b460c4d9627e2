package printing

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"accesskiosk/internal/atomicfile"
)

// ErrQuota matches a *QuotaError.
var ErrQuota = errors.New("print quota reached")

// ErrRateLimited matches a *RateError.
var ErrRateLimited = errors.New("too many print jobs in the last minute")

// Quota scopes.
const (
	ScopeSession = "session"
	ScopeDay     = "day"
)

// QuotaError refuses a print that would go past a page limit. Its message
// is for the log and the panel alike: counts only.
type QuotaError struct {
	Scope string // ScopeSession or ScopeDay
	Limit int    // the limit in pages
	Left  int    // pages left before this print
	Want  int    // pages this print needs (pages × copies)
}

func (e *QuotaError) Error() string {
	what := "this session"
	if e.Scope == ScopeDay {
		what = "this kiosk today"
	}
	return fmt.Sprintf("this print needs %d pages but %d are left for %s (limit %d)", e.Want, e.Left, what, e.Limit)
}

// Is makes errors.Is(err, ErrQuota) true.
func (e *QuotaError) Is(target error) bool { return target == ErrQuota }

// RateError refuses a job sent too soon after others.
type RateError struct {
	Limit      int           // jobs per minute
	RetryAfter time.Duration // when the next job may go
}

func (e *RateError) Error() string {
	return fmt.Sprintf("%d print jobs were sent in the last minute (limit %d); try again in %v",
		e.Limit, e.Limit, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateError) Is(target error) bool { return target == ErrRateLimited }

// DayCount is the number of pages this kiosk printed today, kept in one
// small file in the kiosk's state directory so that a restart does not
// reset the daily limit. The file holds a date and a count and nothing
// else: nothing about who printed or what. Safe for concurrent use.
//
// Why a file rather than asking the agent: the limit must hold when the
// agent is down or restarting, and a count needs no round trip over D-Bus;
// a date and a number are not personal data, so they may outlive a session.
type DayCount struct {
	path string // "" keeps the count in memory only
	mu   sync.Mutex
	date string // YYYY-MM-DD in the kiosk's local time
	n    int
}

type dayFile struct {
	Date  string `json:"date"`
	Pages int    `json:"pages"`
}

// ErrCountFile matches an OpenDayCount error about an unreadable or
// damaged count file.
var ErrCountFile = errors.New("page count file is damaged")

// OpenDayCount reads the count at path, or starts from zero when there is
// no file yet. A damaged file gives an error matching ErrCountFile together
// with a usable DayCount that starts from zero and replaces the file on
// its next change: the caller logs the error and goes on. path "" keeps the
// count in memory only.
func OpenDayCount(path string) (*DayCount, error) {
	d := &DayCount{path: path}
	if path == "" {
		return d, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("%w: %s: %v", ErrCountFile, path, unwrapPath(err))
	}
	var f dayFile
	if err := json.Unmarshal(data, &f); err != nil {
		return d, fmt.Errorf("%w: %s: %v", ErrCountFile, path, err)
	}
	if _, err := time.Parse(time.DateOnly, f.Date); err != nil || f.Pages < 0 {
		return d, fmt.Errorf("%w: %s: want a date YYYY-MM-DD and a count ≥ 0, got %q and %d", ErrCountFile, path, f.Date, f.Pages)
	}
	d.date, d.n = f.Date, f.Pages
	return d, nil
}

// Used is the number of pages printed on now's day.
func (d *DayCount) Used(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.date != now.Format(time.DateOnly) {
		return 0
	}
	return d.n
}

// Reserve adds pages to now's count if that keeps it within limit, and
// writes the file. ok is false (and nothing changes) when it would not;
// left is what was left before. A write error leaves the count changed in
// memory: the limit still holds until a restart.
func (d *DayCount) Reserve(now time.Time, pages, limit int) (ok bool, left int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	day := now.Format(time.DateOnly)
	if d.date != day {
		d.date, d.n = day, 0
	}
	left = limit - d.n
	if left < 0 {
		left = 0
	}
	if pages > left {
		return false, left, nil
	}
	d.n += pages
	return true, left, d.save()
}

// Refund gives back pages reserved on now's day (a job that never printed).
func (d *DayCount) Refund(now time.Time, pages int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.date != now.Format(time.DateOnly) {
		return nil // a new day has started: nothing of yesterday to give back
	}
	d.n -= pages
	if d.n < 0 {
		d.n = 0
	}
	return d.save()
}

func (d *DayCount) save() error {
	if d.path == "" {
		return nil
	}
	data, _ := json.Marshal(dayFile{Date: d.date, Pages: d.n})
	return atomicfile.Write(d.path, append(data, '\n'), 0o644)
}

// rateLimit allows at most n events in any window (a sliding window).
type rateLimit struct {
	n      int
	window time.Duration
	mu     sync.Mutex
	times  []time.Time // the last n events, oldest first
}

func newRateLimit(n int, window time.Duration) *rateLimit {
	return &rateLimit{n: n, window: window}
}

// take records an event at now when fewer than n happened in the window
// before it, and otherwise says how long until one may.
func (r *rateLimit) take(now time.Time) (ok bool, retryAfter time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.times) > 0 && now.Sub(r.times[0]) >= r.window {
		r.times = r.times[1:]
	}
	if len(r.times) >= r.n {
		return false, r.times[0].Add(r.window).Sub(now)
	}
	r.times = append(r.times, now)
	return true, 0
}

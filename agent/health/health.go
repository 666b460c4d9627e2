// Package health is the agent's picture of the device: a registry of named
// warnings that subsystems set and clear (disk low, too hot, kiosk gone or
// crash-looping, kiosk drawn by the software renderer, clock
// unsynchronised, fleet unreachable, queue trouble), and a reader of the
// machine's own figures (uptime, load, temperature, memory, disk, network).
// The report sent to the fleet is a snapshot of both. Nothing here ever
// holds a URL or anything a resident typed.
package health

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"accesskiosk/fleet/api"
)

// Severity of a warning.
type Severity string

// Severities, mildest first.
const (
	Info     Severity = "info"
	Warn     Severity = "warning"
	Critical Severity = "critical"
)

func (s Severity) rank() int {
	switch s {
	case Critical:
		return 0
	case Warn:
		return 1
	}
	return 2
}

// Warning codes. They are stable identifiers the fleet alerts on.
const (
	CodeDiskLow          = "disk_low"
	CodeDataDiskLow      = "data_disk_low"
	CodeHot              = "hot"
	CodeKioskGone        = "kiosk_gone"
	CodeKioskCrashLoop   = "kiosk_crash_loop"
	CodeWipeFailed       = "wipe_failed"
	CodeClockUnsynced    = "clock_unsynchronised"
	CodeFleetUnreachable = "fleet_unreachable"
	CodeQueueWrite       = "queue_write_failed"
	CodeQueueDropped     = "queue_dropped"
	CodeQueueCorrupt     = "queue_corrupt"
	CodeMemoryLow        = "memory_low"
	CodeDiscovery        = "discovery_failed"
	CodeSystemBus        = "system_bus"
	CodeUpdate           = "update"
	CodeIdentity         = "identity"
	CodeSoftwareRenderer = "software_renderer"
)

// Warning is one entry in the registry.
type Warning struct {
	Code     string
	Severity Severity
	Text     string    // for IT staff; never resident data
	Since    time.Time // when the code was first set (kept while it stays set)
}

// Registry holds the current warnings. The zero value is not usable; call
// NewRegistry. Safe for concurrent use.
type Registry struct {
	now func() time.Time
	mu  sync.Mutex
	w   map[string]Warning
}

// NewRegistry returns an empty registry that stamps warnings with now().
func NewRegistry(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{now: now, w: map[string]Warning{}}
}

// Set raises (or updates the text of) the warning code.
func (r *Registry) Set(code string, sev Severity, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.w[code]
	if !ok {
		w.Since = r.now()
	}
	w.Code, w.Severity, w.Text = code, sev, fmt.Sprintf(format, args...)
	r.w[code] = w
}

// Clear removes the warning code if it is set.
func (r *Registry) Clear(code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.w, code)
}

// SetIf sets code when cond holds and clears it otherwise.
func (r *Registry) SetIf(cond bool, code string, sev Severity, format string, args ...any) {
	if cond {
		r.Set(code, sev, format, args...)
	} else {
		r.Clear(code)
	}
}

// Has reports whether code is set.
func (r *Registry) Has(code string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.w[code]
	return ok
}

// Warnings returns the current warnings, most severe first, then by code.
func (r *Registry) Warnings() []Warning {
	r.mu.Lock()
	out := make([]Warning, 0, len(r.w))
	for _, w := range r.w {
		out = append(out, w)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if a, b := out[i].Severity.rank(), out[j].Severity.rank(); a != b {
			return a < b
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// Wire returns the warnings as the fleet wants them, at most
// api.MaxWarnings of them (the most severe).
func (r *Registry) Wire() []api.Warning {
	ws := r.Warnings()
	if len(ws) > api.MaxWarnings {
		ws = ws[:api.MaxWarnings]
	}
	out := make([]api.Warning, len(ws))
	for i, w := range ws {
		out[i] = api.Warning{Code: w.Code, Severity: string(w.Severity), Text: Clip(w.Text, MaxTextLen)}
	}
	return out
}

// MaxTextLen bounds a warning's text on the wire (the fleet refuses longer).
const MaxTextLen = api.MaxTextLen

// Clip returns s without control characters, cut to at most n bytes on a
// UTF-8 boundary, so error texts from the system fit the wire's rules.
func Clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

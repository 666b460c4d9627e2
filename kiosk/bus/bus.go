// Package bus is the D-Bus contract between the kiosk shell and anything
// that controls it (the agent, IT tooling): the names, the methods, the
// signals and the keys of their dictionaries, a Client for callers and Serve
// for the shell. It has no cgo, so the agent can import it.
//
// The contract (DESIGN.md, "Contracts"):
//
//	name       org.accesskiosk.Kiosk1 (session bus, or system bus when the kiosk config says dbus: system)
//	object     /org/accesskiosk/Kiosk1
//	interface  org.accesskiosk.Kiosk1
//	method     EndSession(s reason)
//	method     Status() -> a{sv}            at least state (s) and session_started_unix_ms (x, 0 when idle);
//	           optional: version, uptime_ms, sessions_ended, web_process_crashes,
//	           renderer (s, "software" when the compositor draws without the GPU),
//	           scanner, camera (s, the file picker's devices: present, absent, failing;
//	           absent from the map when none is configured)
//	method     ShowMessage(s text, u seconds)  staff message on screen; 0 seconds means the default
//	method     AddVolunteerCode(s code, u seconds)  optional: a one-time volunteer code (8 digits,
//	           1..900 s) from the fleet console; kiosks without it answer Error.NotSupported
//	signal     SessionStarted(x unix_ms)
//	signal     SessionEnded(s reason, a{sv} receipt)
//	           receipt: cleared, reset_ms; optional: failed, session_ms, started_unix_ms, ended_unix_ms,
//	           assisted, category, outcome, scans, photos, downloads, uploads,
//	           counted (a{sv}, what the session used for the fleet's Insights: counted.go)
//
// Nothing in Status or a receipt may carry a URL, text a resident typed or
// anything else about what a resident did: only states, counts and durations.
package bus

import (
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"

	"accesskiosk/internal/ident"
)

// The well-known name, object path and interface of the kiosk.
const (
	Name      = "org.accesskiosk.Kiosk1"
	Path      = dbus.ObjectPath("/org/accesskiosk/Kiosk1")
	Interface = "org.accesskiosk.Kiosk1"
)

// Member names.
const (
	MethodEndSession    = "EndSession"
	MethodStatus        = "Status"
	MethodShowMessage   = "ShowMessage"
	MethodAddVolCode    = "AddVolunteerCode"
	SignalSessionStart  = "SessionStarted"
	SignalSessionEnded  = "SessionEnded"
	statusKeyState      = "state"
	statusKeyStartedMs  = "session_started_unix_ms"
	statusKeyVersion    = "version"
	statusKeyUptimeMs   = "uptime_ms"
	statusKeySessions   = "sessions_ended"
	statusKeyWebCrashes = "web_process_crashes"
	statusKeyRenderer   = "renderer"
	statusKeyScanner    = "scanner"
	statusKeyCamera     = "camera"
)

// What the kiosk says of a device it is configured with (Status keys
// scanner and camera): the agent raises scanner_missing, scanner_failing,
// camera_missing and camera_failing from them. "" (no key) means no such
// device is configured, or an older kiosk.
const (
	DevicePresent = "present" // it answered when last asked
	DeviceAbsent  = "absent"  // configured, not there (unplugged, switched off)
	DeviceFailing = "failing" // there, but not working (busy elsewhere, errors, a helper missing)
)

// Renderers the kiosk reports in Status. "" means the GPU renderer or not
// known (older shells do not send the key).
const (
	// RendererSoftware: the compositor draws with wlroots' software
	// renderer (WLR_RENDERER=pixman), as the kiosk unit falls back to
	// when the GPU renderer fails at start.
	RendererSoftware = "software"
)

// States the kiosk reports in Status.
const (
	StateStarting  = "starting"   // shell up, home page not yet shown
	StateIdle      = "idle"       // home page showing, nobody using it
	StateInSession = "in_session" // a resident is using it
	StateWarning   = "warning"    // "Are you still there?" countdown showing
	StateResetting = "resetting"  // wiping and loading home
)

// Reasons a session ends, as sent in EndSession and SessionEnded.
const (
	ReasonIdle         = "idle_timeout"
	ReasonToolbar      = "toolbar" // the resident pressed End session
	ReasonDBus         = "dbus"    // an EndSession call with no reason of its own
	ReasonWebCrash     = "web_process_crashed"
	ReasonFleetCommand = "fleet_command" // IT staff, through the agent
	ReasonHandover     = "handover"      // a volunteer handed the kiosk back
	ReasonShutdown     = "shutdown"      // the kiosk is stopping
)

// ValidReason reports whether r is an acceptable reason: short, lower-case
// ASCII letters, digits and underscores. Reasons are labels, never free text.
func ValidReason(r string) bool { return ident.Reason.Valid(r) }

// Status is the decoded answer of the Status method.
type Status struct {
	State                string
	SessionStartedUnixMs int64 // 0 when no session is active
	Version              string
	UptimeMs             int64
	SessionsEnded        int64  // since the shell started
	WebProcessCrashes    int64  // since the shell started
	Renderer             string // RendererSoftware, or "" (GPU or unknown)
	// Scanner and Camera are the file picker's devices: DevicePresent,
	// DeviceAbsent, DeviceFailing, or "" when none is configured.
	Scanner, Camera string
}

// Map encodes s as the a{sv} the Status method returns.
func (s Status) Map() map[string]dbus.Variant {
	m := map[string]dbus.Variant{
		statusKeyState:      dbus.MakeVariant(s.State),
		statusKeyStartedMs:  dbus.MakeVariant(s.SessionStartedUnixMs),
		statusKeyVersion:    dbus.MakeVariant(s.Version),
		statusKeyUptimeMs:   dbus.MakeVariant(s.UptimeMs),
		statusKeySessions:   dbus.MakeVariant(s.SessionsEnded),
		statusKeyWebCrashes: dbus.MakeVariant(s.WebProcessCrashes),
		statusKeyRenderer:   dbus.MakeVariant(s.Renderer),
	}
	if s.Scanner != "" {
		m[statusKeyScanner] = dbus.MakeVariant(s.Scanner)
	}
	if s.Camera != "" {
		m[statusKeyCamera] = dbus.MakeVariant(s.Camera)
	}
	return m
}

// ParseStatus decodes a Status a{sv}. state and session_started_unix_ms are
// required; the other keys are optional (older shells may lack them).
func ParseStatus(m map[string]dbus.Variant) (Status, error) {
	var s Status
	if err := need(m, statusKeyState, &s.State); err != nil {
		return s, err
	}
	if err := need(m, statusKeyStartedMs, &s.SessionStartedUnixMs); err != nil {
		return s, err
	}
	opt(m, statusKeyVersion, &s.Version)
	opt(m, statusKeyUptimeMs, &s.UptimeMs)
	opt(m, statusKeySessions, &s.SessionsEnded)
	opt(m, statusKeyWebCrashes, &s.WebProcessCrashes)
	// Only a string: Store would turn a number into a one-rune string.
	if r, ok := m[statusKeyRenderer].Value().(string); ok {
		s.Renderer = r
	}
	for key, dst := range map[string]*string{statusKeyScanner: &s.Scanner, statusKeyCamera: &s.Camera} {
		if v, ok := m[key].Value().(string); ok && (v == DevicePresent || v == DeviceAbsent || v == DeviceFailing) {
			*dst = v
		}
	}
	return s, nil
}

// Receipt is what a SessionEnded signal says about a wipe: what was cleared
// and how long the reset took. It says nothing about what the resident did.
type Receipt struct {
	// Cleared names what was thrown away, from the Cleared* constants.
	Cleared []string
	// Failed names steps that did not complete (same vocabulary); empty when the wipe was whole.
	Failed []string
	// ResetMs is end requested → the fresh home page finished loading and
	// on screen (a D-Bus EndSession counts from when the call reached the
	// kiosk).
	ResetMs int64
	// WipedMs is end requested → the first frame painted without the
	// session: the session's view already destroyed and the fresh home on
	// screen, or, while the next view is still loading home, the kiosk's
	// "One moment" screen. 0 from older kiosks, and when no frame was
	// painted within 2 s.
	WipedMs int64
	// SessionMs is how long the session lasted (first input → end requested).
	SessionMs int64
	// StartedUnixMs and EndedUnixMs bound the session (ms since the epoch).
	StartedUnixMs int64
	EndedUnixMs   int64
	// Counted is what the session used, as configured identifiers, for
	// the fleet's Insights (counted.go); nil from kiosks that do not count.
	Counted *Counted
	// Assisted is true when a volunteer unlocked an assisted session.
	Assisted bool
	// Category and Outcome are the volunteer's two taps at the end of an
	// assisted session: identifiers from the kiosk config, "" when skipped.
	Category string
	Outcome  string
	// Scans, Photos, Downloads and Uploads count what the session's file
	// picker and downloads did: pages scanned, photos taken, downloads
	// saved, files handed to a page. Numbers only; 0 from older kiosks.
	Scans, Photos, Downloads, Uploads int64
	// RemoteHelp is true when council staff saw the screen (remote help,
	// the resident allowed it) in this session; RemoteHelpMs is how long,
	// all shares added up. Wire keys "assist" and "assist_ms"; absent
	// from older kiosks.
	RemoteHelp   bool
	RemoteHelpMs int64
	// PrintJobs, PrintPages and PrintCancelled are what the session
	// printed: jobs sent, pages printed (pages × copies of the jobs that
	// printed or are printing), and jobs still pending or held at the end,
	// which the wipe cancelled on the printer. Numbers only; 0 from older
	// kiosks and kiosks without a printer.
	PrintJobs, PrintPages, PrintCancelled int64
}

// What a wipe clears, as named in Receipt.Cleared and Receipt.Failed.
const (
	ClearedWebView     = "web_view"     // the view and its web process
	ClearedWebsiteData = "website_data" // the ephemeral data manager: cookies, storage, caches, service workers
	ClearedClipboard   = "clipboard"    // CLIPBOARD and PRIMARY selections
	ClearedFiles       = "files"        // the session's files folder: scans, photos, downloads (kiosk/shell files.go)
	ClearedDownloads   = "downloads"    // older kiosks' name for their download folder; kiosks now say files
	ClearedSettings    = "settings"     // zoom, contrast, language, keyboard
	ClearedHistory     = "history"      // back/forward list
	ClearedPrintJobs   = "print_jobs"   // the session's print jobs still pending or held, cancelled on the printer
)

const (
	rcCleared   = "cleared"
	rcFailed    = "failed"
	rcResetMs   = "reset_ms"
	rcWipedMs   = "wiped_ms"
	rcSessionMs = "session_ms"
	rcStarted   = "started_unix_ms"
	rcEnded     = "ended_unix_ms"
	rcAssisted  = "assisted"
	rcCategory  = "category"
	rcOutcome   = "outcome"
	rcScans     = "scans"
	rcPhotos    = "photos"
	rcDownloads = "downloads"
	rcUploads   = "uploads"
	rcAssist    = "assist"
	rcAssistMs  = "assist_ms"
	rcPrintJobs = "print_jobs"
	rcPrintPgs  = "print_pages"
	rcPrintCanc = "print_cancelled"
)

// Map encodes r as the a{sv} of a SessionEnded signal.
func (r Receipt) Map() map[string]dbus.Variant {
	m := map[string]dbus.Variant{
		rcCleared:   dbus.MakeVariant(nonNil(r.Cleared)),
		rcFailed:    dbus.MakeVariant(nonNil(r.Failed)),
		rcResetMs:   dbus.MakeVariant(r.ResetMs),
		rcWipedMs:   dbus.MakeVariant(r.WipedMs),
		rcSessionMs: dbus.MakeVariant(r.SessionMs),
		rcStarted:   dbus.MakeVariant(r.StartedUnixMs),
		rcEnded:     dbus.MakeVariant(r.EndedUnixMs),
		rcAssisted:  dbus.MakeVariant(r.Assisted),
		rcScans:     dbus.MakeVariant(r.Scans),
		rcPhotos:    dbus.MakeVariant(r.Photos),
		rcDownloads: dbus.MakeVariant(r.Downloads),
		rcUploads:   dbus.MakeVariant(r.Uploads),
		rcPrintJobs: dbus.MakeVariant(r.PrintJobs),
		rcPrintPgs:  dbus.MakeVariant(r.PrintPages),
		rcPrintCanc: dbus.MakeVariant(r.PrintCancelled),
	}
	if r.Category != "" {
		m[rcCategory] = dbus.MakeVariant(r.Category)
	}
	if r.Outcome != "" {
		m[rcOutcome] = dbus.MakeVariant(r.Outcome)
	}
	if r.RemoteHelp {
		m[rcAssist] = dbus.MakeVariant(true)
		m[rcAssistMs] = dbus.MakeVariant(r.RemoteHelpMs)
	}
	if r.Counted != nil {
		m[rcCounted] = r.Counted.variant()
	}
	return m
}

// ParseReceipt decodes a SessionEnded receipt. reset_ms and cleared are
// required; everything else is optional.
func ParseReceipt(m map[string]dbus.Variant) (Receipt, error) {
	var r Receipt
	if err := need(m, rcResetMs, &r.ResetMs); err != nil {
		return r, err
	}
	if err := need(m, rcCleared, &r.Cleared); err != nil {
		return r, err
	}
	opt(m, rcFailed, &r.Failed)
	opt(m, rcWipedMs, &r.WipedMs)
	opt(m, rcSessionMs, &r.SessionMs)
	opt(m, rcStarted, &r.StartedUnixMs)
	opt(m, rcEnded, &r.EndedUnixMs)
	opt(m, rcAssisted, &r.Assisted)
	r.Counted = parseCounted(m)
	opt(m, rcCategory, &r.Category)
	opt(m, rcOutcome, &r.Outcome)
	opt(m, rcScans, &r.Scans)
	opt(m, rcPhotos, &r.Photos)
	opt(m, rcDownloads, &r.Downloads)
	opt(m, rcUploads, &r.Uploads)
	opt(m, rcAssist, &r.RemoteHelp)
	opt(m, rcAssistMs, &r.RemoteHelpMs)
	opt(m, rcPrintJobs, &r.PrintJobs)
	opt(m, rcPrintPgs, &r.PrintPages)
	opt(m, rcPrintCanc, &r.PrintCancelled)
	return r, nil
}

// Reset is the receipt's reset time as a duration.
func (r Receipt) Reset() time.Duration { return time.Duration(r.ResetMs) * time.Millisecond }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func need[T any](m map[string]dbus.Variant, key string, dst *T) error {
	v, ok := m[key]
	if !ok {
		return fmt.Errorf("kiosk bus: missing key %q", key)
	}
	if err := v.Store(dst); err != nil {
		return fmt.Errorf("kiosk bus: key %q: %w", key, err)
	}
	return nil
}

func opt[T any](m map[string]dbus.Variant, key string, dst *T) {
	if v, ok := m[key]; ok {
		_ = v.Store(dst) // an optional key of the wrong type is ignored
	}
}

// Package kiosklink is the agent's link to the kiosk shell over its D-Bus
// contract (kiosk/bus): it follows SessionStarted/SessionEnded, keeps the
// wipe receipts and the counts the fleet wants (sessions today, median
// length, resets and their reset_ms), notices when the kiosk leaves the
// bus and how often it comes back (crash loops), and passes the fleet's
// end-session and message commands on. It keeps counts and durations only.
package kiosklink

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/sirupsen/logrus"

	"accesskiosk/agent/health"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/backoff"
	"accesskiosk/internal/ident"
	"accesskiosk/kiosk/bus"
)

// StateGone is the kiosk state reported when the kiosk is not on the bus.
const StateGone = "gone"

// CrashLoopRestarts is how many returns to the bus within an hour count as
// a crash loop.
const CrashLoopRestarts = 3

// Options configure a Link.
type Options struct {
	// Bus is "system", "session" or a D-Bus address.
	Bus    string
	Health *health.Registry
	Now    func() time.Time
	// Changed is called (on the link's goroutine) when a session ends or
	// the kiosk comes or goes, so the agent can report at once.
	Changed func()
	Log     logrus.FieldLogger
}

// Link follows the kiosk. Safe for concurrent use.
type Link struct {
	o Options

	mu        sync.Mutex
	client    *bus.Client
	conn      *dbus.Conn
	present   bool
	seen      bool // the kiosk has been on the bus since the agent started
	state     string
	version   string        // the kiosk's own version, from Status
	ended     []bus.Receipt // since the last Take
	reasons   []string
	backs     []time.Time // returns to the bus, last hour
	day       string      // local date of today's count
	today     int
	decodeErr int
}

// New returns a Link; call Run.
func New(o Options) *Link {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Health == nil {
		o.Health = health.NewRegistry(o.Now)
	}
	if o.Changed == nil {
		o.Changed = func() {}
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		o.Log = l
	}
	return &Link{o: o, state: StateGone}
}

// ErrNoKiosk means the kiosk is not reachable on its bus now.
var ErrNoKiosk = errors.New("kiosk is not on the bus")

// Run connects to the bus and follows the kiosk until ctx ends,
// reconnecting (after 1 to 5 s, backing off) when the bus connection is
// lost.
func (l *Link) Run(ctx context.Context) error {
	retry := backoff.Backoff{Min: time.Second, Max: 5 * time.Second}
	for {
		start := time.Now()
		err := l.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			retry.Reset() // it was followed a while: a new outage
		}
		l.o.Log.WithError(err).Warn("lost the kiosk's bus; reconnecting")
		l.setGone("cannot reach the kiosk's D-Bus: " + errString(err))
		if retry.Wait(ctx) != nil {
			return nil
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "connection closed"
	}
	return err.Error()
}

func (l *Link) follow(ctx context.Context) error {
	conn, err := bus.Connect(ctx, l.o.Bus)
	if err != nil {
		return err
	}
	defer conn.Close()
	client := bus.NewClient(conn)
	events, err := client.Watch(ctx)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.client, l.conn = client, conn
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.client, l.conn = nil, nil
		l.mu.Unlock()
	}()
	// Is it there already?
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, bus.Name).Store(&has); err != nil {
		return fmt.Errorf("ask the bus for the kiosk: %w", err)
	}
	if has {
		l.arrived(ctx, false)
	} else {
		l.setGone("the kiosk is not on its D-Bus")
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return errors.New("kiosk signal stream ended")
			}
			l.handle(ctx, ev)
		}
	}
}

func (l *Link) handle(ctx context.Context, ev bus.Event) {
	if ev.Err != nil {
		l.mu.Lock()
		l.decodeErr++
		l.mu.Unlock()
		l.o.Log.WithError(ev.Err).Warn("kiosk sent a signal the agent cannot read")
	}
	switch ev.Kind {
	case bus.EventStarted:
		l.mu.Lock()
		l.present, l.state = true, bus.StateInSession
		l.mu.Unlock()
	case bus.EventEnded:
		l.sessionEnded(ev.Reason, ev.Receipt)
		l.o.Changed()
	case bus.EventGone:
		l.o.Log.Warn("the kiosk left the bus")
		l.setGone("the kiosk left its D-Bus (stopped or crashed)")
		l.o.Changed()
	case bus.EventBack:
		l.o.Log.Info("the kiosk is on the bus")
		l.arrived(ctx, true)
		l.o.Changed()
	}
}

func (l *Link) sessionEnded(reason string, r bus.Receipt) {
	now := l.o.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.present, l.state = true, bus.StateIdle
	l.ended = append(l.ended, r)
	l.reasons = append(l.reasons, reason)
	if over := len(l.ended) - 10*api.MaxReceiptsInReport; over > 0 {
		// Bound memory over a long outage of the agent's own loop; counts
		// beyond this are still in the kiosk's own totals.
		l.ended, l.reasons = l.ended[over:], l.reasons[over:]
	}
	if d := now.Format(time.DateOnly); d != l.day {
		l.day, l.today = d, 0
	}
	l.today++
	if len(r.Failed) > 0 {
		l.o.Health.Set(health.CodeWipeFailed, health.Critical, "a session wipe did not complete: %v", r.Failed)
	}
}

func (l *Link) arrived(ctx context.Context, back bool) {
	now := l.o.Now()
	l.mu.Lock()
	l.present = true
	if back && l.seen {
		l.backs = append(l.backs, now) // a return, not the first sighting
	}
	l.seen = true
	n := l.recentBacksLocked(now)
	client := l.client
	l.mu.Unlock()
	l.o.Health.Clear(health.CodeKioskGone)
	l.o.Health.SetIf(n >= CrashLoopRestarts, health.CodeKioskCrashLoop, health.Critical, "the kiosk came back %d times in the last hour", n)
	if client != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if st, err := client.Status(sctx); err == nil {
			l.noteStatus(st)
		}
	}
}

// SoftwareRendererText is the warning IT staff see when the kiosk says its
// compositor draws in software. It says nothing about residents.
const SoftwareRendererText = "The kiosk's screen is drawn by the software renderer: the GPU renderer failed " +
	"when the kiosk started (or the unit sets WLR_RENDERER=pixman). Pages look the same to residents; " +
	"check the graphics driver, for example after the last upgrade."

// noteStatus keeps what a Status answer says: the state, the version, and
// whether the screen is drawn in software (a warning while it is).
func (l *Link) noteStatus(st bus.Status) {
	l.mu.Lock()
	l.state, l.version = st.State, st.Version
	l.mu.Unlock()
	l.o.Health.SetIf(st.Renderer == bus.RendererSoftware, health.CodeSoftwareRenderer, health.Warn, "%s", SoftwareRendererText)
	l.noteDevices(st)
}

// Device warnings: the file picker's scanner and camera (issue 15), as the
// kiosk's Status says when it last asked them. A device the config does
// not name says nothing.
const (
	CodeScannerMissing = "scanner_missing"
	CodeScannerFailing = "scanner_failing"
	CodeCameraMissing  = "camera_missing"
	CodeCameraFailing  = "camera_failing"
)

// deviceCodes are the device warnings, cleared when the kiosk goes.
var deviceCodes = []string{CodeScannerMissing, CodeScannerFailing, CodeCameraMissing, CodeCameraFailing}

// noteDevices raises or clears the scanner's and the camera's warnings.
func (l *Link) noteDevices(st bus.Status) {
	h := l.o.Health
	h.SetIf(st.Scanner == bus.DeviceAbsent, CodeScannerMissing, health.Warn,
		"The scanner named in the kiosk's config is not there (unplugged or switched off): residents cannot scan documents.")
	h.SetIf(st.Scanner == bus.DeviceFailing, CodeScannerFailing, health.Warn,
		"The scanner is there but does not work (an error, or busy elsewhere): residents cannot scan documents.")
	h.SetIf(st.Camera == bus.DeviceAbsent, CodeCameraMissing, health.Warn,
		"The camera named in the kiosk's config is not there (unplugged): residents cannot take photos.")
	h.SetIf(st.Camera == bus.DeviceFailing, CodeCameraFailing, health.Warn,
		"The camera is there but does not work (an error, or in use elsewhere): residents cannot take photos.")
}

// Version is the kiosk's version as it last said in Status ("" if unknown).
func (l *Link) Version() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version
}

func (l *Link) recentBacksLocked(now time.Time) int {
	keep := l.backs[:0]
	for _, t := range l.backs {
		if now.Sub(t) < time.Hour {
			keep = append(keep, t)
		}
	}
	l.backs = keep
	return len(keep)
}

func (l *Link) setGone(why string) {
	l.mu.Lock()
	l.present, l.state = false, StateGone
	l.mu.Unlock()
	// The next kiosk may start with the GPU renderer; it says so when back.
	l.o.Health.Clear(health.CodeSoftwareRenderer)
	for _, c := range deviceCodes {
		l.o.Health.Clear(c) // the kiosk asks its devices again when back
	}
	l.o.Health.Set(health.CodeKioskGone, health.Critical, "%s", why)
}

// State is the kiosk's state as last seen, or StateGone. It refreshes
// from Status when the kiosk is present.
func (l *Link) State(ctx context.Context) string {
	l.mu.Lock()
	client, present := l.client, l.present
	l.mu.Unlock()
	if client != nil && present {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if st, err := client.Status(sctx); err == nil {
			l.noteStatus(st)
			return st.State
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Restarts is how many times the kiosk came back to the bus in the last hour.
func (l *Link) Restarts() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recentBacksLocked(l.o.Now())
}

// SessionsToday is the number of sessions ended today (local time) since
// the agent started.
func (l *Link) SessionsToday() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.o.Now().Format(time.DateOnly) != l.day {
		return 0
	}
	return l.today
}

// Take returns the counts and receipts of sessions ended since the last
// Take, and forgets them (they go into one report).
func (l *Link) Take() (api.SessionCounts, []api.Receipt) {
	l.mu.Lock()
	ended, reasons := l.ended, l.reasons
	l.ended, l.reasons = nil, nil
	l.mu.Unlock()
	var c api.SessionCounts
	var lengths, resets []int64
	for _, r := range ended {
		c.Ended++
		if r.Assisted {
			c.Assisted++
		}
		c.TotalMs += r.SessionMs
		lengths = append(lengths, r.SessionMs)
		resets = append(resets, r.ResetMs)
		c.ResetMaxMs = max(c.ResetMaxMs, r.ResetMs)
		if len(r.Failed) > 0 {
			c.WipeFailures++
		}
	}
	c.MedianMs, c.ResetMedianMs = median(lengths), median(resets)
	// The newest receipts go on the wire; older ones are in the counts.
	if len(ended) > api.MaxReceiptsInReport {
		ended = ended[len(ended)-api.MaxReceiptsInReport:]
		reasons = reasons[len(reasons)-api.MaxReceiptsInReport:]
	}
	out := make([]api.Receipt, len(ended))
	for i, r := range ended {
		out[i] = api.Receipt{
			Reason: label(reasons[i], "unknown"), Cleared: labels(r.Cleared), Failed: labels(r.Failed), ResetMs: r.ResetMs, SessionMs: r.SessionMs,
			EndedUnixMs: r.EndedUnixMs, Assisted: r.Assisted, Category: label(r.Category, ""), Outcome: label(r.Outcome, ""),
			Counted: counted(r),
		}
	}
	return c, out
}

// label returns s if it is a label (ident.Label: what fleet/api accepts),
// else def: receipts carry labels only, never free text.
func label(s, def string) string {
	if !ident.Label.Valid(s) {
		return def
	}
	return s
}

func labels(v []string) []string {
	out := make([]string, 0, len(v))
	for _, s := range v {
		if s = label(s, ""); s != "" && len(out) < 32 {
			out = append(out, s)
		}
	}
	return out
}

func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (l *Link) clientOrErr() (*bus.Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.client == nil || !l.present {
		return nil, ErrNoKiosk
	}
	return l.client, nil
}

// Status asks the kiosk for its status now (the updater's session check
// and health gate).
func (l *Link) Status(ctx context.Context) (bus.Status, error) {
	c, err := l.clientOrErr()
	if err != nil {
		return bus.Status{}, err
	}
	return c.Status(ctx)
}

// EndSession asks the kiosk to end the current session.
func (l *Link) EndSession(ctx context.Context, reason string) error {
	c, err := l.clientOrErr()
	if err != nil {
		return err
	}
	return c.EndSession(ctx, reason)
}

// ShowMessage puts staff text on the kiosk's screen for d.
func (l *Link) ShowMessage(ctx context.Context, text string, d time.Duration) error {
	c, err := l.clientOrErr()
	if err != nil {
		return err
	}
	return c.ShowMessage(ctx, text, d)
}

// AddVolunteerCode hands the kiosk a one-time volunteer code valid for d.
// An error wraps bus.ErrNotSupported when the kiosk has no volunteer mode.
func (l *Link) AddVolunteerCode(ctx context.Context, code string, d time.Duration) error {
	c, err := l.clientOrErr()
	if err != nil {
		return err
	}
	return c.AddVolunteerCode(ctx, code, d)
}

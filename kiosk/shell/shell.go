// Package shell is the kiosk: one full-screen window with a native toolbar
// (Home, Back, End session) over a WebKit view that only ever shows what
// the allow lists allow, and the session lifecycle around it: idle → first
// input starts a session → no input for idle_timeout → "Are you still
// there?" countdown → end → wipe → home. It serves the kiosk's D-Bus
// contract (kiosk/bus) and speaks sd_notify.
//
// Enforcement: every navigation, redirect hop, form submission and
// new-window request is decided by the allow list (main page and frames)
// and the allow_frames list (frames only); the main frame's response and
// every committed main-frame URI are checked again. Refused main-frame
// navigations show the built-in block page with the site's host only.
// There are no context menus, developer tools, file choosers, print
// dialogs, downloads, HTML full screen or second windows, and every
// permission request is denied.
//
// Wiping: a session's web view and its ephemeral website data manager are
// thrown away and fresh ones made; clipboards are emptied; zoom is reset;
// home_url is loaded; SessionEnded carries a receipt. Nothing a resident
// does is logged: logs carry reasons and counts, never URLs.
//
// Threading: everything here runs on the GTK main loop except the methods
// of the D-Bus service, which hand their work to the loop.
package shell

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/godbus/dbus/v5"
	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/ui"

	"accesskiosk/kiosk/volunteer"
	"accesskiosk/kiosk/webkit"
)

// Options configure a Shell.
type Options struct {
	Config *config.Config
	Log    logrus.FieldLogger
	// Pages serves kiosk:// pages (through SchemeAdapter); nil uses the
	// minimal built-in home, block and offline pages.
	Pages http.Handler
	// UI, when set, serves kiosk:// instead of Pages, with the session's
	// text size, contrast and language (toolbar buttons; see ui.go).
	UI *ui.Pages
	// Fullscreen makes the window full screen (the kiosk); tests and the
	// demo may leave it a plain window of the screen's size.
	Fullscreen    bool
	Width, Height int
	Version       string
	// Bus is the D-Bus connection to serve on; nil means connect to
	// Config.DBus. NoBus turns D-Bus off (tests of other parts).
	Bus   *dbus.Conn
	NoBus bool
	// Clock is the time source; nil means time.Now.
	Clock func() time.Time
	// Tick is how often the idle timer and watchdog run; 0 means 250ms.
	Tick time.Duration
	// Observer, when set, is told about events on the GTK thread (tests).
	Observer Observer
}

// Observer is told what the shell does (on the GTK thread). Every field may be nil.
type Observer struct {
	Ready        func()
	Refused      func(kind webkit.DecisionKind, reason string)
	SessionEnded func(reason string, r bus.Receipt)
	StateChanged func(state string)
}

// Button ids.
const (
	toolHome = iota + 1
	toolBack
	toolEnd
	panelConfirmEnd
	panelCancel
	panelStillHere
)

// Shell is a running kiosk window.
type Shell struct {
	cfg   *config.Config
	log   logrus.FieldLogger
	opts  Options
	now   func() time.Time
	pages http.Handler

	win *webkit.Window
	// cur is what the window shows; spare is a fresh view on a fresh
	// context with home_url already loaded, made when a session starts so
	// that ending it is a swap rather than a cold start.
	cur   *tab
	spare *tab
	view  *webkit.View // cur.view, for brevity

	// GTK-thread state.
	state        string
	lastCount    uint64
	lastInput    time.Time
	warnStart    time.Time
	sessionStart time.Time
	ready        bool
	reset        *pendingReset
	msgGen       int
	panelText    string
	lastPing     time.Time
	watchdog     time.Duration
	stopTick     chan struct{}
	closed       bool

	// Shared with D-Bus goroutines.
	mu     sync.Mutex
	status bus.Status
	start  time.Time

	ui        *ui.Pages // nil: Pages only
	prefs     ui.Prefs  // the session's, on the GTK thread
	labelLang string    // the language the native labels are in (language.go)

	kb      keyboard          // the on-screen keyboard (keyboard.go)
	vol     *volunteer.Assist // volunteer mode (volunteer.go)
	server  *bus.Server
	conn    *dbus.Conn
	ownConn bool
	signals chan func()
	notices chan string // sd_notify states for the notifier goroutine
	wg      sync.WaitGroup
}

type pendingReset struct {
	reason      string
	t0          time.Time
	receipt     bus.Receipt
	tab         *tab
	deadline    time.Time
	homeShown   bool // home_url finished loading; ResetMs is set
	waitDestroy bool // the old view is still to be destroyed (after a crash)
}

// crashDestroyDelay is how long a crashed view is kept, detached, before
// it is destroyed.
const crashDestroyDelay = 1500 * time.Millisecond

// tab is a web view on its own ephemeral context.
type tab struct {
	ctx         *webkit.Context
	view        *webkit.View
	guide       *webkit.View // the guide beside the service (split.go), on the same context; nil when closed
	deadGuide   *webkit.View // a guide view whose web process ended, detached, to be destroyed
	provisional bool         // a main-frame load has started and not committed
	loaded      bool         // home_url finished loading at least once
	// beforeOffline is the page the offline page replaced, to go back to
	// when the network returns. Memory only, gone with the tab at the wipe.
	beforeOffline string
}

func (t *tab) destroy() {
	if t == nil {
		return
	}
	for _, g := range []**webkit.View{&t.guide, &t.deadGuide} {
		if *g != nil {
			(*g).Destroy()
			*g = nil
		}
	}
	if t.view != nil {
		t.view.Destroy()
		t.view = nil
	}
	if t.ctx != nil {
		t.ctx.Destroy()
		t.ctx = nil
	}
}

// Run initialises GTK on the calling thread (which must be the main OS
// thread), starts the shell and runs the GTK loop until ctx is done.
func Run(ctx context.Context, o Options) error {
	return runWith(ctx, o, func(*Shell) {})
}

// Start builds the window, loads home_url and serves D-Bus. Call on the
// GTK thread after webkit.Init. Close undoes it.
func Start(o Options) (*Shell, error) {
	if o.Config == nil {
		return nil, errors.New("shell: no config")
	}
	if o.Log == nil {
		l := logrus.New()
		l.Out = os.Stderr
		o.Log = l
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Tick == 0 {
		o.Tick = 250 * time.Millisecond
	}
	s := &Shell{
		cfg: o.Config, log: o.Log, opts: o, now: o.Clock,
		state: bus.StateStarting, stopTick: make(chan struct{}), signals: make(chan func(), 64),
		notices: make(chan string, 4),
	}
	s.start = s.now()
	s.status = bus.Status{State: bus.StateStarting, Version: o.Version, Renderer: compositorRenderer()}
	s.pages = o.Pages
	if s.pages == nil {
		s.pages = builtinPages(o.Config)
	}
	if wd, err := daemon.SdWatchdogEnabled(false); err == nil && wd > 0 {
		s.watchdog = wd / 2
	}

	s.kb.enabled = keyboardEnabled(o.Config.UI.Keyboard)
	title := o.Config.Council.Name
	s.win = webkit.NewWindow(webkit.WindowOptions{Title: title, Fullscreen: o.Fullscreen,
		Width: o.Width, Height: o.Height, Button: s.button})
	// The labels are put in the session's language by relabel (language.go).
	s.win.AddTool(toolHome, "Home", "Home", webkit.ToolNormal, false)
	s.win.AddTool(toolBack, "Back", "Back", webkit.ToolNormal, false)
	if o.UI != nil {
		s.setupUI(o.UI)
	}
	s.win.AddTool(toolEnd, "End session", "End session", webkit.ToolDanger, true)
	if err := s.startVolunteer(); err != nil {
		s.win.Destroy()
		return nil, err
	}
	s.relabel()
	t, err := s.newTab()
	if err != nil {
		s.win.Destroy()
		return nil, err
	}
	s.show(t)
	s.lastCount = webkit.InputCount()
	t.view.LoadURI(s.cfg.HomeURL)

	if !o.NoBus {
		if err := s.serveBus(); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.wg.Add(3)
	go s.ticker()
	go s.emitter()
	go s.notifier()

	s.watchOffline()
	return s, nil
}

// Close stops the shell: D-Bus, timers, view, window. On the GTK thread.
func (s *Shell) Close() {
	if s.closed {
		return
	}
	s.closed = true
	close(s.stopTick)
	if s.server != nil {
		s.server.Close()
	}
	close(s.signals)
	if s.ownConn && s.conn != nil {
		s.conn.Close()
	}
	s.win.SetGuide(nil, "", "", 0)
	s.win.SetView(nil)
	s.cur.destroy()
	s.spare.destroy()
	s.cur, s.spare, s.view, s.reset = nil, nil, nil, nil
	s.win.Destroy()
	// The ticker and emitter return promptly; don't wait on the GTK
	// thread for goroutines that may be queueing work onto it.
}

func (s *Shell) serveBus() error {
	conn := s.opts.Bus
	if conn == nil {
		// The connection lives as long as its context (godbus WithContext):
		// the shell's whole life, not just the dial.
		c, err := bus.Connect(context.Background(), s.cfg.DBus)
		if err != nil {
			return fmt.Errorf("serve D-Bus: %w", err)
		}
		conn, s.ownConn = c, true
	}
	s.conn = conn
	srv, err := bus.Serve(conn, service{s})
	if err != nil {
		return fmt.Errorf("serve D-Bus on %s bus: %w", s.cfg.DBus, err)
	}
	s.server = srv
	return nil
}

// ---- the web view and its context ------------------------------------------

// newTab makes a view on a fresh ephemeral context, not yet shown.
func (s *Shell) newTab() (*tab, error) {
	t := &tab{}
	ctx, err := webkit.NewContext(webkit.ContextOptions{
		Scheme:        "kiosk",
		SchemeHandler: SchemeAdapter(s.pagesFor(t)),
		CacheModel:    webkit.CacheDocumentViewer, // least memory; ephemeral sessions keep no HTTP cache across pages anyway
		Download:      func() { s.log.WithField("what", "download").Info("refused") },
	})
	if err != nil {
		return nil, fmt.Errorf("make web context: %w", err)
	}
	t.ctx = ctx
	t.view = webkit.NewView(ctx, webkit.ViewOptions{
		Decide:         func(d webkit.Decision) bool { return s.decide(t, d) },
		Load:           func(ev webkit.LoadEvent, uri string) { s.loadChanged(t, ev, uri) },
		LoadFailed:     func(uri, msg string, cancelled bool) { s.loadFailed(t, uri, cancelled) },
		Terminated:     func(r webkit.TerminationReason) { s.terminated(t, r) },
		MessageHandler: "kiosk",
		UserScript:     s.userScript(),
		Message: func(body string) {
			if t == s.cur {
				s.message(body)
			}
		},
		Permission: func(p webkit.Permission, _ string) bool {
			s.log.WithField("permission", p.String()).Info("permission request denied")
			return false
		},
		Refused: func(what string) { s.log.WithField("what", what).Info("refused") },
	})
	t.view.SetZoom(s.cfg.Zoom)
	return t, nil
}

// show puts t in the window.
func (s *Shell) show(t *tab) {
	s.cur, s.view = t, t.view
	s.win.SetView(t.view)
}

// prewarm makes the spare tab and loads home_url in it.
func (s *Shell) prewarm() {
	if s.spare != nil || s.closed {
		return
	}
	t, err := s.newTab()
	if err != nil {
		s.log.WithError(err).Warn("cannot prepare the next session's view")
		return
	}
	s.spare = t
	t.view.LoadURI(s.cfg.HomeURL)
}

func (s *Shell) ours(t *tab) bool { return t != nil && (t == s.cur || t == s.spare) }

// decide answers WebKit's policy questions for view v.
func (s *Shell) decide(t *tab, d webkit.Decision) bool {
	if !s.ours(t) {
		return false
	}
	switch d.Kind {
	case webkit.Navigation:
		if frameOnlyURI(d.URI) {
			return true // about:blank and about:srcdoc frames; main-frame commits are checked in loadChanged
		}
		if s.cfg.AllowList.Decide(d.URI).Allow || s.cfg.FrameList.Decide(d.URI).Allow {
			// A frames-only origin is refused as the main page in the response check.
			return true
		}
		dec := s.cfg.AllowList.Decide(d.URI)
		s.refused(d, dec.Reason)
		if d.UserGesture || (d.Redirect && t.provisional) {
			s.showBlock(t, dec.Site, dec.Reason)
		}
		return false
	case webkit.NewWindowRequest:
		dec := s.cfg.AllowList.Decide(d.URI)
		if dec.Allow {
			uri := d.URI
			webkit.Invoke(func() {
				if s.ours(t) {
					t.view.LoadURI(uri)
				}
			})
			return false
		}
		s.refused(d, dec.Reason)
		if d.UserGesture {
			s.showBlock(t, dec.Site, dec.Reason)
		}
		return false
	case webkit.Response:
		if !d.MIMESupported || d.Attachment {
			s.refused(d, "download")
			return false
		}
		if d.MainFrame {
			dec := s.cfg.AllowList.Decide(d.URI)
			if !dec.Allow {
				s.refused(d, dec.Reason)
				s.showBlock(t, dec.Site, dec.Reason)
				return false
			}
		}
		return true
	}
	return false
}

// frameOnlyURI reports URIs that load no network resource and that the
// shell lets frames use: about:blank and about:srcdoc.
func frameOnlyURI(u string) bool {
	return u == "about:blank" || u == "about:srcdoc"
}

func (s *Shell) refused(d webkit.Decision, reason string) {
	s.log.WithFields(logrus.Fields{"kind": d.Kind.String(), "reason": reason}).Info("navigation refused")
	if s.opts.Observer.Refused != nil {
		s.opts.Observer.Refused(d.Kind, reason)
	}
}

// showBlock loads the block page (later, outside the policy callback).
func (s *Shell) showBlock(t *tab, site, reason string) {
	q := url.Values{}
	if site != "" {
		q.Set("site", site)
	}
	if reason != "" {
		q.Set("reason", reason)
	}
	target := "kiosk://block"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	webkit.Invoke(func() {
		if s.ours(t) {
			t.view.LoadURI(target)
		}
	})
}

func (s *Shell) loadChanged(t *tab, ev webkit.LoadEvent, uri string) {
	if !s.ours(t) {
		return
	}
	switch ev {
	case webkit.LoadStarted, webkit.LoadRedirected:
		t.provisional = true
	case webkit.LoadCommitted:
		t.provisional = false
		if t == s.cur && s.kb.target == t.view {
			s.hideKeyboard() // the field that asked for it is gone with its page
		}
		// Defence in depth: whatever got committed in the main frame must be allowed.
		if dec := s.cfg.AllowList.Decide(uri); !dec.Allow {
			s.refused(webkit.Decision{Kind: webkit.Response, MainFrame: true}, dec.Reason)
			s.showBlock(t, dec.Site, dec.Reason)
		}
	case webkit.LoadFinished:
		t.provisional = false
		t.loaded = true
		if s.reset != nil && s.reset.tab == t {
			s.finishReset()
		}
		if t == s.cur && !s.ready && s.state == bus.StateStarting {
			s.ready = true
			s.setState(bus.StateIdle)
			s.lastCount = webkit.InputCount()
			s.notify(daemon.SdNotifyReady)
			s.log.Info("home page shown; ready")
			if s.opts.Observer.Ready != nil {
				s.opts.Observer.Ready()
			}
		}
	}
}

func (s *Shell) loadFailed(t *tab, uri string, cancelled bool) {
	if t != s.cur || cancelled || !t.provisional {
		return // ignore cancellations and failures after commit (subresources, frames)
	}
	d := s.cfg.AllowList.Decide(uri)
	if !d.Allow || strings.HasPrefix(uri, "kiosk:") {
		return
	}
	q := url.Values{}
	q.Set("site", d.Site)
	target := "kiosk://offline?" + q.Encode()
	webkit.Invoke(func() {
		if t == s.cur {
			t.view.LoadURI(target)
		}
	})
}

func (s *Shell) terminated(t *tab, r webkit.TerminationReason) {
	switch {
	case t == s.spare:
		s.log.WithField("reason", r.String()).Warn("the spare view's web process ended; making another")
		webkit.Invoke(func() {
			if t == s.spare {
				s.spare = nil
				t.destroy()
			}
		})
		return
	case t != s.cur:
		return
	}
	s.log.WithField("reason", r.String()).Warn("web process ended; ending the session")
	s.mu.Lock()
	s.status.WebProcessCrashes++
	s.mu.Unlock()
	webkit.Invoke(func() { s.endSession(bus.ReasonWebCrash) })
}

// ---- toolbar and panel -----------------------------------------------------

func (s *Shell) button(id int) {
	if s.prefsButton(id) || s.keyboardButton(id) {
		return
	}
	switch id {
	case toolCloseGuide:
		s.closeGuide(s.cur)
	case toolHome:
		s.view.LoadURI(s.cfg.HomeURL)
	case toolBack:
		if s.view.CanGoBack() {
			s.view.GoBack()
		}
	case toolVolunteer:
		s.view.LoadURI("kiosk://volunteer")
	case toolEnd:
		if s.assisted() {
			s.handOver()
			return
		}
		s.win.ShowPanel(s.tr("shell.end.title"), s.tr("shell.end.body"),
			[]webkit.PanelButton{{ID: panelConfirmEnd, Label: s.tr("shell.end.yes")}, {ID: panelCancel, Label: s.tr("shell.end.no"), Secondary: true}})
	case panelConfirmEnd:
		s.win.HidePanel()
		webkit.Invoke(func() { s.endSession(bus.ReasonToolbar) })
	case panelCancel, panelStillHere:
		s.win.HidePanel()
		if s.state == bus.StateWarning {
			s.setState(bus.StateInSession)
		}
	}
}

// ---- session lifecycle -----------------------------------------------------

func (s *Shell) ticker() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-s.stopTick:
			return
		case <-t.C:
			webkit.Invoke(s.tick)
		}
	}
}

// tick runs on the GTK loop: idle timer, warning countdown, watchdog.
func (s *Shell) tick() {
	if s.closed {
		return
	}
	now := s.now()
	if s.watchdog > 0 && now.Sub(s.lastPing) >= s.watchdog {
		s.lastPing = now
		s.notify(daemon.SdNotifyWatchdog)
	}
	if s.reset != nil && now.After(s.reset.deadline) {
		s.log.Warn("home page did not finish loading after a reset; carrying on")
		s.finishReset()
	}
	if c := webkit.InputCount(); c != s.lastCount {
		s.lastCount = c
		s.lastInput = now
		s.input(now)
	}
	switch s.state {
	case bus.StateInSession:
		if now.Sub(s.lastInput) >= s.idleTimeout() {
			s.warnStart = now
			s.setState(bus.StateWarning)
			s.win.ShowPanel(s.tr("idle.title"), s.countdown(s.cfg.Session.IdleWarning),
				[]webkit.PanelButton{{ID: panelStillHere, Label: s.tr("shell.idle.yes")}})
		}
	case bus.StateWarning:
		left := s.cfg.Session.IdleWarning - now.Sub(s.warnStart)
		if left <= 0 {
			s.endSession(bus.ReasonIdle)
			return
		}
		if text := s.countdown(left); text != s.panelText {
			s.panelText = text // only when the seconds change: each change re-lays out the window
			s.win.SetPanelText(text)
		}
	}
}

func (s *Shell) countdown(left time.Duration) string {
	secs := int((left + time.Second - 1) / time.Second)
	if secs == 1 {
		return s.tr("shell.idle.body1")
	}
	return s.tr("shell.idle.body", secs)
}

// input is called when new input arrived since the last tick.
func (s *Shell) input(now time.Time) {
	switch s.state {
	case bus.StateIdle:
		s.sessionStart = now
		s.setState(bus.StateInSession)
		ms := now.UnixMilli()
		s.mu.Lock()
		s.status.SessionStartedUnixMs = ms
		s.mu.Unlock()
		s.log.Info("session started")
		webkit.Invoke(s.prewarm)
		s.emit(func() {
			if s.server != nil {
				s.server.SessionStarted(ms)
			}
		})
	case bus.StateWarning:
		s.win.HidePanel()
		s.setState(bus.StateInSession)
	}
}

// endSession ends the session (if any) and wipes: a fresh view and data
// manager, empty clipboards, default zoom, home_url. On the GTK thread.
func (s *Shell) endSession(reason string) {
	if s.closed || s.reset != nil {
		return // a reset is already under way; it wipes everything anyway
	}
	now := s.now()
	r := &pendingReset{reason: reason, t0: now, deadline: now.Add(10 * time.Second)}
	r.receipt.EndedUnixMs = now.UnixMilli()
	s.finishVolunteer(&r.receipt)
	if !s.sessionStart.IsZero() {
		r.receipt.StartedUnixMs = s.sessionStart.UnixMilli()
		r.receipt.SessionMs = now.Sub(s.sessionStart).Milliseconds()
	}
	s.setState(bus.StateResetting)
	s.win.HidePanel()
	s.win.Banner("")
	s.msgGen++

	cleared, failed := []string{}, []string{}
	old := s.cur
	s.hideKeyboard()
	s.win.SetGuide(nil, "", "", 0)
	s.cur, s.view = nil, nil
	s.win.SetView(nil)
	if reason == bus.ReasonWebCrash {
		// WebKit still has tasks queued for a view whose web process just
		// died; destroying it now crashes the UI process. Detached, it shows
		// nothing and takes no input; it is destroyed shortly, and the
		// receipt waits for that.
		r.waitDestroy = true
		time.AfterFunc(crashDestroyDelay, func() {
			webkit.Invoke(func() {
				old.destroy()
				r.waitDestroy = false
				if s.reset == r && r.homeShown {
					s.finishReset()
				}
			})
		})
	} else {
		old.destroy() // the views (service and guide), their web processes, back/forward lists, ephemeral website data
	}
	cleared = append(cleared, bus.ClearedWebView, bus.ClearedHistory, bus.ClearedWebsiteData)
	webkit.ClearClipboards()
	cleared = append(cleared, bus.ClearedClipboard)

	s.resetPrefs()
	next := s.spare
	s.spare = nil
	if next == nil {
		var err error
		if next, err = s.newTab(); err != nil {
			s.log.WithError(err).Error("cannot make a fresh web view")
			failed = append(failed, bus.ClearedWebView)
		}
	}
	if next != nil {
		cleared = append(cleared, bus.ClearedSettings) // a fresh view has the configured zoom and settings
		s.show(next)
	}
	r.receipt.Cleared, r.receipt.Failed = cleared, failed
	r.tab = next
	s.reset = r
	s.sessionStart = time.Time{}
	switch {
	case next == nil:
		s.finishReset()
	case next.loaded && !next.provisional:
		s.finishReset() // the spare already shows home_url
	default:
		next.view.LoadURI(s.cfg.HomeURL)
	}
}

// finishReset is called when home_url has loaded after a wipe (and again
// when a crashed view has been destroyed): the session is over.
func (s *Shell) finishReset() {
	r := s.reset
	if !r.homeShown {
		r.homeShown = true
		r.receipt.ResetMs = s.now().Sub(r.t0).Milliseconds()
		s.lastCount = webkit.InputCount()
		s.setState(bus.StateIdle)
	}
	if r.waitDestroy && s.now().Before(r.deadline) {
		return
	}
	s.reset = nil
	s.mu.Lock()
	s.status.SessionsEnded++
	if s.state == bus.StateIdle {
		s.status.SessionStartedUnixMs = 0
	}
	s.mu.Unlock()
	s.log.WithFields(logrus.Fields{"reason": r.reason, "reset_ms": r.receipt.ResetMs, "session_ms": r.receipt.SessionMs}).Info("session ended and wiped")
	receipt, reason := r.receipt, r.reason
	s.emit(func() {
		if s.server != nil {
			s.server.SessionEnded(reason, receipt)
		}
	})
	if s.opts.Observer.SessionEnded != nil {
		s.opts.Observer.SessionEnded(reason, receipt)
	}
}

func (s *Shell) setState(st string) {
	s.state = st
	s.mu.Lock()
	s.status.State = st
	s.mu.Unlock()
	if s.opts.Observer.StateChanged != nil {
		s.opts.Observer.StateChanged(st)
	}
}

// showMessage puts staff text in the banner for d. On the GTK thread.
func (s *Shell) showMessage(text string, d time.Duration) {
	s.msgGen++
	gen := s.msgGen
	s.win.Banner(text)
	time.AfterFunc(d, func() {
		webkit.Invoke(func() {
			if !s.closed && s.msgGen == gen {
				s.win.Banner(s.indicator())
			}
		})
	})
}

// notify queues an sd_notify message. It never blocks the GTK thread: a
// datagram socket whose reader stalls would otherwise hang the UI.
func (s *Shell) notify(state string) {
	select {
	case s.notices <- state:
	default:
	}
}

func (s *Shell) notifier() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stopTick:
			return
		case st := <-s.notices:
			if _, err := daemon.SdNotify(false, st); err != nil {
				s.log.WithError(err).Warn("sd_notify")
			}
		}
	}
}

// emit queues a D-Bus signal; signals go out in order from one goroutine.
func (s *Shell) emit(f func()) {
	if s.closed {
		return
	}
	select {
	case s.signals <- f:
	default:
		s.log.Warn("D-Bus signal queue full; signal dropped")
	}
}

func (s *Shell) emitter() {
	defer s.wg.Done()
	for f := range s.signals {
		f()
	}
}

// ---- D-Bus service ---------------------------------------------------------

// service is the shell as a bus.Service; its methods run on D-Bus goroutines.
type service struct{ s *Shell }

func (v service) EndSession(reason string) error {
	webkit.Invoke(func() { v.s.endSession(reason) })
	return nil
}

// compositorRenderer says how the compositor the kiosk runs in draws: cage
// passes its environment on, and the kiosk unit runs cage again with
// WLR_RENDERER=pixman when its GPU renderer failed at start, so that value
// here means the screen is drawn in software (the agent warns IT staff).
func compositorRenderer() string {
	if os.Getenv("WLR_RENDERER") == "pixman" {
		return bus.RendererSoftware
	}
	return ""
}

func (v service) Status() bus.Status {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	st := v.s.status
	st.UptimeMs = v.s.now().Sub(v.s.start).Milliseconds()
	return st
}

func (v service) ShowMessage(text string, seconds uint32) error {
	webkit.Invoke(func() { v.s.showMessage(text, time.Duration(seconds)*time.Second) })
	return nil
}

// ---- process environment ---------------------------------------------------

// PrivateHome makes a fresh directory for this process and points HOME and
// the XDG base directories into it, so that nothing GTK or WebKit might
// write lands in a real home directory; cleanup removes it. Call before
// webkit.Init. It honours an existing $XDG_RUNTIME_DIR (a tmpfs) as parent.
func PrivateHome() (dir string, cleanup func(), err error) {
	parent := os.Getenv("XDG_RUNTIME_DIR")
	if fi, err := os.Stat(parent); parent == "" || err != nil || !fi.IsDir() {
		parent = os.TempDir()
	}
	dir, err = os.MkdirTemp(parent, "accesskiosk-")
	if err != nil {
		return "", nil, fmt.Errorf("make private home: %w", err)
	}
	for env, sub := range map[string]string{"HOME": "", "XDG_CONFIG_HOME": "config", "XDG_CACHE_HOME": "cache",
		"XDG_DATA_HOME": "data", "XDG_STATE_HOME": "state"} {
		p := filepath.Join(dir, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("make private home: %w", err)
		}
		os.Setenv(env, p)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// CommandLine is what bin/kiosk's flags say.
type CommandLine struct {
	ConfigPath string // "" means the embedded default
	Windowed   bool
	Screenshot string // "" for none
}

// LoadConfig loads the file the command line names, or the embedded default.
func (c CommandLine) LoadConfig() (*config.Config, error) {
	if c.ConfigPath == "" {
		return config.Default()
	}
	return config.Load(c.ConfigPath)
}

// Main is bin/kiosk after its flags: a private home directory, then Run.
// Call from the main goroutine of a program that locked the main OS thread.
func Main(ctx context.Context, cfg *config.Config, cl CommandLine, log logrus.FieldLogger, version string) error {
	_, cleanup, err := PrivateHome()
	if err != nil {
		return err
	}
	defer cleanup()
	pages, err := NewPages(&cfg.UI, log)
	if err != nil {
		return err
	}
	o := Options{Config: cfg, Log: log, Fullscreen: !cl.Windowed, Version: version, UI: pages}
	if cl.Screenshot != "" {
		path := cl.Screenshot
		var s **Shell
		o.Observer.Ready = func() {
			// Let the first frame paint before reading the window back.
			time.AfterFunc(500*time.Millisecond, func() {
				webkit.Invoke(func() {
					if s == nil || *s == nil {
						return
					}
					if err := (*s).win.Snapshot(path); err != nil {
						log.WithError(err).Error("screenshot")
						return
					}
					log.WithField("path", path).Info("screenshot saved")
				})
			})
		}
		return runWith(ctx, o, func(sh *Shell) { s = &sh })
	}
	return Run(ctx, o)
}

func runWith(ctx context.Context, o Options, started func(*Shell)) error {
	if err := webkit.Init(); err != nil {
		return err
	}
	s, err := Start(o)
	if err != nil {
		return err
	}
	started(s)
	stop := context.AfterFunc(ctx, func() { webkit.Invoke(func() { s.Close(); webkit.Quit() }) })
	defer stop()
	webkit.Run()
	return nil
}

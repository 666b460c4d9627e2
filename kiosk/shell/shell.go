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
// There are no context menus, developer tools, file or colour choosers,
// print dialogs, emoji choosers, downloads, HTML full screen or second
// windows, and every permission request is denied. The kiosk's own pages
// reach the shell only through the bridge (bridge.go), which answers
// kiosk:// top-level documents only; kiosk:// pages cannot be framed, and
// only the shell opens the privileged ones (navigation.go).
//
// Wiping: a session's web view and its ephemeral website data manager are
// thrown away and fresh ones made; clipboards are emptied; zoom is reset;
// home_url is loaded; SessionEnded carries a receipt. Nothing a resident
// does is logged: logs carry reasons and counts, never URLs.
//
// Threading: everything here runs on the GTK main loop except the methods
// of the D-Bus service, which hand their work to the loop.
//
// Where things are: shell.go the window, its toolbar and Start/Close;
// session.go the lifecycle and the wipe; navigation.go the views and every
// policy decision; bridge.go the kiosk pages' one checked path to the
// shell; service.go D-Bus and sd_notify; process.go bin/kiosk's private
// home and main loop; ui.go, split.go, keyboard.go, language.go,
// offline.go, volunteer.go, volcode.go and files.go (the session's
// private files folder) one feature each.
package shell

import (
	"context"
	"errors"
	"net/http"
	"os"
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
	// StateDir is the kiosk's state directory (systemd's
	// $STATE_DIRECTORY), where printing keeps the day's page count; ""
	// keeps it in memory (a restart starts the day's count again).
	StateDir string
	// FilesParent is where the shell makes its private files root (the
	// session's scans, photos and downloads; files.go); "" means a tmpfs
	// ($RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR or /dev/shm).
	FilesParent string
	// ScanEnv and CameraEnv are added to the environment of scanimage and
	// gst-launch (tests point SANE at its test backend's config).
	ScanEnv, CameraEnv []string
}

// Observer is told what the shell does (on the GTK thread). Every field may be nil.
type Observer struct {
	Ready        func()
	Refused      func(kind webkit.DecisionKind, reason string)
	SessionEnded func(reason string, r bus.Receipt)
	StateChanged func(state string)
	// Served is told the URL of every kiosk:// request the shell answers.
	Served func(uri string)
	// Printed is told of each print job the printer accepted, and how long
	// from the panel's Print to the printer's answer (print.go).
	Printed func(jobID int, took time.Duration)
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

	kb        keyboard          // the on-screen keyboard (keyboard.go)
	vol       *volunteer.Assist // volunteer mode (volunteer.go)
	unlocking bool              // a PIN or code entry is being checked (volunteer.go)
	bridge    bridge            // the kiosk pages' messages (bridge.go)
	assist    *assistState      // remote help (assist.go); nil when off
	count     counted           // what the session counts for the fleet's Insights (counted.go)
	// armed is a privileged kiosk:// page the shell itself is loading
	// (navigation.go: privileged pages open only that way).
	armed string
	// sessionGen counts session ends: work started for one session and
	// finished later checks it is still that session's.
	sessionGen int
	filesRoot  *filesRoot // every tab's files folder is in it (files.go)
	printing   *printer   // nil without a printer (print.go)
	picker     *picker    // the open file picker, if any (picker.go)
	dev        devices    // the picker's scanner and camera (devices.go)
	server     *bus.Server
	conn       *dbus.Conn
	ownConn    bool
	signals    chan func()
	notices    chan string // sd_notify states for the notifier goroutine
	wg         sync.WaitGroup
}

// tab is a web view on its own ephemeral context.
type tab struct {
	ctx         *webkit.Context
	view        *webkit.View
	guide       *webkit.View // the guide beside the service (split.go), on the same context; nil when closed
	deadGuide   *webkit.View // a guide view whose web process ended, detached, to be destroyed
	provisional bool         // a main-frame load has started and not committed
	loaded      bool         // home_url finished loading at least once
	crashed     bool         // the view's web process ended: never shown again
	homeLoading bool         // home_url was asked for and has not finished or failed yet (reset.go)
	// beforeOffline is the page the offline page replaced, to go back to
	// when the network returns. Memory only, gone with the tab at the wipe.
	beforeOffline string

	// files is the session's private files folder (files.go).
	files *sessionFiles
	// sheet is the kiosk page shown over the service (sheet.go); deadSheet
	// one whose web process ended, detached, to be destroyed.
	sheet     *sheet
	deadSheet *webkit.View
	// print is the print panel's state (print.go).
	print *printPanel
	// page is what the file picker knows of the service view's page (picker.go).
	page pageState
	// downloads are the service view's downloads still running (downloads.go).
	downloads []*webkit.Download
}

// destroyLater detaches nothing but destroys t after crashDestroyDelay:
// WebKit still has tasks queued for a view whose web process just ended,
// and destroying it at once crashes the UI process.
func (t *tab) destroyLater() {
	time.AfterFunc(crashDestroyDelay, func() { webkit.Invoke(t.destroy) })
}

// stop kills the web processes of t's views (service, guide, sheet): their
// pages stop at once. Destroy them after crashDestroyDelay.
func (t *tab) stop() {
	if t.sheet != nil {
		t.sheet.view.TerminateWebProcess()
	}
	for _, v := range []*webkit.View{t.view, t.guide} {
		if v != nil {
			v.TerminateWebProcess()
		}
	}
}

func (t *tab) destroy() {
	if t == nil {
		return
	}
	if t.sheet != nil {
		t.sheet.view.Destroy()
		t.sheet = nil
	}
	for _, g := range []**webkit.View{&t.guide, &t.deadGuide, &t.deadSheet} {
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
	t.files.wipe() // the session's end wiped it already; the spare's and Close's here
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
	s.setupFilesPanel()
	s.win.AddTool(toolEnd, "End session", "End session", webkit.ToolDanger, true)
	s.setupBridge()
	s.shareNetwork() // reset.go: before the first view
	if err := s.setupPrinting(); err != nil {
		s.win.Destroy()
		return nil, err
	}
	if err := s.startFiles(); err != nil {
		s.win.Destroy()
		return nil, err
	}
	s.setupAssist()
	s.setupPicker()
	if err := s.startVolunteer(); err != nil {
		s.filesRoot.close()
		s.win.Destroy()
		return nil, err
	}
	s.setupToolbar() // toolbar.go: which buttons give way on a narrow screen
	s.relabel()
	t, err := s.newTab()
	if err != nil {
		s.win.Destroy()
		s.filesRoot.close()
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
	s.closeAssist()
	if s.server != nil {
		s.server.Close()
	}
	close(s.signals)
	if s.ownConn && s.conn != nil {
		s.conn.Close()
	}
	s.stopPrinting()
	s.win.SetGuide(nil, "", "", 0)
	s.win.SetSheet(nil)
	s.win.SetView(nil)
	s.cur.destroy()
	s.spare.destroy()
	s.cur, s.spare, s.view, s.reset = nil, nil, nil, nil
	s.filesRoot.close()
	s.win.Destroy()
	// The ticker and emitter return promptly; don't wait on the GTK
	// thread for goroutines that may be queueing work onto it.
}

func (s *Shell) button(id int) {
	if s.prefsButton(id) || s.keyboardButton(id) || s.sheetButton(id) || s.filesButton(id) || s.assistButton(id) {
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
		s.loadPrivileged("kiosk://volunteer")
	case toolPrint:
		s.printButton()
	case toolEnd:
		if s.assisted() {
			s.handOver()
			return
		}
		s.win.ShowPanel(s.tr("shell.end.title"), s.tr("shell.end.body"),
			[]webkit.PanelButton{{ID: panelConfirmEnd, Label: s.tr("shell.end.yes")}, {ID: panelCancel, Label: s.tr("shell.end.no"), Secondary: true}})
	case panelConfirmEnd:
		s.win.HidePanel()
		requested := s.now()
		webkit.InvokeUrgent(func() { s.endSessionAt(bus.ReasonToolbar, requested) })
	case panelCancel, panelStillHere:
		s.win.HidePanel()
		if s.state == bus.StateWarning {
			s.setState(bus.StateInSession)
		}
	}
}

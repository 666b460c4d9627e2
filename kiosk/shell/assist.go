package shell

import (
	"context"
	"errors"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// This file is remote help from the council (issue 17; kiosk/assist has
// the sharing itself, the agent relays it to the fleet's console), when the
// config has assist: enabled.
//
//   - Asking: "Get help" on the toolbar, or "Get help from the council" on
//     the home page (a bridge message, "assist"), opens kiosk://assist
//     (kiosk/ui): the support phone and hours and a 6-digit help code made
//     by the sharer, which registers only its hash with the fleet. The page
//     is privileged (only the shell opens it) and gets the code from the
//     request's context, never from a URL.
//   - Consent: an offer (staff claimed the code, or pressed Offer help)
//     shows the full-screen native prompt, Allow / No thanks, named for
//     screen readers. No page can show it, answer it or cover it; an offer
//     that comes while another panel is up (the idle countdown, End
//     session) or during a wipe is declined at once (no_answer).
//   - Sharing: the bar above everything (outside the window's overlay, so
//     neither a page nor a panel covers it) says the council can see the
//     screen, with Stop sharing (also Alt+S, a GTK mnemonic handled before
//     any page sees the key). When the sharer wants a frame, the whole
//     window is drawn into memory (webkit.Window.Capture, never the screen,
//     never a file) together with the masks of that same moment; the pixels
//     are converted and handed to the sharer off the GTK loop.
//   - Masks: kiosk/assist's MaskScript runs in every frame of every
//     document of every view, in an isolated script world of its own (no
//     page script can see it or post on its channel), and reports where
//     password fields and the configured selectors are, under a per-document
//     id it makes itself. A Tracker per view composes the reports in window
//     pixels. A view is black whole when: its page has just committed and
//     its main frame has not reported yet, its main frame has not reported
//     for reportStale (a page that silences the script), its channel
//     dropped a report (a flood) in the last dropBlind, a report did not
//     parse, or more than maxTrackedFrames documents report in it. A page
//     can only ever make more of the screen black, never less. While a
//     masked field has the focus, the on-screen keyboard is black too.
//   - Pointing: a staff click draws the ring at that place for
//     assist.PointShow, with the note beside it.
//   - Ending: Stop sharing, the end of the session (endSession calls
//     assistSessionEnd first, on every path: toolbar, idle, D-Bus, crash,
//     volunteer hand-over), the time limit, staff closing the page, the
//     agent or fleet going away. The receipt says assist: true and how long
//     the screen was shared, nothing else.

// Ids of remote help's buttons (after the ids in shell.go, ui.go,
// volunteer.go, split.go, print.go (400) and downloads.go (500)).
const (
	toolAssist       = 600 // the toolbar's Get help
	toolAssistStop   = 601 // the sharing bar's Stop sharing
	panelAssistAllow = 602 // the consent prompt's Allow
	panelAssistNo    = 603 // the consent prompt's No thanks
)

// Bounds on the mask reports.
const (
	// assistRate bounds each view's mask reports a second (beyond, they
	// are dropped in C and the view is black for dropBlind).
	assistRate = 60
	// reportStale: a view whose main frame has not reported for this long
	// is black (the script reports at least every second).
	reportStale = 2500 * time.Millisecond
	// dropBlind is how long a view stays black after its channel dropped
	// a report, or a report did not parse (every frame reports again
	// within a second).
	dropBlind = 2500 * time.Millisecond
	// maxTrackedFrames: more documents than this reporting in one view
	// since its page committed make that view black until its next page.
	maxTrackedFrames = 64
	// maxRetired bounds the ids remembered from earlier pages.
	maxRetired = 512
	// assistMessageShow is how long the "sharing has stopped" banner stays.
	assistMessageShow = 8 * time.Second
)

// assistState is remote help in the shell: the sharer and what is on
// screen. Fields are the GTK loop's unless said otherwise.
type assistState struct {
	cfg    assist.Config
	sharer *assist.Sharer // safe from any goroutine
	script string         // MaskScript for the configured selectors
	cancel context.CancelFunc
	views  map[viewKey]*viewMasks

	linkUp    bool      // the agent's socket is connected
	prompting bool      // the consent prompt is showing
	answered  bool      // the resident tapped Allow; Sharing is expected
	sharing   bool      // frames may be captured
	since     time.Time // the current share began
	shared    time.Duration
	used      bool // a share ran in this session (the receipt)
	code      string
	expires   time.Time
	asking    bool // a help code is being made
	capturing bool // a capture is being converted and handed over
	ringGen   int
	captures  int // counts, for tests and the log
}

// viewKey names a view of a tab: its service view, its pane.
type viewKey struct {
	t *tab
	f from
}

// viewMasks is one view's mask reports.
type viewMasks struct {
	tracker    *assist.Tracker
	view       func() *webkit.View // nil: learnt from the first report
	learnt     *webkit.View
	seen       map[string]bool // documents reporting since the page committed
	retired    map[string]bool // documents of earlier pages of this view
	lastMain   time.Time       // the main frame's last report
	blindUntil time.Time       // after a drop or a bad report
	dropped    uint64          // the channel's drop count last seen
	over       bool            // more than maxTrackedFrames documents
}

func newViewMasks() *viewMasks {
	vm := &viewMasks{tracker: assist.NewTracker(), seen: map[string]bool{}, retired: map[string]bool{}}
	vm.tracker.Reset()
	return vm
}

func (vm *viewMasks) current() *webkit.View {
	if vm.view != nil {
		return vm.view()
	}
	return vm.learnt
}

// newPage: the view's main frame committed a new document. Until that
// document reports, the view is black; the old documents' late reports
// are ignored.
func (vm *viewMasks) newPage() {
	if len(vm.retired)+len(vm.seen) > maxRetired {
		clear(vm.retired)
	}
	for id := range vm.seen {
		vm.retired[id] = true
	}
	clear(vm.seen)
	vm.tracker.Reset()
	vm.lastMain = time.Time{}
	vm.over = false
}

// assistEvents is what the sharer calls (its own goroutine): each hands
// the work to the GTK loop, in order, and returns.
type assistEvents struct{ s *Shell }

func (e assistEvents) Offer(via string) { webkit.Invoke(func() { e.s.assistOffer(via) }) }
func (e assistEvents) Sharing()         { webkit.Invoke(e.s.assistSharing) }
func (e assistEvents) Ended(reason string, sum assist.Summary) {
	webkit.Invoke(func() { e.s.assistEnded(reason, sum) })
}
func (e assistEvents) Point(p assist.Point) { webkit.Invoke(func() { e.s.assistPoint(p) }) }
func (e assistEvents) Link(up bool) {
	webkit.Invoke(func() {
		if e.s.assist != nil {
			e.s.assist.linkUp = up
		}
	})
}

// setupAssist turns remote help on when configured: the sharing bar and
// ring, the toolbar button, the bridge action, the sharer and its capture
// loop. On the GTK thread, from Start, before any view is made.
func (s *Shell) setupAssist() {
	c := s.cfg.Assist
	if !c.Enabled {
		return
	}
	a := &assistState{cfg: c, script: assist.MaskScript(c.MaskSelectors), views: map[viewKey]*viewMasks{}}
	s.assist = a
	s.win.EnableAssist()
	s.win.AddTool(toolAssist, "Get help", "Get help from the council", webkit.ToolNormal, true)
	if s.ui != nil {
		s.ui.SetAssist(true)
	}
	s.bridge.on("assist", func(m bridgeMsg) {
		if m.from == fromService {
			s.assistHelp()
		}
	})
	a.sharer = assist.New(assist.Options{Socket: c.Socket, Events: assistEvents{s}, Log: s.log,
		TimeLimit: c.TimeLimit, MaxFPS: float64(c.MaxFPS)})
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go a.sharer.Run(ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-a.sharer.Want():
				webkit.Invoke(s.assistCapture)
			}
		}
	}()
}

// closeAssist stops the sharer (any share ends: shutdown). From Close.
func (s *Shell) closeAssist() {
	if s.assist != nil {
		s.assist.cancel()
	}
}

// Assist is the shell's sharer (nil when remote help is off), for tests
// and benchmarks.
func (s *Shell) Assist() *assist.Sharer {
	if s.assist == nil {
		return nil
	}
	return s.assist.sharer
}

// assistChannel opens the mask reporters' channel on a view of tab t
// (from channels, for every view the shell makes) and resets the view's
// masks at each page it commits.
func (s *Shell) assistChannel(t *tab, f from, o *webkit.ViewOptions) {
	a := s.assist
	if a == nil {
		return
	}
	vm := newViewMasks()
	switch f {
	case fromService:
		vm.view = func() *webkit.View { return t.view }
	case fromPane:
		vm.view = func() *webkit.View { return t.guide }
	}
	a.views[viewKey{t, f}] = vm // a new pane view replaces the old one's
	o.AssistScript = a.script
	o.AssistRate = assistRate
	o.Assist = func(v *webkit.View, body string) { s.assistReport(vm, v, body) }
	load := o.Load
	o.Load = func(ev webkit.LoadEvent, uri string) {
		if ev == webkit.LoadCommitted {
			vm.newPage()
		}
		if load != nil {
			load(ev, uri)
		}
	}
}

// assistReport takes a mask report (never a value or text: geometry,
// under the reporting document's own id).
func (s *Shell) assistReport(vm *viewMasks, v *webkit.View, body string) {
	if s.closed || s.assist == nil {
		return
	}
	if vm.view == nil {
		vm.learnt = v
	}
	r, err := assist.ParseFrameReport([]byte(body))
	if err != nil || r.Frame == "" {
		vm.blindUntil = time.Now().Add(dropBlind)
		return
	}
	switch {
	case vm.retired[r.Frame]:
		return // a late report of a page that is gone
	case r.Gone:
		vm.tracker.Forget(r.Frame)
		delete(vm.seen, r.Frame)
		return
	case !vm.seen[r.Frame]:
		if len(vm.seen) >= maxTrackedFrames {
			vm.over = true
			return
		}
		vm.seen[r.Frame] = true
	}
	vm.tracker.ReportFrame(r.Frame, r)
	if r.Main {
		vm.lastMain = time.Now()
	}
}

// assistMasks is what must be black in a capture taken now, in window
// pixels. On the GTK loop, at the capture.
func (s *Shell) assistMasks() assist.Masks {
	a := s.assist
	now := time.Now()
	var out assist.Masks
	for k, vm := range a.views {
		if k.t != s.cur {
			continue
		}
		v := vm.current()
		if v == nil {
			continue
		}
		place, ok := s.win.ViewPlace(v)
		if !ok {
			continue
		}
		if d := v.AssistDropped(); d != vm.dropped {
			vm.dropped, vm.blindUntil = d, now.Add(dropBlind)
		}
		vm.tracker.SetGeometry(place.Min, v.Zoom())
		m := vm.tracker.Masks()
		if m.Blind || vm.over || now.Before(vm.blindUntil) || now.Sub(vm.lastMain) > reportStale {
			out.Rects = append(out.Rects, place)
		} else {
			for _, r := range m.Rects {
				if r = r.Intersect(place); !r.Empty() {
					out.Rects = append(out.Rects, r)
				}
			}
		}
		out.MaskedFocus = out.MaskedFocus || m.MaskedFocus
	}
	if kb, ok := s.win.KeyboardPlace(); ok {
		out.Keyboard = kb
	}
	return out
}

// assistCapture draws the window into memory with the masks of the same
// moment and hands both to the sharer off the GTK loop.
func (s *Shell) assistCapture() {
	a := s.assist
	if s.closed || a == nil || !a.sharing || a.capturing {
		return
	}
	f, err := s.win.Capture()
	if errors.Is(err, webkit.ErrLayout) {
		time.AfterFunc(20*time.Millisecond, func() { webkit.Invoke(s.assistCapture) })
		return
	}
	if err != nil {
		s.log.WithError(err).Debug("assist: capture failed")
		return
	}
	m := s.assistMasks()
	a.capturing = true
	a.captures++
	go func() {
		img := f.RGBA()
		a.sharer.Submit(img, m)
		webkit.Invoke(func() { a.capturing = false })
	}()
}

// assistHelp is the resident asking for help: the help page, with a code
// (a fresh one unless the last has more than a minute left).
func (s *Shell) assistHelp() {
	a := s.assist
	if a == nil || s.closed {
		return
	}
	if a.code != "" && time.Until(a.expires) > time.Minute || a.asking || !a.linkUp {
		s.loadPrivileged("kiosk://assist")
		return
	}
	a.asking = true
	gen := s.sessionGen
	go func() {
		code, exp, err := a.sharer.RequestHelp()
		webkit.Invoke(func() {
			a.asking = false
			if s.closed || gen != s.sessionGen {
				return
			}
			if err != nil {
				s.log.WithError(err).Info("assist: no help code")
				a.code = ""
			} else {
				a.code, a.expires = code, exp
			}
			s.loadPrivileged("kiosk://assist")
		})
	}()
}

// assistHelpContext gives kiosk://assist what it shows (the scheme
// handler, on the GTK loop, for the session's own view).
func (s *Shell) assistHelpContext(ctx context.Context) context.Context {
	a := s.assist
	if a == nil {
		return ctx
	}
	h := ui.Help{Phone: a.cfg.Phone, Hours: a.cfg.Hours}
	if a.linkUp && a.code != "" && time.Now().Before(a.expires) {
		h.Available, h.Code, h.Expires = true, a.code, a.expires
	}
	return ui.WithHelp(ctx, h)
}

// assistOffer shows the consent prompt for an offer of help.
func (s *Shell) assistOffer(via string) {
	a := s.assist
	if s.closed || a == nil {
		return
	}
	a.code = "" // used (or replaced by staff's own offer)
	if s.reset != nil || s.state == bus.StateResetting || s.state == bus.StateWarning || s.win.PanelVisible() {
		// Nobody can answer it now: the session is ending, or another
		// question is on the screen.
		s.log.WithField("via", via).Info("assist: offer declined: the screen is busy")
		go a.sharer.Stop(wire.ReasonNoAnswer)
		return
	}
	a.prompting = true
	s.hideKeyboard()
	s.showPrompt()
	s.log.WithField("via", via).Info("assist: consent prompt shown")
}

func (s *Shell) showPrompt() {
	name := s.cfg.Council.Name
	s.win.ShowPanel(s.tr("assist.prompt.title", name), s.tr("assist.prompt.body"), []webkit.PanelButton{
		{ID: panelAssistAllow, Label: s.tr("assist.allow")},
		{ID: panelAssistNo, Label: s.tr("assist.no"), Secondary: true},
	})
	s.win.SetPanelName(s.tr("assist.prompt.name", name))
}

// assistButton handles remote help's buttons; false if id is not one.
func (s *Shell) assistButton(id int) bool {
	a := s.assist
	if a == nil {
		return false
	}
	switch id {
	case toolAssist:
		s.assistHelp()
	case panelAssistAllow, panelAssistNo:
		if !a.prompting {
			return true
		}
		allow := id == panelAssistAllow
		a.prompting, a.answered = false, allow
		s.win.HidePanel()
		s.win.SetPanelName("")
		go func() {
			if err := a.sharer.Answer(allow); err != nil {
				s.log.WithError(err).Info("assist: answer not taken")
			}
		}()
	case toolAssistStop:
		s.assistStopNow()
		go a.sharer.Stop(wire.ReasonStop)
	default:
		return false
	}
	return true
}

// assistStopNow stops capturing and takes the prompt, bar and ring down
// at once (the sharer's Ended follows).
func (s *Shell) assistStopNow() {
	a := s.assist
	if a.prompting {
		a.prompting = false
		s.win.HidePanel()
		s.win.SetPanelName("")
	}
	a.answered, a.sharing = false, false
	if !a.since.IsZero() {
		a.shared += time.Since(a.since)
		a.since = time.Time{}
	}
	s.win.AssistBar("", "", "", 0)
	s.win.HideRing()
}

// assistPanelTaken: another panel (the idle countdown) replaces the
// consent prompt: the offer is declined.
func (s *Shell) assistPanelTaken() {
	a := s.assist
	if a == nil || !a.prompting {
		return
	}
	a.prompting = false
	s.win.SetPanelName("")
	go a.sharer.Stop(wire.ReasonNoAnswer)
}

// assistSharing: the resident allowed, the sharer started: the bar.
func (s *Shell) assistSharing() {
	a := s.assist
	if s.closed || a == nil || !a.answered {
		return // the session ended (or Stop was pressed) since the tap
	}
	a.sharing, a.used = true, true
	a.since = time.Now()
	s.countAssist() // the fleet's Insights count it (counted.go)
	s.showAssistBar()
	s.log.Info("assist: sharing")
}

func (s *Shell) showAssistBar() {
	s.win.AssistBar(s.tr("assist.bar", s.cfg.Council.Name), s.tr("assist.stop"), s.tr("assist.stop.name"), toolAssistStop)
}

// assistEnded: the share, the offer or the waiting code is over.
func (s *Shell) assistEnded(reason string, sum assist.Summary) {
	a := s.assist
	if s.closed || a == nil {
		return
	}
	wasSharing := a.sharing
	s.assistStopNow()
	if sum.Via == wire.ViaCode && sum.Shared == 0 && !wasSharing {
		a.code = ""
	}
	s.log.WithFields(logrus.Fields{"reason": reason, "shared_ms": sum.Shared.Milliseconds(), "frames": sum.Frames,
		"points": sum.Points, "captures": a.captures}).Info("assist: ended")
	if !wasSharing || reason == wire.ReasonSessionEnd || reason == wire.ReasonShutdown {
		return
	}
	key := "assist.ended"
	switch reason {
	case wire.ReasonTimeLimit:
		key = "assist.ended.limit"
	case wire.ReasonAgentGone, wire.ReasonFleetGone, wire.ReasonProtocol:
		key = "assist.ended.connection"
	}
	s.showMessage(s.tr(key), assistMessageShow)
}

// assistPoint draws the ring where staff pointed.
func (s *Shell) assistPoint(p assist.Point) {
	a := s.assist
	if s.closed || a == nil || !a.sharing {
		return
	}
	s.win.Ring(p.X, p.Y, p.Text)
	a.ringGen++
	gen := a.ringGen
	time.AfterFunc(assist.PointShow, func() {
		webkit.Invoke(func() {
			if !s.closed && a.ringGen == gen {
				s.win.HideRing()
			}
		})
	})
}

// assistSessionEnd is the first step of every wipe: nothing more is
// captured, the share ends (session_end), and the receipt says whether
// the screen was shared and for how long.
func (s *Shell) assistSessionEnd(r *bus.Receipt) {
	a := s.assist
	if a == nil {
		return
	}
	s.assistStopNow()
	a.code = ""
	go a.sharer.Stop(wire.ReasonSessionEnd)
	if a.used {
		r.RemoteHelp, r.RemoteHelpMs = true, a.shared.Milliseconds()
	}
	a.used, a.shared = false, 0
	for k := range a.views {
		if k.t == s.cur {
			delete(a.views, k)
		}
	}
}

// assistRelabel puts remote help's native parts in the session's language.
func (s *Shell) assistRelabel() {
	a := s.assist
	if a == nil {
		return
	}
	s.win.SetTool(toolAssist, s.tr("assist.tool"), s.tr("assist.tool.name"))
	if a.sharing {
		s.showAssistBar()
	}
	if a.prompting {
		s.showPrompt()
	}
}

// assistShown is what the window shows of remote help (tests).
type assistShown struct {
	Prompting, Sharing bool
	Bar                string
	Captures           int
}

func (s *Shell) assistShownNow() assistShown {
	a := s.assist
	if a == nil {
		return assistShown{}
	}
	return assistShown{Prompting: a.prompting, Sharing: a.sharing, Bar: s.win.AssistBarText(), Captures: a.captures}
}

package shell

import (
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/webkit"
)

// This file is the session lifecycle: idle → first input starts a session
// → no input for idle_timeout → countdown → end → wipe → home.

type pendingReset struct {
	reason      string
	t0          time.Time // end requested
	receipt     bus.Receipt
	tab         *tab
	deadline    time.Time
	homeShown   bool      // home_url finished loading; ResetMs is set
	waitDestroy bool      // the session's views are still to be destroyed (stopped or crashed: session.go)
	waiting     bool      // the "One moment" screen shows until tab has loaded home_url (reset.go)
	painted     bool      // the first frame without the session was painted (or 2 s passed)
	swapped     time.Time // swapIn ran
	sent        bool      // the receipt went out
	waitPrint   bool      // the session's print jobs are being cancelled (print.go)
}

// crashDestroyDelay is how long a view whose web process ended (crashed,
// or stopped at a session's end) is kept, detached, before it is destroyed.
const crashDestroyDelay = 1500 * time.Millisecond

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
	s.countDropped()
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
			s.assistPanelTaken()
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
func (s *Shell) endSession(reason string) { s.endSessionAt(reason, s.now()) }

// endSessionAt is endSession for an end requested at requested (a D-Bus
// call or a tap handed to the loop earlier): the receipt's times count
// from then.
func (s *Shell) endSessionAt(reason string, requested time.Time) {
	if s.closed || s.reset != nil {
		return // a reset is already under way; it wipes everything anyway
	}
	r := &pendingReset{reason: reason, t0: requested, deadline: s.now().Add(10 * time.Second)}
	s.assistSessionEnd(&r.receipt) // first: nothing of this session or the next is captured from here
	r.receipt.EndedUnixMs = requested.UnixMilli()
	s.finishVolunteer(&r.receipt)
	if !s.sessionStart.IsZero() {
		r.receipt.StartedUnixMs = s.sessionStart.UnixMilli()
		r.receipt.SessionMs = requested.Sub(s.sessionStart).Milliseconds()
	}
	s.countEnd(&r.receipt)
	tA := s.now()
	s.setState(bus.StateResetting)
	s.win.HidePanel()
	s.win.ShowMore(false) // the toolbar's More panel (toolbar.go)
	s.win.Banner("")
	s.msgGen++
	s.sessionGen++
	s.armed = ""

	cleared, failed := []string{}, []string{}
	old := s.cur
	s.hideKeyboard()
	s.win.SetGuide(nil, "", "", 0)
	s.win.SetSheet(nil)
	s.cur, s.view = nil, nil
	s.win.SetView(nil)
	// The sheet, before the views are destroyed: its owner is told (the
	// picker cancels what it held, stops the scanner and the camera; the
	// print panel drops its document).
	s.dropSheet(old, reason == bus.ReasonWebCrash)
	// The session's pages stop at once: their web processes are killed
	// (stop). Their views (service and guide) are destroyed, with their
	// back/forward lists and ephemeral website data, shortly after, off the
	// path to the next resident's first frame, where destroying them took
	// 30-40 ms of the loop; and not at once, because WebKit still has tasks
	// queued for a view whose web process just ended, and destroying it then
	// crashes the UI process (after a crash, the same). Detached, a view
	// shows nothing and takes no input; the receipt waits for the destroy.
	if old != nil {
		old.stop()
		r.waitDestroy = true
		time.AfterFunc(crashDestroyDelay, func() {
			webkit.Invoke(func() {
				old.destroy()
				r.waitDestroy = false
				s.receiptDue(r) // when home showed first, the receipt waited for this
			})
		})
	}
	tB := s.now()
	cleared = append(cleared, bus.ClearedWebView, bus.ClearedHistory, bus.ClearedWebsiteData)
	// The session's files: scans, photos, downloads, even while a crashed
	// view waits to be destroyed.
	if s.wipeFiles(old, &r.receipt) {
		cleared = append(cleared, bus.ClearedFiles)
	} else {
		failed = append(failed, bus.ClearedFiles)
	}
	webkit.ClearClipboards()
	cleared = append(cleared, bus.ClearedClipboard)

	s.resetPrefs()
	tC := s.now()
	next, err := s.nextTab()
	tD := s.now()
	if err != nil {
		s.log.WithError(err).Error("cannot make a fresh web view")
		failed = append(failed, bus.ClearedWebView)
	} else {
		cleared = append(cleared, bus.ClearedSettings) // a fresh view has the configured zoom and settings
	}
	r.receipt.Cleared, r.receipt.Failed = cleared, failed
	s.endPrinting(r) // pending and held jobs cancelled off the loop; the receipt waits
	r.tab = next
	s.reset = r
	s.sessionStart = time.Time{}
	s.swapIn(r) // reset.go: the next view, or "One moment" until it has loaded home
	s.log.WithFields(logrus.Fields{"queued_ms": tA.Sub(requested).Milliseconds(), "destroy_ms": tB.Sub(tA).Milliseconds(),
		"prefs_ms": tC.Sub(tB).Milliseconds(), "next_ms": tD.Sub(tC).Milliseconds(), "swap_ms": s.now().Sub(tD).Milliseconds(),
		"next_ready": next != nil && next.ready()}).Debug("wipe steps")
}

// finishReset is called when home_url has loaded after a wipe: the
// session is over and the screen is the next resident's (a crash of the
// view now on screen is a new session end). The receipt goes out once the
// first frame without the session has been painted and, after a crash,
// the crashed view destroyed.
func (s *Shell) finishReset() {
	r := s.reset
	s.reset = nil
	s.showNext(r) // reset.go: the view in place of "One moment"
	r.homeShown = true
	// At least 1, as wiped_ms: a reset under a millisecond still happened
	// (0 would read as none; TestWipe saw it on an idle machine).
	r.receipt.ResetMs = max(s.now().Sub(r.t0).Milliseconds(), 1)
	s.lastCount = webkit.InputCount()
	s.setState(bus.StateIdle)
	s.receiptDue(r) // or later: after a crash, and before the first frame, it waits (reset.go)
}

// sessionEnded counts the ended session and sends its receipt.
func (s *Shell) sessionEnded(r *pendingReset) {
	s.mu.Lock()
	s.status.SessionsEnded++
	if s.state == bus.StateIdle {
		s.status.SessionStartedUnixMs = 0
	}
	s.mu.Unlock()
	s.log.WithFields(logrus.Fields{"reason": r.reason, "reset_ms": r.receipt.ResetMs, "wiped_ms": r.receipt.WipedMs,
		"session_ms": r.receipt.SessionMs}).Info("session ended and wiped")
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

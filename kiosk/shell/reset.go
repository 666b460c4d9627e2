package shell

import (
	"os"
	"path/filepath"
	"time"

	"accesskiosk/kiosk/webkit"
)

// This file is the next session's view and the reset path around it: what
// the screen shows from "end requested" until the next resident's home.
//
// When a session starts the shell prepares the next session's view (a
// fresh ephemeral context loading home_url, hidden: prewarm). Ending the
// session wipes at once (session.go), then:
//   - the prepared view has loaded home_url: it goes on screen, and the
//     reset is over (reset_ms is the swap);
//   - it has not (a session ended within a second or so of starting, or
//     its web process died): the "One moment" screen, the window's own
//     panel, goes on screen at once, and the view replaces it as soon as
//     it has loaded home_url, without loading it again (reset_ms counts
//     to that moment).
//
// The receipt's wiped_ms is end requested → the first frame painted
// after that: the session's view was destroyed before anything else went
// on screen, so that frame shows the fresh home or "One moment", never the
// session. Every context shares one network process (shareNetwork), so a
// prepared view costs a web process, not a web and a network process.

// paintWait bounds how long a receipt waits for the first frame after a
// wipe; a window that paints nothing (not mapped) sends it without WipedMs.
const paintWait = 2 * time.Second

// shareNetwork makes every context of this process share one network
// process (webkit.ShareNetworkProcess), its anchor's empty directories
// under the private cache directory (process.go's PrivateHome). Without
// one (a process that did not make a private home), each context keeps a
// network process of its own.
func (s *Shell) shareNetwork() {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		s.log.Warn("no private cache directory; each web view keeps a network process of its own")
		return
	}
	if err := webkit.ShareNetworkProcess(filepath.Join(cache, "accesskiosk-network")); err != nil {
		s.log.WithError(err).Warn("each web view keeps a network process of its own")
	}
}

// ready reports whether t shows home_url, loaded, with no other load under way.
func (t *tab) ready() bool { return t.loaded && !t.provisional }

// loadHome starts loading home_url in t, unless it is loading it already.
func (s *Shell) loadHome(t *tab) {
	if t.homeLoading {
		return
	}
	t.homeLoading = true
	t.view.LoadURI(s.cfg.HomeURL)
}

// nextTab is the next session's view, not yet on screen: the prepared one,
// unless its web process ended, or a fresh one, loading home_url.
func (s *Shell) nextTab() (*tab, error) {
	next := s.spare
	s.spare = nil
	if next != nil && next.crashed {
		next.destroyLater() // its web process ended before the swap
		next = nil
	}
	if next == nil {
		var err error
		if next, err = s.newTab(); err != nil {
			return nil, err
		}
	}
	if !next.ready() {
		s.loadHome(next)
	}
	return next, nil
}

// swapIn puts what follows a wipe on screen: r's tab when it has loaded
// home_url, "One moment" until it has otherwise. On the GTK thread, with
// the session's view already destroyed or detached.
func (s *Shell) swapIn(r *pendingReset) {
	t := r.tab
	r.swapped = s.now()
	s.win.AfterPaint(func() { s.painted(r) })
	time.AfterFunc(paintWait, func() {
		webkit.Invoke(func() {
			if !r.painted {
				s.log.Warn("no frame painted after a wipe; the receipt goes without wiped_ms")
				r.painted = true
				s.receiptDue(r)
			}
		})
	})
	switch {
	case t == nil:
		s.finishReset() // no view could be made (logged; the receipt says web_view failed)
	case t.ready():
		s.show(t)
		s.finishReset()
	default:
		// The tab is the session's from now (its decisions are the
		// shell's), but stays off screen until home_url has loaded in it.
		s.cur, s.view = t, t.view
		r.waiting = true
		s.win.ShowPanel(s.tr("shell.reset.title"), s.tr("shell.reset.body"), nil)
	}
}

// showNext replaces "One moment" with r's tab (finishReset: home_url
// loaded in it, or the reset gave up waiting).
func (s *Shell) showNext(r *pendingReset) {
	if !r.waiting {
		return
	}
	r.waiting = false
	if s.cur != nil {
		s.show(s.cur)
	}
	s.win.HidePanel()
}

// painted records the first frame painted after the wipe.
func (s *Shell) painted(r *pendingReset) {
	if r.painted || s.closed {
		return
	}
	r.painted = true
	r.receipt.WipedMs = max(s.now().Sub(r.t0).Milliseconds(), 1)
	s.log.WithField("after_swap_ms", s.now().Sub(r.swapped).Milliseconds()).Debug("first frame after the wipe")
	s.receiptDue(r)
}

// receiptDue sends r's receipt once nothing it waits for is left: home
// shown, the first frame painted, a crashed view destroyed, the session's
// print jobs cancelled (print.go).
func (s *Shell) receiptDue(r *pendingReset) {
	if r.sent || !r.homeShown || !r.painted || r.waitDestroy || r.waitPrint || s.closed {
		return
	}
	r.sent = true
	s.sessionEnded(r)
}

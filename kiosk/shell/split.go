package shell

import (
	"net/url"
	"strings"
	"time"

	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// This file is the split view: a guide (kiosk://guides/ID?panel=1) in a
// second web view beside the service it explains, or under it when the
// window is portrait (the binding switches when the window's shape does).
// The handle between them is a wide bar a finger can drag; the guide pane
// has its own Close button.
//
// The guide view belongs to the session: it is made on the session's own
// ephemeral web context (so it shares nothing with the next session) and
// is destroyed with the service view at the wipe. It only ever shows
// kiosk:// pages, which are embedded, so a guide works with no network.
// A link in the guide to an allowed service opens in the service view; a
// link anywhere else is refused, like any navigation the allow list
// refuses.

// toolCloseGuide is the guide pane's Close button (after the ids in shell.go).
const toolCloseGuide = 300

// guideURL is the guide panel page for guide id; false for an id that
// cannot be a guide (guides are named with lower-case letters, digits and
// dashes).
func guideURL(id string) (string, bool) {
	if id == "" || len(id) > 100 {
		return "", false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return "kiosk://guides/" + url.PathEscape(id) + "?panel=1", true
}

// openGuide shows guide id beside the service in tab t (the session's).
func (s *Shell) openGuide(t *tab, id string) bool {
	target, ok := guideURL(id)
	if !ok {
		return false
	}
	return s.openPane(t, target)
}

// openPane shows a built-in page (a guide, the guide index or the
// volunteer's service picker, in their panel layout) beside the service
// in tab t.
func (s *Shell) openPane(t *tab, target string) bool {
	if !strings.HasPrefix(target, "kiosk://") || t == nil || t != s.cur || s.closed {
		return false
	}
	if t.guide == nil {
		o := webkit.ViewOptions{
			Decide:     func(d webkit.Decision) bool { return s.decideGuide(t, d) },
			Load:       func(ev webkit.LoadEvent, uri string) { s.guideLoad(t, ev, uri) },
			Terminated: func(r webkit.TerminationReason) { s.guideTerminated(t, r) },
			Permission: func(p webkit.Permission, _ string) bool {
				s.log.WithField("permission", p.String()).Info("permission request denied (guide)")
				return false
			},
			Refused: func(what string) { s.log.WithField("what", what).Info("refused (guide)") },
		}
		s.channels(t, fromPane, &o)
		t.guide = webkit.NewView(t.ctx, o)
		t.guide.SetZoom(s.zoom())
	}
	t.guide.LoadURI(target)
	title, closeLabel := s.paneBar(target) // the guide's own title, in the session's language
	s.win.SetGuide(t.guide, title, closeLabel, toolCloseGuide)
	s.log.Info("guide pane opened beside the service")
	return true
}

// closeGuide closes tab t's guide pane and destroys its view.
func (s *Shell) closeGuide(t *tab) {
	if t == nil || t.guide == nil {
		return
	}
	if t == s.cur {
		s.win.SetGuide(nil, "", "", 0)
	}
	if s.kb.target == t.guide {
		s.hideKeyboard()
	}
	t.guide.Destroy()
	t.guide = nil
}

// GuideShown reports whether a guide is showing beside the service.
func (s *Shell) GuideShown() bool { return s.cur != nil && s.cur.guide != nil }

// decideGuide answers WebKit's policy questions for the guide view: it
// shows kiosk:// pages only; an allowed service link opens in the service
// view instead.
func (s *Shell) decideGuide(t *tab, d webkit.Decision) bool {
	if t != s.cur || t.guide == nil {
		return false
	}
	if strings.HasPrefix(d.URI, "kiosk:") {
		if sheetPage(d.URI) {
			s.refused(d, "kiosk_sheet") // only a sheet shows these (sheet.go)
			return false
		}
		return d.Kind != webkit.NewWindowRequest
	}
	if d.Kind == webkit.Response {
		s.refused(d, "guide_pane")
		return false
	}
	dec := s.cfg.AllowList.Decide(d.URI)
	if !dec.Allow {
		s.refused(d, dec.Reason)
		return false
	}
	uri := d.URI
	webkit.Invoke(func() {
		if t == s.cur && s.view != nil {
			s.view.LoadURI(uri) // decided again, as any navigation of the service view
		}
	})
	return false
}

func (s *Shell) guideLoad(t *tab, ev webkit.LoadEvent, uri string) {
	if ev != webkit.LoadCommitted || t != s.cur || t.guide == nil {
		return
	}
	if s.kb.target == t.guide {
		s.hideKeyboard()
	}
	if strings.HasPrefix(uri, "kiosk:") {
		// A link in the pane (the index, another guide) changes its title.
		s.win.SetGuideBar(s.paneBar(uri))
		s.countPage(t, uri, true)
	} else {
		// Defence in depth: the guide pane never shows anything else.
		s.log.Warn("guide pane committed a page that is not built in; closing it")
		webkit.Invoke(func() { s.closeGuide(t) })
	}
}

func (s *Shell) guideTerminated(t *tab, r webkit.TerminationReason) {
	if t.guide == nil {
		return
	}
	if t.deadGuide != nil {
		t.deadGuide.Destroy() // an earlier crashed guide, long enough ago
	}
	s.log.WithField("reason", r.String()).Warn("the guide's web process ended; closing the guide")
	g := t.guide
	t.guide = nil
	if t == s.cur {
		s.win.SetGuide(nil, "", "", 0)
	}
	if s.kb.target == g {
		s.hideKeyboard()
	}
	// As with a crashed service view: WebKit still has tasks queued for
	// it, so it is destroyed a little later, detached.
	t.deadGuide = g
	time.AfterFunc(crashDestroyDelay, func() {
		webkit.Invoke(func() {
			if t.deadGuide == g {
				t.deadGuide = nil
				g.Destroy()
			}
		})
	})
}

// zoom is the session's zoom for every view.
func (s *Shell) zoom() float64 {
	if s.ui == nil {
		return s.cfg.Zoom
	}
	return s.cfg.Zoom * ui.TextScale(s.prefs.TextSize)
}

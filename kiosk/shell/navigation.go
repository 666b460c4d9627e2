package shell

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/webkit"
)

// This file is what the service view may show: each web view on its own
// ephemeral context, and the answers to WebKit's policy questions, load
// events and crashes.

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

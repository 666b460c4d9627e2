package shell

import (
	"fmt"
	"net/http"
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
	files, err := s.newFiles()
	if err != nil {
		return nil, err
	}
	t := &tab{files: files}
	ctx, err := webkit.NewContext(webkit.ContextOptions{
		Scheme:        "kiosk",
		SchemeHandler: s.kioskPages(t),
		CacheModel:    webkit.CacheDocumentViewer, // least memory; ephemeral sessions keep no HTTP cache across pages anyway
		Download:      func() { s.log.WithField("what", "download").Info("refused") },
	})
	if err != nil {
		files.wipe()
		return nil, fmt.Errorf("make web context: %w", err)
	}
	t.ctx = ctx
	o := webkit.ViewOptions{
		Decide:     func(d webkit.Decision) bool { return s.decide(t, d) },
		Load:       func(ev webkit.LoadEvent, uri string) { s.loadChanged(t, ev, uri) },
		LoadFailed: func(uri, msg string, cancelled bool) { s.loadFailed(t, uri, cancelled) },
		Terminated: func(r webkit.TerminationReason) { s.terminated(t, r) },
		Permission: func(p webkit.Permission, _ string) bool {
			s.log.WithField("permission", p.String()).Info("permission request denied")
			return false
		},
		Refused: func(what string) { s.log.WithField("what", what).Info("refused") },
	}
	s.filesViewOptions(t, &o) // the file chooser and downloads (picker.go, downloads.go)
	if s.printing != nil {
		o.Print = func() { s.printRequested(t) }
	}
	s.channels(t, fromService, &o)
	t.view = webkit.NewView(ctx, o)
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
	s.loadHome(t)
}

func (s *Shell) ours(t *tab) bool { return t != nil && (t == s.cur || t == s.spare) }

// decide answers WebKit's policy questions for view v.
func (s *Shell) decide(t *tab, d webkit.Decision) bool {
	if !s.ours(t) {
		return false
	}
	switch d.Kind {
	case webkit.Navigation:
		if sheetPage(d.URI) {
			s.refused(d, "kiosk_sheet") // shown only in a sheet, by the shell (sheet.go)
			return false
		}
		s.countNavigation(t, d)
		if privilegedURI(d.URI) && !s.disarm(d.URI) {
			// WebKit already keeps every other origin from navigating to
			// kiosk:// (a local scheme); this keeps the built-in pages
			// themselves, and history, from opening these.
			s.refused(d, "kiosk_privileged")
			return false
		}
		if frameOnlyURI(d.URI) {
			return true // about:blank and about:srcdoc frames; main-frame commits are checked in loadChanged
		}
		if s.cfg.AllowList.Decide(d.URI).Allow {
			return true
		}
		if s.cfg.FrameList.Decide(d.URI).Allow {
			// A frames-only origin is refused as the main page in the response check.
			t.page.foreign = true // picker.go: a frame from outside allow may be on the page now
			return true
		}
		dec := s.cfg.AllowList.Decide(d.URI)
		s.refused(d, dec.Reason)
		if d.UserGesture || (d.Redirect && t.provisional) {
			s.showBlock(t, dec.Site, dec.Reason)
		}
		return false
	case webkit.NewWindowRequest:
		if strings.HasPrefix(d.URI, "kiosk:") {
			// The shell would load it itself, as its own load: never on a
			// page's behalf.
			s.refused(d, "kiosk_new_window")
			return false
		}
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
		if !d.MainFrame && strings.HasPrefix(d.URI, "kiosk:") {
			// A kiosk:// page inside a frame (WebKit refuses it to other
			// origins already, and the pages say frame-ancestors 'none').
			s.refused(d, "kiosk_frame")
			return false
		}
		if d.MainFrame {
			dec := s.cfg.AllowList.Decide(d.URI)
			if !dec.Allow {
				s.refused(d, dec.Reason)
				s.showBlock(t, dec.Site, dec.Reason)
				return false
			}
		} else if !strings.HasPrefix(d.URI, "kiosk:") && !s.cfg.AllowList.Decide(d.URI).Allow {
			t.page.foreign = true // picker.go
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
		s.pageCommitted(t, uri) // picker.go
		if t == s.cur && s.kb.target == t.view {
			s.hideKeyboard() // the field that asked for it is gone with its page
		}
		// Defence in depth: whatever got committed in the main frame must be allowed.
		if dec := s.cfg.AllowList.Decide(uri); !dec.Allow {
			s.refused(webkit.Decision{Kind: webkit.Response, MainFrame: true}, dec.Reason)
			s.showBlock(t, dec.Site, dec.Reason)
		} else {
			s.countPage(t, uri, false)
		}
	case webkit.LoadFinished:
		t.provisional = false
		t.loaded = true
		t.homeLoading = false
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
	if t.provisional {
		t.homeLoading = false // whatever was loading, home_url is not any more (reset.go)
	}
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

// terminated handles a view whose web process ended. Its tab is marked
// crashed at once, so that a reset never puts it on screen: a spare is
// replaced; the view on screen ends the session (a wipe onto a fresh
// view), or, when it is the view a reset just put there, is replaced by a
// fresh one that loads home_url (replaceCrashed).
func (s *Shell) terminated(t *tab, r webkit.TerminationReason) {
	t.crashed = true
	switch {
	case t == s.spare:
		s.log.WithField("reason", r.String()).Warn("the spare view's web process ended; making another")
		webkit.Invoke(func() {
			if t == s.spare {
				s.spare = nil
				t.destroyLater()
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
	webkit.Invoke(func() {
		switch {
		case t != s.cur:
			// Already replaced.
		case s.reset != nil:
			s.replaceCrashed(t)
		default:
			s.endSession(bus.ReasonWebCrash)
		}
	})
}

// replaceCrashed puts a fresh view loading home_url in place of t, the
// view a reset was waiting for whose web process ended before home showed:
// "One moment" stays until home shows in the fresh one (reset.go).
func (s *Shell) replaceCrashed(t *tab) {
	r := s.reset
	if r.tab != t {
		return
	}
	next, err := s.newTab()
	if err != nil {
		s.log.WithError(err).Error("cannot make a fresh web view")
		return
	}
	s.win.SetView(nil)
	t.destroyLater()
	s.cur, s.view = next, next.view
	r.tab = next
	if !r.waiting {
		r.waiting = true
		s.win.ShowPanel(s.tr("shell.reset.title"), s.tr("shell.reset.body"), nil)
	}
	s.loadHome(next)
}

// privilegedURI reports the kiosk pages only the shell itself opens (the
// toolbar's Volunteer button, the volunteer screens' answers): the PIN pad
// and the volunteer's screens, the settings page, and remote help's page
// (it shows the help code the shell made).
func privilegedURI(u string) bool {
	for _, p := range []string{"kiosk://volunteer", "kiosk://settings", "kiosk://assist"} {
		if u == p || strings.HasPrefix(u, p+"/") || strings.HasPrefix(u, p+"?") {
			return true
		}
	}
	return false
}

// arm lets the next navigation to uri through (a privileged page the shell
// itself is opening).
func (s *Shell) arm(uri string) { s.armed = uri }

// disarm reports whether uri is the page armed, and disarms it.
func (s *Shell) disarm(uri string) bool {
	ok := s.armed != "" && strings.TrimSuffix(uri, "/") == strings.TrimSuffix(s.armed, "/")
	if ok {
		s.armed = ""
	}
	return ok
}

// loadPrivileged opens a privileged kiosk:// page in the service view.
func (s *Shell) loadPrivileged(uri string) {
	if s.view == nil {
		return
	}
	s.arm(uri)
	s.view.LoadURI(uri)
}

// kioskPages answers tab t's kiosk:// requests: the built-in pages, each
// response marked as never to be framed (Content-Security-Policy
// frame-ancestors 'none', X-Frame-Options DENY, whatever the page set),
// and the observer (tests) told of each.
func (s *Shell) kioskPages(t *tab) http.Handler {
	h := SchemeAdapter(s.pagesFor(t))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Observer.Served != nil {
			s.opts.Observer.Served(r.URL.String())
		}
		h.ServeHTTP(&unframed{ResponseWriter: w}, r)
	})
}

// unframed adds the no-framing headers to a response as it is written.
type unframed struct {
	http.ResponseWriter
	done bool
}

func (u *unframed) mark() {
	if u.done {
		return
	}
	u.done = true
	h := u.Header()
	h.Add("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
}

func (u *unframed) WriteHeader(code int) {
	u.mark()
	u.ResponseWriter.WriteHeader(code)
}

func (u *unframed) Write(p []byte) (int, error) {
	u.mark()
	return u.ResponseWriter.Write(p)
}

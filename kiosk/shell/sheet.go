package shell

import (
	"net/url"
	"strings"
	"time"

	"accesskiosk/kiosk/webkit"
)

// This file is the sheet: one of the kiosk's own pages shown in place of
// the service view (and the guide beside it), such as the print panel,
// while the page it covers stays alive and untouched underneath (its
// document, a half-filled form, the scroll position), so that closing the
// sheet puts the resident back exactly where they were. The toolbar, the
// banner and the idle and End session panels stay above it.
//
//   - One sheet at a time per session, owned by one feature (print.go's
//     "print"; the file picker may be another): openSheet refuses while
//     another owner's sheet is up.
//   - The sheet is a third view on the session's own ephemeral context, so
//     its pages get the session's prefs and print panel (ui.go's pagesFor),
//     and it is destroyed with the session's other views at the wipe.
//   - It shows only the kiosk:// page its owner loads: every other
//     navigation, a link, a new window, is refused. Its messages reach the
//     bridge as fromSheet; the service view's kiosk:// pages cannot open
//     these pages (privilegedURI).

// sheetPages are the kiosk:// pages that only a sheet shows.
var sheetPages = []string{"kiosk://print"}

// sheetPage reports whether uri is one of sheetPages (or below it).
func sheetPage(uri string) bool {
	for _, p := range sheetPages {
		if uri == p || strings.HasPrefix(uri, p+"/") || strings.HasPrefix(uri, p+"?") {
			return true
		}
	}
	return false
}

// openSheet shows uri (one of sheetPages) in tab t's sheet for owner,
// making the sheet view when there is none; false when t is not the
// session's tab or another owner's sheet is up.
func (s *Shell) openSheet(t *tab, owner, uri string) bool {
	if s.closed || t == nil || t != s.cur || !sheetPage(uri) || (t.sheetOwner != "" && t.sheetOwner != owner) {
		return false
	}
	if t.sheet == nil {
		o := webkit.ViewOptions{
			Decide:     func(d webkit.Decision) bool { return s.decideSheet(t, d) },
			Terminated: func(r webkit.TerminationReason) { s.sheetTerminated(t, r) },
			Permission: func(p webkit.Permission, _ string) bool {
				s.log.WithField("permission", p.String()).Info("permission request denied (sheet)")
				return false
			},
			Refused: func(what string) { s.log.WithField("what", what).Info("refused (sheet)") },
		}
		s.channels(t, fromSheet, &o)
		t.sheet = webkit.NewView(t.ctx, o)
		t.sheet.SetZoom(s.zoom())
	}
	t.sheetOwner, t.sheetURI = owner, uri
	s.hideKeyboard() // a field of the page under the sheet asked for it
	t.sheet.LoadURI(uri)
	s.win.SetSheet(t.sheet)
	return true
}

// reloadSheet shows the owner's sheet page again (its state changed).
func (s *Shell) reloadSheet(t *tab, owner string) {
	if t == nil || t != s.cur || t.sheet == nil || t.sheetOwner != owner {
		return
	}
	t.sheet.LoadURI(t.sheetURI)
}

// closeSheet takes owner's sheet away and destroys its view: the page
// under it shows again, as it was.
func (s *Shell) closeSheet(t *tab, owner string) {
	if t == nil || t.sheet == nil || t.sheetOwner != owner {
		return
	}
	if t == s.cur {
		s.win.SetSheet(nil)
	}
	if s.kb.target == t.sheet {
		s.hideKeyboard()
	}
	t.sheet.Destroy()
	t.sheet, t.sheetOwner, t.sheetURI = nil, "", ""
}

// SheetShown reports whether a sheet covers the service view, and whose.
func (s *Shell) SheetShown() (bool, string) {
	if s.cur == nil || s.cur.sheet == nil {
		return false, ""
	}
	return true, s.cur.sheetOwner
}

// decideSheet answers WebKit's policy questions for the sheet view: the
// page its owner loads, nothing else.
func (s *Shell) decideSheet(t *tab, d webkit.Decision) bool {
	if t != s.cur || t.sheet == nil {
		return false
	}
	switch d.Kind {
	case webkit.Navigation:
		if sameKioskURI(d.URI, t.sheetURI) {
			return true
		}
	case webkit.Response:
		if d.MainFrame && sameKioskURI(d.URI, t.sheetURI) && d.MIMESupported && !d.Attachment {
			return true
		}
	}
	s.refused(d, "sheet")
	return false
}

func (s *Shell) sheetTerminated(t *tab, r webkit.TerminationReason) {
	if t.sheet == nil {
		return
	}
	s.log.WithField("reason", r.String()).Warn("the sheet's web process ended; closing it")
	v, owner := t.sheet, t.sheetOwner
	t.sheet, t.sheetOwner, t.sheetURI = nil, "", ""
	if t == s.cur {
		s.win.SetSheet(nil)
	}
	if s.kb.target == v {
		s.hideKeyboard()
	}
	if owner == printOwner {
		t.print = nil
	}
	// As with a crashed guide: WebKit still has tasks queued for it; it
	// is destroyed a little later, or with its tab, whichever is first.
	if t.deadSheet != nil {
		t.deadSheet.Destroy()
	}
	t.deadSheet = v
	time.AfterFunc(crashDestroyDelay, func() {
		webkit.Invoke(func() {
			if t.deadSheet == v {
				t.deadSheet = nil
				v.Destroy()
			}
		})
	})
}

// sameKioskURI compares two kiosk:// URIs as WebKit may write them
// (kiosk://print and kiosk://print/ are one page).
func sameKioskURI(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == "kiosk" && ub.Scheme == "kiosk" && ua.Host == ub.Host &&
		strings.Trim(ua.Path, "/") == strings.Trim(ub.Path, "/") && ua.RawQuery == ub.RawQuery && ua.Fragment == ""
}

package shell

import (
	"strings"
	"time"

	"accesskiosk/kiosk/webkit"
)

// This file is the sheet: one of the kiosk's own pages shown in place of
// the service view and the guide beside it (webkit.Window.SetSheet), for a
// surface that answers something the service page asked for: the print
// panel (print.go, owner "print") and the file picker (picker.go, owner
// "picker"). The page it covers stays alive and untouched underneath (its
// document, a half-filled form, the scroll position), so that closing the
// sheet puts the resident back exactly where they were and an answer goes
// back to the very page that asked. The toolbar, the banner and the idle
// and End session panels stay above it.
//
//   - One sheet at a time per session, owned by one surface: openSheet
//     refuses while another owner's sheet is up (the owner asking again
//     just loads its page in its own sheet).
//   - The sheet is a view on the session's own ephemeral context, so its
//     pages get the session's prefs and state (ui.go's pagesFor), and it
//     is destroyed when it closes, or with the session's other views at
//     the wipe.
//   - It shows only its owner's kiosk:// pages ("kiosk://"+owner and below,
//     which are sheetPages): every other navigation, a link, a new window,
//     a frame, a download, is refused. The service view and the guide
//     cannot open these pages at all (navigation.go, split.go).
//   - Only the shell opens a sheet. Its bridge messages arrive with
//     from == fromSheet, and only while it is the tab's sheet; a surface's
//     handlers check that the sheet is theirs (sheetOwnedBy).
//   - Closing: the owner closes its own sheet (closeSheet, its gone not
//     told). Anything else that takes the sheet away tells the owner's
//     gone, once, so that it can drop what it held (the picker cancels the
//     file chooser, the print panel its document): the toolbar's Back
//     (closes the sheet only, as the sheet's own Cancel would), Home and
//     Volunteer (close it, then act), the session's end (dropSheet, before
//     the session's views are destroyed) and a sheet whose web process
//     died (sheetTerminated; the page under it is untouched).

// sheetPages are the kiosk:// pages that only a sheet shows: one prefix
// per owner.
var sheetPages = []string{"kiosk://" + printOwner, "kiosk://" + pickerOwner}

// sheetPage reports whether uri is one of sheetPages (or below it).
func sheetPage(uri string) bool {
	for _, p := range sheetPages {
		if underPrefix(uri, p) {
			return true
		}
	}
	return false
}

func underPrefix(uri, prefix string) bool {
	return uri == prefix || strings.HasPrefix(uri, prefix+"/") || strings.HasPrefix(uri, prefix+"?")
}

// sheet is the page shown in place of the service.
type sheet struct {
	view   *webkit.View
	owner  string // the surface shown (printOwner, pickerOwner)
	prefix string // "kiosk://"+owner: the pages it may show
	uri    string // the page it was last asked to show (reloadSheet)
	gone   func() // told once when the sheet goes other than by closeSheet
}

// openSheet shows uri (under "kiosk://"+owner, one of sheetPages) in tab
// t's sheet for owner, making the sheet when there is none. gone (may be
// nil) is told if the sheet goes other than by closeSheet(t, owner); when
// owner's sheet is up already, uri is loaded in it and a non-nil gone
// replaces the one before. False when t is not the session's tab, uri is
// not owner's, or another owner's sheet is up. On the GTK loop.
func (s *Shell) openSheet(t *tab, owner, uri string, gone func()) bool {
	prefix := "kiosk://" + owner
	if s.closed || t == nil || t != s.cur || owner == "" || !sheetPage(uri) || !underPrefix(uri, prefix) {
		return false
	}
	if sh := t.sheet; sh != nil {
		if sh.owner != owner {
			return false
		}
		if gone != nil {
			sh.gone = gone
		}
		sh.uri = uri
		sh.view.LoadURI(uri)
		return true
	}
	sh := &sheet{owner: owner, prefix: prefix, uri: uri, gone: gone}
	o := webkit.ViewOptions{
		Decide:     func(d webkit.Decision) bool { return s.decideSheet(t, sh, d) },
		Load:       func(ev webkit.LoadEvent, uri string) { s.sheetLoad(t, sh, ev, uri) },
		Terminated: func(r webkit.TerminationReason) { s.sheetTerminated(t, sh, r) },
		Permission: func(p webkit.Permission, _ string) bool {
			s.log.WithField("permission", p.String()).Info("permission request denied (sheet)")
			return false
		},
		Refused: func(what string) { s.log.WithField("what", what).Info("refused (sheet)") },
	}
	s.channels(t, fromSheet, &o)
	// Only this sheet, while it is the tab's, may post.
	o.Bridge = func(body string) {
		if t.sheet != sh {
			s.bridge.refused++
			return
		}
		s.bridgeMessage(t, fromSheet, body)
	}
	sh.view = webkit.NewView(t.ctx, o)
	sh.view.SetZoom(s.zoom())
	t.sheet = sh
	s.hideKeyboard() // a field of the page under the sheet asked for it
	sh.view.LoadURI(uri)
	s.win.SetSheet(sh.view)
	s.log.WithField("owner", owner).Info("sheet opened over the service")
	return true
}

// loadSheet shows another of owner's pages in its sheet (a next step).
func (s *Shell) loadSheet(t *tab, owner, uri string) {
	if !s.sheetOwnedBy(t, owner) || !underPrefix(uri, t.sheet.prefix) {
		return
	}
	t.sheet.uri = uri
	t.sheet.view.LoadURI(uri)
}

// reloadSheet shows owner's sheet page again (its state changed).
func (s *Shell) reloadSheet(t *tab, owner string) {
	if s.sheetOwnedBy(t, owner) {
		s.loadSheet(t, owner, t.sheet.uri)
	}
}

// sheetOwnedBy reports whether tab t, the session's, shows owner's sheet.
func (s *Shell) sheetOwnedBy(t *tab, owner string) bool {
	return t != nil && t == s.cur && !s.closed && t.sheet != nil && t.sheet.owner == owner
}

// sheetOwner is whose sheet tab t shows, "" for none.
func (t *tab) sheetOwner() string {
	if t == nil || t.sheet == nil {
		return ""
	}
	return t.sheet.owner
}

// closeSheet is owner closing its own sheet: the page under it shows
// again, as it was; owner's gone is not told.
func (s *Shell) closeSheet(t *tab, owner string) {
	if t == nil || t.sheet == nil || t.sheet.owner != owner {
		return
	}
	s.takeSheet(t, false)
}

// takeSheet takes tab t's sheet away and destroys its view, telling its
// owner when tell.
func (s *Shell) takeSheet(t *tab, tell bool) {
	sh := t.sheet
	if sh == nil {
		return
	}
	t.sheet = nil
	if t == s.cur && !s.closed {
		s.win.SetSheet(nil)
	}
	if s.kb.target == sh.view {
		s.hideKeyboard()
	}
	sh.view.Destroy()
	if tell && sh.gone != nil {
		sh.gone()
	}
}

// dropSheet is the session's end for tab t's sheet, before its views are
// destroyed: its owner is told. crashed: the tab's web process just died,
// so the view is detached and destroyed with the tab, later (WebKit still
// has tasks queued for its views).
func (s *Shell) dropSheet(t *tab, crashed bool) {
	if t == nil || t.sheet == nil {
		return
	}
	if !crashed {
		s.takeSheet(t, true)
		return
	}
	sh := t.sheet
	t.sheet = nil
	if t == s.cur && !s.closed {
		s.win.SetSheet(nil)
	}
	if s.kb.target == sh.view {
		s.hideKeyboard()
	}
	if t.deadSheet != nil {
		t.deadSheet.Destroy()
	}
	t.deadSheet = sh.view // destroyed with the tab
	if sh.gone != nil {
		sh.gone()
	}
}

// sheetButton closes the sheet before a toolbar button acts on the service
// under it: Back only closes it (as the sheet's own Cancel), Home and
// Volunteer close it and go on; the others (text size, colours, language,
// the keyboard, Your files, End session) leave it up. True when the
// button is used up.
func (s *Shell) sheetButton(id int) bool {
	if s.cur == nil || s.cur.sheet == nil {
		return false
	}
	switch id {
	case toolBack:
		s.takeSheet(s.cur, true)
		return true
	case toolHome, toolVolunteer:
		s.takeSheet(s.cur, true)
	}
	return false
}

// SheetShown reports whether a sheet covers the service view, and whose.
func (s *Shell) SheetShown() (bool, string) {
	if s.cur == nil || s.cur.sheet == nil {
		return false, ""
	}
	return true, s.cur.sheet.owner
}

// decideSheet answers WebKit's policy questions for the sheet: its owner's
// kiosk:// pages in its main frame, nothing else (no other page, no new
// window, no frame of anything, no download).
func (s *Shell) decideSheet(t *tab, sh *sheet, d webkit.Decision) bool {
	if t.sheet != sh || t != s.cur {
		return false
	}
	switch d.Kind {
	case webkit.Navigation:
		if underPrefix(d.URI, sh.prefix) {
			return true // a frame of it is refused at its response
		}
	case webkit.Response:
		if d.MainFrame && underPrefix(d.URI, sh.prefix) && d.MIMESupported && !d.Attachment {
			return true
		}
	}
	s.refused(d, "sheet")
	return false
}

func (s *Shell) sheetLoad(t *tab, sh *sheet, ev webkit.LoadEvent, uri string) {
	if ev != webkit.LoadCommitted || t.sheet != sh {
		return
	}
	if !underPrefix(uri, sh.prefix) {
		// Defence in depth: the sheet never shows anything else.
		s.log.Warn("the sheet committed a page that is not its own; closing it")
		webkit.Invoke(func() {
			if t.sheet == sh {
				s.takeSheet(t, true)
			}
		})
	}
}

// sheetTerminated closes a sheet whose web process ended (the page under
// it is untouched) and tells its owner; as with a crashed guide, WebKit
// still has tasks queued for the view, so it is destroyed a little later,
// or with its tab, whichever is first.
func (s *Shell) sheetTerminated(t *tab, sh *sheet, r webkit.TerminationReason) {
	if t.sheet != sh {
		return
	}
	s.log.WithField("reason", r.String()).Warn("the sheet's web process ended; closing it")
	webkit.Invoke(func() {
		if t.sheet != sh {
			return
		}
		t.sheet = nil
		if t == s.cur && !s.closed {
			s.win.SetSheet(nil)
		}
		if s.kb.target == sh.view {
			s.hideKeyboard()
		}
		if t.deadSheet != nil {
			t.deadSheet.Destroy() // an earlier crashed sheet, long enough ago
		}
		t.deadSheet = sh.view
		if sh.gone != nil {
			sh.gone()
		}
		time.AfterFunc(crashDestroyDelay, func() {
			webkit.Invoke(func() {
				if t.deadSheet == sh.view {
					t.deadSheet = nil
					sh.view.Destroy()
				}
			})
		})
	})
}

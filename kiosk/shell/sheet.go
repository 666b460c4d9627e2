package shell

import (
	"strings"
	"time"

	"accesskiosk/kiosk/webkit"
)

// This file is the sheet: one of the kiosk's own pages shown in place of
// the service view and the guide pane (webkit.Window.SetSheet), for a
// surface that answers something the service page asked for: the file
// picker (picker.go), the print panel. The service view stays alive under
// it, its document, form and scroll untouched, so that the answer goes
// back to the very page that asked.
//
//   - The sheet's view belongs to the session: it is made on the tab's own
//     ephemeral context when a surface opens it, shows kiosk:// pages under
//     its owner's prefix only (kiosk://picker...), never loads anything
//     else, and is destroyed when it closes or with the tab at the wipe.
//   - Only the shell opens a sheet. Its bridge messages arrive with
//     from == fromSheet, and only while it is the tab's sheet; a surface's
//     handlers check that the sheet is theirs (m.tab.sheet.owner).
//   - One sheet at a time: opening one closes the one before, whose owner
//     is told (gone) so that it can answer what it held (the picker
//     cancels the file chooser). So are the toolbar's Home and Back (which
//     close the sheet first), the session's end, and a sheet whose web
//     process died.

// sheet is the page shown in place of the service.
type sheet struct {
	view   *webkit.View
	owner  string // the surface shown ("picker"); bridge handlers check it
	prefix string // the kiosk:// pages it may show
	gone   func() // told once when the sheet closes other than by its owner
}

// openSheet shows uri (a kiosk:// page under "kiosk://"+owner) in a new
// sheet over tab t's service, closing any sheet before it. gone is told
// if the sheet closes other than by closeSheet(t, false). On the GTK loop.
func (s *Shell) openSheet(t *tab, owner, uri string, gone func()) bool {
	prefix := "kiosk://" + owner
	if s.closed || t == nil || t != s.cur || owner == "" || !underPrefix(uri, prefix) {
		return false
	}
	if t.sheet != nil {
		s.closeSheet(t, true)
	}
	sh := &sheet{owner: owner, prefix: prefix, gone: gone}
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
	if s.kb.target == t.view || s.kb.target == t.guide {
		s.hideKeyboard() // the field that asked is hidden under the sheet
	}
	sh.view.LoadURI(uri)
	s.win.SetSheet(sh.view)
	s.log.WithField("owner", owner).Info("sheet opened over the service")
	return true
}

// loadSheet shows another page of the sheet's own (a next step).
func (s *Shell) loadSheet(t *tab, uri string) {
	if t == nil || t.sheet == nil || !underPrefix(uri, t.sheet.prefix) {
		return
	}
	t.sheet.view.LoadURI(uri)
}

// closeSheet takes tab t's sheet away and destroys its view; tell says
// whether its owner's gone is told (false when the owner closes it).
func (s *Shell) closeSheet(t *tab, tell bool) {
	if t == nil || t.sheet == nil {
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
	sh.view.Destroy()
	if tell && sh.gone != nil {
		sh.gone()
	}
}

// dropSheet closes tab t's sheet at the session's end, telling its owner;
// a sheet whose tab's web process just died is destroyed with the tab,
// later (WebKit still has tasks queued for its views).
func (s *Shell) dropSheet(t *tab, crashed bool) {
	if t == nil || t.sheet == nil {
		return
	}
	if !crashed {
		s.closeSheet(t, true)
		return
	}
	sh := t.sheet
	t.sheet = nil
	s.win.SetSheet(nil)
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
// Volunteer close it and go on. True when the button is used up.
func (s *Shell) sheetButton(id int) bool {
	if s.cur == nil || s.cur.sheet == nil {
		return false
	}
	switch id {
	case toolBack:
		s.closeSheet(s.cur, true)
		return true
	case toolHome, toolVolunteer:
		s.closeSheet(s.cur, true)
	}
	return false
}

func underPrefix(uri, prefix string) bool {
	return uri == prefix || strings.HasPrefix(uri, prefix+"/") || strings.HasPrefix(uri, prefix+"?")
}

// decideSheet: the sheet shows its owner's kiosk:// pages and nothing
// else; no new window, no frame of anything.
func (s *Shell) decideSheet(t *tab, sh *sheet, d webkit.Decision) bool {
	if t.sheet != sh || t != s.cur {
		return false
	}
	switch d.Kind {
	case webkit.Navigation:
		if underPrefix(d.URI, sh.prefix) {
			return true
		}
	case webkit.Response:
		if d.MainFrame && underPrefix(d.URI, sh.prefix) {
			return true
		}
		if !d.MainFrame && strings.HasPrefix(d.URI, "kiosk:") {
			s.refused(d, "kiosk_frame")
			return false
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
				s.closeSheet(t, true)
			}
		})
	}
}

// sheetTerminated closes a sheet whose web process ended (the service
// under it is untouched); its view is destroyed a little later.
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

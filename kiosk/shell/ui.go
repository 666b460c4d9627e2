package shell

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/guides"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// This file wires the built-in pages (kiosk/ui) into the shell: the
// session's display prefs (text size, contrast, language) reach every
// kiosk:// request through ui.WithPrefs; the toolbar's "Aa Text size"
// button steps the text size in place (it zooms service pages too, without
// leaving a half-filled form); contrast and language are chosen on the
// accessibility page, which every built-in page links to (a toolbar button
// for each would push End session off a portrait screen); all of it resets
// when the session ends.

// toolText is the text size toolbar button (after the ids in shell.go).
const toolText = 200

// NewPages builds the built-in pages from the config's ui: section and the
// guides (built-in plus ui.guides_dir). A bad guide file in the directory
// is logged (file, line, key) and skipped; the kiosk still starts.
func NewPages(c *ui.Config, log logrus.FieldLogger) (*ui.Pages, error) {
	lib, err := guides.Load(c.GuidesDir)
	if err != nil {
		if lib == nil {
			return nil, fmt.Errorf("load guides: %w", err)
		}
		log.WithError(err).Warn("some guides were not loaded")
	}
	return ui.New(*c, lib, log)
}

// setupUI adds the prefs buttons and takes prefs changes from the
// accessibility page. On the GTK thread, from Start.
func (s *Shell) setupUI(p *ui.Pages) {
	s.ui = p
	// The volunteer screens show the config's categories and outcomes: the
	// same vocabulary volunteer.Assist accepts from them.
	p.SetVolunteer(s.cfg.Volunteer)
	s.prefs = ui.Prefs{Lang: p.DefaultLanguage()}
	p.OnPrefs(func(_ context.Context, prefs ui.Prefs) {
		webkit.Invoke(func() { s.setPrefs(prefs, false) })
	})
	s.win.AddTool(toolText, "Aa", "Text size", webkit.ToolNormal, false)
}

// pagesFor is tab t's kiosk:// handler: the session's prefs for the view
// on screen, a new session's for any other (the spare view pre-loads home
// for the next resident).
func (s *Shell) pagesFor(t *tab) http.Handler {
	if s.ui == nil {
		return s.pages
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := ui.Prefs{Lang: s.ui.DefaultLanguage()}
		if t == s.cur {
			p = s.prefs
		}
		s.ui.ServeHTTP(w, r.WithContext(ui.WithPrefs(r.Context(), p)))
	})
}

// prefsButton handles a prefs toolbar button; false if id is not one.
func (s *Shell) prefsButton(id int) bool {
	if s.ui == nil {
		return false
	}
	if id != toolText {
		return false
	}
	p := s.prefs
	p.TextSize = (p.TextSize + 1) % ui.TextSizes
	s.setPrefs(p, true)
	return true
}

// setPrefs applies new prefs: zoom for every page, the native parts'
// colours and language, a reload of the guide beside the service, and a reload of a
// built-in page shown (when reload; the accessibility page navigates by
// itself).
func (s *Shell) setPrefs(p ui.Prefs, reload bool) {
	if s.closed {
		return
	}
	s.prefs = p
	s.win.SetHighContrast(p.HighContrast)
	s.relabelIfChanged()
	if s.view == nil {
		return
	}
	s.view.SetZoom(s.zoom())
	if reload && strings.HasPrefix(s.view.URI(), "kiosk:") {
		s.view.Reload()
	}
	if g := s.cur.guide; g != nil {
		// The guide follows the session's text size, colours and language.
		g.SetZoom(s.zoom())
		g.Reload()
	}
}

// resetPrefs puts the prefs back for the next resident (session end): the
// native parts' colours and language too. The new view already has the configured zoom.
func (s *Shell) resetPrefs() {
	if s.ui != nil {
		s.prefs = ui.Prefs{Lang: s.ui.DefaultLanguage()}
	}
	s.win.SetHighContrast(false)
	s.relabelIfChanged() // the native labels, in the kiosk's default language
}

// pageMessage handles a message from a built-in page's button (see the
// kiosk/ui package doc); false if it is not one. Only kiosk:// pages reach
// here (message checks).
//   - "back" (block page): back to the page before, or home;
//   - "open" {url, guide?} (a guide's "Open the service"): load url in the
//     view, through the allow list like any navigation, and with guide,
//     show that guide beside it (split.go) when the allow list lets url open;
//   - "close-guide": close the guide beside the service;
//   - "continue", "end": the idle page, which the shell does not use (it
//     has its own idle panel); ignored.
func (s *Shell) pageMessage(body string) bool {
	var m pageMsg
	if json.Unmarshal([]byte(body), &m) != nil {
		return false
	}
	switch m.Action {
	case "back":
		if s.view.CanGoBack() {
			s.view.GoBack()
		} else {
			s.view.LoadURI(s.cfg.HomeURL)
		}
	case "open":
		if m.URL == "" {
			break
		}
		if m.Guide != "" && s.ui != nil && s.cfg.AllowList.Decide(m.URL).Allow {
			s.openGuide(s.cur, m.Guide)
		}
		s.view.LoadURI(m.URL) // decided by the allow list
	case "close-guide":
		s.closeGuide(s.cur)
	case "continue", "end", "keyboard":
	default:
		return false
	}
	return true
}

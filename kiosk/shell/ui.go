package shell

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/guides"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/volunteer"
	"accesskiosk/kiosk/webkit"
)

// This file wires the built-in pages (kiosk/ui) into the shell: the
// session's display prefs (text size, contrast, language) reach every
// kiosk:// request through ui.WithPrefs; the toolbar's "Aa Text size"
// button steps the text size in place (it zooms service pages too, without
// leaving a half-filled form); contrast and language are chosen on the
// accessibility page, which every built-in page links to (a toolbar button
// for each would push End session off a portrait screen), and reach the
// shell through the bridge ("prefs"); all of it resets when the session
// ends.

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
		ctx := r.Context()
		if t == s.cur {
			p = s.prefs
			ctx = s.assistHelpContext(ctx)
			ctx = s.withPrintPanel(ctx, t) // the print panel's state (print.go)
		}
		r = r.WithContext(ui.WithPrefs(ctx, p))
		if s.servePicker(t, w, r) { // picker.go
			return
		}
		s.ui.ServeHTTP(w, r)
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
// colours and language, a reload of the guide beside the service, and (when
// reload) a reload of a built-in page shown.
func (s *Shell) setPrefs(p ui.Prefs, reload bool) {
	if s.closed {
		return
	}
	s.prefs = p
	s.countPrefs(p)
	s.win.SetHighContrast(p.HighContrast)
	s.relabelIfChanged()
	if s.view == nil {
		return
	}
	s.view.SetZoom(s.zoom())
	if reload && strings.HasPrefix(s.view.URI(), "kiosk:") {
		s.arm(s.view.URI()) // a privileged page may be reloaded by the shell
		s.view.Reload()
	}
	views := []*webkit.View{s.cur.guide}
	if sh := s.cur.sheet; sh != nil {
		views = append(views, sh.view)
	}
	for _, g := range views {
		if g != nil {
			// The guide and the sheet follow the session's text size,
			// colours and language.
			g.SetZoom(s.zoom())
			g.Reload()
		}
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

// setupBridge registers the handlers of the built-in pages' messages
// (kiosk/ui's package doc) and the volunteer screens' with the bridge
// (bridge.go), the one path they reach the shell by.
func (s *Shell) setupBridge() {
	b := &s.bridge
	b.on("back", s.pageBack)
	b.on("open", s.pageOpen)
	b.on("close-guide", func(m bridgeMsg) {
		// Later: the pane's own view may be the one posting.
		webkit.Invoke(func() { s.closeGuide(m.tab) })
	})
	b.on("prefs", s.pagePrefs)
	b.on("continue", func(bridgeMsg) {}) // the idle page, which the shell does not use
	b.on("end", func(bridgeMsg) {})      // (it has its own idle panel)
	for _, a := range []string{volunteer.ActionUnlock, volunteer.ActionService, volunteer.ActionHandover,
		volunteer.ActionOutcome, volunteer.ActionResume} {
		b.on(a, s.volunteerMessage)
	}
}

// pageBack is the block page's Go back: back to the page before, or home;
// in the pane, the pane's page before.
func (s *Shell) pageBack(m bridgeMsg) {
	if m.from == fromPane {
		if g := m.tab.guide; g != nil && g.CanGoBack() {
			g.GoBack()
		}
		return
	}
	if s.view.CanGoBack() {
		s.view.GoBack()
	} else {
		s.view.LoadURI(s.cfg.HomeURL)
	}
}

// pageOpen is a guide's "Open the service" {url, guide?}: load url in the
// service view, through the allow list like any navigation, and with
// guide (from the service view), show that guide beside it (split.go)
// when the allow list lets url open.
func (s *Shell) pageOpen(m bridgeMsg) {
	var p struct {
		URL   string `json:"url"`
		Guide string `json:"guide"`
	}
	if json.Unmarshal(m.raw, &p) != nil || p.URL == "" {
		return
	}
	if m.from == fromService && p.Guide != "" && s.ui != nil && s.cfg.AllowList.Decide(p.URL).Allow {
		s.openGuide(m.tab, p.Guide)
	}
	s.view.LoadURI(p.URL) // decided by the allow list
}

// pagePrefs is a prefs link of the accessibility page {lang?, contrast?,
// text?}: the session's prefs change and the page is shown again in them.
func (s *Shell) pagePrefs(m bridgeMsg) {
	if s.ui == nil {
		return
	}
	var p map[string]any
	if json.Unmarshal(m.raw, &p) != nil {
		return
	}
	q := url.Values{}
	for _, k := range []string{"lang", "contrast", "text"} {
		switch v := p[k].(type) {
		case string:
			q.Set(k, v)
		case float64:
			q.Set(k, strconv.Itoa(int(v)))
		}
	}
	s.setPrefs(s.ui.ChangePrefs(s.prefs, q), true)
}

package shell

import (
	"net/url"
	"strings"

	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// This file puts the shell's native parts in the session's language: the
// toolbar's labels and accessible names, the guide bar (the guide's own
// title), the on-screen keyboard, the End session and idle panels and the
// volunteer banner. The text comes from the built-in pages' catalogs
// (ui.Message: the same translations, the same English fallback per string).
// The session's language is the one the resident picked on the pages
// (the accessibility page's links reach the shell through the bridge, see
// ui.go), else the kiosk's default (the config's first language); at the
// session's end it goes back to the default with the other prefs.

// lang is the session's language.
func (s *Shell) lang() string {
	if s.prefs.Lang != "" {
		return s.prefs.Lang
	}
	if s.ui != nil {
		return s.ui.DefaultLanguage()
	}
	return "en"
}

// tr is key's text in the session's language; with args, a fmt format.
func (s *Shell) tr(key string, args ...any) string {
	return ui.Message(s.lang(), key, args...)
}

// relabel puts every native label and accessible name in the session's
// language. At start, and whenever the language changes (a resident's
// choice, the session's end).
func (s *Shell) relabel() {
	if s.closed {
		return
	}
	s.labelLang = s.lang()
	for _, t := range []struct {
		id          int
		label, name string
	}{
		{toolHome, s.tr("shell.home"), s.tr("shell.home.name")},
		{toolBack, s.tr("shell.back"), s.tr("shell.back.name")},
		{toolText, "Aa", s.tr("shell.text.name")},
		{toolVolunteer, s.tr("shell.volunteer"), s.tr("shell.volunteer.name")},
		{toolPrint, s.tr("shell.print"), s.tr("shell.print.name")},
		{toolEnd, s.tr("shell.end"), s.tr("shell.end.name")},
		{toolFiles, s.tr("files.tool"), s.tr("files.tool.name")},
	} {
		s.win.SetTool(t.id, t.label, t.name)
	}
	s.win.SetNames(webkit.Names{
		Toolbar:    s.tr("shell.toolbar"),
		Split:      s.tr("shell.split"),
		Guide:      s.tr("shell.guide"),
		Keyboard:   s.tr("kb.title"),
		CloseGuide: s.tr("shell.guide.close.name"),
		More:       s.tr("shell.more"),
		MoreName:   s.tr("shell.more.name"),
		MoreClose:  s.tr("shell.close"),
	})
	if s.cur != nil && s.cur.guide != nil {
		s.win.SetGuideBar(s.paneBar(s.cur.guide.URI()))
	}
	if s.cur != nil && s.win.FilesShown() {
		s.showFiles("") // downloads.go: the panel in the new language
	}
	if s.kb.layer == layerAccents {
		s.kb.layer = layerLetters // the accents were the old language's
	}
	if len(s.kb.keys) > 0 {
		s.renderKeyboard() // shown or hidden: no stale names left behind
	}
	if s.assisted() {
		s.win.Banner(s.indicator())
	}
	s.assistRelabel()
}

// relabelIfChanged relabels when the session's language is not the one
// the labels are in.
func (s *Shell) relabelIfChanged() {
	if s.lang() != s.labelLang {
		s.relabel()
	}
}

// paneBar is the guide bar's title and Close label for the page the pane
// shows (uri): a guide's own title, "Guides" for the index, "Volunteer"
// for the volunteer's service picker, else "Guide".
func (s *Shell) paneBar(uri string) (title, closeLabel string) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "kiosk" {
		return s.tr("shell.guide"), s.tr("guide.close")
	}
	switch u.Host {
	case "volunteer":
		return s.tr("shell.volunteer"), s.tr("shell.close")
	case "guides":
		id := strings.Trim(u.Path, "/")
		if id == "" {
			return s.tr("nav.guides"), s.tr("guide.close")
		}
		if s.ui != nil {
			if t, ok := s.ui.GuideTitle(id, s.lang()); ok {
				return t, s.tr("guide.close")
			}
		}
	}
	return s.tr("shell.guide"), s.tr("guide.close")
}

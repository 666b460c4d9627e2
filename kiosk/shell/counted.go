package shell

import (
	"net/url"
	"slices"
	"strings"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/policy"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// This file is what a session counts for the fleet's Insights (issue 20):
// counted, never traced. Per session, as identifiers from the kiosk's
// configuration only:
//
//   - the home tiles opened (ui.tiles[].tiles[].id; tiles without an id
//     are not counted): a navigation from the home page to a tile's
//     address;
//   - the guides opened, by guide id (a guide of the kiosk's library
//     shown in the service view or the pane beside it);
//   - the services reached: the id of the most specific allow rule with
//     an id (config insights.services) that lets a page the service view
//     showed through; never the address;
//   - features: the on-screen keyboard typed something, high contrast,
//     a larger text size;
//   - languages other than the kiosk's default chosen (their codes, all
//     from the config's languages);
//   - remote-help sessions, by count (countAssist, for remote help).
//
// Each identifier once, at most bus.MaxCountedIDs a list; the start
// rounded down to the hour and the length to 5 minutes. That goes in
// the receipt's Counted at the wipe and is forgotten with everything else
// the session had; nothing is logged. The receipt's own scans and photos
// (files.go) and the volunteer's category and outcome are counted already.
// The counts run from one wipe to the next (the resident's first input
// may reach the shell's idle timer after their first tap did).

// counted is the session's counts (GTK thread).
type counted struct {
	tiles, guides, services, features, languages []string
	assists                                      int64
	// home says which of the shell's tabs (the session's, the spare)
	// show the home page in their service view: the spare loads it before
	// it goes on screen.
	home    map[*tab]bool
	tileIDs map[string]string
}

func countOnce(list *[]string, id string) {
	if id != "" && len(*list) < bus.MaxCountedIDs && !slices.Contains(*list, id) {
		*list = append(*list, id)
	}
}

// countNavigation counts a home tile: tab t's service view, on the home
// page, navigating to a tile's address. From decide.
func (s *Shell) countNavigation(t *tab, d webkit.Decision) {
	if t != s.cur || d.Kind != webkit.Navigation || !s.count.home[t] || d.Redirect {
		return
	}
	if s.count.tileIDs == nil {
		s.count.tileIDs = map[string]string{}
		for _, g := range s.cfg.UI.Tiles {
			for _, tile := range g.Tiles {
				if tile.ID != "" {
					s.count.tileIDs[normalURL(tile.URL)] = tile.ID
				}
			}
		}
	}
	countOnce(&s.count.tiles, s.count.tileIDs[normalURL(d.URI)])
}

// countPage counts what a page tab t's service view (pane false) or the
// pane beside it committed is: a guide, or a service page by its rule's
// id; and notes whether the service view shows home. From loadChanged
// and guideLoad.
func (s *Shell) countPage(t *tab, uri string, pane bool) {
	if !pane && s.ours(t) {
		if s.count.home == nil {
			s.count.home = map[*tab]bool{}
		}
		s.count.home[t] = samePage(uri, s.cfg.HomeURL)
	}
	if t != s.cur {
		return
	}
	if !pane {
		if id, ok := s.cfg.Insights.Service(uri); ok {
			countOnce(&s.count.services, id)
		}
	}
	if id, ok := strings.CutPrefix(pageOf(uri), "kiosk://guides/"); ok && id != "" && s.ui != nil {
		if _, known := s.ui.GuideTitle(id, s.lang()); known {
			countOnce(&s.count.guides, id)
		}
	}
}

// countPrefs counts the accessibility features and language of prefs p
// as they are chosen. From setPrefs.
func (s *Shell) countPrefs(p ui.Prefs) {
	if p.HighContrast {
		countOnce(&s.count.features, bus.FeatureHighContrast)
	}
	if p.TextSize > 0 {
		countOnce(&s.count.features, bus.FeatureLargeText)
	}
	if s.ui != nil && p.Lang != "" && p.Lang != s.ui.DefaultLanguage() {
		countOnce(&s.count.languages, p.Lang)
	}
}

// countKeyboard counts the on-screen keyboard typing. From typeInto.
func (s *Shell) countKeyboard() { countOnce(&s.count.features, bus.FeatureKeyboard) }

// countAssist counts a remote-help session staff ran in this session
// (for remote help, when it comes to the shell).
func (s *Shell) countAssist() { s.count.assists++ }

// countEnd puts the session's counts in its receipt (started and session
// set; nothing when the session never started) and forgets them. From
// endSession.
func (s *Shell) countEnd(r *bus.Receipt) {
	c := s.count
	s.count = counted{tileIDs: c.tileIDs, home: map[*tab]bool{}}
	if s.spare != nil {
		s.count.home[s.spare] = c.home[s.spare] // the next session's view
	}
	if r.StartedUnixMs <= 0 {
		return
	}
	hour, minutes := bus.RoundCounted(r.StartedUnixMs, r.SessionMs)
	r.Counted = &bus.Counted{StartedHourUnixMs: hour, Minutes: minutes, Tiles: c.tiles, Guides: c.guides,
		Services: c.services, Features: c.features, Languages: c.languages, Assists: c.assists}
}

// normalURL is u as the allow list reads it (policy.Normalize), so that
// a tile's configured address and WebKit's form of it compare equal; u
// itself when it does not normalise.
func normalURL(u string) string {
	if n, err := policy.Normalize(u); err == nil {
		return n.String()
	}
	return u
}

// pageOf is uri without its query and fragment.
func pageOf(uri string) string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	return uri
}

// samePage reports whether a and b are the same page, query, fragment
// and a trailing slash aside.
func samePage(a, b string) bool {
	norm := func(s string) string {
		s = pageOf(s)
		if u, err := url.Parse(s); err == nil && u.Scheme != "kiosk" {
			s = normalURL(s)
		}
		return strings.TrimSuffix(s, "/")
	}
	return norm(a) == norm(b)
}

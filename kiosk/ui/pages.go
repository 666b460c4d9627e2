package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"accesskiosk/kiosk/guides"
)

// This file holds the handlers of the pages listed in the package doc.

func (p *Pages) simple(page, titleKey string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.render(w, http.StatusOK, p.newView(r, page, titleKey))
	}
}

func (p *Pages) notFound(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusNotFound, p.newView(r, "notfound", "notfound.title"))
}

type homeData struct {
	AssistOn bool // remote help is configured (assist.go)
	Welcome  string
	Tiles    []TileGroup
	Guides   []*guides.Guide
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "home", "home.title")
	d := homeData{Tiles: p.cfg.Tiles, Guides: p.lib.List(v.lang), AssistOn: p.assistOn}
	if p.cfg.Welcome != "" && v.lang == "en" {
		d.Welcome = p.cfg.Welcome
	}
	v.Data = d
	p.render(w, http.StatusOK, v)
}

func (p *Pages) guideIndex(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "guides", "guides.title")
	v.Data = p.lib.List(v.lang)
	p.render(w, http.StatusOK, v)
}

type guideData struct {
	G          *guides.Guide
	Translated bool // false: shown in another language than asked
	HowTo      bool
}

func (p *Pages) guide(w http.ResponseWriter, r *http.Request) {
	p.showGuide(w, r, r.PathValue("id"), false)
}

func (p *Pages) howTo(w http.ResponseWriter, r *http.Request) {
	p.showGuide(w, r, "using-this-kiosk", true)
}

func (p *Pages) showGuide(w http.ResponseWriter, r *http.Request, id string, howTo bool) {
	v := p.newView(r, "guide", "guide.notfound.title")
	g, ok := p.lib.Get(id, v.lang)
	if !ok {
		v.Data = guideData{}
		p.render(w, http.StatusNotFound, v)
		return
	}
	v.Title = g.Title
	v.Data = guideData{G: g, Translated: g.Lang == v.lang, HowTo: howTo}
	p.render(w, http.StatusOK, v)
}

type accessData struct {
	Keyboard string
}

func (p *Pages) accessibility(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "accessibility", "a11y.title")
	v.Data = accessData{Keyboard: p.Keyboard()}
	p.render(w, http.StatusOK, v)
}

// blockSite reduces what the shell passes to a host name: never a path or
// query, which may hold what a resident typed.
func blockSite(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			s = u.Hostname()
		} else {
			return ""
		}
	}
	if i := strings.IndexAny(s, "/?#@ "); i >= 0 {
		return ""
	}
	if len(s) > 253 {
		return ""
	}
	return strings.ToLower(s)
}

func (p *Pages) block(w http.ResponseWriter, r *http.Request) {
	site := keepSiteOnly(r)
	v := p.newView(r, "block", "block.title")
	v.Data = site
	p.render(w, http.StatusOK, v)
}

// keepSiteOnly reduces the request's ?site= to its host (or drops it) and
// returns that host, so that no link on the page (the language links come
// back to the same page) carries more. Call it before newView.
func keepSiteOnly(r *http.Request) string {
	q := r.URL.Query()
	site := blockSite(q.Get("site"))
	q.Del("site")
	if site != "" {
		q.Set("site", site)
	}
	r.URL.RawQuery = q.Encode()
	return site
}

// offline serves the offline page; ?site=HOST (host only) names the site
// that could not be reached.
func (p *Pages) offline(w http.ResponseWriter, r *http.Request) {
	site := keepSiteOnly(r)
	v := p.newView(r, "offline", "offline.title")
	v.Data = site
	p.render(w, http.StatusOK, v)
}

type idleData struct {
	Seconds int
}

func (p *Pages) idle(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "idle", "idle.title")
	n, err := strconv.Atoi(r.URL.Query().Get("seconds"))
	if err != nil || n <= 0 || n > 3600 {
		n = 30
	}
	v.Data = idleData{Seconds: n}
	p.render(w, http.StatusOK, v)
}

// ChangePrefs is prefs with the changes a settings link asks for: lang (a
// language offered), contrast (high or standard), text (a text size step,
// clamped); anything else is left as it was.
func (p *Pages) ChangePrefs(prefs Prefs, q url.Values) Prefs {
	if l := q.Get("lang"); l != "" && p.offered(l) {
		prefs.Lang = l
	}
	switch q.Get("contrast") {
	case "high":
		prefs.HighContrast = true
	case "standard":
		prefs.HighContrast = false
	}
	if n, err := strconv.Atoi(q.Get("text")); err == nil {
		prefs.TextSize = clampText(n)
	}
	return prefs
}

// settings sends the resident on to next (a path of ours) with the prefs
// the query asks for carried in next's query: the pages without a shell.
// In the shell (prefs from the context) the prefs change only through the
// bridge ("prefs" message), never through a request a page could make:
// the page just goes on to next.
func (p *Pages) settings(w http.ResponseWriter, r *http.Request) {
	prefs, fromCtx := prefsFrom(r)
	q := r.URL.Query()
	prefs = p.ChangePrefs(prefs, q)
	next := q.Get("next")
	nu, err := url.Parse(next)
	if err != nil || nu.Scheme != "" || nu.Host != "" || !strings.HasPrefix(nu.Path, "/") || strings.HasPrefix(nu.Path, "/settings") {
		nu = &url.URL{Path: "/accessibility"}
	}
	nu.Path = path.Clean(nu.Path)
	nq := nu.Query()
	if !fromCtx {
		for k, vs := range prefs.query() {
			nq[k] = vs
		}
	}
	kiosk, _ := r.Context().Value(kioskModeKey{}).(bool)
	p.redirectURL(w, ourURL(kiosk, nu.Path, nq))
}

func (p *Pages) redirect(w http.ResponseWriter, r *http.Request, to string) {
	kiosk, _ := r.Context().Value(kioskModeKey{}).(bool)
	p.redirectURL(w, ourURL(kiosk, to, r.URL.Query()))
}

// redirectURL answers 303 with a body that refreshes to the same place, for
// a scheme adapter that passes bodies but not statuses.
func (p *Pages) redirectURL(w http.ResponseWriter, to string) {
	w.Header().Set("Location", to)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
	e := template.HTMLEscapeString(to)
	fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=%s"><title>…</title></head><body><a href="%s">Continue</a></body></html>`, e, e)
}

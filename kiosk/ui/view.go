package ui

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// This file is what every page's template sees (view) and how a page is
// rendered.

// view is what every template sees.
type view struct {
	translator
	Title   string // translated page title
	Prefs   Prefs
	Langs   []langChoice
	Council Council
	HasLogo bool
	Page    string
	Path    string
	Panel   bool // narrow guide panel layout: no header navigation
	Sheet   bool // a page the shell shows over the service (the file picker): no header, navigation or footer
	Data    any

	kiosk   bool // links are kiosk:// URLs
	carry   url.Values
	current string
}

// InShell reports whether the page is shown by the kiosk shell (kiosk
// mode), which gives the guide panel its own native Close button.
func (v *view) InShell() bool { return v.kiosk }

type langChoice struct {
	Code, Name string
	URL        template.URL
	Current    bool
}

// URL links to a page of ours: kiosk://PATH in kiosk mode, else PATH with
// the query's prefs carried on. Extra args are key, value pairs.
func (v *view) URL(p string, kv ...string) template.URL {
	q := url.Values{}
	for k, vs := range v.carry {
		q[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return template.URL(ourURL(v.kiosk, p, q))
}

func ourURL(kiosk bool, p string, q url.Values) string {
	s := p
	if kiosk {
		s = "kiosk:/" + p
	}
	if e := q.Encode(); e != "" {
		s += "?" + e
	}
	return s
}

// Href passes a service URL from config or a guide (validated there as
// http, https or kiosk) into an href; anything else becomes "#".
func (v *view) Href(s string) template.URL {
	u, err := url.Parse(s)
	if err != nil {
		return "#"
	}
	switch u.Scheme {
	case "http", "https", "kiosk":
		return template.URL(s)
	}
	return "#"
}

// Asset links to one of our assets, without the prefs.
func (v *view) Asset(p string) template.URL {
	return template.URL(ourURL(v.kiosk, p, nil))
}

// Settings links to /settings changing one pref and coming back here.
func (v *view) Settings(key, value string) template.URL {
	return v.URL("/settings", key, value, "next", v.current)
}

// TextSizes lists the text size steps for the accessibility page.
func (v *view) TextSizes() []int {
	out := make([]int, TextSizes)
	for i := range out {
		out[i] = i
	}
	return out
}

// Tr picks a config string's translation, falling back to English.
func (v *view) Tr(english string, tr map[string]Text, field string) string {
	if t, ok := tr[v.lang]; ok {
		s := t.Title
		if field == "description" {
			s = t.Description
		}
		if s != "" {
			return s
		}
	}
	return english
}

// TrLang is the language of Tr's answer, for a lang attribute.
func (v *view) TrLang(english string, tr map[string]Text, field string) string {
	if v.Tr(english, tr, field) == english && english != "" {
		return "en"
	}
	return v.lang
}

// Countdown renders message key, whose one %s is a number of seconds, with
// the number in an element the page's script counts down.
func (v *view) Countdown(key string, seconds int) template.HTML {
	before, after, _ := strings.Cut(v.T(key), "%s")
	return template.HTML(template.HTMLEscapeString(before) +
		`<span class="ak-countdown" data-ak-countdown="` + strconv.Itoa(seconds) + `">` + strconv.Itoa(seconds) + `</span>` +
		template.HTMLEscapeString(after))
}

// Inc adds one, for step numbers.
func (v *view) Inc(i int) int { return i + 1 }

func (p *Pages) newView(r *http.Request, page, titleKey string) *view {
	prefs, fromCtx := prefsFrom(r)
	if !known(prefs.Lang) || !p.offered(prefs.Lang) {
		prefs.Lang = p.DefaultLanguage()
	}
	prefs.TextSize = clampText(prefs.TextSize)
	kiosk, _ := r.Context().Value(kioskModeKey{}).(bool)
	v := &view{
		translator: translator{lang: prefs.Lang, cats: catalogs},
		Prefs:      prefs,
		Council:    p.cfg.Council,
		HasLogo:    len(p.logo) > 0,
		Page:       page,
		Path:       r.URL.Path,
		Panel:      r.URL.Query().Get("panel") == "1",
		kiosk:      kiosk,
	}
	if !fromCtx {
		v.carry = prefs.query()
		if v.carry.Get("lang") == p.DefaultLanguage() {
			v.carry.Del("lang")
		}
	}
	// current is this page's path and non-pref query, for /settings?next=.
	q := url.Values{}
	for k, vs := range r.URL.Query() {
		switch k {
		case "lang", "contrast", "text":
		default:
			q[k] = vs
		}
	}
	v.current = r.URL.Path
	if e := q.Encode(); e != "" {
		v.current += "?" + e
	}
	v.Title = v.T(titleKey)
	for _, l := range p.langs {
		v.Langs = append(v.Langs, langChoice{Code: l.Code, Name: l.Name, URL: v.Settings("lang", l.Code), Current: l.Code == prefs.Lang})
	}
	return v
}

func (p *Pages) offered(code string) bool {
	for _, l := range p.langs {
		if l.Code == code {
			return true
		}
	}
	return false
}

func (p *Pages) render(w http.ResponseWriter, status int, v *view) {
	var b bytes.Buffer
	if err := p.pages[v.Page].Execute(&b, v); err != nil {
		p.log.WithError(err).WithField("page", v.Page).Error("ui: render page")
		http.Error(w, "This page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// Package ui serves the kiosk's built-in pages: the home screen of council
// services, the guides, and the block, offline, session-ended, help,
// accessibility and idle-warning pages. They are plain HTML styled with
// GOV.UK Frontend (compiled at build time without the GDS Transport font or
// the crown; see sass/kiosk.scss), with the council's name, logo, colour,
// phone and hours from Config. Everything is embedded: the pages work with
// no network at all.
//
// # Paths
//
//	/home                  the home screen: tiles grouped by need, help and how-to links
//	/guides                the guide index
//	/guides/{id}           one guide; ?panel=1 lays it out for the narrow panel beside a service
//	/how-to-use            the "using this kiosk" guide
//	/help                  where to get help: volunteers, the council's phone and hours
//	/accessibility         text size, colours and language
//	/block?site=HOST       "This kiosk only opens council and support services" (HOST only, never a URL)
//	/offline?site=HOST     what still works without a connection, and the council's phone
//	/ended                 "Everything you did has been cleared"
//	/idle?seconds=N        the idle-warning overlay: a countdown from N (default 30)
//	/settings?lang=&contrast=&text=&next=PATH   change the session's prefs, then go to PATH
//	/assets/...            CSS, script and the council's logo
//
// # How the shell wires it in
//
// New returns a *Pages, an http.Handler. The shell adapts each kiosk://
// request to an *http.Request whose URL is either the kiosk:// URL itself
// (kiosk://guides/pay-council-tax: the "host" is the first path segment) or
// the path it maps to (/guides/pay-council-tax). Both are served in kiosk
// mode, where every link on the pages is an absolute kiosk:// URL, so no
// link resolves against the pseudo-host. A request that came in over a
// network listener (RemoteAddr set, as in the tests and screenshots) gets
// root-relative links instead. The shell should:
//
//  1. Register the kiosk scheme as local, secure and CORS-enabled, so pages
//     may load kiosk://assets/... .
//  2. Wrap each request's context with WithPrefs(ctx, prefs) holding the
//     session's language, contrast and text size, and apply TextScale(prefs.TextSize)
//     as the zoom of service pages too.
//  3. Set OnPrefs to learn when a resident changes a setting on the
//     accessibility page (kiosk://settings?...). The answer is a 303 to the
//     next page, with an HTML body that also refreshes to it, so an adapter
//     that ignores the status still lands there.
//  4. Register a script message handler named "kiosk" on every view. The
//     pages post JSON objects with an "action":
//     - "continue" / "end": the idle page's "I'm still here" / "End session now";
//     - "back": the block page's Go back (it falls back to history.back());
//     - "open" {url, guide?}: a guide's "Open the service" or a step's link:
//     load url in the main view and, with guide, show
//     kiosk://guides/GUIDE?panel=1 beside it (split view; stacked on a
//     portrait screen); without a handler the link just navigates;
//     - "close-guide": the panel's Close button;
//     - "keyboard" {show, mode}: from UserScript in any page and any of
//     its frames: show an on-screen keyboard for a field of that mode
//     (text, email, number, tel, url) under the page, shrinking it, or
//     hide it. The keyboard is the shell's (native keys that send key
//     events to the view); the pages have none.
//  5. Load kiosk://block?site=HOST (host only) for a blocked main-frame
//     navigation, kiosk://offline when the network is gone, kiosk://ended
//     after a wipe, and show kiosk://idle?seconds=N as the overlay.
//
// Without WithPrefs, the pages read lang=cy&contrast=high&text=2 from the
// query and carry them on in every link: that is how the tests and
// screenshots drive them over plain HTTP.
//
// Config is embedded in the kiosk config (for example under `ui:`) and
// checked with Config.Validate(doc, "ui"). The default council (a realistic
// one whose tile URLs, Config.ServiceURLs, the default allowlist allows) is
// the ui: section of kiosk/config/default.yaml: its data lives there only.
package ui

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/guides"
	"accesskiosk/kiosk/volunteer"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed web
var webFS embed.FS

// distFS holds what `make assets` builds (kiosk.css). On a fresh clone it
// holds only .gitkeep; the pages then come unstyled and New logs a warning.
//
//go:embed all:dist
var distFS embed.FS

// Pages is the built-in pages' http.Handler. It is safe for concurrent use.
type Pages struct {
	cfg     Config
	lib     *guides.Library
	log     logrus.FieldLogger
	langs   []language
	pages   map[string]*template.Template
	mux     *http.ServeMux
	brand   []byte // generated CSS for the brand colour
	logo    []byte
	logoCT  string
	css     []byte
	onPrefs func(context.Context, Prefs)
	vol     *volunteer.Config // SetVolunteer; nil shows the defaults
}

// pageNames are the templates in templates/ besides layout.html.
var pageNames = []string{"home", "guides", "guide", "help", "accessibility", "block", "offline", "ended", "idle", "notfound"}

// New builds the pages from cfg (already validated) and lib. It reads the
// logo file now, so a missing logo is an error at start, not a broken image.
func New(cfg Config, lib *guides.Library, log logrus.FieldLogger) (*Pages, error) {
	if err := cfg.Validate(nil, ""); err != nil {
		return nil, fmt.Errorf("ui config: %w", err)
	}
	if lib == nil {
		return nil, fmt.Errorf("ui: no guide library")
	}
	p := &Pages{cfg: cfg, lib: lib, log: log}
	for _, code := range cfg.Languages {
		l, _ := languageByCode(code)
		p.langs = append(p.langs, l)
	}
	if len(p.langs) == 0 {
		p.langs = languages
	}
	if cfg.Council.Logo != "" {
		b, err := os.ReadFile(cfg.Council.Logo)
		if err != nil {
			return nil, fmt.Errorf("read council logo: %w", err)
		}
		p.logo = b
		p.logoCT = map[string]string{".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}[strings.ToLower(filepath.Ext(cfg.Council.Logo))]
	}
	p.brand = brandCSS(cfg.Council.BrandColour)
	css, err := fs.ReadFile(distFS, "dist/kiosk.css")
	if err != nil {
		log.Warn("ui: dist/kiosk.css missing (run make assets); built-in pages will be unstyled")
	}
	p.css = css

	p.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p.pages[name] = t
	}

	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { p.redirect(w, r, "/home") })
	m.HandleFunc("GET /home", p.home)
	m.HandleFunc("GET /guides", p.guideIndex)
	m.HandleFunc("GET /guides/{id}", p.guide)
	m.HandleFunc("GET /how-to-use", p.howTo)
	m.HandleFunc("GET /help", p.simple("help", "help.title"))
	m.HandleFunc("GET /accessibility", p.accessibility)
	m.HandleFunc("GET /block", p.block)
	m.HandleFunc("GET /offline", p.offline)
	m.HandleFunc("GET /ended", p.simple("ended", "ended.title"))
	m.HandleFunc("GET /idle", p.idle)
	m.HandleFunc("GET /settings", p.settings)
	m.HandleFunc("GET /assets/kiosk.css", p.asset(func() ([]byte, string) { return p.css, "text/css; charset=utf-8" }))
	m.HandleFunc("GET /assets/brand.css", p.asset(func() ([]byte, string) { return p.brand, "text/css; charset=utf-8" }))
	m.HandleFunc("GET /assets/logo", p.asset(func() ([]byte, string) { return p.logo, p.logoCT }))
	m.HandleFunc("GET /assets/kiosk.js", p.asset(func() ([]byte, string) {
		b, _ := webFS.ReadFile("web/kiosk.js")
		return b, "text/javascript; charset=utf-8"
	}))
	if err := p.volunteerRoutes(m); err != nil {
		return nil, err
	}
	m.HandleFunc("/", p.notFound)
	p.mux = m
	return p, nil
}

// OnPrefs sets fn to be called when a resident changes a setting on the
// pages (kiosk://settings), with the session's new prefs. Call it before
// serving. Without it, the new prefs travel in the query (test mode).
func (p *Pages) OnPrefs(fn func(ctx context.Context, prefs Prefs)) { p.onPrefs = fn }

// Keyboard returns the on-screen keyboard mode: auto, always or never.
func (p *Pages) Keyboard() string {
	if p.cfg.Keyboard == "" {
		return KeyboardAuto
	}
	return p.cfg.Keyboard
}

// Languages returns the codes of the languages offered, the default first.
func (p *Pages) Languages() []string {
	out := make([]string, len(p.langs))
	for i, l := range p.langs {
		out[i] = l.Code
	}
	return out
}

// DefaultLanguage is where a session starts: the config's first language.
func (p *Pages) DefaultLanguage() string { return p.langs[0].Code }

// GuideTitle is guide id's title in lang, or in the language its page
// falls back to (as kiosk://guides/ID shows it); false when there is no
// such guide. The shell shows it in the guide pane's bar.
func (p *Pages) GuideTitle(id, lang string) (string, bool) {
	g, ok := p.lib.Get(id, lang)
	if !ok {
		return "", false
	}
	return g.Title, true
}

// ServeHTTP serves a kiosk:// URL or a plain path (see the package doc).
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Scheme == "kiosk":
		r2 := r.Clone(r.Context())
		u := *r.URL
		u.Path = "/" + u.Host + u.Path
		u.RawPath = ""
		u.Scheme, u.Host = "", ""
		r2.URL = &u
		r = r2.WithContext(context.WithValue(r2.Context(), kioskModeKey{}, true))
	case r.RemoteAddr == "":
		// Not from a network listener: the shell's scheme adapter already
		// turned kiosk://NAME/rest into /NAME/rest. Links must still be
		// kiosk:// URLs.
		r = r.WithContext(context.WithValue(r.Context(), kioskModeKey{}, true))
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self' kiosk:; img-src 'self' kiosk: data:; object-src 'none'; base-uri 'none'; form-action 'self' kiosk:; frame-ancestors 'self' kiosk:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	p.mux.ServeHTTP(w, r)
}

type kioskModeKey struct{}

func (p *Pages) asset(get func() ([]byte, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, ct := get()
		if len(b) == 0 {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(b)
	}
}

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

func (p *Pages) simple(page, titleKey string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.render(w, http.StatusOK, p.newView(r, page, titleKey))
	}
}

func (p *Pages) notFound(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusNotFound, p.newView(r, "notfound", "notfound.title"))
}

type homeData struct {
	Welcome string
	Tiles   []TileGroup
	Guides  []*guides.Guide
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "home", "home.title")
	d := homeData{Tiles: p.cfg.Tiles, Guides: p.lib.List(v.lang)}
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

// settings applies lang, contrast and text from the query to the session's
// prefs and sends the resident on to next (a path of ours).
func (p *Pages) settings(w http.ResponseWriter, r *http.Request) {
	prefs, fromCtx := prefsFrom(r)
	q := r.URL.Query()
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
	next := q.Get("next")
	nu, err := url.Parse(next)
	if err != nil || nu.Scheme != "" || nu.Host != "" || !strings.HasPrefix(nu.Path, "/") || strings.HasPrefix(nu.Path, "/settings") {
		nu = &url.URL{Path: "/accessibility"}
	}
	nu.Path = path.Clean(nu.Path)
	nq := nu.Query()
	if fromCtx && p.onPrefs != nil {
		p.onPrefs(r.Context(), prefs)
	} else {
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

// brandCSS sets the header colours from the council's brand colour, with
// white or black text, whichever contrasts more.
func brandCSS(hex string) []byte {
	if hex == "" {
		hex = DefaultBrandColour
	}
	r, g, b := parseHex(hex)
	l := luminance(r, g, b)
	text := "#ffffff"
	if contrast(l, 1) < contrast(l, 0) {
		text = "#0b0c0c"
	}
	return fmt.Appendf(nil, ":root{--ak-brand:%s;--ak-brand-text:%s}\n", strings.ToLower(hex), text)
}

func parseHex(s string) (r, g, b float64) {
	n, _ := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	return float64(n>>16&0xff) / 255, float64(n>>8&0xff) / 255, float64(n&0xff) / 255
}

// luminance is WCAG 2's relative luminance.
func luminance(r, g, b float64) float64 {
	lin := func(c float64) float64 {
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

func contrast(l1, l2 float64) float64 {
	return (max(l1, l2) + 0.05) / (min(l1, l2) + 0.05)
}

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
//	/print                 the print panel (print.go): preview, copies, colour, Print
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
//  1. Register the kiosk scheme as local and secure, so that only kiosk://
//     pages load, frame or navigate to kiosk:// URLs (kiosk://assets/...).
//  2. Wrap each request's context with WithPrefs(ctx, prefs) holding the
//     session's language, contrast and text size, and apply TextScale(prefs.TextSize)
//     as the zoom of service pages too.
//  3. Open the bridge (BridgeScript) in every view: the pages post to the
//     shell only through it, and only from kiosk:// top-level documents
//     (kiosk/webkit's package doc says why that cannot be raced). The
//     pages post JSON objects with an "action":
//     - "continue" / "end": the idle page's "I'm still here" / "End session now";
//     - "back": the block page's Go back (it falls back to history.back());
//     - "open" {url, guide?}: a guide's "Open the service" or a step's link:
//     load url in the main view and, with guide, show
//     kiosk://guides/GUIDE?panel=1 beside it (split view; stacked on a
//     portrait screen); without a shell the link just navigates;
//     - "close-guide": the panel's Close button;
//     - "prefs" {lang?, contrast?, text?}: a link to kiosk://settings on the
//     accessibility page: change the session's prefs (ChangePrefs) and
//     show the page again; without a shell the link navigates to
//     /settings, which carries the new prefs in the query;
//     - the volunteer screens' messages (package volunteer);
//     - the print panel's "print", "print-file" and "print-close" (print.go).
//  4. Run UserScript (the keyboard's focus watcher) in every frame, in an
//     isolated world with its own "watch" handler: {action: "keyboard",
//     show, mode} from any page and any of its frames asks for an
//     on-screen keyboard for a field of that mode (text, email, number,
//     tel, url) under the page, shrinking it, or hides it. The keyboard is
//     the shell's (native keys that send key events to the view); the
//     pages have none.
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
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
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
	cfg    Config
	lib    *guides.Library
	log    logrus.FieldLogger
	langs  []language
	pages  map[string]*template.Template
	mux    *http.ServeMux
	brand  []byte // generated CSS for the brand colour
	logo   []byte
	logoCT string
	css    []byte
	vol    *volunteer.Config // SetVolunteer; nil shows the defaults
	// assistOn: remote help is configured (SetAssist, assist.go).
	assistOn bool
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
	if err := p.assistRoutes(m); err != nil {
		return nil, err
	}
	if err := p.pickerRoutes(m); err != nil {
		return nil, err
	}
	if err := p.printRoutes(m); err != nil {
		return nil, err
	}
	m.HandleFunc("/", p.notFound)
	p.mux = m
	return p, nil
}

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
	p.mux.ServeHTTP(w, prepare(w, r))
}

// prepare sets every page's security headers and says whether its links
// are kiosk:// URLs (see the package doc).
func prepare(w http.ResponseWriter, r *http.Request) *http.Request {
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
	w.Header().Set("Content-Security-Policy", "default-src 'self' kiosk:; img-src 'self' kiosk: data:; object-src 'none'; base-uri 'none'; form-action 'self' kiosk:; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	return r
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

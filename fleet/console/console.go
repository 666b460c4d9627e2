// Package console is the fleet's web console for IT staff: server-rendered
// pages (html/template) styled with GOV.UK Frontend, usable without
// JavaScript. Staff sign in with a password (argon2id); admins act on kiosks
// and manage sites, tokens and staff; viewers only look. Every action is
// written to the audit log. CSRF protection is net/http.CrossOriginProtection,
// applied by the server in front of this handler, plus SameSite cookies.
package console

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/alert"
	"accesskiosk/fleet/password"
	"accesskiosk/fleet/release"
	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/version"
)

//go:embed templates/*.html
var templateFS embed.FS

// consoleJS starts GOV.UK Frontend's components (the menu button on small
// screens, focus on error summaries and banners) and warns before a
// sign-in ends. Every page works without it.
//
//go:embed scripts/console.js
var consoleJS []byte

// assets holds the compiled stylesheet (`make assets`); only .gitkeep on a
// fresh clone.
//
//go:embed all:assets
var assetFS embed.FS

// Config configures the console.
type Config struct {
	Store *store.Store
	Log   logrus.FieldLogger
	// CouncilName is shown in the header (default "Access Kiosk").
	CouncilName string
	// SessionTTL is how long a sign-in lasts (default 8h). "Stay signed
	// in" gives another SessionTTL from then, up to MaxSession after
	// signing in.
	SessionTTL time.Duration
	// SessionWarning is how long before a sign-in ends its pages warn and
	// offer to stay signed in (default 5 minutes, at most a quarter of
	// SessionTTL).
	SessionWarning time.Duration
	// Insights configures the Insights page.
	Insights InsightsConfig
	// SecureCookies marks cookies Secure (set when serving HTTPS).
	SecureCookies bool
	// Rules are the alert thresholds, for the kiosk states shown.
	Rules alert.Rules
	// ForgetDevice is called after a kiosk's credential is withdrawn.
	ForgetDevice func(id string)
	// ReleaseDir is the fleet's release repository (fleet/release
	// RepoDir), for the Releases page; its rollouts file is edited there.
	// "" or a directory without a repository: the page says how to make one.
	// ReleaseStorage and Rollouts, when set, take its place (several
	// replicas keep both in the database: fleet/shared).
	ReleaseDir     string
	ReleaseStorage release.Storage
	Rollouts       release.Rollouts
	// RolloutLockWait bounds how long an edit waits while another process
	// (`fleet release rollout`) writes the rollouts file; 0 means
	// release.DefaultLockWait. Then the page says to try again.
	RolloutLockWait time.Duration
	// Throttle keeps the sign-in rate limits and backoff (nil: in this
	// process's memory; several replicas would share one in the database).
	Throttle throttle.State
	// SignIn bounds sign-in attempts; zero fields take DefaultSignIn's.
	SignIn SignInLimits
	// Passwords bounds how many password derivations run at once (nil: a
	// gate of password.MachineSlots()).
	Passwords *password.Gate
	// Assist turns remote help's pages and buttons on (the server mounts
	// fleet/assist's handlers with AssistStaff and MayAssist); AssistRoles
	// are the roles with the assist permission (empty: DefaultAssistRoles).
	Assist      bool
	AssistRoles []string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Console is the console's http.Handler.
type Console struct {
	cfg   Config
	st    *store.Store
	log   logrus.FieldLogger
	pages map[string]*template.Template
	mux   *http.ServeMux

	rollouts release.Rollouts // one, so its lock orders the console's edits
}

const cookieName = "ak_session"

// New builds the console.
func New(cfg Config) (*Console, error) {
	if cfg.Store == nil || cfg.Log == nil {
		return nil, errors.New("console: Store and Log are required")
	}
	if cfg.CouncilName == "" {
		cfg.CouncilName = "Access Kiosk"
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionWarning <= 0 {
		cfg.SessionWarning = min(5*time.Minute, cfg.SessionTTL/4)
	}
	cfg.Insights = cfg.Insights.withDefaults()
	if cfg.ForgetDevice == nil {
		cfg.ForgetDevice = func(string) {}
	}
	if cfg.Throttle == nil {
		cfg.Throttle = throttle.NewMemory(cfg.Now, 0)
	}
	cfg.SignIn = cfg.SignIn.withDefaults()
	if cfg.Passwords == nil {
		cfg.Passwords = password.NewGate(password.MachineSlots())
	}
	c := &Console{cfg: cfg, st: cfg.Store, log: cfg.Log}
	c.rollouts = cfg.Rollouts
	if c.rollouts == nil {
		f := release.OpenRollouts(release.RolloutsPath(cfg.ReleaseDir))
		f.LockWait = cfg.RolloutLockWait
		c.rollouts = f
	}
	if err := c.parse(); err != nil {
		return nil, err
	}
	if _, err := fs.Stat(assetFS, "assets/console.css"); err != nil {
		c.log.Warn("console stylesheet missing: run `make assets`; pages will be unstyled")
	}
	m := http.NewServeMux()
	static, _ := fs.Sub(assetFS, "assets")
	m.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	m.HandleFunc("GET /login", c.loginPage)
	m.HandleFunc("POST /login", c.login)
	m.HandleFunc("POST /logout", c.logout)
	m.HandleFunc("GET /{$}", c.auth(false, c.overview))
	m.HandleFunc("GET /kiosks", c.auth(false, c.kiosks))
	m.HandleFunc("GET /kiosks/{id}", c.auth(false, c.kiosk))
	m.HandleFunc("POST /kiosks/{id}/command", c.auth(true, c.command))
	m.HandleFunc("POST /kiosks/{id}/revoke", c.auth(true, c.revokeDevice))
	m.HandleFunc("GET /sites", c.auth(false, c.sites))
	m.HandleFunc("POST /sites", c.auth(true, c.createSite))
	m.HandleFunc("POST /sites/tokens", c.auth(true, c.createToken))
	m.HandleFunc("POST /sites/tokens/{id}/revoke", c.auth(true, c.revokeToken))
	m.HandleFunc("GET /releases", c.auth(false, c.releases))
	m.HandleFunc("POST /releases/rollouts", c.auth(true, c.startRollout))
	m.HandleFunc("POST /releases/rollouts/{id}/{action}", c.auth(true, c.rolloutAction))
	m.HandleFunc("GET /remote-help", c.auth(false, c.assistPage))
	m.HandleFunc("GET /audit", c.auth(false, c.audit))
	m.HandleFunc("GET /usage", c.auth(false, c.usage))
	m.HandleFunc("GET /usage.csv", c.auth(false, c.usageCSV))
	m.HandleFunc("GET /insights", c.auth(false, c.insightsPage))
	m.HandleFunc("GET /insights/report", c.auth(false, c.insightsReport))
	m.HandleFunc("GET /insights/export/{file}", c.auth(false, c.insightsExportPage))
	m.HandleFunc("GET /sites/{id}/hours", c.auth(false, c.hoursPage))
	m.HandleFunc("POST /sites/{id}/hours", c.auth(true, c.setHours))
	m.HandleFunc("POST /session/extend", c.auth(false, c.extendSession))
	m.HandleFunc("GET /static/console.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(consoleJS)
	})
	m.HandleFunc("GET /users", c.auth(false, c.users))
	m.HandleFunc("POST /users", c.auth(true, c.createUser))
	m.HandleFunc("POST /users/api-tokens", c.auth(true, c.createAPIToken))
	m.HandleFunc("POST /users/api-tokens/{id}/revoke", c.auth(true, c.revokeAPIToken))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Page not found", Data: "There is no page at this address."})
	})
	c.mux = m
	return c, nil
}

func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP implements http.Handler with headers every page gets.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	c.mux.ServeHTTP(w, r)
}

var pageNames = []string{"login", "overview", "kiosks", "kiosk", "confirm", "sites", "audit", "usage", "users", "error", "releases", "rollout-confirm", "volcode",
	"insights", "hours", "assist"}

func (c *Console) parse() error {
	c.pages = map[string]*template.Template{}
	base, err := template.New("").Funcs(funcs(c.cfg.Now)).Funcs(template.FuncMap{"categoryText": c.categoryText}).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("console templates: %w", err)
	}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

// page is what every template gets.
type page struct {
	Title     string // unique per page (WCAG 2.4.2)
	Council   string
	Version   string
	User      store.User
	Nav       []navItem
	CanAct    bool // the user is an admin
	CanAssist bool // the user may give remote help (assist.go)
	Flash     string
	// Error is one problem with the form, at the field whose id is
	// ErrorField; Errors are more (forms.go).
	Error      string
	ErrorField string
	Errors     []fieldError
	Data       any
	// SessionLeft is how many seconds the sign-in has left, SessionWarn
	// how long before its end the page warns, SessionEnds when it ends in
	// words, Here the page's own path (to come back to); set by render
	// for a signed-in user.
	SessionLeft, SessionWarn int64
	SessionEnds, Here        string
}

type navItem struct {
	Href, Text string
	Current    bool
}

var nav = []navItem{{"/", "Overview", false}, {"/kiosks", "Kiosks", false}, {"/sites", "Sites and enrolment", false},
	{"/releases", "Releases", false}, {"/remote-help", "Remote help", false},
	{"/usage", "Usage", false}, {"/insights", "Insights", false}, {"/audit", "Audit log", false}, {"/users", "Staff", false}}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Council = c.cfg.CouncilName
	p.Version = version.Version
	if u, ok := r.Context().Value(userKey{}).(store.User); ok {
		p.User = u
		p.CanAct = u.Role == store.RoleAdmin
		p.CanAssist = c.canAssist(r)
	}
	if ends, ok := r.Context().Value(endsKey{}).(int64); ok {
		left := time.UnixMilli(ends).Sub(c.cfg.Now())
		p.SessionLeft = max(1, int64(left/time.Second))
		p.SessionWarn = int64(c.cfg.SessionWarning / time.Second)
		p.SessionEnds = time.UnixMilli(ends).In(c.cfg.Insights.Zone).Format("15:04 on 2 January")
		if r.Method == http.MethodGet {
			p.Here = here(r)
		} else {
			p.Here = refererPath(r)
		}
	}
	if p.Flash == "" {
		p.Flash = flash(r.URL.Query())
	}
	for _, n := range nav {
		if n.Href == "/remote-help" && !p.CanAssist {
			continue
		}
		n.Current = n.Href == r.URL.Path || n.Href != "/" && strings.HasPrefix(r.URL.Path, n.Href)
		p.Nav = append(p.Nav, n)
	}
	var buf strings.Builder
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.WithError(err).WithField("page", name).Error("render failed")
		http.Error(w, "The page could not be shown; see the server log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(buf.String()))
}

// maxFormBytes bounds every console form body.
const maxFormBytes = 16 << 10

// readForm limits and parses a POSTed form. When the body is too large or
// not a form it answers 413 or 400 with a sentence saying so and returns
// false: a handler must never go on with an empty form it did not get.
func readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, fmt.Sprintf("The form is too large (at most %d KiB). Nothing was changed.", maxFormBytes>>10), http.StatusRequestEntityTooLarge)
		return false
	}
	http.Error(w, "The form could not be read. Nothing was changed.", http.StatusBadRequest)
	return false
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.log.WithError(err).WithField("path", r.URL.Path).Error("console request failed")
	c.render(w, r, http.StatusInternalServerError, "error", page{Title: "Sorry, something went wrong", Data: "The server could not do that. The details are in its log."})
}

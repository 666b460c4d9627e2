// Package server is the fleet's HTTP server: the device API (enrol,
// report), the staff admin API, /healthz, /metrics, and the console mounted
// beside them. Every unsafe request goes through
// net/http.CrossOriginProtection; device and admin API requests authenticate
// with bearer secrets, the console with a session cookie.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/assist/wire"
	"accesskiosk/fleet/release"
	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/store"
)

// Config holds what the server needs. Zero values mean the defaults noted.
type Config struct {
	Store *store.Store
	Log   logrus.FieldLogger
	// Registry receives the server's metrics and is served on /metrics;
	// nil means a fresh registry.
	Registry *prometheus.Registry
	// ReportInterval is what new devices are told (default 30s).
	ReportInterval time.Duration
	// RatePerSecond and RateBurst bound each device's report requests
	// (defaults 2/s, burst 60).
	RatePerSecond float64
	RateBurst     int
	// IngestWorkers is how many group-commit writers run (default 1 for
	// SQLite, 4 for PostgreSQL).
	IngestWorkers int
	// Console, when set, serves everything outside /api/, /healthz and /metrics.
	Console http.Handler
	// Insights, when set, serves the Insights exports of the admin API
	// (api.PathAdminInsights + FILE, the console's Insights.Exports) to
	// any staff API token.
	Insights http.Handler
	// Release, when set, serves the signed release repository (TUF
	// metadata and bundles, fleet/release Repo.Handler) under /release/.
	Release http.Handler
	// DesiredRelease, when set, gives each report answer the release the
	// device should run ("" for no change), from its id, site and the
	// agent version it reported (fleet/release rollouts).
	DesiredRelease func(deviceID, site, running string) string
	// Throttle keeps the per-address and global limits of enrolment and
	// the admin API (nil: in this process's memory, at most
	// throttle.DefaultMaxKeys keys; several replicas share the store's,
	// store.Throttle). DeviceThrottle keeps each enrolled device's request
	// rate (nil: in memory, a few buckets per device): it guards this
	// replica's own work, so each replica keeps its own. What a device
	// may store (Limits) is counted in the database, in the ingest
	// transaction, so replicas share it.
	Throttle       throttle.State
	DeviceThrottle throttle.State
	// Listener, when set, tells this replica at once of credentials
	// withdrawn or replaced through another replica (store.ChanCredentials),
	// so its credential cache never lags. (The ingest checks the
	// credential again in its transaction either way.)
	Listener *store.Listener
	// Limits bound enrolment and what one device can store; zero fields
	// take DefaultLimits'.
	Limits Limits
	// Assist, when set, is remote help (fleet/assist's Hub): its device
	// WebSocket is served at wire.PathDevice (the hub authenticates it
	// with DeviceID) and its console side under /assist/ (the viewer, its
	// WebSocket and the help-code and Offer help commands).
	Assist AssistHandlers
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// AssistHandlers is what the server mounts of remote help.
type AssistHandlers interface {
	DeviceHandler() http.Handler
	ConsoleHandler() http.Handler
}

// Server serves the fleet API.
type Server struct {
	cfg     Config
	log     logrus.FieldLogger
	store   *store.Store
	ingest  *ingester
	anon    throttle.State // keyed by client address
	devices throttle.State // keyed by device id
	auth    *authCache
	metrics *metrics
	handler http.Handler
}

// New builds a server; start it with Run.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Log == nil {
		return nil, errors.New("server: Store and Log are required")
	}
	if cfg.ReportInterval <= 0 {
		cfg.ReportInterval = 30 * time.Second
	}
	if cfg.RatePerSecond <= 0 {
		cfg.RatePerSecond = 2
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = 60
	}
	if cfg.IngestWorkers <= 0 {
		cfg.IngestWorkers = 1
		if cfg.Store.Dialect() == store.Postgres {
			cfg.IngestWorkers = 4
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Throttle == nil {
		cfg.Throttle = throttle.NewMemory(cfg.Now, 0)
	}
	if cfg.DeviceThrottle == nil {
		// Device ids come only from authenticated requests: as many as
		// the fleet has kiosks, a few buckets each.
		cfg.DeviceThrottle = throttle.NewMemory(cfg.Now, 1<<30)
	}
	cfg.Limits = cfg.Limits.withDefaults()
	s := &Server{
		cfg:     cfg,
		log:     cfg.Log,
		store:   cfg.Store,
		anon:    cfg.Throttle,
		devices: cfg.DeviceThrottle,
		auth:    newAuthCache(cfg.Store, 30*time.Second, cfg.Now),
	}
	if cfg.Listener != nil {
		cfg.Listener.Subscribe(store.ChanCredentials, s.auth.forget)
		cfg.Listener.OnReset(s.auth.clear)
	}
	var err error
	if s.metrics, err = newMetrics(cfg.Registry, cfg.Store); err != nil {
		return nil, err
	}
	s.ingest = newIngester(cfg.Store, cfg.IngestWorkers, s.log, func(n int, took time.Duration) {
		s.metrics.groups.Observe(float64(n))
		s.metrics.commits.Observe(took.Seconds())
	})

	mux := http.NewServeMux()
	mux.HandleFunc("POST "+api.PathEnrol, s.handleEnrol)
	mux.HandleFunc("POST "+api.PathReport, s.handleReport)
	mux.HandleFunc("GET "+api.PathAdminSites, s.admin(false, s.handleListSites))
	mux.HandleFunc("POST "+api.PathAdminSites, s.admin(true, s.handleCreateSite))
	mux.HandleFunc("GET "+api.PathAdminTokens, s.admin(false, s.handleListTokens))
	mux.HandleFunc("POST "+api.PathAdminTokens, s.admin(true, s.handleCreateToken))
	mux.HandleFunc("DELETE "+api.PathAdminToken+"{id}", s.admin(true, s.handleRevokeToken))
	mux.HandleFunc("POST "+api.PathAdminTokenCheck, s.admin(false, s.handleCheckToken))
	mux.HandleFunc("GET "+api.PathAdminDevices, s.admin(false, s.handleListDevices))
	if cfg.Assist != nil {
		mux.Handle("GET "+wire.PathDevice, cfg.Assist.DeviceHandler())
		mux.Handle("/assist/", cfg.Assist.ConsoleHandler())
	}
	if cfg.Insights != nil {
		mux.HandleFunc("GET "+api.PathAdminInsights+"{file}", s.admin(false, func(w http.ResponseWriter, r *http.Request, _ store.User) {
			cfg.Insights.ServeHTTP(w, r)
		}))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no such API endpoint or method: "+r.Method+" "+r.URL.Path)
	})
	if cfg.Release != nil {
		mux.Handle(release.URLPath+"/", http.StripPrefix(release.URLPath, cfg.Release))
	}
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	if cfg.Console != nil {
		mux.Handle("/", cfg.Console)
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.WithField("path", r.URL.Path).Warn("refused a cross-origin request")
		http.Error(w, "Refused: this request came from another site. Go back to the console and try again.", http.StatusForbidden)
	}))
	s.handler = s.wrap(cop.Handler(mux))
	return s, nil
}

// Handler returns the server's HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// DeviceID authenticates a device request as the device API does (the
// bearer credential, revocation, the credential cache) and returns the
// device's id, for remote help's WebSocket (fleet/assist Config.DeviceAuth).
func (s *Server) DeviceID(r *http.Request) (string, error) {
	var d discard
	a, ok := s.deviceAuth(&d, r)
	if !ok {
		return "", fmt.Errorf("device credential refused (%d)", d.code)
	}
	return a.ID, nil
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

// ForgetDevice drops a device's cached credential (after a revocation).
func (s *Server) ForgetDevice(id string) { s.auth.forget(id) }

// Run serves on ln until ctx is done, with TLS when tlsCfg is not nil. It
// returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context, ln net.Listener, tlsCfg *tls.Config) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          nil,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	err := hs.Serve(ln)
	wg.Wait()
	s.ingest.close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve %s: %w", ln.Addr(), err)
}

// Close stops the ingest workers (when Run was not used).
func (s *Server) Close() { s.ingest.close() }

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WithError(err).Warn("healthz: store not answering")
		http.Error(w, "store not answering", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func retryAfter(w http.ResponseWriter, d time.Duration) {
	sec := int(d.Seconds() + 0.999)
	if sec < 1 {
		sec = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(sec))
}

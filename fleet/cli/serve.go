package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/grandcat/zeroconf"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/alert"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/console"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/shared"
	"accesskiosk/fleet/store"
	"accesskiosk/fleet/tlscert"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/version"
)

// ServeOptions are `fleet serve`'s flags.
type ServeOptions struct {
	Addr      string
	Store     storeFlags
	Config    string
	TLSCert   string
	TLSKey    string
	PlainHTTP bool
	LogLevel  string
	// MDNS advertises the fleet as _accesskiosk-fleet._tcp on the local
	// networks, so agents without a configured URL find it (they trust it
	// only if its certificate matches their pinned fingerprint).
	MDNS bool
	// InternalAddr is where the other replicas reach this one for remote
	// help (HOST:PORT, listened on here; required with --db when assist
	// is enabled): TLS with the replicas' shared certificate both ways.
	InternalAddr string
}

const serveSynopsis = "--addr HOST:PORT --data DIR [--db postgres://...] [--config FILE] [--tls-cert FILE --tls-key FILE] [--plain-http] [--mdns=false] [--internal-addr HOST:PORT] [--log-level LEVEL]"

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o ServeOptions
	fs := flagSet("serve", serveSynopsis)
	fs.StringVar(&o.Addr, "addr", "", "address to listen on, `HOST:PORT` (e.g. 0.0.0.0:8443)")
	o.Store.add(fs)
	fs.StringVar(&o.Config, "config", "", "YAML config `FILE` (optional)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate `FILE` (PEM); default: self-signed, made on first start in DATA/tls")
	fs.StringVar(&o.TLSKey, "tls-key", "", "TLS key `FILE` (PEM) for --tls-cert")
	fs.BoolVar(&o.PlainHTTP, "plain-http", false, "serve plain HTTP (only behind a TLS proxy or on loopback)")
	fs.StringVar(&o.LogLevel, "log-level", "info", "log `LEVEL`: debug, info, warn, error")
	fs.StringVar(&o.InternalAddr, "internal-addr", "", "with --db and remote help: the `HOST:PORT` the other replicas reach this one at (listened on; TLS with the replicas' shared certificate both ways)")
	fs.BoolVar(&o.MDNS, "mdns", true, "advertise the fleet on the local networks (mDNS _accesskiosk-fleet._tcp) for agents to find")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	if o.Addr == "" {
		return confile.FlagError("addr", "is required, e.g. --addr 0.0.0.0:8443")
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return confile.FlagError("addr", "must be HOST:PORT: %v", err)
	}
	if err := o.Store.check(); err != nil {
		return err
	}
	if o.Store.data == "" && o.Store.db == "" && !o.PlainHTTP && o.TLSCert == "" {
		return confile.FlagError("data", "is required to keep the self-signed TLS certificate (or give --tls-cert)")
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return confile.FlagError("tls-key", "--tls-cert and --tls-key go together")
	}
	if o.PlainHTTP && o.TLSCert != "" {
		return confile.FlagError("plain-http", "cannot be used with --tls-cert")
	}
	if o.InternalAddr != "" {
		if o.Store.db == "" {
			return confile.FlagError("internal-addr", "is for several replicas on PostgreSQL (--db): one server needs none")
		}
		if _, _, err := net.SplitHostPort(o.InternalAddr); err != nil {
			return confile.FlagError("internal-addr", "must be HOST:PORT: %v", err)
		}
	}
	if _, err := logrus.ParseLevel(o.LogLevel); err != nil {
		return confile.FlagError("log-level", "%v", err)
	}
	cfg := DefaultConfig()
	if o.Config != "" {
		var err error
		if cfg, err = LoadConfig(o.Config); err != nil {
			return err
		}
	}
	if cfg.Assist.Enabled && o.Store.db != "" && o.InternalAddr == "" {
		return confile.FlagError("internal-addr", "is required with --db when assist is enabled: the HOST:PORT the other replicas reach this one at for remote help")
	}
	log, _ := applog.New(stderr, o.LogLevel)
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	return Serve(ctx, ln, o, cfg, log, stdout)
}

// Serve runs the fleet server on ln until ctx is done. It opens the store,
// makes or loads the TLS certificate (printing its fingerprint to stdout),
// and starts the alert watcher and the pruning of old reports.
func Serve(ctx context.Context, ln net.Listener, o ServeOptions, cfg Config, log *logrus.Logger, stdout io.Writer) error {
	defer ln.Close()
	st, err := o.Store.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	sh, err := shared.New(shared.Config{Store: st, DataDir: o.Store.data, Log: applog.Component(log, "shared")})
	if err != nil {
		return err
	}
	log.Info(sh.Describe())

	tlsCfg, cert, err := serveTLS(ctx, o, sh, ln.Addr(), log, stdout)
	if err != nil {
		return err
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}

	reg := prometheus.NewRegistry()
	rules := alert.Rules{
		OfflineAfter: cfg.Alerts.OfflineAfter, DiskLowPercent: cfg.Alerts.DiskLowPercent,
		HotCelsius: cfg.Alerts.HotCelsius, CrashLoopRestarts: cfg.Alerts.CrashLoopRestarts,
	}
	watcher, err := alert.NewWatcher(alert.WatcherConfig{
		Store: st, Rules: rules, WebhookURL: cfg.Alerts.WebhookURL, Log: applog.Component(log, "alert"), Registry: reg,
		Leader: sh.AlertLeader,
	})
	if err != nil {
		return err
	}
	var srv *server.Server
	st.SetInsights(store.InsightsConfig{Zone: cfg.Insights.Zone(), Vocabulary: cfg.Insights.Vocabulary, KeepMonths: cfg.Insights.KeepMonths})
	con, err := console.New(console.Config{
		Store: st, Log: applog.Component(log, "console"), CouncilName: cfg.CouncilName,
		SessionTTL: cfg.SessionTTL, SecureCookies: tlsCfg != nil, Rules: rules,
		ForgetDevice: func(id string) { srv.ForgetDevice(id) }, ReleaseDir: releaseDir(o.Store.data),
		Insights:       console.InsightsConfig{K: cfg.Insights.K, YearStart: cfg.Insights.FinancialYearStart(), Zone: cfg.Insights.Zone()},
		ReleaseStorage: sh.ReleaseStorage, Rollouts: sh.Rollouts, Throttle: sh.Throttle,
		Assist: cfg.Assist.Enabled, AssistRoles: cfg.Assist.Roles,
	})
	if err != nil {
		return err
	}
	var hop *replicaHop
	if cfg.Assist.Enabled && sh.Shared {
		if hop, err = startReplicaHop(ctx, o, sh, cert, ln.Addr(), stdout); err != nil {
			return err
		}
		defer hop.ln.Close()
	}
	hub, err := startAssist(ctx, cfg, st, sh, hop, con, func() *server.Server { return srv }, reg, log)
	if err != nil {
		return err
	}
	if hub != nil {
		// Before the store closes: the other replicas learn this one's shares ended.
		defer hub.Close()
	}
	relHandler, relDesired, err := releaseServing(sh, applog.Component(log, "release"))
	if err != nil {
		return err
	}
	scfg := server.Config{
		Store: st, Log: applog.Component(log, "server"), Registry: reg, Console: con, Insights: con.InsightsExports(),
		Release: relHandler, DesiredRelease: relDesired,
		ReportInterval: cfg.ReportInterval, RatePerSecond: cfg.RatePerSecond, RateBurst: cfg.RateBurst,
		Throttle: sh.Throttle, Listener: sh.Listener,
	}
	if hub != nil {
		scfg.Assist = hub
	}
	srv, err = server.New(scfg)
	if err != nil {
		return err
	}
	go sh.Run(ctx)
	go watcher.Run(ctx, cfg.Alerts.Interval)
	go prune(ctx, st, sh.PruneLeader, cfg.Retention, log)

	if o.MDNS && tlsCfg != nil {
		defer advertise(ln.Addr(), log)()
	}
	fmt.Fprintf(stdout, "fleet: %s serving the console and device API at %s://%s/\n", version.Version, scheme, displayAddr(ln.Addr()))
	if relHandler != nil {
		fmt.Fprintf(stdout, "fleet: serving signed releases at /release/ (agents: repo_url %s://%s/release)\n", scheme, displayAddr(ln.Addr()))
	}
	daemon.SdNotify(false, daemon.SdNotifyReady)
	err = srv.Run(ctx, ln, tlsCfg)
	daemon.SdNotify(false, daemon.SdNotifyStopping)
	return err
}

// serveTLS is the server's TLS: the certificate from --tls-cert/--tls-key,
// or the one the replicas share (made once, self-signed); nil with
// --plain-http (a warning off loopback).
func serveTLS(ctx context.Context, o ServeOptions, sh *shared.State, addr net.Addr, log logrus.FieldLogger, stdout io.Writer) (*tls.Config, tls.Certificate, error) {
	var cert tls.Certificate
	if o.PlainHTTP {
		if !isLoopback(addr) {
			log.Warn("serving plain HTTP on a non-loopback address: put a TLS proxy in front, device credentials travel in every request")
		}
		return nil, cert, nil
	}
	var err error
	if o.TLSCert != "" {
		cert, err = tlscert.Load(o.TLSCert, o.TLSKey)
	} else {
		var created bool
		cert, created, err = sh.TLSCert(ctx, certHosts(addr))
		if created {
			log.Info("created a self-signed TLS certificate")
		}
	}
	if err != nil {
		return nil, cert, err
	}
	fmt.Fprintf(stdout, "fleet: TLS certificate SHA-256 fingerprint %s\n", tlscert.Fingerprint(cert.Certificate[0]))
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, cert, nil
}

// advertise announces the fleet by mDNS (_accesskiosk-fleet._tcp) when it
// listens off loopback; the returned func withdraws it.
func advertise(addr net.Addr, log logrus.FieldLogger) (stop func()) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || isLoopback(addr) {
		return func() {}
	}
	host, _ := os.Hostname()
	mdns, err := zeroconf.Register("Access Kiosk fleet on "+host, "_accesskiosk-fleet._tcp", "local.", ta.Port,
		[]string{"v=" + strconv.Itoa(api.CapabilityVersion)}, nil)
	if err != nil {
		log.WithError(err).Warn("cannot advertise the fleet by mDNS; agents need its URL")
		return func() {}
	}
	log.Info("advertising the fleet by mDNS as _accesskiosk-fleet._tcp")
	return mdns.Shutdown
}

// prune deletes old rows hourly; with several replicas only the one
// holding leader does.
func prune(ctx context.Context, st *store.Store, leader *store.Leadership, keep time.Duration, log logrus.FieldLogger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	if leader != nil {
		defer leader.Release()
	}
	for {
		lead := true
		if leader != nil {
			lead, _ = leader.Leading(ctx)
		}
		if lead {
			if err := st.Prune(ctx, keep); err != nil && ctx.Err() == nil {
				log.WithError(err).Warn("pruning old reports failed")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// certHosts are the names a self-signed certificate covers.
func certHosts(a net.Addr) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil {
		hosts = append(hosts, h, h+".local")
	}
	if ta, ok := a.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() && !ta.IP.IsLoopback() {
		hosts = append(hosts, ta.IP.String())
	}
	if ifs, err := net.InterfaceAddrs(); err == nil {
		for _, ia := range ifs {
			if ipn, ok := ia.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
				hosts = append(hosts, ipn.IP.String())
			}
		}
	}
	return hosts
}

func displayAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if ta.IP.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			return net.JoinHostPort(h, fmt.Sprint(ta.Port))
		}
	}
	return ta.String()
}

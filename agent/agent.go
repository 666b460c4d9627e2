package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/sirupsen/logrus"

	"accesskiosk/agent/assist"
	"accesskiosk/agent/command"
	"accesskiosk/agent/discovery"
	"accesskiosk/agent/enrol"
	"accesskiosk/agent/health"
	"accesskiosk/agent/kiosklink"
	"accesskiosk/agent/queue"
	"accesskiosk/agent/report"
	"accesskiosk/agent/system"
	"accesskiosk/agent/update"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/fleetclient"
	"accesskiosk/internal/version"
	"accesskiosk/kiosk/bus"
)

// Agent is a running agent. Most callers only need Run; tests use Start to
// look inside.
type Agent struct {
	cfg  Config
	log  *logrus.Logger
	reg  *health.Registry
	mach health.Machine
	q    *queue.Queue
	link *kiosklink.Link
	sys  *system.Manager
	exec *command.Executor
	rep  *report.Reporter
	adv  *discovery.Advertiser
	upd  *update.Updater

	updating sync.Mutex // held while an update runs

	mu     sync.Mutex
	fleet  *fleetclient.Client
	relay  *assist.Relay // remote help (assist.go); nil when off
	id     enrol.Identity
	txtKey string

	wg sync.WaitGroup
}

// Run runs the agent until ctx ends. It returns an error only when the
// agent cannot start at all (state directory unusable); everything else
// (no kiosk, no fleet, no network, full disk) is reported as a warning and
// retried while the agent keeps running.
func Run(ctx context.Context, cfg Config, log *logrus.Logger) error {
	a, err := Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	a.Stop()
	return nil
}

// Start starts the agent's loops and returns at once; Stop (after ctx
// ends) waits for them.
func Start(ctx context.Context, cfg Config, log *logrus.Logger) (*Agent, error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	a := &Agent{cfg: cfg, log: log, reg: health.NewRegistry(nil), mach: health.Machine{DataDir: cfg.StateDir}}
	q, err := queue.Open(filepath.Join(cfg.StateDir, "queue"), queue.Limits{MaxBytes: cfg.Queue.MaxBytes, MaxAge: cfg.Queue.MaxAge})
	if err != nil {
		return nil, fmt.Errorf("open report queue: %w", err)
	}
	a.q = q
	a.loadIdentity()

	a.link = kiosklink.New(kiosklink.Options{
		Bus: orDefault(cfg.Kiosk.Bus, "system"), Health: a.reg,
		Log:     applog.Component(log, "kiosklink"),
		Changed: func() { a.kick() },
	})
	a.goRun(ctx, a.link.Run)

	if err := a.openCommands(ctx); err != nil {
		return nil, err
	}

	a.rep = report.New(report.Options{
		Queue: a.q, Snapshot: a.snapshot, Commands: a.exec, Health: a.reg,
		Fleet: func() report.Fleet {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.fleet == nil {
				return nil
			}
			return a.fleet
		},
		Desired:  func(d api.DesiredState) { a.desired(ctx, d) },
		Interval: cfg.Report.Interval, Jitter: cfg.Report.Jitter,
		BackoffMin: cfg.Report.BackoffMin, BackoffMax: cfg.Report.BackoffMax,
		SendTimeout: min(time.Minute, cfg.Report.Timeout*time.Duration(cfg.Report.Retries+1)+5*time.Second),
		Log:         applog.Component(log, "report"),
	})
	a.startUpdater(ctx)
	a.goRun(ctx, a.rep.Run)
	if p, err := cfg.Printer.printerTarget(log); err != nil {
		log.WithError(err).Warn("no printer health: the printer's address is not usable")
	} else if p.URI != "" {
		a.cfg.Printer = p
		a.goRun(ctx, a.watchPrinter) // printer_* warnings (printer.go)
	}
	a.goRun(ctx, a.connectFleet)

	if cfg.Discovery.Advertise {
		a.advertise(ctx)
	}

	if ok, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		log.WithError(err).Warn("sd_notify READY")
	} else if ok {
		log.Debug("told systemd we are ready")
	}
	a.goRun(ctx, a.watchdog)
	log.WithFields(logrus.Fields{"version": version.Version, "device_id": a.id.DeviceID, "state_dir": cfg.StateDir}).Info("agent running")
	return a, nil
}

// loadIdentity loads the device's identity from the state directory, if
// it has one. A damaged or exposed identity is reported in health, not
// returned: the agent runs unenrolled rather than not at all.
func (a *Agent) loadIdentity() {
	cfg, log := a.cfg, a.log
	id, err := enrol.LoadIdentity(cfg.StateDir)
	if errors.Is(err, enrol.ErrIdentityExposed) {
		// Tighten it and say so: the credential may have been read, and IT
		// staff can revoke it; refusing to run would help nobody.
		log.WithError(err).Error("identity file was readable by others; made it 0600")
		a.reg.Set(health.CodeIdentity, health.Warn, "the device credential file was readable by other users; consider revoking and re-enrolling this device")
		if cerr := os.Chmod(filepath.Join(cfg.StateDir, enrol.IdentityFile), 0o600); cerr == nil {
			id, err = enrol.LoadIdentity(cfg.StateDir)
		}
	}
	switch {
	case err == nil:
		a.id = id
	case errors.Is(err, enrol.ErrNoIdentity):
	default:
		// A damaged identity must not stop the agent: it keeps reporting
		// into its queue, stays visible on the network and says why.
		log.WithError(err).Error("cannot use the stored identity; running unenrolled")
		a.reg.Set(health.CodeIdentity, health.Critical, "stored identity unusable: %v", err)
	}
}

// openCommands connects to the system bus, if it can (without it,
// restart_kiosk and reboot are refused and health says so), and opens the
// command executor with its journal.
func (a *Agent) openCommands(ctx context.Context) error {
	cfg, log := a.cfg, a.log
	if conn, err := bus.Connect(ctx, orDefault(cfg.System.Bus, "system")); err != nil {
		log.WithError(err).Warn("no system bus: restart_kiosk and reboot will be refused")
		a.reg.Set(health.CodeSystemBus, health.Warn, "cannot reach systemd/logind: %v", err)
	} else {
		a.sys = system.New(conn)
		context.AfterFunc(ctx, func() { conn.Close() })
	}
	opts := command.Options{
		Journal: filepath.Join(cfg.StateDir, "commands.json"), Kiosk: a.link,
		KioskUnit: cfg.Kiosk.Unit, AllowReboot: cfg.System.AllowReboot,
		Identity: a.identityText, Log: applog.Component(log, "command"),
	}
	if cfg.Assist.Enabled {
		opts.Assist = a.offerHelp
	}
	if a.sys != nil {
		opts.System = a.sys
	}
	var err error
	a.exec, err = command.Open(opts)
	return err
}

// advertise announces the agent on the local network over mDNS until ctx
// ends; a failure is reported in health, not returned.
func (a *Agent) advertise(ctx context.Context) {
	cfg, log := a.cfg, a.log
	adv, err := discovery.Advertise(ctx, discovery.AdvertiseOptions{
		Instance: a.instanceName(), Port: cfg.Discovery.Port, Ifaces: cfg.Discovery.Interfaces,
		Recheck: cfg.Discovery.Recheck, Log: applog.Component(log, "discovery"),
	}, a.info(ctx).Text())
	if err != nil {
		log.WithError(err).Warn("cannot advertise on the local network")
		a.reg.Set(health.CodeDiscovery, health.Info, "mDNS advertisement failed: %v", err)
	} else {
		a.adv = adv
	}
}

// Stop waits for the loops to end (ctx given to Start must be done) and
// withdraws the mDNS advertisement.
func (a *Agent) Stop() {
	daemon.SdNotify(false, daemon.SdNotifyStopping)
	if a.adv != nil {
		a.adv.Close()
	}
	a.wg.Wait()
	a.log.Info("agent stopped")
}

// Health is the agent's warning registry.
func (a *Agent) Health() *health.Registry { return a.reg }

// Queue is the agent's report queue.
func (a *Agent) Queue() *queue.Queue { return a.q }

// Identity is the device identity ("" DeviceID before enrolment).
func (a *Agent) Identity() enrol.Identity {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id
}

func (a *Agent) goRun(ctx context.Context, f func(context.Context) error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := f(ctx); err != nil && ctx.Err() == nil {
			a.log.WithError(err).Error("agent loop ended")
		}
	}()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (a *Agent) kick() {
	if a.rep != nil {
		a.rep.Kick()
	}
	a.updateText(context.Background())
}

func (a *Agent) instanceName() string {
	if id := a.Identity(); id.DeviceID != "" {
		return "Access Kiosk " + id.DeviceID
	}
	h, _ := os.Hostname()
	return "Access Kiosk " + h
}

func (a *Agent) info(ctx context.Context) discovery.Info {
	id := a.Identity()
	return discovery.Info{DeviceID: id.DeviceID, Site: id.Site, Version: version.Version, State: a.link.State(ctx)}
}

func (a *Agent) updateText(ctx context.Context) {
	if a.adv == nil {
		return
	}
	a.adv.SetText(a.info(ctx).Text())
}

func (a *Agent) identityText() string {
	id := a.Identity()
	if id.DeviceID == "" {
		h, _ := os.Hostname()
		return "This kiosk is " + h + " (not yet enrolled)."
	}
	s := "This kiosk is " + id.DeviceID
	if id.Site != "" {
		s += " at " + id.Site
	}
	return s + "."
}

// snapshot is one report's body: counts and durations only.
func (a *Agent) snapshot(ctx context.Context) api.Report {
	r := a.mach.Read()
	health.Thresholds{DiskLowPercent: a.cfg.Health.DiskLowPercent, HotCelsius: a.cfg.Health.HotCelsius}.Judge(a.reg, r)
	counts, receipts := a.link.Take()
	h := api.Health{
		AgentVersion: version.Version, KioskVersion: a.link.Version(), OSRelease: r.OSRelease,
		UptimeSeconds: r.UptimeSeconds, Load1: r.Load1, TempCelsius: r.TempCelsius,
		MemTotalBytes: r.MemTotalBytes, MemAvailBytes: r.MemAvailBytes,
		DiskTotalBytes: r.DiskTotalBytes, DiskFreeBytes: r.DiskFreeBytes,
		KioskState: a.link.State(ctx), KioskRestarts: a.link.Restarts(),
	}
	if a.sys != nil && a.cfg.Kiosk.Unit != "" {
		uctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		st, err := a.sys.Unit(uctx, a.cfg.Kiosk.Unit)
		cancel()
		if err == nil {
			h.KioskUnit = st.ActiveState
			if st.ActiveState == "failed" {
				a.reg.Set(health.CodeKioskCrashLoop, health.Critical, "kiosk unit %s failed (systemd restarted it %d times)", a.cfg.Kiosk.Unit, st.NRestarts)
			}
		}
	}
	a.updateText(ctx)
	return api.Report{Health: h, Sessions: counts, Receipts: receipts, Warnings: a.reg.Wire()}
}

// watchdog pings systemd while the report loop is turning.
func (a *Agent) watchdog(ctx context.Context) error {
	every, err := daemon.SdWatchdogEnabled(false)
	if err != nil || every <= 0 {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every / 3):
		}
		if time.Since(a.rep.LastBeat()) < every*3/4 {
			daemon.SdNotify(false, daemon.SdNotifyWatchdog)
		} else {
			a.log.Error("report loop has not turned in time; withholding the watchdog ping")
		}
	}
}

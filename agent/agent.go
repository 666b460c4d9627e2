package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/sirupsen/logrus"

	"accesskiosk/agent/command"
	"accesskiosk/agent/discovery"
	"accesskiosk/agent/fleetclient"
	"accesskiosk/agent/health"
	"accesskiosk/agent/kiosklink"
	"accesskiosk/agent/queue"
	"accesskiosk/agent/report"
	"accesskiosk/agent/system"
	"accesskiosk/agent/update"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/backoff"
	"accesskiosk/internal/clock"
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
	id     fleetclient.Identity
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
	id, err := fleetclient.LoadIdentity(cfg.StateDir)
	if errors.Is(err, fleetclient.ErrIdentityExposed) {
		// Tighten it and say so: the credential may have been read, and IT
		// staff can revoke it; refusing to run would help nobody.
		log.WithError(err).Error("identity file was readable by others; made it 0600")
		a.reg.Set(health.CodeIdentity, health.Warn, "the device credential file was readable by other users; consider revoking and re-enrolling this device")
		if cerr := os.Chmod(filepath.Join(cfg.StateDir, fleetclient.IdentityFile), 0o600); cerr == nil {
			id, err = fleetclient.LoadIdentity(cfg.StateDir)
		}
	}
	switch {
	case err == nil:
		a.id = id
	case errors.Is(err, fleetclient.ErrNoIdentity):
	default:
		// A damaged identity must not stop the agent: it keeps reporting
		// into its queue, stays visible on the network and says why.
		log.WithError(err).Error("cannot use the stored identity; running unenrolled")
		a.reg.Set(health.CodeIdentity, health.Critical, "stored identity unusable: %v", err)
	}

	a.link = kiosklink.New(kiosklink.Options{
		Bus: orDefault(cfg.Kiosk.Bus, "system"), Health: a.reg,
		Log:     applog.Component(log, "kiosklink"),
		Changed: func() { a.kick() },
	})
	a.goRun(ctx, a.link.Run)

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
	if a.sys != nil {
		opts.System = a.sys
	}
	if a.exec, err = command.Open(opts); err != nil {
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
	a.goRun(ctx, a.connectFleet)

	if cfg.Discovery.Advertise {
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

	if ok, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		log.WithError(err).Warn("sd_notify READY")
	} else if ok {
		log.Debug("told systemd we are ready")
	}
	a.goRun(ctx, a.watchdog)
	log.WithFields(logrus.Fields{"version": version.Version, "device_id": a.id.DeviceID, "state_dir": cfg.StateDir}).Info("agent running")
	return a, nil
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
func (a *Agent) Identity() fleetclient.Identity {
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

// connectFleet finds the fleet (configured or by mDNS), enrols if the
// device has no credential, and hands the client to the reporter.
func (a *Agent) connectFleet(ctx context.Context) error {
	log := applog.Component(a.log, "fleet")
	var fp []byte
	if a.cfg.Fleet.Fingerprint != "" {
		fp, _ = ParseFingerprint(a.cfg.Fleet.Fingerprint) // validated at load
	} else if s := a.Identity().FleetFingerprint; s != "" {
		// Pinned at first boot (agent/firstboot).
		var err error
		if fp, err = ParseFingerprint(s); err != nil {
			log.WithError(err).Error("the stored identity's fleet fingerprint is damaged")
		}
	}
	wait := func(d time.Duration) bool { return clock.Sleep(ctx, nil, d) == nil }
	base := a.cfg.Fleet.URL
	if base == "" {
		base = a.Identity().FleetURL
	}
	look := backoff.Backoff{Min: 20 * time.Second, Max: 2 * time.Minute}
	for base == "" {
		if len(fp) == 0 {
			log.Error("no fleet.url and no fleet.fingerprint: cannot find a fleet to trust; reports stay queued")
			a.reg.Set(health.CodeFleetUnreachable, health.Warn, "no fleet configured (fleet.url or fleet.fingerprint)")
			<-ctx.Done()
			return nil
		}
		fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		u, err := discovery.FindFleet(fctx, a.cfg.Discovery.Interfaces, fp, log)
		cancel()
		if err == nil {
			log.WithField("url", u).Info("found the fleet on the local network")
			base = u
			break
		}
		a.reg.Set(health.CodeFleetUnreachable, health.Warn, "looking for the fleet on the local network: %v", err)
		if look.Wait(ctx) != nil {
			return nil
		}
	}
	c, err := fleetclient.New(fleetclient.Options{
		BaseURL: base, Fingerprint: fp, Timeout: a.cfg.Report.Timeout, Retries: a.cfg.Report.Retries,
		BackoffMin: a.cfg.Report.BackoffMin, BackoffMax: min(a.cfg.Report.BackoffMax, 30*time.Second), Log: log,
	})
	if err != nil {
		return err
	}
	id := a.Identity()
	retry := backoff.Backoff{Min: 5 * time.Second, Max: 5 * time.Minute}
	for id.Credential == "" {
		id, err = a.enrol(ctx, c, base)
		if err == nil {
			break
		}
		if retry.Wait(ctx) != nil {
			return nil
		}
	}
	c.SetCredential(id.Credential)
	a.mu.Lock()
	a.fleet = c
	a.mu.Unlock()
	a.kick()
	if a.cfg.Fleet.URL != "" || len(fp) == 0 {
		return nil
	}
	// The fleet was found by mDNS: if it stops answering for a while (a new
	// DHCP lease, a moved server), look for it again.
	for wait(time.Minute) {
		since := a.rep.FailingSince()
		if since.IsZero() || time.Since(since) < rediscoverAfter {
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		u, err := discovery.FindFleet(fctx, a.cfg.Discovery.Interfaces, fp, log)
		cancel()
		if err != nil || u == base {
			continue
		}
		nc, err := fleetclient.New(fleetclient.Options{
			BaseURL: u, Fingerprint: fp, Timeout: a.cfg.Report.Timeout, Retries: a.cfg.Report.Retries,
			BackoffMin: a.cfg.Report.BackoffMin, BackoffMax: min(a.cfg.Report.BackoffMax, 30*time.Second), Log: log,
		})
		if err != nil {
			continue
		}
		nc.SetCredential(id.Credential)
		log.WithFields(logrus.Fields{"old": base, "new": u}).Info("the fleet moved; following it")
		base = u
		a.mu.Lock()
		a.fleet = nc
		a.id.FleetURL = u
		saved := a.id
		a.mu.Unlock()
		if err := fleetclient.SaveIdentity(a.cfg.StateDir, saved); err != nil {
			log.WithError(err).Warn("remember the fleet's new address")
		}
		a.kick()
	}
	return nil
}

// rediscoverAfter is how long a fleet found by mDNS may fail before the
// agent looks for it again.
const rediscoverAfter = 10 * time.Minute

func (a *Agent) enrol(ctx context.Context, c *fleetclient.Client, base string) (fleetclient.Identity, error) {
	log := applog.Component(a.log, "enrol")
	token := strings.TrimSpace(a.cfg.Fleet.EnrolToken)
	if token == "" && a.cfg.Fleet.EnrolTokenFile != "" {
		b, err := os.ReadFile(a.cfg.Fleet.EnrolTokenFile)
		if err != nil {
			a.reg.Set(health.CodeFleetUnreachable, health.Warn, "not enrolled: no enrolment token (%v)", err)
			log.WithError(err).Error("not enrolled and no enrolment token; reports stay queued")
			return fleetclient.Identity{}, err
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		err := errors.New("not enrolled and no enrolment token configured")
		a.reg.Set(health.CodeFleetUnreachable, health.Warn, "%v", err)
		return fleetclient.Identity{}, err
	}
	host, _ := os.Hostname()
	req := api.EnrolRequest{
		Token: token, Hostname: host, Arch: runtime.GOARCH, AgentVersion: version.Version,
		KioskVersion: a.link.Version(), Capability: api.CapabilityVersion,
	}
	// With the device's key, enrolling again with the same token after a
	// lost answer or an unstored credential gets this device back.
	if key, made, err := fleetclient.DeviceKey(a.cfg.StateDir); err != nil {
		log.WithError(err).Warn("no device key; enrolling without one (a lost answer would need a new token)")
	} else {
		if made {
			log.Info("device key made")
		}
		req.SignEnrol(key)
	}
	resp, err := c.Enrol(ctx, req)
	if err != nil && req.DeviceKey != "" && fleetclient.OlderFleet(err) {
		log.WithError(err).Warn("the fleet server is older than this agent and does not take the device key; enrolling without it")
		req.DeviceKey, req.KeyProof = "", ""
		resp, err = c.Enrol(ctx, req)
	}
	if err != nil {
		var se *fleetclient.StatusError
		msg := "This kiosk could not join the fleet. Please tell IT staff."
		if errors.As(err, &se) && !se.Temporary() {
			switch se.Body.Code {
			case api.CodeTokenUsed:
				msg = "This kiosk could not join the fleet: its enrolment token has already been used. Please ask IT staff for a new one."
			case api.CodeTokenExpired:
				msg = "This kiosk could not join the fleet: its enrolment token has expired. Please ask IT staff for a new one."
			case api.CodeTokenUnknown:
				msg = "This kiosk could not join the fleet: its enrolment token is not known to the fleet. Please ask IT staff."
			case api.CodeDeviceRevoked:
				msg = "This kiosk could not join the fleet: IT has withdrawn it. Please ask IT staff for a new enrolment token."
			}
			mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if merr := a.link.ShowMessage(mctx, msg, 5*time.Minute); merr != nil {
				log.WithError(merr).Debug("could not show the enrolment problem on the kiosk")
			}
			cancel()
		}
		log.WithError(err).Error("enrolment failed")
		a.reg.Set(health.CodeFleetUnreachable, health.Warn, "enrolment failed: %v", err)
		return fleetclient.Identity{}, err
	}
	id := fleetclient.Identity{DeviceID: resp.DeviceID, Credential: resp.Credential, Site: resp.Site}
	if a.cfg.Fleet.URL == "" {
		id.FleetURL = base // remember the discovered fleet
	}
	if resp.Reenrolled {
		log.WithField("device", resp.DeviceID).Warn("enrolled again with this device's key: the same device, a new credential")
	}
	if err := fleetclient.SaveIdentity(a.cfg.StateDir, id); err != nil {
		log.WithError(err).Error("enrolled, but cannot store the credential (enrolling again with the same token and device key gets it back while the token is valid)")
		return fleetclient.Identity{}, err
	}
	a.mu.Lock()
	a.id = id
	a.mu.Unlock()
	a.reg.Clear(health.CodeFleetUnreachable)
	log.WithFields(logrus.Fields{"device_id": id.DeviceID, "site": id.Site}).Info("enrolled with the fleet")
	return id, nil
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

// startUpdater sets up signed updates when configured and finishes any
// update a crash interrupted. Problems are warnings: the agent keeps
// running the release it has.
func (a *Agent) startUpdater(ctx context.Context) {
	uc := a.cfg.Update
	if uc.RepoURL == "" {
		return
	}
	log := applog.Component(a.log, "update")
	root, err := os.ReadFile(uc.TrustedRoot)
	if err != nil {
		log.WithError(err).Error("updates are off: cannot read the trusted root")
		a.reg.Set(health.CodeUpdate, health.Warn, "updates are off: cannot read the trusted root: %v", err)
		return
	}
	dir := uc.Dir
	if dir == "" {
		dir = filepath.Join(a.cfg.StateDir, "update")
	}
	fleetURL := a.cfg.Fleet.URL
	if fleetURL == "" {
		fleetURL = a.Identity().FleetURL
	}
	if uc.RepoURL == "fleet" {
		base := fleetURL
		if base == "" {
			log.Warn("updates wait for enrolment: repo_url is the fleet's, and no fleet is known yet")
			a.reg.Set(health.CodeUpdate, health.Info, "updates start after enrolment (the release repository is the fleet's)")
			return
		}
		uc.RepoURL = strings.TrimSuffix(base, "/") + "/release"
	}
	win, _ := update.ParseWindow(uc.Window) // validated at load
	// The gate also asks that the agent running it is the new release's;
	// an unstamped build ("dev") cannot say which release it is.
	self := version.Version
	if self == "dev" {
		self = ""
	}
	c := update.Config{
		Dir: dir, RepoURL: uc.RepoURL, TrustedRoot: root, Window: win, Log: log,
		Kiosk: a.link,
		Gate:  update.KioskGate{Kiosk: a.link, Reported: a.rep.AcceptedSince, Agent: self},
	}
	if a.sys != nil {
		c.Units = a.sys // restarts the units the release names
	}
	if fu := fleetURL; fu != "" && strings.HasPrefix(uc.RepoURL, strings.TrimSuffix(fu, "/")+"/") {
		// The repository is the fleet's /release: trust the pinned certificate.
		fps := a.cfg.Fleet.Fingerprint
		if fps == "" {
			fps = a.Identity().FleetFingerprint
		}
		if fp, err := ParseFingerprint(fps); err == nil {
			c.TLS = fleetclient.PinnedTLS(fp)
		}
	}
	u, err := update.New(c)
	if err != nil {
		log.WithError(err).Error("updates are off")
		a.reg.Set(health.CodeUpdate, health.Warn, "updates are off: %v", err)
		return
	}
	a.upd = u
	a.goRun(ctx, func(ctx context.Context) error {
		a.updating.Lock()
		defer a.updating.Unlock()
		f := update.Factory{Version: version.Version, Files: uc.Factory, Units: uc.FactoryUnits}
		if v, seeded, err := u.Seed(ctx, f); err != nil {
			log.WithError(err).Warn("no usable current release and no factory release to lay down; the units run the packaged programs")
		} else if seeded {
			log.WithField("version", v).Info("laid down the factory release")
		}
		if res, err := u.Recover(ctx); err != nil {
			log.WithError(err).Error("recover an interrupted update")
		} else if res != nil {
			a.judgeUpdate(*res)
		}
		return nil
	})
}

// desired starts an update when the fleet wants a release this device
// does not run, one at a time, in the background.
func (a *Agent) desired(ctx context.Context, d api.DesiredState) {
	if a.upd == nil || d.Release == "" {
		return
	}
	// First: the updater holds its own lock for a whole update, health
	// gate included, and this runs on the report loop, which the gate
	// waits for.
	if !a.updating.TryLock() {
		return // one update at a time
	}
	if cur, err := a.upd.Current(); err == nil && cur == d.Release {
		a.updating.Unlock()
		return
	}
	if a.upd.Failed(d.Release) {
		a.updating.Unlock()
		return // it failed its health gate here before; the fleet sees the warning
	}
	a.goRun(ctx, func(ctx context.Context) error {
		defer a.updating.Unlock()
		res, _ := a.upd.Apply(ctx, d.Release)
		a.judgeUpdate(res)
		a.kick()
		return nil
	})
}

func (a *Agent) judgeUpdate(res update.Result) {
	switch res.Outcome {
	case update.OutcomeInstalled, update.OutcomeCurrent:
		a.reg.Clear(health.CodeUpdate)
		a.log.WithField("version", res.Version).Info("running release")
	case update.OutcomeAbandoned:
		a.reg.Set(health.CodeUpdate, health.Info, "update to %s paused (%s): %s", res.Version, res.Reason, res.Detail)
	default:
		a.reg.Set(health.CodeUpdate, health.Warn, "update to %s %s (%s): %s", res.Version, res.Outcome, res.Reason, res.Detail)
	}
}

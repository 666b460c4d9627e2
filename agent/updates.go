package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"accesskiosk/agent/health"
	"accesskiosk/agent/update"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/pin"
	"accesskiosk/internal/version"
)

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
		if fp, err := pin.Parse(fps); err == nil {
			c.TLS = fp.TLSConfig()
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

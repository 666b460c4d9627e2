package update

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release/bundle"
	"accesskiosk/kiosk/bus"
)

// waitQuiet blocks until the maintenance window is open and no session is
// active on the kiosk.
func (u *Updater) waitQuiet(ctx context.Context) error {
	for {
		now := u.now()
		wait := time.Duration(0)
		if !u.cfg.Window.Contains(now) {
			wait = min(u.cfg.Window.Next(now).Sub(now), u.cfg.Poll)
		} else if u.sessionActive(ctx) {
			wait = u.cfg.Poll
		}
		if wait <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fail(ReasonCancelled, fmt.Errorf("waiting for the maintenance window and no active session: %w", ctx.Err()))
		case <-time.After(wait):
		}
	}
}

func (u *Updater) sessionActive(ctx context.Context) bool {
	if u.cfg.Kiosk == nil {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := u.cfg.Kiosk.Status(cctx)
	if err != nil {
		// No kiosk on the bus: nobody can be using it.
		return false
	}
	return st.State == bus.StateInSession || st.State == bus.StateWarning || st.State == bus.StateResetting
}

// switchTo points current at to, recording the switch first.
func (u *Updater) switchTo(from, to string) error {
	u.phase(PhaseSwitch)
	u.st.Phase, u.st.From, u.st.To, u.st.Restarted, u.st.SwitchedUnixMs, u.st.RestartIndex = phaseSwitching, from, to, false, 0, 0
	if err := u.saveState(); err != nil {
		return fail(ReasonLocal, err)
	}
	u.hook("switch:state-saved")
	if from != "" {
		if err := u.pointLink(previousLink, from); err != nil {
			return fail(ReasonLocal, err)
		}
	}
	if err := u.pointLink(currentLink, to); err != nil {
		return fail(ReasonLocal, err)
	}
	u.st.Phase, u.st.SwitchedUnixMs = phaseSwitched, u.now().UnixMilli()
	if err := u.saveState(); err != nil {
		return fail(ReasonLocal, err)
	}
	u.hook("switch:done")
	u.log.WithFields(logrus.Fields{"from": from, "to": to}).Info("switched release")
	return nil
}

// finish restarts units and runs the health gate of a switched release,
// then commits or rolls back. It resumes after a crash from the state.
func (u *Updater) finish(ctx context.Context, res *Result) error {
	to, from := u.st.To, u.st.From
	if !u.st.Restarted {
		u.phase(PhaseRestart)
		if err := u.waitQuiet(ctx); err != nil {
			return err
		}
		if err := u.restartUnits(ctx, to); err != nil {
			if ctx.Err() != nil {
				// Stopping, e.g. because the agent's own unit restarts:
				// the next process resumes from the saved state.
				return fail(ReasonCancelled, err)
			}
			return u.rollback(ctx, res, ReasonUnits, err.Error())
		}
		u.st.Restarted = true
		if err := u.saveState(); err != nil {
			return fail(ReasonLocal, err)
		}
	}
	u.phase(PhaseHealth)
	since := time.UnixMilli(u.st.SwitchedUnixMs)
	deadline := since.Add(u.cfg.HealthTimeout)
	var lastErr error
	for {
		if u.cfg.Gate == nil {
			lastErr = nil
			break
		}
		gctx, cancel := context.WithTimeout(ctx, u.cfg.Poll)
		lastErr = u.cfg.Gate.Healthy(gctx, to, since)
		cancel()
		if lastErr == nil {
			break
		}
		if ctx.Err() != nil {
			return fail(ReasonCancelled, ctx.Err())
		}
		if !u.now().Before(deadline) {
			return u.rollback(ctx, res, ReasonUnhealthy, fmt.Sprintf("not healthy within %s: %v", u.cfg.HealthTimeout, lastErr))
		}
		select {
		case <-ctx.Done():
			return fail(ReasonCancelled, ctx.Err())
		case <-time.After(min(u.cfg.Poll, time.Until(deadline)+time.Millisecond)):
		}
	}
	u.phase(PhaseCommit)
	u.st.Phase, u.st.Restarted, u.st.SwitchedUnixMs, u.st.RestartIndex = phaseIdle, false, 0, 0
	res.Outcome, res.From = OutcomeInstalled, from
	if err := u.saveState(); err != nil {
		return fail(ReasonLocal, err)
	}
	u.hook("commit:saved")
	u.cleanup(to, from)
	u.log.WithFields(logrus.Fields{"version": to, "from": from}).Info("release installed and healthy")
	return nil
}

func (u *Updater) restartUnits(ctx context.Context, version string) error {
	if u.cfg.Units == nil {
		return nil
	}
	m, err := bundle.LoadManifest(u.releaseDir(version))
	if err != nil {
		return err
	}
	if r, ok := u.cfg.Units.(interface{ DaemonReload(context.Context) error }); ok {
		if err := r.DaemonReload(ctx); err != nil {
			return fmt.Errorf("daemon-reload: %w", err)
		}
	}
	for i, unit := range m.Units {
		if i < u.st.RestartIndex {
			continue // begun before a crash (or before the agent restarted itself)
		}
		// Record the restart before making it: restarting the agent's own
		// unit ends this process, and the next one must not restart
		// everything again.
		u.st.RestartIndex = i + 1
		if err := u.saveState(); err != nil {
			return err
		}
		u.hook("restart:unit")
		if err := u.cfg.Units.RestartUnit(ctx, unit); err != nil {
			return fmt.Errorf("restart %s: %w", unit, err)
		}
	}
	return nil
}

// rollback points current back at the release before, restarts its units
// and records why; the failed version is not installed again.
func (u *Updater) rollback(ctx context.Context, res *Result, why Reason, detail string) error {
	u.phase(PhaseRollback)
	if u.st.Phase != phaseRollingBack {
		u.st.Phase, u.st.RollbackReason, u.st.RollbackDetail, u.st.RestartIndex = phaseRollingBack, why, detail, 0
		if err := u.saveState(); err != nil {
			return fail(ReasonLocal, err)
		}
	}
	to, from := u.st.To, u.st.From
	if from == "" {
		// Nothing to go back to (first install): keep the new one running.
		u.log.WithField("version", to).Error("release failed its health gate and there is no earlier release to go back to")
	} else {
		if err := u.pointLink(currentLink, from); err != nil {
			return fail(ReasonLocal, err)
		}
		u.hook("rollback:linked")
		if err := u.restartUnits(ctx, from); err != nil {
			u.log.WithError(err).Error("restarting units after rollback")
		}
	}
	if u.st.Failed == nil {
		u.st.Failed = map[string]Reason{}
	}
	u.st.Failed[to] = why
	reason, detail := u.st.RollbackReason, u.st.RollbackDetail
	u.st.Phase, u.st.Restarted, u.st.SwitchedUnixMs, u.st.RollbackReason, u.st.RollbackDetail, u.st.RestartIndex = phaseIdle, false, 0, "", "", 0
	res.Outcome, res.From, res.Version = OutcomeRolledBack, from, to
	if err := u.saveState(); err != nil {
		return fail(ReasonLocal, err)
	}
	u.cleanup(from, "")
	return &Error{Reason: reason, Version: to, Err: errors.New(detail)}
}

package update

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"accesskiosk/internal/atomicfile"
)

// Recover finishes what a crash interrupted: a switch in progress goes on
// to its health gate (or is undone), a rollback in progress completes,
// partial unpacks are removed. Download part files stay to be resumed.
// The agent calls it once at start, before reporting; Apply calls it too.
func (u *Updater) Recover(ctx context.Context) (*Result, error) {
	u.run.Lock()
	defer u.run.Unlock()
	before := u.st.Last
	err := u.recover(ctx)
	if u.st.Last != before && u.st.Last != nil {
		r := *u.st.Last
		return &r, err
	}
	return nil, err
}

func (u *Updater) recover(ctx context.Context) error {
	// Partial unpacks and temp files never survive a restart.
	entries, _ := os.ReadDir(filepath.Join(u.cfg.Dir, stagingDir))
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			os.RemoveAll(filepath.Join(u.cfg.Dir, stagingDir, e.Name()))
		}
	}
	for _, pat := range []string{filepath.Join(u.cfg.Dir, ".tmp-*"), filepath.Join(u.cfg.Dir, "*.new"), filepath.Join(u.cfg.Dir, tufDir, "tuf_tmp*")} {
		ms, _ := filepath.Glob(pat)
		for _, m := range ms {
			os.Remove(m)
		}
	}
	res := Result{Version: u.st.To, From: u.st.From}
	var err error
	switch u.st.Phase {
	case phaseIdle:
		return nil
	case phaseSwitching:
		cur, lerr := u.Current()
		if lerr != nil {
			return fail(ReasonLocal, lerr)
		}
		if cur != u.st.To {
			// The switch never happened: the release stays staged.
			u.log.WithField("version", u.st.To).Info("switch was interrupted before it happened; the running release is unchanged")
			u.st.Phase = phaseIdle
			return u.saveStateErr()
		}
		u.st.Phase, u.st.SwitchedUnixMs = phaseSwitched, u.now().UnixMilli()
		if err := u.saveState(); err != nil {
			return fail(ReasonLocal, err)
		}
		fallthrough
	case phaseSwitched:
		u.log.WithField("version", u.st.To).Info("resuming the health gate of a switched release")
		err = u.finish(ctx, &res)
	case phaseRollingBack:
		u.log.WithField("version", u.st.To).Info("finishing an interrupted rollback")
		err = u.rollback(ctx, &res, u.st.RollbackReason, u.st.RollbackDetail)
	default:
		u.log.WithField("phase", u.st.Phase).Warn("unknown update phase in state; ignoring it")
		u.st.Phase = phaseIdle
		return u.saveStateErr()
	}
	if ReasonOf(err) == ReasonCancelled {
		return err
	}
	res.UnixMs = u.now().UnixMilli()
	if err != nil {
		res.Reason, res.Detail = ReasonOf(err), err.Error()
	}
	u.st.Last = &res
	if serr := u.saveState(); serr != nil && err == nil {
		err = fail(ReasonLocal, serr)
	}
	return err
}

func (u *Updater) saveStateErr() error {
	if err := u.saveState(); err != nil {
		return fail(ReasonLocal, err)
	}
	return nil
}

// cleanup keeps the running release, the one before it and the running
// release's tar (the next delta's base); it removes the rest.
func (u *Updater) cleanup(keep, prev string) {
	if t := u.stagedTar(keep); fileExists(t) {
		if err := os.Rename(t, filepath.Join(u.cfg.Dir, basesDir, keep+".tar")); err != nil {
			u.log.WithError(err).Warn("keeping the release tar as the next delta base")
		}
	}
	remove := func(dir string, keepName func(string) bool) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !keepName(e.Name()) {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
	remove(filepath.Join(u.cfg.Dir, releasesDir), func(n string) bool { return n == keep || n == prev })
	remove(filepath.Join(u.cfg.Dir, basesDir), func(n string) bool { return n == keep+".tar" })
	remove(filepath.Join(u.cfg.Dir, stagingDir), func(string) bool { return false })
	remove(filepath.Join(u.cfg.Dir, downloadsDir), func(string) bool { return false })
	if prev == "" {
		os.Remove(filepath.Join(u.cfg.Dir, previousLink))
	}
	atomicfile.SyncDir(u.cfg.Dir)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

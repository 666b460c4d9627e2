package update

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release/bundle"
	"accesskiosk/fleet/release/target"
	"accesskiosk/internal/atomicfile"
)

// Apply brings the device to version: it returns at once with
// OutcomeCurrent if that runs already; otherwise it installs it as the
// package documentation describes, blocking through the session and
// maintenance-window wait and the health gate (ctx bounds all of it). The
// Result says what happened; the error, when not nil, is an *Error with
// the same Reason. A refused or abandoned update leaves the running
// release untouched.
func (u *Updater) Apply(ctx context.Context, version string) (Result, error) {
	u.run.Lock()
	defer u.run.Unlock()
	u.resumedFrom = 0
	if last := u.st.Last; last != nil && last.Version == version && u.st.Phase == phaseIdle {
		wait := time.Duration(0)
		switch {
		case last.Outcome == OutcomeRefused && last.Reason != ReasonFailedBefore:
			wait = u.cfg.RefusedRetry
		case last.Outcome == OutcomeAbandoned && last.Reason != ReasonCancelled:
			wait = u.cfg.AbandonedRetry
		}
		if at := time.UnixMilli(last.UnixMs); wait > 0 && u.now().Before(at.Add(wait)) {
			r := *last
			return r, &Error{Reason: r.Reason, Version: version, Err: fmt.Errorf("%s (at %s; next try after %s)", r.Detail, at.Format(time.RFC3339), at.Add(wait).Format(time.RFC3339))}
		}
	}
	res := Result{Version: version}
	err := u.apply(ctx, version, &res)
	res.UnixMs = u.now().UnixMilli()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			err = fail(ReasonOf(err), err)
			errors.As(err, &e)
		}
		e.Version = version
		res.Reason, res.Detail = e.Reason, e.Err.Error()
		if res.Outcome == "" {
			res.Outcome = OutcomeRefused
			if e.Reason.Transient() {
				res.Outcome = OutcomeAbandoned
			}
		}
		u.log.WithFields(logrus.Fields{"version": version, "outcome": res.Outcome, "reason": res.Reason}).WithError(e.Err).Warn("update not installed")
	}
	if res.Outcome != OutcomeCurrent {
		r := res
		u.st.Last = &r
		if serr := u.saveState(); serr != nil && err == nil {
			err = fail(ReasonLocal, serr)
		}
	}
	return res, err
}

func (u *Updater) apply(ctx context.Context, version string, res *Result) error {
	if !bundle.ValidVersion(version) {
		return failf(ReasonNotFound, "%q is not a release version", version)
	}
	if err := u.recover(ctx); err != nil {
		if r := ReasonOf(err); r == ReasonCancelled || r == ReasonLocal {
			return err
		}
		// An interrupted update was rolled back: that is recorded in
		// Last (and was returned by Recover); go on with this one.
		u.log.WithError(err).Warn("recovered an interrupted update")
	}
	cur, err := u.Current()
	if err != nil {
		return fail(ReasonLocal, err)
	}
	res.From = cur
	if cur == version {
		// A crash between commit and cleanup leaves files behind.
		prev, _ := u.linkVersion(previousLink)
		u.cleanup(cur, prev)
		res.Outcome = OutcomeCurrent
		return nil
	}
	if why, ok := u.st.Failed[version]; ok {
		return failf(ReasonFailedBefore, "%s failed here before (%s); add a newer release", version, why)
	}
	curCustom, err := u.installedCustom(cur)
	if err != nil {
		return fail(ReasonLocal, fmt.Errorf("read installed release %s: %w", cur, err))
	}

	u.st.To = version
	u.phase(PhaseMetadata)
	up, err := u.refresh(ctx)
	if err != nil {
		return err
	}
	name := target.BundleTarget(u.cfg.Arch, version)
	tf, err := up.GetTargetInfo(name)
	if err != nil {
		return failf(ReasonNotFound, "no signed release %s for %s: %v", version, u.cfg.Arch, err)
	}
	c, err := target.ParseCustom(tf)
	if err != nil || c.Kind != target.KindBundle || c.Version != version || c.Arch != u.cfg.Arch || c.TarLength <= 0 {
		return failf(ReasonBadBundle, "target %s: custom metadata does not describe this release (%+v, %v)", name, c, err)
	}
	if c.Serial <= curCustom.Serial {
		return failf(ReasonRollback, "release %s has serial %d, the installed %s has %d: refusing to go back", version, c.Serial, cur, curCustom.Serial)
	}

	dst := u.releaseDir(version)
	if _, err := os.Stat(filepath.Join(dst, bundle.ManifestName)); err != nil {
		if err := u.checkDisk(tf.Length, c); err != nil {
			return err
		}
		tarPath, err := u.obtainTar(ctx, up, cur, tf, c, res)
		if err != nil {
			return err
		}
		if err := u.unpack(tarPath, dst, c); err != nil {
			return err
		}
	}
	m, err := bundle.LoadManifest(dst)
	if err != nil || m.Version != version || m.Arch != u.cfg.Arch {
		os.RemoveAll(dst)
		return failf(ReasonBadBundle, "unpacked release %s: manifest %v does not match (%v)", version, m, err)
	}

	u.phase(PhaseWait)
	if err := u.waitQuiet(ctx); err != nil {
		return err
	}
	if err := u.switchTo(cur, version); err != nil {
		return err
	}
	return u.finish(ctx, res)
}

// checkDisk refuses when the partition lacks room for the download, the
// rebuilt tar and the unpacked files, plus the reserve.
func (u *Updater) checkDisk(length int64, c target.Custom) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(u.cfg.Dir, &st); err != nil {
		return fail(ReasonLocal, fmt.Errorf("statfs %s: %w", u.cfg.Dir, err))
	}
	free := st.Bavail * uint64(st.Bsize)
	need := uint64(length) + uint64(c.TarLength) + uint64(c.UnpackedBytes) + u.cfg.ReserveBytes
	if free < need {
		return failf(ReasonDiskFull, "%s has %d bytes free, release %s needs %d (download %d, tar %d, files %d, reserve %d)",
			u.cfg.Dir, free, c.Version, need, length, c.TarLength, c.UnpackedBytes, u.cfg.ReserveBytes)
	}
	return nil
}

// stagedTar is where the release's verified tar is kept until commit.
func (u *Updater) stagedTar(version string) string {
	return filepath.Join(u.cfg.Dir, stagingDir, version+".tar")
}

func (u *Updater) unpack(tarPath, dst string, c target.Custom) error {
	u.phase(PhaseUnpack)
	tmp := filepath.Join(u.cfg.Dir, stagingDir, c.Version)
	os.RemoveAll(tmp)
	f, err := os.Open(tarPath)
	if err != nil {
		return fail(ReasonLocal, err)
	}
	defer f.Close()
	m, err := bundle.Unpack(f, tmp, func(bundle.File) { u.hook("unpack:file") })
	if err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, bundle.ErrBadBundle) {
			return fail(ReasonBadBundle, err)
		}
		return fail(ReasonLocal, err)
	}
	if m.Version != c.Version || m.Arch != c.Arch {
		os.RemoveAll(tmp)
		return failf(ReasonBadBundle, "bundle says %s/%s, signed target says %s/%s", m.Version, m.Arch, c.Version, c.Arch)
	}
	cj, _ := json.Marshal(c)
	if err := atomicfile.Write(filepath.Join(tmp, releaseJSON), cj, 0o644); err != nil {
		return fail(ReasonLocal, err)
	}
	u.hook("unpack:done")
	if err := os.Rename(tmp, dst); err != nil {
		return fail(ReasonLocal, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dst)); err != nil {
		return fail(ReasonLocal, err)
	}
	u.hook("unpack:renamed")
	return nil
}

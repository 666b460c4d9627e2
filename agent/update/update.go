// Package update is the agent's updater: it installs the release the fleet
// asks for so that a kiosk can never be left without a working version.
//
// Apply refreshes TUF metadata (github.com/theupdateframework/go-tuf/v2)
// from the trusted root the image carries, looks up the release's signed
// target for this architecture and refuses, with a Reason, anything that
// does not verify: bad signature, unknown key, expired metadata, an older
// release than the one installed, a hash or length mismatch, too little
// disk. It then downloads a delta from the installed release if the
// repository signed one (zstd patch-from, the installed release's tar as
// dictionary) or the full bundle, streaming to the persistent partition
// with HTTP Range resume through go-retryablehttp; verifies length and
// hashes against the signed target info; unpacks beside the running
// version; waits until no session is active and the maintenance window is
// open; switches atomically; restarts the units; and waits for the health
// gate. A release that does not pass the gate in time is rolled back by
// the updater itself and never installed again here.
//
// # Layout of the update directory (on the persistent partition)
//
//	current -> releases/V    the running release (what the units execute)
//	previous -> releases/U   the release before it (rollback target)
//	releases/V/              an unpacked bundle, with manifest.json and release.json
//	staging/                 unpacks and rebuilt tars in progress
//	downloads/SHA256[.part]  targets being downloaded (.part) or verified
//	bases/V.tar              the running release's tar: the next delta's dictionary
//	tuf/                     TUF metadata cache
//	state.json               the switch in progress and the last outcome
//
// current and previous change only by renaming a new symlink over the old
// one and syncing the directory, so at every instant, and after a crash or
// power cut at any point, current names a complete release. Recover (run at
// start) finishes or undoes a switch that was interrupted.
package update

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release/target"
	"accesskiosk/internal/atomicfile"

	"accesskiosk/fleet/release/bundle"
	"accesskiosk/kiosk/bus"
)

// Names inside the update directory.
const (
	currentLink  = "current"
	previousLink = "previous"
	releasesDir  = "releases"
	stagingDir   = "staging"
	downloadsDir = "downloads"
	basesDir     = "bases"
	tufDir       = "tuf"
	releaseJSON  = "release.json"
)

// Phases of an update, reported through Config.Progress.
const (
	PhaseMetadata = "metadata"
	PhaseDownload = "download"
	PhaseVerify   = "verify"
	PhaseUnpack   = "unpack"
	PhaseWait     = "wait"
	PhaseSwitch   = "switch"
	PhaseRestart  = "restart"
	PhaseHealth   = "health"
	PhaseCommit   = "commit"
	PhaseRollback = "rollback"
)

// Kiosk is the part of the kiosk the updater asks before switching
// (*bus.Client satisfies it).
type Kiosk interface {
	Status(ctx context.Context) (bus.Status, error)
}

// Units restarts systemd units (the agent's systemd manager satisfies it).
// If it also has DaemonReload(ctx) error, that is called first.
type Units interface {
	RestartUnit(ctx context.Context, unit string) error
}

// Gate decides whether a newly switched release is healthy.
type Gate interface {
	// Healthy returns nil once version runs well (see KioskGate).
	Healthy(ctx context.Context, version string, since time.Time) error
}

// Config configures an Updater. Zero values are documented per field.
type Config struct {
	// Dir is the update directory on the persistent partition (required).
	Dir string
	// RepoURL is the repository base: metadata at RepoURL/metadata/,
	// targets at RepoURL/targets/ (required).
	RepoURL string
	// TrustedRoot is the root metadata the image carries (required).
	TrustedRoot []byte
	// Arch is the GOARCH of the bundles to install; "" means runtime.GOARCH.
	Arch string
	// HTTP is the client for metadata and targets; nil means a
	// retryablehttp client with 4 retries and no logging.
	HTTP *retryablehttp.Client
	// TLS, when not nil, is the TLS config of the default client (HTTP
	// nil), e.g. pinning the fleet's self-signed certificate when the
	// repository is the fleet's /release.
	TLS *tls.Config
	// Kiosk is asked whether a session is active; nil means never.
	Kiosk Kiosk
	// Units restarts the release's units after a switch; nil restarts none.
	Units Units
	// Gate is the health gate; nil means healthy at once.
	Gate Gate
	// Window is when switching is allowed; the zero Window is always open.
	Window Window
	// HealthTimeout bounds the health gate; 0 means 3 minutes.
	HealthTimeout time.Duration
	// Poll is how often waits re-check (session, window, gate); 0 means 5s.
	Poll time.Duration
	// RetryWait is the pause after a download attempt that made no
	// progress (multiplied by the attempt number); 0 means 2s.
	RetryWait time.Duration
	// StallTimeout drops a download connection that delivers nothing for
	// this long (it resumes on a new one); 0 means 60s.
	StallTimeout time.Duration
	// RefusedRetry is how long Apply answers a version it refused for a
	// lasting reason (bad signature, hash mismatch, ...) with that refusal
	// again without touching the network; 0 means 1 hour. AbandonedRetry is
	// the same for a transient reason (network, disk, expired metadata);
	// 0 means 1 minute. They keep a kiosk on a poor link from fetching a
	// broken bundle at every report.
	RefusedRetry, AbandonedRetry time.Duration
	// ReserveBytes is left free on the partition; 0 means 64 MiB.
	ReserveBytes uint64
	// NoDelta disables deltas (always the full bundle).
	NoDelta bool
	// MaxDeltaBase bounds the installed tar loaded as a delta dictionary
	// (it is held in memory); 0 means 256 MiB.
	MaxDeltaBase int64
	// Progress, when not nil, is told each phase as it starts.
	Progress func(phase, version string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives the updater's log lines; nil discards them.
	Log logrus.FieldLogger
}

// Outcomes of an update.
const (
	OutcomeCurrent    = "current"     // already running the desired version
	OutcomeInstalled  = "installed"   // switched and passed the health gate
	OutcomeRefused    = "refused"     // not installed: see Reason
	OutcomeRolledBack = "rolled_back" // switched, failed, switched back
	OutcomeAbandoned  = "abandoned"   // stopped for a transient Reason; tried again later
)

// Result is what became of an update, for the agent's report.
type Result struct {
	Version string `json:"version"`
	From    string `json:"from,omitempty"`
	Outcome string `json:"outcome"`
	Reason  Reason `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
	UnixMs  int64  `json:"unix_ms"`
	// Delta is true when the release came as a delta.
	Delta bool `json:"delta,omitempty"`
	// Fetched counts bytes downloaded for this update in this process.
	Fetched int64 `json:"fetched,omitempty"`
}

// Updater installs releases into one update directory. Its methods are
// safe for concurrent use; one update runs at a time.
type Updater struct {
	cfg  Config
	http *retryablehttp.Client
	log  logrus.FieldLogger

	run sync.Mutex // one Apply, Recover or InstallFile at a time; guards st
	st  state

	// pub is what Last and Failed read, published at every state save so
	// the agent's report never waits for an update in progress.
	pub       sync.Mutex
	pubLast   *Result
	pubFailed map[string]Reason

	resumedFrom int64
	// testHook is called at fine-grained points (fault-injection tests).
	testHook func(point string)
}

// New checks cfg, creates the update directory and loads its state. It
// does not touch the network; call Recover before the first Apply.
func New(cfg Config) (*Updater, error) {
	if cfg.Dir == "" || cfg.RepoURL == "" || len(cfg.TrustedRoot) == 0 {
		return nil, errors.New("update: Dir, RepoURL and TrustedRoot are required")
	}
	if cfg.Arch == "" {
		cfg.Arch = runtime.GOARCH
	}
	if cfg.HealthTimeout == 0 {
		cfg.HealthTimeout = 3 * time.Minute
	}
	if cfg.Poll == 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.RetryWait == 0 {
		cfg.RetryWait = 2 * time.Second
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = 60 * time.Second
	}
	if cfg.RefusedRetry == 0 {
		cfg.RefusedRetry = time.Hour
	}
	if cfg.AbandonedRetry == 0 {
		cfg.AbandonedRetry = time.Minute
	}
	if cfg.ReserveBytes == 0 {
		cfg.ReserveBytes = 64 << 20
	}
	if cfg.MaxDeltaBase == 0 {
		cfg.MaxDeltaBase = 256 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u := &Updater{cfg: cfg, log: cfg.Log, http: cfg.HTTP}
	if u.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		u.log = l
	}
	if u.http == nil {
		u.http = retryablehttp.NewClient()
		u.http.RetryMax = 4
		u.http.Logger = nil
		u.http.HTTPClient.Timeout = 0 // a bundle over a slow link takes long; stalls are caught instead
		if tr, ok := u.http.HTTPClient.Transport.(*http.Transport); ok {
			tr.ResponseHeaderTimeout = 30 * time.Second
			if cfg.TLS != nil {
				tr.TLSClientConfig = cfg.TLS
			}
		}
	}
	for _, d := range []string{cfg.Dir, filepath.Join(cfg.Dir, releasesDir), filepath.Join(cfg.Dir, stagingDir), filepath.Join(cfg.Dir, downloadsDir), filepath.Join(cfg.Dir, basesDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("update: %w", err)
		}
	}
	if err := u.loadState(); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *Updater) hook(point string) {
	if u.testHook != nil {
		u.testHook(point)
	}
}

func (u *Updater) phase(p string) {
	u.hook("phase:" + p)
	if u.cfg.Progress != nil {
		u.cfg.Progress(p, u.st.To)
	}
}

func (u *Updater) now() time.Time { return u.cfg.Now() }

// Current returns the running release's version ("" when none is installed).
func (u *Updater) Current() (string, error) {
	return u.linkVersion(currentLink)
}

// Last returns the outcome of the most recent update (nil if none).
func (u *Updater) Last() *Result {
	u.pub.Lock()
	defer u.pub.Unlock()
	if u.pubLast == nil {
		return nil
	}
	r := *u.pubLast
	return &r
}

// Failed reports whether version failed its health gate here before.
func (u *Updater) Failed(version string) bool {
	u.pub.Lock()
	defer u.pub.Unlock()
	_, ok := u.pubFailed[version]
	return ok
}

func (u *Updater) releaseDir(v string) string { return filepath.Join(u.cfg.Dir, releasesDir, v) }

// installed returns the serial of an unpacked release (0 for one laid
// down without repository metadata, such as the image's first release).
func (u *Updater) installedCustom(v string) (target.Custom, error) {
	var c target.Custom
	data, err := os.ReadFile(filepath.Join(u.releaseDir(v), releaseJSON))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(data, &c)
}

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

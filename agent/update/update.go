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
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release/target"
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

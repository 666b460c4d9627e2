package update

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/bundle"
	"accesskiosk/fleet/release/releasetest"
	"accesskiosk/fleet/release/target"
	"accesskiosk/kiosk/bus"
)

// fixture is a real repository with releases 1.0.0 and 1.1.0 for amd64
// served on loopback, and a device directory.
type fixture struct {
	repo *releasetest.Repo
	srv  *releasetest.Server
	root []byte
	dir  string
	v1   release.Release
	v2   release.Release
}

const binSize = 300_000

func newFixture(t testing.TB, opt release.Options) *fixture {
	t.Helper()
	f := &fixture{repo: releasetest.NewRepo(t, opt), dir: filepath.Join(t.TempDir(), "device")}
	var err error
	if f.root, err = f.repo.RootJSON(); err != nil {
		t.Fatal(err)
	}
	f.v1 = f.repo.Add(t, "1.0.0", "amd64", releasetest.Files("1.0.0", binSize, 1))
	f.v2 = f.repo.Add(t, "1.1.0", "amd64", releasetest.Files("1.1.0", binSize, 1))
	f.srv = releasetest.Serve(t, f.repo.Handler())
	return f
}

// fakeUnits records restarts (systemd as PID 1 cannot run here).
type fakeUnits struct {
	mu       sync.Mutex
	restarts []string
	fail     bool
}

func (f *fakeUnits) RestartUnit(ctx context.Context, unit string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("unit failed to start")
	}
	f.restarts = append(f.restarts, unit)
	return nil
}

func (f *fixture) updater(t testing.TB, mod func(*Config)) *Updater {
	t.Helper()
	hc := retryablehttp.NewClient()
	hc.RetryMax, hc.RetryWaitMin, hc.RetryWaitMax, hc.Logger = 2, 10*time.Millisecond, 50*time.Millisecond, nil
	cfg := Config{Dir: f.dir, RepoURL: f.srv.URL, TrustedRoot: f.root, Arch: "amd64", HTTP: hc,
		Units: &fakeUnits{}, Poll: 20 * time.Millisecond, RetryWait: 5 * time.Millisecond, HealthTimeout: time.Second}
	if mod != nil {
		mod(&cfg)
	}
	u, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) seed(t testing.TB, version string) {
	t.Helper()
	u := f.updater(t, nil)
	if res, err := u.Apply(context.Background(), version); err != nil || res.Outcome != OutcomeInstalled {
		t.Fatalf("seed %s: %+v, %v", version, res, err)
	}
}

// running checks that current names a complete release and returns it.
func running(t testing.TB, dir string) string {
	t.Helper()
	m, err := bundle.Check(filepath.Join(dir, currentLink))
	if err != nil {
		t.Fatalf("device has no complete current release: %v", err)
	}
	return m.Version
}

func TestApplyDeltaThenFull(t *testing.T) {
	f := newFixture(t, release.Options{})
	f.seed(t, "1.0.0")
	if got := running(t, f.dir); got != "1.0.0" {
		t.Fatalf("running %s after seeding", got)
	}
	units := &fakeUnits{}
	var phases []string
	u := f.updater(t, func(c *Config) {
		c.Units = units
		c.Progress = func(p, v string) { phases = append(phases, p) }
	})
	f.srv.Reset()
	res, err := u.Apply(context.Background(), "1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeInstalled || !res.Delta || res.From != "1.0.0" {
		t.Errorf("result = %+v, want installed from 1.0.0 by delta", res)
	}
	if got := running(t, f.dir); got != "1.1.0" {
		t.Errorf("running %s, want 1.1.0", got)
	}
	if served := f.srv.Served(); served != f.v2.DeltaLength {
		t.Errorf("served %d target bytes, want just the delta (%d; full bundle %d)", served, f.v2.DeltaLength, f.v2.Length)
	}
	if prev, _ := u.linkVersion(previousLink); prev != "1.0.0" {
		t.Errorf("previous = %q, want 1.0.0", prev)
	}
	if got, want := strings.Join(units.restarts, ","), "accesskiosk-kiosk.service,accesskiosk-agent.service"; got != want {
		t.Errorf("restarted %s, want %s", got, want)
	}
	if got, want := strings.Join(phases, ","), "metadata,download,verify,verify,unpack,wait,switch,restart,health,commit"; got != want {
		t.Errorf("phases %s, want %s", got, want)
	}
	if res, err := u.Apply(context.Background(), "1.1.0"); err != nil || res.Outcome != OutcomeCurrent {
		t.Errorf("second apply: %+v, %v; want current", res, err)
	}
	// Nothing but the running and previous releases and the next base stays.
	for d, want := range map[string]int{releasesDir: 2, basesDir: 1, stagingDir: 0, downloadsDir: 0} {
		entries, _ := os.ReadDir(filepath.Join(f.dir, d))
		if len(entries) != want {
			t.Errorf("%s holds %d entries, want %d", d, len(entries), want)
		}
	}

	// A third release, full bundle this time.
	f.repo.Add(t, "1.2.0", "amd64", releasetest.Files("1.2.0", binSize, 7))
	u2 := f.updater(t, func(c *Config) { c.NoDelta = true })
	f.srv.Reset()
	res, err = u2.Apply(context.Background(), "1.2.0")
	if err != nil || res.Delta || res.Outcome != OutcomeInstalled {
		t.Fatalf("full update: %+v, %v", res, err)
	}
	rels := f.repo.Releases()
	if served := f.srv.Served(); served != rels[0].Length {
		t.Errorf("served %d bytes, want the full bundle %d", served, rels[0].Length)
	}
}

// refusal checks that an update was refused with reason and the device
// still runs the complete old release.
func refusal(t *testing.T, u *Updater, dir, version, before string, want Reason) {
	t.Helper()
	res, err := u.Apply(context.Background(), version)
	var e *Error
	if !errors.As(err, &e) || e.Reason != want {
		t.Fatalf("apply %s: err = %v, want reason %s", version, err, want)
	}
	if res.Reason != want || (res.Outcome != OutcomeRefused && res.Outcome != OutcomeAbandoned) {
		t.Errorf("result = %+v, want refused/abandoned with %s", res, want)
	}
	if got := running(t, dir); got != before {
		t.Errorf("running %s after a refusal, want %s untouched", got, before)
	}
	if _, err := os.Stat(filepath.Join(dir, releasesDir, version)); version != before && err == nil {
		t.Errorf("refused release %s was unpacked", version)
	}
	if last := u.Last(); last == nil || last.Reason != want {
		t.Errorf("Last() = %+v, want reason %s recorded for the report", last, want)
	}
}

func rewrite[T metadata.Roles](t testing.TB, name string, change func(*metadata.Metadata[T])) {
	t.Helper()
	m, err := new(metadata.Metadata[T]).FromFile(name)
	if err != nil {
		t.Fatal(err)
	}
	change(m)
	if err := m.ToFile(name, true); err != nil {
		t.Fatal(err)
	}
}

func targetFile(t testing.TB, f *fixture, rel release.Release) string {
	t.Helper()
	var hash string
	tf, err := new(metadata.Metadata[metadata.TargetsType]).FromFile(filepath.Join(f.repo.Dir(), "metadata", "targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range tf.Signed.Targets {
		if name == rel.Target {
			hash = x.Hashes["sha256"].String()
		}
	}
	return filepath.Join(f.repo.Dir(), "targets", target.TargetPath(rel.Target, hash))
}

func TestRefusals(t *testing.T) {
	t.Run("bad signature", func(t *testing.T) {
		f := newFixture(t, release.Options{})
		f.seed(t, "1.0.0")
		// Change signed content of the timestamp without re-signing it.
		rewrite(t, filepath.Join(f.repo.Dir(), "metadata", "timestamp.json"), func(m *metadata.Metadata[metadata.TimestampType]) {
			m.Signed.Version += 10
		})
		refusal(t, f.updater(t, nil), f.dir, "1.1.0", "1.0.0", ReasonBadSignature)
	})
	t.Run("unknown key", func(t *testing.T) {
		f := newFixture(t, release.Options{})
		f.seed(t, "1.0.0")
		// An attacker's targets metadata signed by a key root does not trust.
		other := filepath.Join(t.TempDir(), "other")
		if err := release.GenerateOfflineKeys(other); err != nil {
			t.Fatal(err)
		}
		evil, err := release.Init(filepath.Join(t.TempDir(), "evil"), other, release.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := evil.Add(other, releasetest.Bundle(t, "1.1.0", "amd64", releasetest.Files("evil", 100, 9))); err != nil {
			t.Fatal(err)
		}
		f.srv.SetHandler(evil.Handler())
		refusal(t, f.updater(t, nil), f.dir, "1.1.0", "1.0.0", ReasonUnknownKey)
	})
	t.Run("expired metadata (freeze)", func(t *testing.T) {
		past := time.Now().Add(-48 * time.Hour)
		f := newFixture(t, release.Options{Now: func() time.Time { return past }})
		// The device was installed from its image, never refreshed.
		u := f.updater(t, nil)
		if _, err := u.InstallFile(context.Background(), releasetest.Bundle(t, "1.0.0", "amd64", releasetest.Files("1.0.0", binSize, 1))); err != nil {
			t.Fatal(err)
		}
		refusal(t, u, f.dir, "1.1.0", "1.0.0", ReasonExpired)
	})
	t.Run("older release than installed", func(t *testing.T) {
		f := newFixture(t, release.Options{})
		f.seed(t, "1.1.0")
		refusal(t, f.updater(t, nil), f.dir, "1.0.0", "1.1.0", ReasonRollback)
	})
	t.Run("older metadata than seen (replayed timestamp)", func(t *testing.T) {
		f := newFixture(t, release.Options{})
		old, err := os.ReadFile(filepath.Join(f.repo.Dir(), "metadata", "timestamp.json"))
		if err != nil {
			t.Fatal(err)
		}
		f.repo.Add(t, "1.2.0", "amd64", releasetest.Files("1.2.0", 100, 3))
		f.seed(t, "1.0.0") // the device saw the newer timestamp
		os.WriteFile(filepath.Join(f.repo.Dir(), "metadata", "timestamp.json"), old, 0o644)
		refusal(t, f.updater(t, nil), f.dir, "1.1.0", "1.0.0", ReasonRollback)
	})
	t.Run("hash mismatch", func(t *testing.T) {
		f := newFixture(t, release.Options{})
		f.seed(t, "1.0.0")
		name := targetFile(t, f, f.v2)
		data, _ := os.ReadFile(name)
		data[len(data)/2] ^= 0xff
		os.WriteFile(name, data, 0o644)
		refusal(t, f.updater(t, func(c *Config) { c.NoDelta = true }), f.dir, "1.1.0", "1.0.0", ReasonHashMismatch)
	})
	t.Run("length mismatch", func(t *testing.T) {
		f := newFixture(t, release.Options{})
		f.seed(t, "1.0.0")
		name := targetFile(t, f, f.v2)
		data, _ := os.ReadFile(name)
		os.WriteFile(name, append(data, "more"...), 0o644)
		refusal(t, f.updater(t, func(c *Config) { c.NoDelta = true }), f.dir, "1.1.0", "1.0.0", ReasonLengthMismatch)
	})
	t.Run("not enough disk", func(t *testing.T) {
		f := newFixture(t, release.Options{})
		f.seed(t, "1.0.0")
		refusal(t, f.updater(t, func(c *Config) { c.ReserveBytes = 1 << 60 }), f.dir, "1.1.0", "1.0.0", ReasonDiskFull)
	})
	t.Run("no such release", func(t *testing.T) {
		f := newFixture(t, release.Options{})
		f.seed(t, "1.0.0")
		refusal(t, f.updater(t, nil), f.dir, "9.9.9", "1.0.0", ReasonNotFound)
	})
}

type failingGate struct{}

func (failingGate) Healthy(ctx context.Context, v string, since time.Time) error {
	return errors.New("kiosk not ready (state \"starting\")")
}

func TestHealthGateRollsBack(t *testing.T) {
	f := newFixture(t, release.Options{})
	f.seed(t, "1.0.0")
	units := &fakeUnits{}
	u := f.updater(t, func(c *Config) {
		c.Gate, c.Units, c.HealthTimeout = failingGate{}, units, 200*time.Millisecond
	})
	res, err := u.Apply(context.Background(), "1.1.0")
	if ReasonOf(err) != ReasonUnhealthy || res.Outcome != OutcomeRolledBack {
		t.Fatalf("apply: %+v, %v; want rolled back, unhealthy", res, err)
	}
	if !strings.Contains(res.Detail, "starting") {
		t.Errorf("detail %q does not say why", res.Detail)
	}
	if got := running(t, f.dir); got != "1.0.0" {
		t.Errorf("running %s after rollback, want 1.0.0", got)
	}
	if got := len(units.restarts); got != 4 {
		t.Errorf("%d unit restarts, want 4 (two units on the new release, two on the old)", got)
	}
	_, err = u.Apply(context.Background(), "1.1.0")
	if ReasonOf(err) != ReasonFailedBefore {
		t.Errorf("applying a failed release again: %v, want failed_before", err)
	}
	// A failing unit restart rolls back too.
	f.repo.Add(t, "1.2.0", "amd64", releasetest.Files("1.2.0", 100, 3))
	u2 := f.updater(t, func(c *Config) { c.Units = &fakeUnits{fail: true} })
	if _, err := u2.Apply(context.Background(), "1.2.0"); ReasonOf(err) != ReasonUnits {
		t.Errorf("failing units: %v, want reason units", err)
	}
	if got := running(t, f.dir); got != "1.0.0" {
		t.Errorf("running %s, want 1.0.0", got)
	}
}

type sessionKiosk struct {
	mu      sync.Mutex
	state   string
	version string
	asked   int
}

func (k *sessionKiosk) Status(ctx context.Context) (bus.Status, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.asked++
	if k.asked > 5 {
		k.state = bus.StateIdle
	}
	return bus.Status{State: k.state, Version: k.version}, nil
}

func TestWaitsForSessionToEnd(t *testing.T) {
	f := newFixture(t, release.Options{})
	f.seed(t, "1.0.0")
	k := &sessionKiosk{state: bus.StateInSession, version: "1.1.0"}
	var switchedAt int
	u := f.updater(t, func(c *Config) {
		c.Kiosk = k
		c.Gate = KioskGate{Kiosk: k, Reported: func(time.Time) bool { return true }}
		c.Progress = func(p, _ string) {
			if p == PhaseSwitch {
				k.mu.Lock()
				switchedAt = k.asked
				k.mu.Unlock()
			}
		}
	})
	if _, err := u.Apply(context.Background(), "1.1.0"); err != nil {
		t.Fatal(err)
	}
	if switchedAt <= 5 {
		t.Errorf("switched after %d status calls, while the session was still active", switchedAt)
	}
	// Cancelled while waiting: abandoned, old release untouched, resumes later.
	f.repo.Add(t, "1.2.0", "amd64", releasetest.Files("1.2.0", 100, 3))
	busy := &sessionKiosk{state: bus.StateInSession, asked: -1 << 30}
	waiting := make(chan struct{})
	var once sync.Once
	u2 := f.updater(t, func(c *Config) {
		c.Kiosk = busy
		c.Progress = func(p, _ string) {
			if p == PhaseWait {
				once.Do(func() { close(waiting) })
			}
		}
	})
	// Cancelled only once Last and Failed have answered: if they waited for
	// the update, they would answer after the 30 s bound, not within 5 s.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lastAnswered := make(chan time.Duration, 1)
	go func() {
		defer cancel()
		select {
		case <-waiting: // the update is waiting for the session
		case <-ctx.Done():
			lastAnswered <- -1
			return
		}
		start := time.Now()
		u2.Last()
		u2.Failed("1.2.0")
		lastAnswered <- time.Since(start)
	}()
	res, err := u2.Apply(ctx, "1.2.0")
	if d := <-lastAnswered; d < 0 {
		t.Errorf("the update never waited for the session: %+v, %v", res, err)
	} else if d > 5*time.Second {
		t.Errorf("Last() took %s while an update waited: the report would stall", d)
	}
	if ReasonOf(err) != ReasonCancelled || res.Outcome != OutcomeAbandoned {
		t.Errorf("cancelled wait: %+v, %v", res, err)
	}
	if got := running(t, f.dir); got != "1.1.0" {
		t.Errorf("running %s, want 1.1.0", got)
	}
}

func TestDownloadResumesAfterCuts(t *testing.T) {
	f := newFixture(t, release.Options{})
	f.seed(t, "1.0.0")
	u := f.updater(t, func(c *Config) { c.NoDelta = true })
	f.srv.Reset()
	// Each request is cut at a random offset; the device resumes each time.
	cuts := 0
	u.testHook = func(p string) {
		if p == "download:chunk" && cuts < 5 {
			if len(f.srv.Ranges()) == cuts+1 {
				f.srv.CutNext(releasetest.RandomOffset(f.v2.Length / 6))
				cuts++
			}
		}
	}
	f.srv.CutNext(releasetest.RandomOffset(f.v2.Length / 6))
	res, err := u.Apply(context.Background(), "1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	ranges := f.srv.Ranges()
	if len(ranges) < 3 {
		t.Errorf("only %d requests (%v): the cuts did not happen", len(ranges), ranges)
	}
	if served := f.srv.Served(); served != f.v2.Length {
		t.Errorf("served %d bytes over %d requests for a %d-byte bundle: refetched %d", served, len(ranges), f.v2.Length, served-f.v2.Length)
	}
	if res.Fetched != f.v2.Length {
		t.Errorf("result fetched = %d", res.Fetched)
	}
	for i, r := range ranges[1:] {
		if !strings.HasPrefix(r, "bytes=") {
			t.Errorf("request %d had no Range header after a cut", i+2)
		}
	}
}

func TestWindow(t *testing.T) {
	w, err := ParseWindow("22:30-05:00")
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 1, h, m, 0, 0, time.UTC) }
	cases := []struct {
		t    time.Time
		in   bool
		next time.Time
	}{
		{at(23, 0), true, at(23, 0)},
		{at(4, 59), true, at(4, 59)},
		{at(5, 0), false, at(22, 30)},
		{at(12, 0), false, at(22, 30)},
	}
	for _, c := range cases {
		if got := w.Contains(c.t); got != c.in {
			t.Errorf("Contains(%s) = %v, want %v", c.t.Format("15:04"), got, c.in)
		}
		if got := w.Next(c.t); !got.Equal(c.next) {
			t.Errorf("Next(%s) = %s, want %s", c.t.Format("15:04"), got, c.next)
		}
	}
	day, _ := ParseWindow("02:00-05:00")
	if got := day.Next(at(6, 0)); !got.Equal(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("Next after the window = %s, want tomorrow 02:00", got)
	}
	for _, bad := range []string{"2-5", "02:00", "25:00-01:00", "03:00-03:00"} {
		if _, err := ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q) accepted", bad)
		}
	}
	if !(Window{}).Contains(at(12, 0)) {
		t.Error("zero window is not always open")
	}
}

// selfRestartUnits stands in for systemd restarting the agent's own unit:
// the call never returns normally, the process is stopped.
type selfRestartUnits struct {
	fakeUnits
	cancel context.CancelFunc
}

func (s *selfRestartUnits) RestartUnit(ctx context.Context, unit string) error {
	s.fakeUnits.RestartUnit(ctx, unit)
	if unit == "accesskiosk-agent.service" && s.cancel != nil {
		s.cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func TestAgentRestartingItselfResumesWithoutRestartLoop(t *testing.T) {
	f := newFixture(t, release.Options{})
	f.seed(t, "1.0.0")
	ctx, cancel := context.WithCancel(context.Background())
	units := &selfRestartUnits{cancel: cancel}
	u := f.updater(t, func(c *Config) { c.Units = units })
	if _, err := u.Apply(ctx, "1.1.0"); ReasonOf(err) != ReasonCancelled {
		t.Fatalf("apply while the agent restarts itself: %v, want cancelled", err)
	}
	if got := running(t, f.dir); got != "1.1.0" {
		t.Fatalf("running %s, want the switched 1.1.0", got)
	}
	// The new agent process.
	u2 := f.updater(t, func(c *Config) { c.Units = units })
	res, err := u2.Recover(context.Background())
	if err != nil || res == nil || res.Outcome != OutcomeInstalled {
		t.Fatalf("recover: %+v, %v; want installed", res, err)
	}
	if got, want := strings.Join(units.restarts, ","), "accesskiosk-kiosk.service,accesskiosk-agent.service"; got != want {
		t.Errorf("restarts %s, want each unit once: %s", got, want)
	}
}

func TestStalledDownloadResumes(t *testing.T) {
	f := newFixture(t, release.Options{})
	f.seed(t, "1.0.0")
	u := f.updater(t, func(c *Config) { c.NoDelta, c.StallTimeout = true, 300*time.Millisecond })
	f.srv.Reset()
	f.srv.StallNext(f.v2.Length / 3)
	start := time.Now()
	res, err := u.Apply(context.Background(), "1.1.0")
	if err != nil || res.Outcome != OutcomeInstalled {
		t.Fatalf("apply over a stalling link: %+v, %v", res, err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s: the stall was not detected", d)
	}
	if served := f.srv.Served(); served != f.v2.Length {
		t.Errorf("served %d bytes for a %d-byte bundle", served, f.v2.Length)
	}
	if rs := f.srv.Ranges(); len(rs) != 2 || rs[1] != fmt.Sprintf("bytes=%d-", f.v2.Length/3) {
		t.Errorf("requests %v: want a resume from %d after the stall", rs, f.v2.Length/3)
	}
}

func TestRepositoryOverPinnedTLS(t *testing.T) {
	f := newFixture(t, release.Options{})
	hs := httptest.NewTLSServer(f.repo.Handler())
	t.Cleanup(hs.Close)
	f.srv = &releasetest.Server{URL: hs.URL}
	// Without trusting the fleet's self-signed certificate: refused, transient.
	_, err := f.updater(t, func(c *Config) { c.HTTP = nil }).Apply(context.Background(), "1.0.0")
	if ReasonOf(err) != ReasonNetwork {
		t.Fatalf("untrusted certificate: %v, want a network reason", err)
	}
	f.dir = filepath.Join(t.TempDir(), "device2") // (the first device waits before trying again)
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	u := f.updater(t, func(c *Config) { c.HTTP, c.TLS = nil, &tls.Config{RootCAs: pool} })
	if res, err := u.Apply(context.Background(), "1.0.0"); err != nil || res.Outcome != OutcomeInstalled {
		t.Fatalf("pinned certificate: %+v, %v", res, err)
	}
}

func TestRefusalIsNotRefetchedAtEveryReport(t *testing.T) {
	f := newFixture(t, release.Options{})
	f.seed(t, "1.0.0")
	name := targetFile(t, f, f.v2)
	data, _ := os.ReadFile(name)
	data[100] ^= 1
	os.WriteFile(name, data, 0o644)
	now := time.Now()
	u := f.updater(t, func(c *Config) { c.NoDelta, c.Now = true, func() time.Time { return now } })
	f.srv.Reset()
	if _, err := u.Apply(context.Background(), "1.1.0"); ReasonOf(err) != ReasonHashMismatch {
		t.Fatalf("first apply: %v", err)
	}
	fetched := f.srv.Served()
	if fetched < f.v2.Length {
		t.Fatalf("first apply fetched %d bytes", fetched)
	}
	now = now.Add(30 * time.Second) // the next report
	if _, err := u.Apply(context.Background(), "1.1.0"); ReasonOf(err) != ReasonHashMismatch {
		t.Errorf("second apply: %v, want the same refusal", err)
	}
	if got := f.srv.Served(); got != fetched {
		t.Errorf("the refused bundle was fetched again 30s later (%d more bytes)", got-fetched)
	}
	now = now.Add(2 * time.Hour)
	u.Apply(context.Background(), "1.1.0")
	if got := f.srv.Served(); got == fetched {
		t.Error("not tried again after the retry interval")
	}
}

// TestEarlierAgentRollsBackASwitch: the new release's agent never got
// through its start (release-exec then runs the previous release's agent).
// That agent resumes the switch; its gate must fail on its own version and
// roll back, not pass on its own reports. The new release's agent passes.
func TestEarlierAgentRollsBackASwitch(t *testing.T) {
	for _, tc := range []struct {
		agent   string
		want    string
		running string
	}{
		{agent: "1.0.0", want: OutcomeRolledBack, running: "1.0.0"},
		{agent: "1.1.0", want: OutcomeInstalled, running: "1.1.0"},
	} {
		t.Run("agent "+tc.agent, func(t *testing.T) {
			f := newFixture(t, release.Options{})
			f.seed(t, "1.0.0")
			// The switching agent restarts its own unit: it ends right after the switch.
			ctx, cancel := context.WithCancel(context.Background())
			u := f.updater(t, func(c *Config) { c.Units = ctxUnits{} })
			u.testHook = func(p string) {
				if p == "switch:done" {
					cancel()
				}
			}
			if _, err := u.Apply(ctx, "1.1.0"); ReasonOf(err) != ReasonCancelled {
				t.Fatalf("apply cut after the switch: %v, want cancelled", err)
			}
			// release-exec (images/deb/release) reads the phase from this line.
			st, _ := os.ReadFile(filepath.Join(f.dir, "state.json"))
			if !regexp.MustCompile(`(?m)^ *"phase": *"switched",?$`).Match(st) {
				t.Errorf("state.json has no phase line release-exec can read:\n%s", st)
			}
			k := &sessionKiosk{state: bus.StateIdle, version: "1.1.0"}
			next := f.updater(t, func(c *Config) {
				c.Gate = KioskGate{Kiosk: k, Reported: func(time.Time) bool { return true }, Agent: tc.agent}
				c.HealthTimeout = 300 * time.Millisecond
			})
			res, err := next.Recover(context.Background())
			if res == nil || res.Outcome != tc.want {
				t.Fatalf("recover by agent %s: %+v, %v; want %s", tc.agent, res, err, tc.want)
			}
			if tc.want == OutcomeRolledBack && !strings.Contains(res.Detail, "the agent runs 1.0.0, not 1.1.0") {
				t.Errorf("detail %q does not say the agent is not the new one", res.Detail)
			}
			if got := running(t, f.dir); got != tc.running {
				t.Errorf("running %s, want %s", got, tc.running)
			}
		})
	}
}

// ctxUnits restarts nothing and fails once its context ends (the agent's
// own unit restart ending the process).
type ctxUnits struct{}

func (ctxUnits) RestartUnit(ctx context.Context, unit string) error { return ctx.Err() }

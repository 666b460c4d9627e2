package update

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/releasetest"
)

// The fault-injection test re-executes this test binary as a child that
// runs one update against a loopback TUF server held by the parent, kills
// it with SIGKILL at a random point (the child SIGKILLs itself at a chosen
// hook, or the parent kills it after a random delay), checks the device
// directory, restarts the child and checks the update completed.
// UPDATE_FAULT_RUNS sets the number of kills (make fault-test: 100).

const childEnv = "UPDATE_FAULT_CHILD"

// TestFaultChild is the child's body; it does nothing in a normal run.
func TestFaultChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("runs only as the fault-injection child")
	}
	root, err := os.ReadFile(os.Getenv("FAULT_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	hc := retryablehttp.NewClient()
	hc.RetryMax, hc.RetryWaitMin, hc.RetryWaitMax, hc.Logger = 2, 10*time.Millisecond, 50*time.Millisecond, nil
	cfg := Config{Dir: os.Getenv("FAULT_DIR"), RepoURL: os.Getenv("FAULT_URL"), TrustedRoot: root, Arch: "amd64", HTTP: hc,
		Units: &fakeUnits{}, Poll: 10 * time.Millisecond, RetryWait: 5 * time.Millisecond, HealthTimeout: 10 * time.Second,
		NoDelta: os.Getenv("FAULT_NODELTA") == "1"}
	if os.Getenv("FAULT_UNHEALTHY") == "1" {
		cfg.Gate, cfg.HealthTimeout = failingGate{}, 100*time.Millisecond
	}
	u, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	points, err := os.OpenFile(os.Getenv("FAULT_POINTS"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	killPoint := os.Getenv("FAULT_KILL_POINT")
	killOcc, _ := strconv.Atoi(os.Getenv("FAULT_KILL_OCC"))
	record := os.Getenv("FAULT_RECORD") == "1"
	seen := map[string]int{}
	u.testHook = func(p string) {
		seen[p]++
		if record || strings.HasPrefix(p, "phase:") {
			fmt.Fprintln(points, p)
		}
		if p == killPoint && seen[p] == killOcc {
			fmt.Fprintln(points, "kill "+p)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	ctx := context.Background()
	if _, err := u.Recover(ctx); err != nil {
		t.Logf("recover: %v", err)
	}
	res, err := u.Apply(ctx, os.Getenv("FAULT_VERSION"))
	out, _ := json.Marshal(res)
	fmt.Fprintf(points, "result %s\n", out)
	if err != nil {
		t.Logf("apply: %v", err) // the parent checks the outcome
	}
}

type faultRun struct {
	env  []string
	dir  string
	pts  string
	ctrl *releasetest.Server
}

func (r *faultRun) child(t testing.TB, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), r.env...), extra...)
	cmd.Env = append(cmd.Env, "FAULT_DIR="+r.dir, "FAULT_POINTS="+r.pts)
	return cmd
}

// phaseOf groups hook points into the four phases the issue names.
func phaseOf(p string) string {
	switch {
	case strings.HasPrefix(p, "download:"), p == "phase:download", p == "phase:metadata":
		return "download"
	case strings.HasPrefix(p, "verify:"), p == "phase:verify":
		return "verify"
	case strings.HasPrefix(p, "unpack:"), p == "phase:unpack":
		return "unpack"
	default:
		return "switch" // switch, restart, health gate, commit
	}
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
}

func TestFaultInjection(t *testing.T) {
	runs := 12
	if s := os.Getenv("UPDATE_FAULT_RUNS"); s != "" {
		runs, _ = strconv.Atoi(s)
	}
	f := &fixture{repo: releasetest.NewRepo(t, release.Options{}), dir: filepath.Join(t.TempDir(), "template")}
	f.root, _ = f.repo.RootJSON()
	f.v1 = f.repo.Add(t, "1.0.0", "amd64", releasetest.Files("1.0.0", 1_000_000, 1))
	f.v2 = f.repo.Add(t, "1.1.0", "amd64", releasetest.Files("1.1.0", 1_000_000, 1))
	f.srv = releasetest.Serve(t, f.repo.Handler())
	f.seed(t, "1.0.0")
	lengths := map[string]int64{}
	targets, err := new(metadata.Metadata[metadata.TargetsType]).FromFile(filepath.Join(f.repo.Dir(), "metadata", "targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tf := range targets.Signed.Targets {
		lengths[tf.Hashes["sha256"].String()] = tf.Length
	}
	rootFile := filepath.Join(t.TempDir(), "root.json")
	os.WriteFile(rootFile, f.root, 0o644)
	env := []string{childEnv + "=1", "FAULT_ROOT=" + rootFile, "FAULT_URL=" + f.srv.URL, "FAULT_VERSION=1.1.0"}

	// Baseline: record every hook point of an uninterrupted update, with
	// and without the delta.
	// Modes: the delta, the full bundle, and a release that fails its
	// health gate (the update is abandoned by rolling back).
	modeEnv := map[string][]string{
		"delta":     {"FAULT_NODELTA=0"},
		"full":      {"FAULT_NODELTA=1"},
		"unhealthy": {"FAULT_NODELTA=1", "FAULT_UNHEALTHY=1"},
	}
	baseline := map[string][]string{}
	baseDur := map[string]time.Duration{}
	for noDelta := range modeEnv {
		r := &faultRun{env: env, dir: filepath.Join(t.TempDir(), "base"), pts: filepath.Join(t.TempDir(), "points")}
		copyTree(t, f.dir, r.dir)
		start := time.Now()
		cmd := r.child(t, append(modeEnv[noDelta], "FAULT_RECORD=1")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("baseline child: %v\n%s", err, out)
		}
		baseDur[noDelta] = time.Since(start)
		data, _ := os.ReadFile(r.pts)
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if !strings.HasPrefix(l, "result ") {
				baseline[noDelta] = append(baseline[noDelta], l)
			}
		}
		if got, want := running(t, r.dir), finalVersion(noDelta); got != want {
			t.Fatalf("baseline %s ended on %s, want %s", noDelta, got, want)
		}
	}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	phases := []string{"download", "verify", "unpack", "switch"}
	killedIn := map[string]int{}
	var resumed, resumeSaved, notKilled, abandoned int
	for i := range runs {
		noDelta := []string{"full", "delta"}[i%2]
		if i%10 == 7 {
			noDelta = "unhealthy"
		}
		r := &faultRun{env: env, dir: filepath.Join(t.TempDir(), "dev"), pts: filepath.Join(t.TempDir(), "points")}
		copyTree(t, f.dir, r.dir)
		f.srv.Reset()
		cmd := r.child(t, modeEnv[noDelta]...)
		async := i%5 == 4
		if async {
			// The parent kills the child after a random delay.
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rng.Int64N(int64(baseDur[noDelta]))))
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
		} else {
			// The child kills itself at a random hook of a random phase.
			want := phases[i/2%len(phases)]
			if noDelta == "unhealthy" {
				want = "switch" // switch, restarts, gate, rollback
			}
			var cands []int
			for j, p := range baseline[noDelta] {
				if phaseOf(p) == want {
					cands = append(cands, j)
				}
			}
			if len(cands) == 0 {
				t.Fatalf("baseline has no %s points", want)
			}
			j := cands[rng.IntN(len(cands))]
			point, occ := baseline[noDelta][j], 0
			for _, p := range baseline[noDelta][:j+1] {
				if p == point {
					occ++
				}
			}
			if point == "download:chunk" {
				// Chunk counts vary with TCP reads: stay inside the download.
				total := 0
				for _, p := range baseline[noDelta] {
					if p == point {
						total++
					}
				}
				occ = 1 + rng.IntN(max(1, total*9/10))
			}
			cmd.Env = append(cmd.Env, "FAULT_KILL_POINT="+point, "FAULT_KILL_OCC="+strconv.Itoa(occ))
			cmd.Run()
		}
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		data, _ := os.ReadFile(r.pts)
		phase := lastPhase(string(data))
		if !ws.Signaled() {
			notKilled++
			phase = "completed"
		}
		killedIn[phase]++

		// Never neither: current is a complete old or new release.
		v := running(t, r.dir)
		if v != "1.0.0" && v != "1.1.0" {
			t.Fatalf("run %d: running %q after a kill in %s", i, v, phase)
		}
		have := downloaded(r.dir, lengths)
		f.srv.Reset()

		// Restart: the update completes.
		out, err := r.child(t, modeEnv[noDelta]...).CombinedOutput()
		if err != nil {
			t.Fatalf("run %d (killed in %s): restarted child failed: %v\n%s", i, phase, err, out)
		}
		if got, want := running(t, r.dir), finalVersion(noDelta); got != want {
			t.Fatalf("run %d (%s, killed in %s): running %s after restart, want %s", i, noDelta, phase, got, want)
		}
		u := f.updaterAt(t, r.dir)
		if u.st.Phase != phaseIdle || u.Last() == nil {
			t.Errorf("run %d: state after restart: phase %q, last %+v", i, u.st.Phase, u.Last())
		} else if noDelta == "unhealthy" {
			if !u.Failed("1.1.0") || (u.Last().Outcome != OutcomeRolledBack && u.Last().Reason != ReasonFailedBefore) {
				t.Errorf("run %d: unhealthy release not abandoned cleanly: last %+v", i, u.Last())
			}
			abandoned++
		} else if u.Last().Outcome != OutcomeInstalled {
			t.Errorf("run %d: last %+v, want installed", i, u.Last())
		}
		for _, d := range []string{stagingDir, downloadsDir} {
			if entries, _ := os.ReadDir(filepath.Join(r.dir, d)); len(entries) != 0 {
				t.Errorf("run %d: %s not cleaned: %d entries", i, d, len(entries))
			}
		}
		// Resume: the restart fetched only what the killed run did not have.
		if have.length > 0 {
			served := f.srv.Served()
			if served != have.length-have.size {
				t.Errorf("run %d: had %d of %d bytes at the kill, restart fetched %d (want %d)", i, have.size, have.length, served, have.length-have.size)
			}
			if have.size > 0 && have.size < have.length {
				resumed++
				resumeSaved += int(have.size)
				if rs := f.srv.Ranges(); len(rs) == 0 || rs[0] != fmt.Sprintf("bytes=%d-", have.size) {
					t.Errorf("run %d: restart requested %v, want bytes=%d-", i, rs, have.size)
				}
			}
		}
	}
	keys := make([]string, 0, len(killedIn))
	for k := range killedIn {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, killedIn[k]))
	}
	t.Logf("%d runs; SIGKILLed in: %s; unhealthy releases rolled back after the kill: %d; downloads resumed mid-file: %d (%d bytes not fetched again)",
		runs, strings.Join(parts, " "), abandoned, resumed, resumeSaved)
	if notKilled > runs/4 {
		t.Errorf("%d of %d runs were never killed", notKilled, runs)
	}
}

func finalVersion(mode string) string {
	if mode == "unhealthy" {
		return "1.0.0"
	}
	return "1.1.0"
}

func lastPhase(points string) string {
	lines := strings.Split(strings.TrimSpace(points), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if p, ok := strings.CutPrefix(lines[i], "kill "); ok {
			return phaseOf(p)
		}
	}
	// Killed by the parent: the last phase the child entered.
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "phase:") {
			return "async-" + phaseOf(lines[i])
		}
	}
	return "async-start"
}

type partial struct{ size, length int64 }

// downloaded returns how much of the pending download is on disk: the part
// file's size (or a verified file's), and the target's length from the
// repository for that hash.
func downloaded(dir string, lengthOf map[string]int64) partial {
	entries, _ := os.ReadDir(filepath.Join(dir, downloadsDir))
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue
		}
		return partial{size: info.Size(), length: lengthOf[strings.TrimSuffix(e.Name(), ".part")]}
	}
	return partial{}
}

func (f *fixture) updaterAt(t testing.TB, dir string) *Updater {
	t.Helper()
	u, err := New(Config{Dir: dir, RepoURL: f.srv.URL, TrustedRoot: f.root, Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

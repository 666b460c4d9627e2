package imagecheck

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"accesskiosk/agent"
	"accesskiosk/agent/update"
	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/releasetest"
)

const repoRoot = "../.."

// TestDropInsAgreeWithUnits: the packages' drop-ins run exactly the
// programs' own units' ExecStart, through release-exec.
func TestDropInsAgreeWithUnits(t *testing.T) {
	for _, l := range Launchers {
		t.Run(l.Name, func(t *testing.T) {
			unit, err := os.ReadFile(filepath.Join(repoRoot, l.Name, "cmd", l.Name, l.Name+".service"))
			if err != nil {
				t.Fatal(err)
			}
			dropIn, err := os.ReadFile(filepath.Join(repoRoot, "images/deb/release", l.Name+".conf"))
			if err != nil {
				t.Fatal(err)
			}
			if err := DropInAgrees(unit, dropIn, l); err != nil {
				t.Error(err)
			}
			// A drop-in that forgot the reset is caught.
			bad := bytes.Replace(dropIn, []byte("\nExecStart=\n"), []byte("\n"), 1)
			if DropInAgrees(unit, bad, l) == nil {
				t.Error("a drop-in without the ExecStart= reset passed")
			}
		})
	}
}

// buildAgent builds the real agent stamped with version.
func buildAgent(t testing.TB, dir, version string) string {
	t.Helper()
	out := filepath.Join(dir, "agent-"+version)
	cmd := exec.Command("go", "build", "-ldflags", "-X accesskiosk/internal/version.Version="+version, "-o", out, "./agent/cmd/agent")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build agent %s: %v\n%s", version, err, b)
	}
	return out
}

// unitCommand is what systemd would run for the agent's unit on a device
// whose packages are installed under usr (a stand-in for /usr): the unit
// plus the package's drop-in, with the installed paths mapped into the
// test's tree and the arguments replaced by --version.
func unitCommand(t testing.TB, usr string) []string {
	t.Helper()
	unit, err := os.ReadFile(filepath.Join(repoRoot, "agent/cmd/agent/agent.service"))
	if err != nil {
		t.Fatal(err)
	}
	dropIn, err := os.ReadFile(filepath.Join(repoRoot, "images/deb/release/agent.conf"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := ExecStart(unit, dropIn)
	if len(cmd) < 3 || cmd[0] != Launchers[0].Launcher || cmd[1] != "agent" || cmd[2] != Launchers[0].Packaged {
		t.Fatalf("agent unit runs %q, want %s agent %s ...", cmd, Launchers[0].Launcher, Launchers[0].Packaged)
	}
	launcher, _ := filepath.Abs(filepath.Join(repoRoot, "images/deb/release/release-exec"))
	return []string{launcher, "agent", filepath.Join(usr, "bin/accesskiosk-agent"), "--version"}
}

// runs runs the unit's command against the update directory and returns
// the version it printed and what it said on stderr.
func runs(t testing.TB, cmd []string, dir string) (string, string) {
	t.Helper()
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Env = append(os.Environ(), "ACCESSKIOSK_UPDATE_DIR="+dir)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("%q: %v\n%s", cmd, err, errb.String())
	}
	return strings.TrimSpace(out.String()), errb.String()
}

type restarts struct{ units []string }

func (r *restarts) RestartUnit(ctx context.Context, unit string) error {
	r.units = append(r.units, unit)
	return nil
}

// TestUpdateChangesWhatRuns: the packaged agent (5.0.0) is laid down as
// the factory release; the updater installs 5.1.0 from a real signed
// repository on loopback; the agent unit's command, resolved through
// release-exec and current, then runs the 5.1.0 binary. A missing or
// garbled current runs the factory agent, and Seed puts it back.
func TestUpdateChangesWhatRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent twice")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bins := t.TempDir()
	factoryBin := buildAgent(t, bins, "5.0.0")
	newBin := buildAgent(t, bins, "5.1.0")
	unitText, err := os.ReadFile(filepath.Join(repoRoot, "agent/cmd/agent/agent.service"))
	if err != nil {
		t.Fatal(err)
	}

	// The installed packages, under a stand-in for /usr.
	usr := t.TempDir()
	for p, body := range map[string][]byte{"bin/accesskiosk-agent": mustRead(t, factoryBin), "lib/systemd/system/accesskiosk-agent.service": unitText} {
		os.MkdirAll(filepath.Join(usr, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(usr, p), body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	factory := update.Factory{Version: "5.0.0", Units: []string{"accesskiosk-kiosk.service", "accesskiosk-agent.service"}, Files: map[string]string{
		"bin/agent":                       filepath.Join(usr, "bin/accesskiosk-agent"),
		"bin/kiosk":                       filepath.Join(usr, "bin/accesskiosk-kiosk"),
		"units/accesskiosk-agent.service": filepath.Join(usr, "lib/systemd/system/accesskiosk-agent.service"),
	}}

	// The fleet's signed repository with release 5.1.0.
	repo := releasetest.NewRepo(t, release.Options{})
	repo.Add(t, "5.1.0", runtime.GOARCH, map[string][]byte{
		"bin/agent":                       mustRead(t, newBin),
		"units/accesskiosk-agent.service": unitText,
	})
	root, err := repo.RootJSON()
	if err != nil {
		t.Fatal(err)
	}
	srv := releasetest.Serve(t, repo.Handler())

	dir := filepath.Join(t.TempDir(), "update")
	hc := retryablehttp.NewClient()
	hc.Logger, hc.RetryMax = nil, 1
	units := &restarts{}
	u, err := update.New(update.Config{Dir: dir, RepoURL: srv.URL, TrustedRoot: root, HTTP: hc, Units: units, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cmd := unitCommand(t, usr)

	// Before anything is laid down the packaged agent runs.
	if v, msg := runs(t, cmd, dir); v != "5.0.0" || !strings.Contains(msg, "running the packaged") {
		t.Fatalf("fresh install runs %q (%s), want the packaged 5.0.0", v, msg)
	}
	if v, seeded, err := u.Seed(ctx, factory); err != nil || !seeded || v != "5.0.0" {
		t.Fatalf("Seed: %q, %v, %v", v, seeded, err)
	}
	if v, msg := runs(t, cmd, dir); v != "5.0.0" || msg != "" {
		t.Fatalf("after seeding runs %q (%q), want 5.0.0 from current", v, msg)
	}

	res, err := u.Apply(ctx, "5.1.0")
	if err != nil || res.Outcome != update.OutcomeInstalled || res.From != "5.0.0" {
		t.Fatalf("Apply 5.1.0: %+v, %v", res, err)
	}
	if v, msg := runs(t, cmd, dir); v != "5.1.0" || msg != "" {
		t.Fatalf("after the update the unit runs %q (%q), want 5.1.0", v, msg)
	}
	if strings.Join(units.units, ",") != "accesskiosk-kiosk.service,accesskiosk-agent.service" {
		t.Errorf("restarted %q", units.units)
	}

	cur := filepath.Join(dir, "current")
	for _, tt := range []struct {
		name   string
		damage func()
	}{
		{"no current", func() { os.Remove(cur) }},
		{"dangling current", func() { os.Remove(cur); os.Symlink("releases/9.9.9", cur) }},
		{"current outside releases", func() { os.Remove(cur); os.Symlink(bins, cur) }},
		{"current is a file", func() { os.Remove(cur); os.WriteFile(cur, []byte("releases/5.1.0"), 0o644) }},
		{"program missing", func() { os.Remove(filepath.Join(cur, "bin/agent")) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.damage()
			if v, msg := runs(t, cmd, dir); v != "5.0.0" || !strings.Contains(msg, "running the packaged") {
				t.Errorf("runs %q (%s), want the packaged 5.0.0", v, msg)
			}
			// The agent's start lays the factory release down again.
			u2, err := update.New(update.Config{Dir: dir, RepoURL: srv.URL, TrustedRoot: root, HTTP: hc})
			if err != nil {
				t.Fatal(err)
			}
			if v, seeded, err := u2.Seed(ctx, factory); err != nil || !seeded || v != "5.0.0" {
				t.Fatalf("Seed: %q, %v, %v", v, seeded, err)
			}
			if v, msg := runs(t, cmd, dir); v != "5.0.0" || msg != "" {
				t.Errorf("after Seed runs %q (%q), want 5.0.0 from current", v, msg)
			}
		})
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDataAgentConfig: the agent config the persistent partition starts
// with loads (strictly) and turns signed updates on from the enrolled
// fleet, in the directory release-exec looks in.
func TestDataAgentConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(filepath.Join(repoRoot, "images/common/data.sh"), dir)
	cmd.Env = append(os.Environ(), "TRUSTED_ROOT=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("data.sh: %v\n%s", err, out)
	}
	cfg, err := agent.LoadConfig(filepath.Join(dir, "agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Update, "fleet /var/lib/accesskiosk/release-root.json /var/lib/accesskiosk/update"; got.RepoURL+" "+got.TrustedRoot+" "+got.Dir != want {
		t.Errorf("update = %+v, want %s", got, want)
	}
	if fi, err := os.Stat(filepath.Join(dir, "update")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("update dir: %v, %v (the kiosk user must reach its program)", fi, err)
	}
	// A trusted root that is not TUF root metadata is refused.
	cmd = exec.Command(filepath.Join(repoRoot, "images/common/data.sh"), dir)
	cmd.Env = append(os.Environ(), "TRUSTED_ROOT="+filepath.Join(dir, "agent.yaml"))
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("data.sh took agent.yaml as a trusted root:\n%s", out)
	}
}

// TestAgentThatCannotStartIsRolledBack: while a switch is pending, the
// agent unit's command (release-exec) runs the new release's agent three
// times; when it never gets through (it exits each time, as systemd's
// Restart= would start it again), the fourth start runs the previous
// release's agent, whose health gate rolls the switch back. With no
// previous release it is the packaged agent. Once the switch is settled
// the count is gone and current runs again.
func TestAgentThatCannotStartIsRolledBack(t *testing.T) {
	dir := t.TempDir()
	program := func(rel, out string, code int) {
		bin := filepath.Join(dir, "releases", rel, "bin")
		os.MkdirAll(bin, 0o755)
		os.WriteFile(filepath.Join(dir, "releases", rel, "manifest.json"), []byte(`{"version":"`+rel+`"}`), 0o644)
		script := "#!/bin/sh\necho " + out + "\nexit " + strconv.Itoa(code) + "\n"
		if err := os.WriteFile(filepath.Join(bin, "agent"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	program("1.0.0", "previous", 0)
	program("1.1.0", "new", 1)
	packaged := filepath.Join(dir, "packaged-agent")
	os.WriteFile(packaged, []byte("#!/bin/sh\necho packaged\n"), 0o755)
	os.Symlink("releases/1.1.0", filepath.Join(dir, "current"))
	os.Symlink("releases/1.0.0", filepath.Join(dir, "previous"))
	// The phase line as agent/update writes it (its test checks the format).
	setPhase := func(phase string) {
		st := "{\n  \"phase\": \"" + phase + "\",\n  \"from\": \"1.0.0\",\n  \"to\": \"1.1.0\"\n}"
		if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(st), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	launcher, _ := filepath.Abs(filepath.Join(repoRoot, "images/deb/release/release-exec"))
	start := func() (string, string) {
		c := exec.Command(launcher, "agent", packaged)
		c.Env = append(os.Environ(), "ACCESSKIOSK_UPDATE_DIR="+dir)
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		c.Run() // the new agent fails: that is the point
		return strings.TrimSpace(out.String()), errb.String()
	}

	setPhase("switched")
	for i := 1; i <= 3; i++ {
		if got, _ := start(); got != "new" {
			t.Fatalf("start %d while switched ran %q, want the new release's agent", i, got)
		}
	}
	got, said := start()
	if got != "previous" || !strings.Contains(said, "previous release's agent") {
		t.Fatalf("start 4 ran %q (%q), want the previous release's agent", got, said)
	}
	os.Remove(filepath.Join(dir, "previous"))
	if got, _ := start(); got != "packaged" {
		t.Errorf("with no previous release start 5 ran %q, want the packaged agent", got)
	}
	// The rollback settles the switch: the count goes, current runs.
	setPhase("")
	if got, _ := start(); got != "new" {
		t.Errorf("settled: ran %q, want current's agent", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "agent-starts")); !os.IsNotExist(err) {
		t.Errorf("start count still there after the switch settled: %v", err)
	}
	// The kiosk is never run from another release this way: the agent's
	// gate covers it.
	setPhase("switched")
	os.WriteFile(filepath.Join(dir, "agent-starts"), []byte("9"), 0o644)
	kbin := filepath.Join(dir, "releases", "1.1.0", "bin", "kiosk")
	os.WriteFile(kbin, []byte("#!/bin/sh\necho kiosk-new\n"), 0o755)
	c := exec.Command(launcher, "kiosk", packaged)
	c.Env = append(os.Environ(), "ACCESSKIOSK_UPDATE_DIR="+dir)
	if out, _ := c.Output(); strings.TrimSpace(string(out)) != "kiosk-new" {
		t.Errorf("kiosk while switched ran %q, want the new kiosk (its own gate covers it)", out)
	}
}

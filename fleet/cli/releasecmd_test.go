package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"accesskiosk/fleet/release"
)

// releaseRun runs `fleet release ARGS...`; err is nil for exit 0 and says
// the exit status and stderr otherwise.
func releaseRun(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	code, out, errOut := run(t, append([]string{"release"}, args...)...)
	if code != 0 {
		return out, code, fmt.Errorf("exit %d: %s", code, errOut)
	}
	return out, 0, nil
}

func releaseRunOut(t *testing.T, args ...string) (string, error) {
	out, _, err := releaseRun(t, args...)
	return out, err
}

func TestReleaseCommandEndToEnd(t *testing.T) {
	data, offline := t.TempDir(), filepath.Join(t.TempDir(), "usb")
	steps := [][]string{
		{"keys", "generate", "--offline", offline},
		{"init", "--data", data, "--offline", offline},
	}
	for _, s := range steps {
		if out, err := releaseRunOut(t, s...); err != nil {
			t.Fatalf("%v: %v (%s)", s, err, out)
		}
	}
	for i, v := range []string{"1.0.0", "1.1.0"} {
		tree := t.TempDir()
		os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
		os.WriteFile(filepath.Join(tree, "bin", "agent"), bytes.Repeat([]byte("agent"+v), 20000+i), 0o755)
		b := filepath.Join(t.TempDir(), v+".tar.zst")
		if out, err := releaseRunOut(t, "bundle", "--version", v, "--arch", "arm64", "--out", b, tree); err != nil {
			t.Fatalf("bundle: %v (%s)", err, out)
		}
		out, err := releaseRunOut(t, "add", "--data", data, "--offline", offline, b)
		if err != nil {
			t.Fatalf("add: %v", err)
		}
		if i == 1 && !strings.Contains(out, "delta from 1.0.0") {
			t.Errorf("add output %q does not mention the delta", out)
		}
	}
	out, err := releaseRunOut(t, "list", "--data", data)
	if err != nil || !strings.Contains(out, "1.1.0") || !strings.Contains(out, "arm64") {
		t.Errorf("list: %v\n%s", err, out)
	}
	root, err := releaseRunOut(t, "root", "--data", data)
	if err != nil || !strings.Contains(root, `"_type": "root"`) {
		t.Errorf("root: %v\n%s", err, root)
	}
	if _, err := releaseRunOut(t, "rollout", "start", "--data", data, "--id", "r1", "--release", "1.1.0",
		"--ring", "canary=site:central,device:ab12", "--ring", "early=10%", "--ring", "all=all"); err != nil {
		t.Fatalf("rollout start: %v", err)
	}
	rf := release.OpenRollouts(release.RolloutsPath(release.RepoDir(data)))
	if v, _ := rf.Desired(release.Device{ID: "x", Site: "central"}); v != "1.1.0" {
		t.Errorf("canary site device desired %q, want 1.1.0", v)
	}
	if v, _ := rf.Desired(release.Device{ID: "x", Site: "north"}); v != "" {
		t.Errorf("non-canary device desired %q before advancing", v)
	}
	for _, s := range []string{"advance", "advance"} {
		if _, err := releaseRunOut(t, "rollout", s, "--data", data, "--id", "r1"); err != nil {
			t.Fatalf("rollout %s: %v", s, err)
		}
	}
	if v, _ := rf.Desired(release.Device{ID: "x", Site: "north"}); v != "1.1.0" {
		t.Errorf("after advancing to all: desired %q, want 1.1.0", v)
	}
	if _, err := releaseRunOut(t, "rollout", "abort", "--data", data, "--id", "r1"); err != nil {
		t.Fatal(err)
	}
	if out, _ := releaseRunOut(t, "rollout", "list", "--data", data); !strings.Contains(out, "aborted") {
		t.Errorf("rollout list after abort:\n%s", out)
	}
}

func TestReleaseCommandRefusesBadFlags(t *testing.T) {
	data := t.TempDir()
	cases := [][]string{
		nil,
		{"frobnicate"},
		{"init", "--data", data},
		{"keys", "rotate", "--data", data, "--offline", data},
		{"bundle", "--version", "../x", "--out", filepath.Join(data, "b"), data},
		{"rollout", "start", "--data", data, "--id", "x", "--release", "1.0.0", "--ring", "bad"},
		{"rollout", "start", "--data", data, "--id", "x", "--release", "1.0.0", "--ring", "p=150%"},
		{"rollout", "start", "--data", data, "--id", "x", "--release", "1.0.0", "--ring", "c=site:a", "--ring", "c=all"},
		{"rollout", "start", "--data", data, "--id", "x", "--release", "1.0.0", "--ring", "c=site:a,shop:b"},
		{"list", "--bogus"},
	}
	for _, c := range cases {
		_, code, err := releaseRun(t, c...)
		if code != 2 {
			t.Errorf("%v: %v, want a flag error (exit 2)", c, err)
		}
	}
}

package release_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"accesskiosk/fleet/release/bundle"
	"accesskiosk/fleet/release/target"
)

// programs the delta benchmark builds, the first that exists wins (the
// bundle's real payload is the agent; until its main lands, another of the
// project's programs stands in).
var benchPrograms = []string{"agent/cmd/agent", "fleet/cmd/fleet", "provisioning/cmd/provision"}

func repoRoot(b *testing.B) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Skip("go env GOMOD:", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func hasGo(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	return len(m) > 0
}

// buildTree builds prog from src with a version stamp into a bundle tree.
func buildTree(b *testing.B, src, prog, version string, archived bool) string {
	b.Helper()
	tree := b.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X accesskiosk/internal/version.Version="+version,
		"-o", filepath.Join(tree, "bin", filepath.Base(prog)), "./"+prog)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if archived {
		// An older commit's go.sum may lack entries (never done in the checkout).
		cmd.Env = append(cmd.Env, "GOFLAGS=-mod=mod")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Skipf("build %s in %s: %v\n%s", prog, src, err, out)
	}
	os.MkdirAll(filepath.Join(tree, "units"), 0o755)
	os.WriteFile(filepath.Join(tree, "units", "accesskiosk-agent.service"), []byte("[Service]\nExecStart=/var/lib/accesskiosk/current/bin/agent\n"), 0o644)
	return tree
}

func tarOfTree(b *testing.B, tree, version string) []byte {
	var buf bytes.Buffer
	if _, err := bundle.BuildTar(&buf, tree, bundle.Options{Version: version, Arch: "amd64"}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// measureDelta reports the full bundle's size (what a device downloads
// without deltas), the patch-from delta's, and their ratio.
func measureDelta(b *testing.B, oldTree, newTree string) {
	oldTar, newTar := tarOfTree(b, oldTree, "old"), tarOfTree(b, newTree, "new")
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	full := len(enc.EncodeAll(newTar, nil))
	var delta bytes.Buffer
	b.ResetTimer()
	for b.Loop() {
		delta.Reset()
		if err := target.EncodeDelta(&delta, bytes.NewReader(newTar), oldTar); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	rc, err := target.DecodeDelta(bytes.NewReader(delta.Bytes()), oldTar)
	if err != nil {
		b.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(rc)
	rc.Close()
	if !bytes.Equal(got.Bytes(), newTar) {
		b.Fatal("delta does not rebuild the new tar")
	}
	b.ReportMetric(float64(len(newTar)), "tar-bytes")
	b.ReportMetric(float64(full), "full-bytes")
	b.ReportMetric(float64(delta.Len()), "delta-bytes")
	b.ReportMetric(float64(delta.Len())/float64(full), "delta/full")
	// The alternative an admin would reach for: the zstd CLI's --patch-from.
	if zstdCLI, err := exec.LookPath("zstd"); err == nil {
		dir := b.TempDir()
		o, n, p := filepath.Join(dir, "old.tar"), filepath.Join(dir, "new.tar"), filepath.Join(dir, "patch.zst")
		os.WriteFile(o, oldTar, 0o644)
		os.WriteFile(n, newTar, 0o644)
		if exec.Command(zstdCLI, "-q", "-19", "--patch-from="+o, n, "-o", p).Run() == nil {
			if st, err := os.Stat(p); err == nil {
				b.ReportMetric(float64(st.Size()), "zstd-cli-delta-bytes")
			}
		}
	}
}

// BenchmarkDeltaRealBuilds measures the delta between two consecutive real
// builds of one of the project's programs: the same source stamped with two
// versions, and the two newest commits that changed its folder or the
// shared packages it is built from.
func BenchmarkDeltaRealBuilds(b *testing.B) {
	root := repoRoot(b)
	prog := ""
	for _, p := range benchPrograms {
		if hasGo(filepath.Join(root, p)) {
			prog = p
			break
		}
	}
	if prog == "" {
		b.Skip("no program of the project to build")
	}
	b.Run("versions/"+filepath.Base(prog), func(b *testing.B) {
		measureDelta(b, buildTree(b, root, prog, "1.0.0", false), buildTree(b, root, prog, "1.0.1", false))
	})
	b.Run("commits/"+filepath.Base(prog), func(b *testing.B) {
		// The project's packages the program is built from: the two newest
		// commits that changed one of them make two consecutive builds
		// that really differ.
		cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./"+prog)
		cmd.Dir = root
		depOut, err := cmd.Output()
		if err != nil {
			b.Skip("go list -deps:", err)
		}
		var paths []string
		for _, d := range strings.Fields(string(depOut)) {
			if rel, err := filepath.Rel(root, d); err == nil && !strings.HasPrefix(rel, "..") {
				paths = append(paths, ":(glob)"+filepath.ToSlash(rel)+"/*.go") // the package's own files, not its subpackages
			}
		}
		out, _ := exec.Command("git", append([]string{"-C", root, "log", "-n", "40", "--format=%H", "--"}, paths...)...).Output()
		folder := strings.SplitN(prog, "/", 2)[0]
		var commits []string
		for _, c := range strings.Fields(string(out)) {
			files, _ := exec.Command("git", "-C", root, "ls-tree", "--name-only", c, prog+"/").Output()
			if strings.Contains(string(files), ".go\n") {
				commits = append(commits, c)
			}
			if len(commits) == 2 {
				break
			}
		}
		if len(commits) < 2 {
			b.Skipf("fewer than two commits of %s hold %s", folder, prog)
		}
		var trees []string
		for i, c := range []string{commits[1], commits[0]} {
			src := b.TempDir()
			arch := exec.Command("sh", "-c", "git -C \"$0\" archive \"$1\" | tar -x -C \"$2\"", root, c, src)
			if out, err := arch.CombinedOutput(); err != nil {
				b.Skipf("git archive %s: %v: %s", c, err, out)
			}
			trees = append(trees, buildTree(b, src, prog, []string{"1.0.0", "1.1.0"}[i], true))
		}
		b.Logf("%s built at %.8s and %.8s", prog, commits[1], commits[0])
		measureDelta(b, trees[0], trees[1])
	})
}

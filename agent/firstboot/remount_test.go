//go:build linux

package firstboot

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDirWriteReadOnlyMount writes into a read-only mounted boot partition
// (a tmpfs here) in a private mount namespace: the test binary runs itself
// again under `unshare -m`.
func TestDirWriteReadOnlyMount(t *testing.T) {
	if dir := os.Getenv("FIRSTBOOT_RO_CHILD"); dir != "" {
		roChild(t, dir)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("unshare (util-linux) not installed")
		}
		t.Skip("unshare not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command(unshare, "-m", "--propagation", "private", os.Args[0], "-test.run=^TestDirWriteReadOnlyMount$", "-test.v")
	cmd.Env = append(os.Environ(), "FIRSTBOOT_RO_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func roChild(t *testing.T, dir string) {
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer unix.Unmount(dir, 0)
	p := filepath.Join(dir, "f.yaml")
	if err := os.WriteFile(p, []byte("token: secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := remount(dir, true); err != nil {
		t.Fatalf("remount ro: %v", err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o600); err == nil {
		t.Fatal("setup: the mount is not read-only")
	}
	if err := Dir(dir).WriteFile("f.yaml", []byte("erased")); err != nil {
		t.Fatalf("WriteFile on a read-only mount: %v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "erased" {
		t.Errorf("got %q", got)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Flags&unix.ST_RDONLY == 0 {
		t.Errorf("the mount is not read-only again (flags %#x, %v)", st.Flags, err)
	}
}

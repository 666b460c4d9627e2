package cli

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"accesskiosk/internal/diskimage"
	"accesskiosk/internal/diskimage/imagetest"
	"accesskiosk/provisioning/bootfile"
)

// TestWriteDevice writes onto a real block device: a loop device over an
// MBR image formatted by mkfs.vfat, as `provision write --device` does to a
// card.
func TestWriteDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loop devices need root")
	}
	losetup, err := exec.LookPath("losetup")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("losetup (util-linux) not installed")
		}
		t.Skip("losetup not installed")
	}
	img := imagetest.MBR(t)
	out, err := exec.Command(losetup, "--find", "--show", img).CombinedOutput()
	if err != nil {
		// The kernel or container has no loop devices: not a missing tool.
		t.Skipf("no loop device available: %v %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command(losetup, "--detach", dev).Run() })

	cfg := t.TempDir() + "/fb.yaml"
	if _, err := run(t, nil, "config", "--fleet", "https://fleet.example", "--fingerprint", strings.Repeat("ab", 32), "--token", tok, "--offline", "--out", cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, nil, "write", "--config", cfg, "--device", dev); err != nil {
		t.Fatalf("write --device %s: %v", dev, err)
	}
	want, _ := os.ReadFile(cfg)
	im, err := diskimage.Open(img, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	got, err := im.ReadFile(bootfile.FileName)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("after writing %s the image holds %q, %v", dev, got, err)
	}
	if _, err := run(t, nil, "write", "--config", cfg, "--image", dev); err == nil || !strings.Contains(err.Error(), "not a regular file (for a card use --device)") {
		t.Errorf("--image with a block device: %v", err)
	}
}

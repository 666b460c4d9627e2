package diskimage_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"accesskiosk/internal/diskimage"
	"accesskiosk/internal/diskimage/imagetest"
)

func images(t *testing.T) map[string]string {
	return map[string]string{
		"gpt+go-diskfs-fat32": imagetest.GPT(t),
		"mbr+mkfs.vfat-fat16": imagetest.MBR(t),
		"mbr+mkfs.vfat-fat32": imagetest.MBRFAT32(t),
	}
}

func TestWriteReplaceScrub(t *testing.T) {
	for name, img := range images(t) {
		t.Run(name, func(t *testing.T) {
			im, err := diskimage.Open(img, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := im.Partition(), 1; got != want {
				t.Errorf("partition: got %d, want %d", got, want)
			}
			if _, err := im.ReadFile("accesskiosk-firstboot.yaml"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("read missing file: got %v, want fs.ErrNotExist", err)
			}
			secret := "SECRET-" + strings.Repeat("x", 5000) + "-END" // spans clusters
			if err := im.WriteFile("accesskiosk-firstboot.yaml", []byte(secret)); err != nil {
				t.Fatal(err)
			}
			if err := im.Close(); err != nil {
				t.Fatal(err)
			}

			im, err = diskimage.Open(img, 1)
			if err != nil {
				t.Fatal(err)
			}
			got, err := im.ReadFile("accesskiosk-firstboot.yaml")
			if err != nil || string(got) != secret {
				t.Fatalf("read back: got %d bytes, %v", len(got), err)
			}
			if err := im.WriteFile("accesskiosk-firstboot.yaml", []byte("short: yes\n")); err != nil {
				t.Fatal(err)
			}
			if err := im.Close(); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte("SECRET-")) || bytes.Contains(raw, []byte("-END")) {
				t.Error("old contents still on the image after replacing the file")
			}
			// The file system is consistent (fsck.vfat; not on the
			// go-diskfs-formatted image, which fsck.vfat finds one FAT
			// entry short from the start), and another FAT
			// implementation (mtools) reads what we wrote.
			if strings.HasPrefix(name, "mbr") {
				imagetest.Fsck(t, img)
			}
			if out := mtype(t, img, "accesskiosk-firstboot.yaml"); out != "short: yes\n" {
				t.Errorf("mtype: got %q", out)
			}
		})
	}
}

func mtype(t *testing.T, img, name string) string {
	t.Helper()
	bin, err := exec.LookPath("mtype")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mtools not installed (make deps installs it)")
		}
		t.Skip("mtools not installed")
	}
	cmd := exec.Command(bin, "-i", fmt.Sprintf("%s@@%d", img, imagetest.FATStart), "::"+name)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mtype: %v\n%s", err, out)
	}
	return string(out)
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	blank := filepath.Join(dir, "blank.img")
	if err := os.WriteFile(blank, make([]byte, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	img := imagetest.GPT(t)
	tests := []struct {
		name, path string
		part       int
		want       string
	}{
		{"missing", filepath.Join(dir, "nope.img"), 0, "no such file"},
		{"directory", dir, 0, "is a directory"},
		{"no table", blank, 0, "no partition table"},
		{"not FAT", img, 2, "partition 2"},
		{"no such partition", img, 7, "partition 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := diskimage.Open(tt.path, tt.part)
			if err == nil {
				im.Close()
				t.Fatalf("Open(%s, %d) accepted", tt.path, tt.part)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

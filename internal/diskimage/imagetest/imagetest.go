// Package imagetest makes small disk images with a FAT boot partition for
// tests: a GPT image whose FAT32 partition go-diskfs formats, or an MBR
// image whose partition Debian's mkfs.vfat formats (what image recipes use),
// so that tests cover both writers.
package imagetest

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

// Sizes of the images made here.
const (
	sector    = 512
	startLBA  = 2048     // 1 MiB, as partitioning tools align
	fatBytes  = 64 << 20 // boot partition
	dataBytes = 8 << 20  // a second, non-FAT partition after it
	diskBytes = 1<<20 + fatBytes + dataBytes + 1<<20
)

// FATStart is the byte offset of the boot partition in every image made here.
const FATStart = startLBA * sector

// GPT makes a GPT disk image in a temporary directory with partition 1 an
// EFI system partition formatted FAT32 by go-diskfs and partition 2 an
// unformatted Linux partition, and returns its path.
func GPT(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gpt.img")
	d, err := diskfs.Create(p, diskBytes, diskfs.SectorSizeDefault)
	if err != nil {
		t.Fatalf("create image: %v", err)
	}
	defer d.Close()
	fatEnd := uint64(startLBA + fatBytes/sector - 1)
	table := &gpt.Table{
		LogicalSectorSize:  sector,
		PhysicalSectorSize: sector,
		ProtectiveMBR:      true,
		Partitions: []*gpt.Partition{
			{Index: 1, Start: startLBA, End: fatEnd, Type: gpt.EFISystemPartition, Name: "boot"},
			{Index: 2, Start: fatEnd + 1, End: fatEnd + dataBytes/sector, Type: gpt.LinuxFilesystem, Name: "data"},
		},
	}
	if err := d.Partition(table); err != nil {
		t.Fatalf("partition image: %v", err)
	}
	if _, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: 1, FSType: filesystem.TypeFat32, VolumeLabel: "BOOT"}); err != nil {
		t.Fatalf("format boot partition: %v", err)
	}
	return p
}

// MBR makes an MBR disk image with partition 1 formatted by mkfs.vfat
// (FAT type chosen by mkfs.vfat for 64 MiB: FAT16) and partition 2 a Linux
// partition, and returns its path. It skips the test when mkfs.vfat is
// missing, unless CI=true (then it fails: make deps installs dosfstools).
func MBR(t testing.TB) string {
	t.Helper()
	return mbrImage(t, false)
}

// MBRFAT32 is MBR with the boot partition formatted FAT32 (mkfs.vfat -F 32),
// as the Raspberry Pi image's AKBOOT partition is.
func MBRFAT32(t testing.TB) string {
	t.Helper()
	return mbrImage(t, true)
}

func mbrImage(t testing.TB, fat32 bool) string {
	t.Helper()
	mkfs, err := exec.LookPath("mkfs.vfat")
	if err != nil {
		for _, c := range []string{"/usr/sbin/mkfs.vfat", "/sbin/mkfs.vfat"} {
			if _, serr := os.Stat(c); serr == nil {
				mkfs, err = c, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mkfs.vfat not installed (make deps installs dosfstools)")
		}
		t.Skip("mkfs.vfat not installed; run make deps")
	}
	p := filepath.Join(t.TempDir(), "mbr.img")
	d, err := diskfs.Create(p, diskBytes, diskfs.SectorSizeDefault)
	if err != nil {
		t.Fatalf("create image: %v", err)
	}
	table := &mbr.Table{
		LogicalSectorSize:  sector,
		PhysicalSectorSize: sector,
		Partitions: []*mbr.Partition{
			{Bootable: true, Type: mbr.Fat32LBA, Start: startLBA, Size: fatBytes / sector},
			{Type: mbr.Linux, Start: startLBA + fatBytes/sector, Size: dataBytes / sector},
		},
	}
	if err := d.Partition(table); err != nil {
		d.Close()
		t.Fatalf("partition image: %v", err)
	}
	d.Close()
	args := []string{"-n", "BOOT", "--offset", strconv.Itoa(startLBA), p, strconv.Itoa(fatBytes / 1024)}
	if fat32 {
		args = append([]string{"-F", "32"}, args...)
	}
	out, err := exec.Command(mkfs, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.vfat: %v\n%s", err, out)
	}
	return p
}

// Fsck checks the boot partition of an image made here with Debian's
// fsck.vfat (read-only, -n) and fails the test on any complaint. The
// partition is copied out first: this fsck.vfat cannot take an offset.
func Fsck(t testing.TB, img string) {
	t.Helper()
	fsck, err := exec.LookPath("fsck.vfat")
	if err != nil {
		for _, c := range []string{"/usr/sbin/fsck.vfat", "/sbin/fsck.vfat"} {
			if _, serr := os.Stat(c); serr == nil {
				fsck, err = c, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("fsck.vfat not installed (make deps installs dosfstools)")
		}
		t.Skip("fsck.vfat not installed; run make deps")
	}
	src, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	part := filepath.Join(t.TempDir(), "boot.part")
	dst, err := os.Create(part)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, io.NewSectionReader(src, FATStart, fatBytes)); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(fsck, "-n", part).CombinedOutput()
	if err != nil || strings.Contains(string(out), "wrong") {
		t.Errorf("fsck.vfat -n on the boot partition: %v\n%s", err, out)
	}
}

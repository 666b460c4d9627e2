package diskimage_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"accesskiosk/internal/diskimage"
	"accesskiosk/internal/diskimage/imagetest"
)

// BenchmarkWriteFirstBootFile puts a 1 KiB first-boot file onto the FAT
// partition of a 74 MiB image, the way `provision write` does (go-diskfs,
// in-process, old bytes scrubbed, synced), side by side with what an IT
// officer would otherwise run: mtools' mcopy -o. It reports both times per
// write and their ratio (go-diskfs / mcopy; below 1 means faster).
func BenchmarkWriteFirstBootFile(b *testing.B) {
	mcopy, err := exec.LookPath("mcopy")
	if err != nil {
		b.Skip("mtools not installed")
	}
	img := imagetest.MBR(b)
	data := make([]byte, 1024)
	for i := range data {
		data[i] = 'a' + byte(i%26)
	}
	src := filepath.Join(b.TempDir(), "accesskiosk-firstboot.yaml")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		b.Fatal(err)
	}
	target := fmt.Sprintf("%s@@%d", img, imagetest.FATStart)
	var ours, theirs time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		im, err := diskimage.Open(img, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := im.WriteFile("accesskiosk-firstboot.yaml", data); err != nil {
			b.Fatal(err)
		}
		if err := im.Close(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		cmd := exec.Command(mcopy, "-o", "-i", target, src, "::accesskiosk-firstboot.yaml")
		cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("mcopy: %v\n%s", err, out)
		}
		if f, err := os.OpenFile(img, os.O_RDWR, 0); err == nil { // mcopy does not fsync; match provision write
			f.Sync()
			f.Close()
		}
		theirs += time.Since(t1)
		ours += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(ours.Microseconds())/n, "µs-diskfs/op")
	b.ReportMetric(float64(theirs.Microseconds())/n, "µs-mcopy/op")
	b.ReportMetric(float64(ours)/float64(theirs), "diskfs/mcopy")
}

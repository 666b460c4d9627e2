package scan

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"accesskiosk/kiosk/capture"
)

// BenchmarkScanToPDF measures issue 15's scan path below the shell: two
// pages at 200 dpi from SANE's test backend (200 × 200 mm, colour pattern:
// 1574 × 1574 px, 7.4 MB of pixels a page) to one PDF in a private
// directory: scanimage, the JPEG stream, the preview, the document, the
// PDF. Beside it, the alternative this package did not take: scanimage
// writing raw PNM to the pipe, and the page encoded with Go's image/jpeg
// (what a front end that wants the pixels itself must do). Reported:
// ms/op (mean wall time), p50 and p99 of the iterations, CPU per
// operation (this process and scanimage: steadier than wall time on a
// loaded machine, and what a Raspberry Pi pays) and the PDF's size.
//
//	go test -run '^$' -bench ScanToPDF -benchtime 20x ./kiosk/capture/scan/
func BenchmarkScanToPDF(b *testing.B) {
	env := saneTest(b, map[string]string{"test-picture": `"Color pattern"`, "br_x": "200.0", "br_y": "200.0"})
	for _, mode := range []Mode{Colour, Grey} {
		b.Run("jpeg-stream/"+string(mode), func(b *testing.B) {
			s := New(Config{Device: "test", Source: "Automatic Document Feeder", MaxFileSize: 100_000_000}, Options{Env: env})
			benchLoop(b, func() ([]*capture.Page, error) {
				j, err := s.Scan(context.Background(), ScanOptions{Mode: mode, Pages: 2})
				if err != nil {
					return nil, err
				}
				var pages []*capture.Page
				for ev := range j.Events() {
					if ev.Page != nil {
						pages = append(pages, ev.Page)
					}
				}
				return pages, j.Err()
			})
		})
		b.Run("pnm-go-encode/"+string(mode), func(b *testing.B) {
			benchLoop(b, func() ([]*capture.Page, error) {
				var pages []*capture.Page
				for range 2 {
					p, err := pnmScan(env, mode)
					if err != nil {
						return nil, err
					}
					pages = append(pages, p)
				}
				return pages, nil
			})
		})
	}
}

// benchLoop runs scan and then the document and the PDF b.N times and
// reports percentiles.
func benchLoop(b *testing.B, scan func() ([]*capture.Page, error)) {
	var times []time.Duration
	var size int64
	cpu0 := cpuTime()
	for b.Loop() {
		dir := privateDir(b)
		start := time.Now()
		pages, err := scan()
		if err != nil || len(pages) != 2 {
			b.Fatalf("%d pages, %v", len(pages), err)
		}
		doc, err := capture.NewDocument(dir, capture.Limits{MaxFileSize: 100_000_000})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range pages {
			if err := doc.Add(p); err != nil {
				b.Fatal(err)
			}
		}
		files, err := capture.Export(context.Background(), doc, capture.ExportOptions{Accept: "application/pdf"})
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
		fi, _ := os.Stat(files[0].Path)
		size = fi.Size()
		doc.Close()
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(times)), "cpu-ms/op")
	slices.Sort(times)
	pct := func(p float64) float64 {
		i := min(len(times)-1, int(p*float64(len(times))))
		return float64(times[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(size)/1e6, "pdf-MB")
}

// cpuTime is the CPU (user and system) this process and its reaped
// children have used: on a loaded machine a steadier measure than wall
// time, and what a Raspberry Pi pays.
func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// pnmScan is the road not taken: scanimage writes raw PNM (P5 or P6, 8
// bits), read into an image and encoded with Go's image/jpeg.
func pnmScan(env []string, mode Mode) (*capture.Page, error) {
	m := "Color"
	if mode == Grey {
		m = "Gray"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "scanimage", "--device-name=test", "--format=pnm", "--mode="+m, "--resolution=200")
	cmd.Env = append(append(os.Environ(), env...), "LC_ALL=C")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer cmd.Process.Kill()
	r := bufio.NewReaderSize(out, 256<<10)
	var magic string
	var w, h, maxval int
	if _, err := fmt.Fscan(r, &magic); err != nil {
		return nil, err
	}
	// scanimage's header: "P6\n# SANE data follows\nW H\n255\n".
	for {
		c, _ := r.Peek(1)
		if len(c) == 1 && (c[0] == '\n' || c[0] == ' ') {
			r.ReadByte()
			continue
		}
		if len(c) == 1 && c[0] == '#' {
			r.ReadString('\n')
			continue
		}
		break
	}
	if _, err := fmt.Fscan(r, &w, &h, &maxval); err != nil || maxval != 255 {
		return nil, fmt.Errorf("PNM header: %v (maxval %d)", err, maxval)
	}
	r.ReadByte()
	var img image.Image
	switch magic {
	case "P5":
		g := image.NewGray(image.Rect(0, 0, w, h))
		if _, err := io.ReadFull(r, g.Pix); err != nil {
			return nil, err
		}
		img = g
	case "P6":
		rgba := image.NewRGBA(image.Rect(0, 0, w, h))
		row := make([]byte, 3*w)
		for y := range h {
			if _, err := io.ReadFull(r, row); err != nil {
				return nil, err
			}
			o := rgba.Pix[y*rgba.Stride:]
			for x := range w {
				o[4*x], o[4*x+1], o[4*x+2], o[4*x+3] = row[3*x], row[3*x+1], row[3*x+2], 255
			}
		}
		img = rgba
	default:
		return nil, fmt.Errorf("PNM %q", magic)
	}
	if n, _ := io.Copy(io.Discard, r); n != 0 {
		return nil, fmt.Errorf("%d bytes after the image", n)
	}
	if err := cmd.Wait(); err != nil {
		return nil, err
	}
	return capture.NewPage(context.Background(), img, capture.Scanned, 200)
}

package scan

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/capture"
)

// pdfInfo runs poppler's pdfinfo (a real PDF reader) on path.
func pdfInfo(t testing.TB, path string) map[string]string {
	t.Helper()
	need(t, "pdfinfo", "poppler-utils")
	out, err := exec.Command("pdfinfo", "-f", "1", "-l", "100", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v\n%s", path, err, out)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// TestTwoPagesToPDF is issue 15's scan path end to end below the shell:
// SANE's test backend through the real libsane and scanimage, two pages at
// 200 dpi from the document feeder, previews as they arrive, a document in
// a private directory, one PDF that poppler reads as two pages of the
// scanned size.
func TestTwoPagesToPDF(t *testing.T) {
	env := saneTest(t, map[string]string{"test-picture": `"Color pattern"`})
	var counts capture.Counters
	s := New(Config{Device: "test", Source: "Automatic Document Feeder"}, Options{Env: env, Counters: &counts})
	j, err := s.Scan(context.Background(), ScanOptions{Pages: 2})
	if err != nil {
		t.Fatal(err)
	}
	pages, progress, err := collect(t, j, time.Minute)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if len(pages) != 2 {
		t.Fatalf("got %d pages, want 2", len(pages))
	}
	if len(progress) == 0 {
		t.Errorf("no progress events")
	}
	for i, p := range pages {
		// 80 × 100 mm at 200 dpi.
		if p.Width != 629 || p.Height != 787 || p.DPI != 200 || !p.Colour || p.Source != capture.Scanned {
			t.Errorf("page %d: %dx%d at %d dpi colour=%v source=%v; want 629x787 at 200 dpi, colour scan", i, p.Width, p.Height, p.DPI, p.Colour, p.Source)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(p.Preview))
		if err != nil {
			t.Fatalf("page %d preview: %v", i, err)
		}
		// The page is smaller than PreviewSize, so the preview is its size.
		if cfg.Width != p.Width || cfg.Height != p.Height {
			t.Errorf("page %d preview is %dx%d; want %dx%d", i, cfg.Width, cfg.Height, p.Width, p.Height)
		}
	}
	if got := counts.Snapshot().Scans; got != 2 {
		t.Errorf("counted %d scans, want 2", got)
	}

	dir := privateDir(t)
	doc, err := capture.NewDocument(dir, s.Config().Limits())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		if err := doc.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	files, err := capture.Export(context.Background(), doc, capture.ExportOptions{Accept: "application/pdf,image/*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].MIME != "application/pdf" || files[0].Name != "scan.pdf" || files[0].Pages != 2 {
		t.Fatalf("export: %+v; want one scan.pdf of 2 pages", files)
	}
	info := pdfInfo(t, files[0].Path)
	if info["Pages"] != "2" {
		t.Errorf("pdfinfo: Pages %q, want 2", info["Pages"])
	}
	// 629 px at 200 dpi = 226.44 pt; 787 px = 283.32 pt.
	for _, k := range []string{"Page    1 size", "Page    2 size"} {
		if !strings.HasPrefix(info[k], "226.44 x 283.32 pts") {
			t.Errorf("pdfinfo: %s %q, want 226.44 x 283.32 pts", k, info[k])
		}
	}
	fi, err := os.Stat(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("PDF mode %v, want 0600", fi.Mode().Perm())
	}
	if err := doc.Close(); err != nil {
		t.Fatal(err)
	}
	if got := filesIn(t, dir); len(got) != 1 {
		t.Errorf("after Close the directory holds %v; want only the exported PDF", got)
	}
}

// TestGreyAndColour scans the test backend's colour pattern in both modes
// and looks at the pixels: grey pages are one-channel JPEGs, colour pages
// have colour in them.
func TestGreyAndColour(t *testing.T) {
	env := saneTest(t, map[string]string{"test-picture": `"Color pattern"`})
	s := New(Config{Device: "test", Mode: "grey"}, Options{Env: env})
	for _, tc := range []struct {
		mode   Mode
		colour bool
	}{{"", false}, {Colour, true}, {Grey, false}} {
		j, err := s.Scan(context.Background(), ScanOptions{Mode: tc.mode, Resolution: 100})
		if err != nil {
			t.Fatal(err)
		}
		pages, _, err := collect(t, j, time.Minute)
		if err != nil || len(pages) != 1 {
			t.Fatalf("mode %q: %d pages, %v", tc.mode, len(pages), err)
		}
		p := pages[0]
		img, err := jpeg.Decode(bytes.NewReader(p.JPEG()))
		if err != nil {
			t.Fatal(err)
		}
		_, grey := img.(*image.Gray)
		if p.Colour != tc.colour || grey == tc.colour {
			t.Errorf("mode %q: Colour=%v, decoded %T; want colour=%v", tc.mode, p.Colour, img, tc.colour)
		}
		if tc.colour && !hasColour(img) {
			t.Errorf("mode %q: the colour pattern came out without colour", tc.mode)
		}
		if p.DPI != 100 || p.Width != 314 {
			t.Errorf("mode %q: %d px wide at %d dpi; want 314 at 100", tc.mode, p.Width, p.DPI)
		}
	}
}

func hasColour(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if max(r, g, bl)-min(r, g, bl) > 0x4000 {
				return true
			}
		}
	}
	return false
}

// TestOversizeRefused: a page over the pixel limit is refused when the
// scanner announces its size, before its pixels are read, with an error
// that names the limit.
func TestOversizeRefused(t *testing.T) {
	// 200 × 200 mm at 600 dpi is 4724 × 4724 = 22.3 megapixels.
	env := saneTest(t, map[string]string{"br_x": "200.0", "br_y": "200.0"})
	s := New(Config{Device: "test", Resolution: 600}, Options{Env: env})
	start := time.Now()
	j, err := s.Scan(context.Background(), ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pages, _, err := collect(t, j, time.Minute)
	var le *capture.LimitError
	if !errors.As(err, &le) || le.Limit != capture.LimitPagePixels || !errors.Is(err, capture.ErrTooLarge) || len(pages) != 0 {
		t.Fatalf("got %d pages, err %v; want a page_pixels LimitError", len(pages), err)
	}
	if !strings.Contains(err.Error(), "16.0 megapixels") {
		t.Errorf("message %q does not name the limit", err)
	}
	t.Logf("refused in %v: %v", time.Since(start), err)
	if c := children(t, "scanimage"); len(c) != 0 {
		t.Errorf("scanimage still running: %v", c)
	}

	// The same page passes under a higher limit, and a byte limit on the
	// document refuses it when it is added.
	s = New(Config{Device: "test", Resolution: 200, MaxMegapixels: 3, MaxFileSize: 100_000}, Options{Env: env})
	j, err = s.Scan(context.Background(), ScanOptions{Mode: Grey})
	if err != nil {
		t.Fatal(err)
	}
	pages, _, err = collect(t, j, time.Minute)
	if err != nil || len(pages) != 1 {
		t.Fatalf("%d pages, %v", len(pages), err)
	}
	doc, err := capture.NewDocument("", s.Config().Limits())
	if err != nil {
		t.Fatal(err)
	}
	// A black page compresses well; make it big with noise instead.
	big := noisyPage(t, 1200, 1200)
	if err := doc.Add(pages[0]); err != nil {
		t.Fatalf("a small page: %v", err)
	}
	if err := doc.Add(big); !errors.As(err, &le) || le.Limit != capture.LimitFileSize {
		t.Fatalf("adding a page past 100 kB: %v; want a file_size LimitError", err)
	}
	if doc.Len() != 1 {
		t.Errorf("document has %d pages after a refused add, want 1", doc.Len())
	}
}

func noisyPage(t testing.TB, w, h int) *capture.Page {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	x := uint32(12345)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
	}
	p, err := capture.NewPage(context.Background(), img, capture.Scanned, 200)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCancelMidScan: cancelling while pixels are arriving stops scanimage
// (SIGTERM, so the driver stops the scanner), leaves no process and no file
// anywhere: not in the private directory, not in scanimage's HOME or TMPDIR.
func TestCancelMidScan(t *testing.T) {
	// 200 × 200 mm in colour at 200 dpi (7.4 MB) with 0.2 s between
	// buffers takes about 20 s to arrive.
	env := saneTest(t, map[string]string{"br_x": "200.0", "br_y": "200.0", "read-delay": "true", "read-delay-duration": "200000"})
	home, tmp := privateDir(t), privateDir(t)
	env = append(env, "HOME="+home, "TMPDIR="+tmp)
	s := New(Config{Device: "test"}, Options{Env: env})
	j, err := s.Scan(context.Background(), ScanOptions{Mode: Colour})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for pixels to flow.
	deadline := time.After(30 * time.Second)
	for started := false; !started; {
		select {
		case ev := <-j.Events():
			started = ev.Progress > 0 && ev.Page == nil
		case <-deadline:
			t.Fatal("no progress within 30s")
		}
	}
	pids := children(t, "scanimage")
	if len(pids) != 1 {
		t.Fatalf("scanimage children %v, want one", pids)
	}
	if _, err := s.Scan(context.Background(), ScanOptions{}); !errors.Is(err, ErrBusy) {
		t.Errorf("a second scan while one runs: %v, want ErrBusy", err)
	}
	start := time.Now()
	j.Cancel()
	select {
	case <-j.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the job did not end within 20s of Cancel")
	}
	t.Logf("stopped %v after Cancel", time.Since(start))
	if err := j.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", err)
	}
	for ev := range j.Events() {
		if ev.Page != nil {
			t.Errorf("a page arrived after Cancel")
		}
	}
	if alive(pids[0]) || len(children(t, "scanimage")) != 0 {
		t.Errorf("scanimage %d still there after the job ended", pids[0])
	}
	for _, d := range []string{home, tmp} {
		if f := filesIn(t, d); len(f) != 0 {
			t.Errorf("files left behind: %v", f)
		}
	}
	// The scanner is free again.
	s2 := New(Config{Device: "test"}, Options{Env: env[:1]})
	j, err = s2.Scan(context.Background(), ScanOptions{Resolution: 75})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := collect(t, j, time.Minute); err != nil {
		t.Errorf("a scan after the cancelled one: %v", err)
	}
}

// TestPageTimeout: a page that takes longer than page_timeout is stopped.
func TestPageTimeout(t *testing.T) {
	env := saneTest(t, map[string]string{"br_x": "200.0", "br_y": "200.0", "read-delay": "true", "read-delay-duration": "200000"})
	s := New(Config{Device: "test"}, Options{Env: env})
	s.cfg.PageTimeout = 500 * time.Millisecond // below what Validate allows, to keep the test short
	j, err := s.Scan(context.Background(), ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = collect(t, j, time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "longer than 500ms") {
		t.Errorf("err %v; want the page timeout", err)
	}
	if c := children(t, "scanimage"); len(c) != 0 {
		t.Errorf("scanimage left running: %v", c)
	}
}

// TestDeviceAbsent: a configured device that is not there fails the scan
// with ErrAbsent and probes as Absent, which the agent reports as
// scanner_missing; no device configured is NotConfigured, not an error.
func TestDeviceAbsent(t *testing.T) {
	env := saneTest(t, nil)
	s := New(Config{Device: "test:7"}, Options{Env: env})
	j, err := s.Scan(context.Background(), ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := collect(t, j, time.Minute); !errors.Is(err, ErrAbsent) {
		t.Errorf("scan of an absent device: %v, want ErrAbsent", err)
	}
	h := s.Probe(context.Background())
	if h.State != capture.Absent || h.Warning(Device) != "scanner_missing" {
		t.Errorf("probe: %v (warning %q); want absent, scanner_missing", h, h.Warning(Device))
	}
	if h := New(Config{Device: "test:1"}, Options{Env: env}).Probe(context.Background()); h.State != capture.Present || h.Warning(Device) != "" {
		t.Errorf("probe of test:1: %v, want present", h)
	}
	none := New(Config{}, Options{Env: env})
	if h := none.Probe(context.Background()); h.State != capture.NotConfigured || h.Warning(Device) != "" {
		t.Errorf("probe with no device: %v, want not_configured", h)
	}
	if _, err := none.Scan(context.Background(), ScanOptions{}); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("scan with no device: %v, want ErrNotConfigured", err)
	}
	missing := New(Config{Device: "test"}, Options{Env: env, Program: "/nonexistent/scanimage"})
	if h := missing.Probe(context.Background()); h.State != capture.Failing || !strings.Contains(h.Detail, "sane-utils") {
		t.Errorf("probe without scanimage: %v, want failing naming sane-utils", h)
	}
}

// TestScannerErrors: SANE statuses from the driver become errors the
// picker can act on.
func TestScannerErrors(t *testing.T) {
	for _, tc := range []struct {
		status string
		want   error
		text   string
	}{
		{"SANE_STATUS_NO_DOCS", ErrNoDocument, "feeder"},
		{"SANE_STATUS_JAMMED", nil, "jammed"},
		{"SANE_STATUS_IO_ERROR", nil, "I/O"},
	} {
		env := saneTest(t, map[string]string{"read-status-code": `"` + tc.status + `"`})
		s := New(Config{Device: "test"}, Options{Env: env})
		j, err := s.Scan(context.Background(), ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pages, _, err := collect(t, j, time.Minute)
		if err == nil || len(pages) != 0 {
			t.Errorf("%s: %d pages, err %v; want an error", tc.status, len(pages), err)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.status, err, tc.want)
		}
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.text)) {
			t.Errorf("%s: %q does not say %q", tc.status, err, tc.text)
		}
	}
}

// TestFeederRunsOut: asking a feeder for more pages than it has ends the
// job without error after the pages it had.
func TestFeederRunsOut(t *testing.T) {
	// The first page scans; the second's sane_read reports an empty feeder.
	// The test backend cannot change status between pages of one process,
	// so a wrapper script plays the feeder: page 2 runs with NO_DOCS.
	env := saneTest(t, nil)
	bad := saneTest(t, map[string]string{"read-status-code": `"SANE_STATUS_NO_DOCS"`})
	dir := t.TempDir()
	script := dir + "/scanimage"
	body := "#!/bin/sh\nn=$(cat " + dir + "/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + dir + "/n\n" +
		"case \"$*\" in *--all-options*) exec scanimage \"$@\";; esac\n" +
		"[ $n -ge 3 ] && export " + bad[0] + "\nexec scanimage \"$@\"\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Device: "test"}, Options{Env: env, Program: script})
	j, err := s.Scan(context.Background(), ScanOptions{Pages: 5})
	if err != nil {
		t.Fatal(err)
	}
	pages, _, err := collect(t, j, time.Minute)
	if err != nil || len(pages) != 1 {
		t.Errorf("%d pages, err %v; want 1 page and no error", len(pages), err)
	}
}

// TestKilledKioskLeavesNothing: a kiosk killed (SIGKILL) mid-scan takes
// scanimage with it (parent-death signal) and leaves no file outside its
// private directory, nor in it. The "kiosk" is this test binary run again
// as a helper.
func TestKilledKioskLeavesNothing(t *testing.T) {
	if os.Getenv("SCAN_HELPER") == "1" {
		helperScan()
		return
	}
	env := saneTest(t, map[string]string{"br_x": "200.0", "br_y": "200.0", "read-delay": "true", "read-delay-duration": "200000"})
	home, tmp, priv := privateDir(t), privateDir(t), privateDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledKioskLeavesNothing$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "SCAN_HELPER=1", "HOME="+home, "TMPDIR="+tmp, "PRIVATE="+priv)
	cmd.Dir = priv
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var scanPid int
	eventually(t, 30*time.Second, "the helper's scanimage to start", func() bool {
		if p := childrenOf(t, cmd.Process.Pid, "scanimage"); len(p) == 1 {
			scanPid = p[0]
		}
		return scanPid != 0 && strings.Contains(out.String(), "SCANNING")
	})
	cmd.Process.Kill()
	cmd.Wait()
	eventually(t, 10*time.Second, "scanimage to die with the kiosk", func() bool { return !alive(scanPid) })
	for _, d := range []string{home, tmp, priv} {
		if f := filesIn(t, d); len(f) != 0 {
			t.Errorf("files left behind: %v", f)
		}
	}
}

func helperScan() {
	s := New(Config{Device: "test"}, Options{})
	j, err := s.Scan(context.Background(), ScanOptions{Mode: Colour})
	if err != nil {
		os.Exit(3)
	}
	for ev := range j.Events() {
		if ev.Progress > 0 {
			os.Stdout.WriteString("SCANNING\n")
			break
		}
	}
	time.Sleep(time.Minute) // killed before this ends
	os.Exit(4)
}

// TestList: SANE's test backend shows its two virtual devices.
func TestList(t *testing.T) {
	env := saneTest(t, nil)
	list, err := New(Config{}, Options{Env: env}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []DeviceInfo{
		{Name: "test:0", Vendor: "Noname", Model: "frontend-tester", Type: "virtual device"},
		{Name: "test:1", Vendor: "Noname", Model: "frontend-tester", Type: "virtual device"},
	}
	if len(list) != 2 || list[0] != want[0] || list[1] != want[1] {
		t.Errorf("List = %+v, want %+v", list, want)
	}
}

// fakeScanimage writes a stand-in for scanimage that answers
// --all-options with nothing and runs body for a scan: a broken or hostile
// driver, which the real test backend cannot play.
func fakeScanimage(t *testing.T, body string) string {
	t.Helper()
	p := t.TempDir() + "/scanimage"
	script := "#!/bin/sh\ncase \"$*\" in *--all-options*) exit 0;; esac\n" + body + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostileDriver: whatever a driver sends, the kiosk keeps to its
// limits, ends the job with an error, and leaves no process.
func TestHostileDriver(t *testing.T) {
	// A JPEG header announcing 60000 × 60000 pixels, then a stall.
	var hdr bytes.Buffer
	jpeg.Encode(&hdr, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	huge := hdr.Bytes()
	if i := bytes.Index(huge, []byte{0xff, 0xc0}); i < 0 {
		t.Fatal("no SOF0 in Go's JPEG")
	} else {
		huge[i+5], huge[i+6], huge[i+7], huge[i+8] = 0xea, 0x60, 0xea, 0x60
	}
	hugeFile := t.TempDir() + "/huge.jpg"
	os.WriteFile(hugeFile, huge[:len(huge)-2], 0o644) // all but the end-of-image marker

	for _, tc := range []struct {
		name  string
		body  string
		check func(error) bool
		limit capture.ByteSize
	}{
		{"garbage", "head -c 200000 /dev/urandom", func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "JPEG")
		}, 0},
		{"endless", "exec cat /dev/zero", func(err error) bool {
			var le *capture.LimitError
			return errors.As(err, &le) && le.Limit == capture.LimitFileSize
		}, 1_000_000},
		{"endless JPEG-looking", "cat " + hugeFile + "; exec sleep 60", func(err error) bool {
			var le *capture.LimitError
			return errors.As(err, &le) && le.Limit == capture.LimitPagePixels
		}, 0},
		{"dies mid-page", "head -c 1000 /dev/zero; echo 'scanimage: sane_read: Error during device I/O' >&2; exit 1", func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "Error during device I/O")
		}, 0},
		{"killed by a signal", "head -c 1000 /dev/zero; kill -SEGV $$", func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "signal")
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{Device: "test", MaxFileSize: tc.limit}, Options{Program: fakeScanimage(t, tc.body)})
			start := time.Now()
			j, err := s.Scan(context.Background(), ScanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pages, _, err := collect(t, j, time.Minute)
			if len(pages) != 0 || !tc.check(err) {
				t.Errorf("%d pages, err %v", len(pages), err)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %v", d)
			}
			if c := children(t, "scanimage"); len(c) != 0 {
				t.Errorf("children left: %v", c)
			}
		})
	}

	// A driver that ignores SIGTERM and never writes: Cancel still ends the
	// job, by SIGKILL to its group after the grace period.
	s := New(Config{Device: "test"}, Options{Program: fakeScanimage(t, "trap '' TERM; sleep 60 & wait"), StopGrace: 300 * time.Millisecond})
	j, err := s.Scan(context.Background(), ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the fake driver to start", func() bool { return len(children(t, "scanimage")) == 1 })
	j.Cancel()
	select {
	case <-j.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("a deaf driver kept the job alive")
	}
	if !errors.Is(j.Err(), context.Canceled) {
		t.Errorf("Err %v", j.Err())
	}
}

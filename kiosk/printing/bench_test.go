package printing

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"accesskiosk/internal/ipp/ipptest"
)

// BenchmarkSubmitThreePages is the back end's part of "Print tapped → job
// accepted by the printer" for a 3-page PDF (Chromium's print-to-PDF of
// testdata/three-pages.html) on a real IPP Everywhere printer on loopback
// (ippeveprinter), side by side with CUPS's own reference client, ipptool,
// sending the same file with Print-Job:
//
//   - session: Session.Print as the panel calls it (limits, rate, the
//     printer's attributes at most 30 s old, Create-Job + Send-Document);
//   - ipptool: one ipptool process per job, Print-Job.
//
// Between jobs the benchmark waits, off the clock, until the printer has
// finished the last one (ippeveprinter takes one job at a time). It
// reports the median and p99 of each, and their ratio.
func BenchmarkSubmitThreePages(b *testing.B) {
	ipptest.Need(b, "ippeveprinter", "ipptool", "pdfinfo")
	pr := ipptest.StartPrinter(b, ipptest.PrinterOptions{})
	ctx := context.Background()
	doc := threePages(b)
	clock := newClock()
	cfg := Config{Printer: pr.URI, JobsPerMinute: 30, PagesPerSession: 500, PagesPerDay: 10000}
	if err := cfg.Validate(nil, "printing"); err != nil {
		b.Fatal(err)
	}
	svc, err := New(cfg, Options{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	testFile := filepath.Join(b.TempDir(), "print.test")
	os.WriteFile(testFile, []byte(`{
OPERATION Print-Job
GROUP operation-attributes-tag
ATTR charset attributes-charset utf-8
ATTR naturalLanguage attributes-natural-language en
ATTR uri printer-uri $uri
ATTR name requesting-user-name kiosk
ATTR name job-name "Access Kiosk"
ATTR mimeMediaType document-format application/pdf
FILE $filename
STATUS successful-ok
}
`), 0o644)

	waitIdle := func() { pr.WaitIdle(b) }
	var ours, theirs []time.Duration
	sess := svc.StartSession()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		waitIdle()
		clock.Add(time.Minute) // keep the kiosk's rate and day limits out of the way
		if sess.PagesLeft() < 3 {
			sess = svc.StartSession()
		}
		b.StartTimer()
		start := time.Now()
		if _, err := sess.Print(ctx, doc, PrintOptions{}); err != nil {
			b.Fatal(err)
		}
		ours = append(ours, time.Since(start))

		b.StopTimer()
		waitIdle()
		start = time.Now()
		if out, err := exec.Command("ipptool", "-T", "30", "-f", "testdata/three-pages-chromium.pdf", pr.URI, testFile).CombinedOutput(); err != nil {
			b.Fatalf("ipptool: %v\n%s", err, out)
		}
		theirs = append(theirs, time.Since(start))
		b.StartTimer()
	}
	b.StopTimer()
	p50, p99 := percentiles(ours)
	t50, t99 := percentiles(theirs)
	b.ReportMetric(float64(p50.Microseconds())/1000, "session-p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "session-p99-ms")
	b.ReportMetric(float64(t50.Microseconds())/1000, "ipptool-p50-ms")
	b.ReportMetric(float64(t99.Microseconds())/1000, "ipptool-p99-ms")
	b.ReportMetric(float64(p50)/float64(t50), "ratio-p50")
	b.ReportMetric(float64(p99)/float64(t99), "ratio-p99")
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)]
}

// BenchmarkDocument is what the panel waits for before it can show a
// 3-page PDF: the page count (pdfinfo in a child process) and the first
// page's preview at the default width (pdftoppm).
func BenchmarkDocument(b *testing.B) {
	ipptest.Need(b, "pdfinfo", "pdftoppm")
	ctx := context.Background()
	b.Run("count", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := OpenDocument(ctx, "testdata/three-pages-chromium.pdf", DocumentOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	doc := threePages(b)
	b.Run("preview", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := doc.Preview(ctx, 1, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package shell

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// BenchmarkPickerScan is issue 15's figure: a resident's tap on a form's
// file input → Scan → two A4 pages from the SANE test device at 200 dpi
// (colour) → Use, until the form's input holds the 2-page PDF
// ("scan-to-attached"), with real taps in WebKitGTK under Xvfb; and the
// kiosk's extra memory while the picker is open with those two pages
// (PSS and USS of this process and its children, the web processes among
// them, against the same page with the picker closed).
func BenchmarkPickerScan(b *testing.B) {
	fs := startFormServer(b, "127.0.0.1", "")
	cfg := pickerConfig(b, []string{fs.URL()}, nil, true, false)
	cfg.Scanner.Mode = "colour"
	env := saneEnv(b, map[string]string{"br_x": "210.0", "br_y": "297.0"}) // A4
	ts := startPickerShell(b, cfg, Options{ScanEnv: env})
	key(b, "shift") // a session
	form := fs.URL() + "/form?accept=" + urlq("application/pdf")
	var scanT, useT []time.Duration
	var extra []mem
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ts.load(b, form)
		if !waitFor(10*time.Second, func() bool {
			return ts.uri(b) == form && evalTry(b, ts.service, `document.readyState === "complete" && !!document.getElementById("f") && document.getElementById("f").files.length === 0`) == "true"
		}) {
			b.Fatal("the form did not load")
		}
		base := stableMem()
		ts.openPicker(b)
		ts.tapSheet(b, `[data-to="scan"]`)
		ts.waitSheet(b, "the scan page", `!!document.querySelector("[data-ak-picker-page=scan] [data-ak-picker=scan]")`, 10*time.Second)
		b.StartTimer()
		start := time.Now()
		for n := 1; n <= 2; n++ {
			ts.tapSheet(b, `[data-ak-picker="scan"]`)
			ts.waitSheet(b, fmt.Sprintf("page %d scanned", n),
				fmt.Sprintf(`document.querySelectorAll(".ak-pick-page").length === %d && !document.querySelector("[data-ak-progress]")
 && Array.from(document.querySelectorAll(".ak-pick-page__img")).every(i => i.complete && i.naturalWidth > 0)`, n), 2*time.Minute)
		}
		scanned := time.Now()
		b.StopTimer()
		open := stableMem()
		b.StartTimer()
		use := time.Now()
		ts.tapSheet(b, `[data-ak-picker="use"]`)
		if !waitFor(time.Minute, func() bool {
			return !ts.pickerOpen(b) && strings.HasPrefix(ts.inputFiles(b), "scan.pdf:application/pdf:")
		}) {
			b.Fatalf("the input holds %q", ts.inputFiles(b))
		}
		done := time.Now()
		b.StopTimer()
		// The memory sample between the scans and Use is not the resident's wait.
		total := scanned.Sub(start) + done.Sub(use)
		scanT, useT = append(scanT, total), append(useT, done.Sub(use))
		extra = append(extra, mem{pss: open.pss - base.pss, uss: open.uss - base.uss})
		b.Logf("run %d: scan-to-attached %v (2 pages scanned in %v, Use to attached %v); picker open: +%d KiB PSS, +%d KiB USS (closed: %d KiB PSS)",
			i+1, total.Round(time.Millisecond), scanned.Sub(start).Round(time.Millisecond), done.Sub(use).Round(time.Millisecond),
			open.pss-base.pss, open.uss-base.uss, base.pss)
		b.StartTimer()
	}
	b.ReportMetric(msOf(median(scanT)), "scan-to-attached-ms")
	b.ReportMetric(msOf(median(useT)), "use-to-attached-ms")
	m := medianMem(extra)
	b.ReportMetric(float64(m.pss)/1024, "picker-extra-PSS-MiB")
	b.ReportMetric(float64(m.uss)/1024, "picker-extra-USS-MiB")
}

// stableMem samples this process tree's memory until two samples in a
// row agree within 1 MiB (a page just shown is still settling), at most
// 5 s, and returns the last.
func stableMem() mem {
	prev := treeMem(os.Getpid())
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		m := treeMem(os.Getpid())
		if d := m.pss - prev.pss; d < 1024 && d > -1024 {
			return m
		}
		prev = m
	}
	return prev
}

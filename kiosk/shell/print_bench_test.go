package shell

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"accesskiosk/internal/ipp/ipptest"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// BenchmarkPrintTapToAccepted: the real kiosk (WebKitGTK under Xvfb)
// prints the 3-page page to a real IPP Everywhere printer on loopback
// (ippeveprinter). Each iteration is a resident's print: a real tap on
// the page's button (window.print()) → the panel ready with the 3 pages
// previewed; a real tap on Print → the job accepted by the printer
// (Create-Job + Send-Document answered; the shell's Printed). It reports
// the median and slowest of both, in ms:
//
//	go test -run '^$' -bench PrintTapToAccepted -benchtime 10x ./kiosk/shell/
func BenchmarkPrintTapToAccepted(b *testing.B) {
	ipptest.Need(b, "ippeveprinter")
	pr := ipptest.StartPrinter(b, ipptest.PrinterOptions{})
	pt := startPrintShell(b, pr.URI, pr, "  pages_per_session: 500\n  pages_per_day: 10000\n  jobs_per_minute: 30\n")
	pt.startSession(b)
	pt.open(b, "/three")
	sent := func() ([]time.Duration, []time.Time) { // the shell's Printed so far
		pt.mu.Lock()
		defer pt.mu.Unlock()
		return append([]time.Duration(nil), pt.printed...), append([]time.Time(nil), pt.printAt...)
	}

	var toPanel, toAccepted, inShell []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x, y := pt.pointIn(b, pt.service, webkit.PartService, "#print")
		t0 := time.Now()
		xdo(b, "mousemove", x, y, "click", "1")
		p := pt.waitStep(b, ui.PrintReady)
		toPanel = append(toPanel, time.Since(t0))
		if p.Pages != 3 || len(p.Previews) != 3 {
			b.Fatalf("panel %+v, want 3 pages previewed", p)
		}
		x, y = pt.pointIn(b, pt.sheet, webkit.PartSheet, "[data-ak-print-go]")
		t1 := time.Now()
		xdo(b, "mousemove", x, y, "click", "1")
		if !waitFor(60*time.Second, func() bool { d, _ := sent(); return len(d) > i }) {
			b.Fatal("no job accepted within 60s of the tap on Print")
		}
		d, at := sent()
		toAccepted = append(toAccepted, at[i].Sub(t1))
		inShell = append(inShell, d[i])
		pt.waitStep(b, ui.PrintSent)
		pt.clickIn(b, pt.sheet, webkit.PartSheet, `[data-ak-print="print-close"]`)
		if !waitFor(10*time.Second, func() bool { return !pt.sheetShown(b) && pt.panel(b) == nil }) {
			b.Fatal("Back to the page left the sheet up")
		}
	}
	b.StopTimer()
	if n := len(pr.WaitSpool(b, b.N)); n != b.N {
		b.Fatalf("%d jobs on the printer, want %d", n, b.N)
	}
	med, most := spread(toAccepted)
	b.ReportMetric(med, "ms-tap-to-accepted-p50")
	b.ReportMetric(most, "ms-tap-to-accepted-max")
	med, _ = spread(toPanel)
	b.ReportMetric(med, "ms-tap-to-panel-p50")
	med, _ = spread(inShell)
	b.ReportMetric(med, "ms-send-p50")
	b.Logf("%d prints of 3 pages: tap on Print → accepted %v; tap on the page → panel ready %v; the shell's send %v",
		b.N, toAccepted, toPanel, inShell)
}

// pointIn is where on the screen a tap lands on sel's centre, for xdo.
func (ts *testShell) pointIn(t testing.TB, pick func() *webkit.View, part webkit.Part, sel string) (string, string) {
	t.Helper()
	q := strconv.Quote(sel)
	if !waitFor(10*time.Second, func() bool {
		return evalIn(t, pick, `document.readyState === "complete" && !!document.querySelector(`+q+`)`) == "true"
	}) {
		t.Fatalf("no %s on the page", sel)
	}
	s := evalIn(t, pick, `(function(){var e=document.querySelector(`+q+`);e.scrollIntoView({block:"center"});
var r=e.getBoundingClientRect();return (r.left+r.width/2)+","+(r.top+r.height/2)})()`)
	xy := strings.Split(strings.Trim(s, `"`), ",")
	x, _ := strconv.ParseFloat(xy[0], 64)
	y, _ := strconv.ParseFloat(xy[1], 64)
	var zoom float64
	webkittest.Do(t, func() { zoom = pick().Zoom() })
	r, ok := ts.rect(t, part, 0)
	if !ok {
		t.Fatalf("part %d not on screen", part)
	}
	return fmt.Sprint(r.X + int(x*zoom)), fmt.Sprint(r.Y + int(y*zoom))
}

// spread is the median and the slowest of ds, in ms.
func spread(ds []time.Duration) (median, most float64) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[(len(s)-1)/2].Microseconds()) / 1000, float64(s[len(s)-1].Microseconds()) / 1000
}

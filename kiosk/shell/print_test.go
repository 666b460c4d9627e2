package shell

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/internal/ipp/ipptest"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// These tests print from the real kiosk (WebKitGTK under Xvfb) to a real
// IPP Everywhere printer on loopback (ippeveprinter; CUPS in front of it
// for held jobs), with real taps (XTEST) on the page and on the panel.
// What arrived is read from the printer's own spool and with ipptool.

// threePagePage prints on three A4 sheets; its Print button calls
// window.print(), and its field holds what the resident typed, to find
// again after the panel.
const threePagePage = `<!doctype html><html lang="en"><title>Your application</title>
<style>@page { size: A4; } section { break-after: page; } section:last-child { break-after: auto; }
button { font-size: 30px; padding: 20px; } @media print { button { display: none; } }</style>
<section><h1>Application received</h1><p>Reference ABC-123</p>
<label for=note>Note</label> <input id=note>
<button id=print onclick="window.print()">Print this page</button></section>
<section><h1>Page two</h1></section>
<section><h1>Page three</h1></section>`

// printPages are the loopback pages: an allowed service, a page with a
// frame of an allow_frames origin (127.0.0.2) that calls window.print(),
// and pages that try every way around the panel.
func printPages(frameBase string) http.Handler {
	m := http.NewServeMux()
	page := func(path, body string) {
		m.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, body)
		})
	}
	page("/three", threePagePage)
	page("/framed", `<!doctype html><title>Pay</title><p>Service page</p><iframe id=f src="`+frameBase+`/payframe"></iframe>`)
	page("/loop", `<!doctype html><title>Loop</title><p>A page that will not stop asking.</p>
<script>window.calls = 0; function go() { for (let i = 0; i < 200; i++) { window.calls++; window.print(); } } go();
setInterval(go, 50);</script>`)
	page("/poster", `<!doctype html><title>Poster</title><script>
window.tries = 0;
setInterval(function () {
  for (const m of [{action: "print", copies: 1}, {action: "print-file", file: "x"}, {action: "print-close"}]) {
    const ev = new CustomEvent("accesskiosk-message", {detail: JSON.stringify(m), cancelable: true});
    document.dispatchEvent(ev);
    try { window.webkit.messageHandlers.kiosk.postMessage(JSON.stringify(m)); } catch (e) {}
    window.tries++;
  }
}, 20);</script><p>poster</p>`)
	return m
}

func framePages() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("/payframe", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>frame</title><p>card details</p><script>
setInterval(function () { try { window.print(); } catch (e) {} try { print(); } catch (e) {}
  var f = document.createElement("iframe"); document.body.appendChild(f); try { f.contentWindow.print(); } catch (e) {} f.remove(); }, 30);
</script>`)
	})
	return m
}

type printTest struct {
	*testShell
	pr       *ipptest.Printer
	base     string
	mu       sync.Mutex
	receipts []bus.Receipt
	printed  []time.Duration
	printAt  []time.Time // when each Printed was told (the bench)
}

// startPrintShell starts a printer, the pages and a kiosk printing to it;
// extra is more of the printing: section (two-space indented keys).
func startPrintShell(t testing.TB, printerURI string, pr *ipptest.Printer, extra string) *printTest {
	t.Helper()
	ipptest.Need(t, "pdfinfo", "pdftoppm")
	frames := startServer(t, "frames", "127.0.0.2", framePages())
	pt := &printTest{pr: pr}
	svc := startServer(t, "service", "127.0.0.1", printPages(frames.URL()))
	pt.base = svc.URL()
	y := fmt.Sprintf(`home_url: kiosk://home
allow:
  - %s
allow_frames:
  - %s
session:
  idle_timeout: 10m
  idle_warning: 30s
council:
  name: Test Council
printing:
  printer: %s
  cost: Free for council services
  collect: Collect your printout from the printer by the desk.
  translations: {cy: {collect: Casglwch eich copi o'r argraffydd wrth y ddesg.}}
%s`, svc.URL(), frames.URL(), printerURI, extra)
	cfg, err := config.Parse("print-test.yaml", []byte(y))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, y)
	}
	log := testLog(t)
	pages, err := NewPages(&cfg.UI, log)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Config: cfg, NoBus: true, UI: pages, Log: log, StateDir: t.TempDir(), FilesParent: t.TempDir()}
	o.Observer.SessionEnded = func(_ string, r bus.Receipt) {
		pt.mu.Lock()
		pt.receipts = append(pt.receipts, r)
		pt.mu.Unlock()
	}
	o.Observer.Printed = func(_ int, d time.Duration) {
		pt.mu.Lock()
		pt.printed = append(pt.printed, d)
		pt.printAt = append(pt.printAt, time.Now())
		pt.mu.Unlock()
	}
	pt.testShell = startShell(t, o)
	return pt
}

// startSession starts a session with a real key press.
func (pt *printTest) startSession(t testing.TB) {
	t.Helper()
	key(t, "shift")
	if !waitFor(10*time.Second, func() bool { return pt.state(t) == bus.StateInSession }) {
		t.Fatalf("no session after a key press; state %s", pt.state(t))
	}
}

// open loads path in the service view and waits until it has loaded.
func (pt *printTest) open(t testing.TB, path string) {
	t.Helper()
	pt.load(t, pt.base+path)
	if !waitFor(30*time.Second, func() bool {
		if pt.uri(t) != pt.base+path {
			return false
		}
		// The document's own address: the view's changes before it commits.
		return evalIn(t, pt.service, `document.readyState === "complete" && location.href`) == `"`+pt.base+path+`"`
	}) {
		t.Fatalf("%s did not load (view at %s)", path, pt.uri(t))
	}
}

// panel is the session's print panel now (nil when none).
func (pt *printTest) panel(t testing.TB) *ui.PrintPanel {
	var p *ui.PrintPanel
	webkittest.Do(t, func() {
		if pt.s.cur != nil && pt.s.cur.print != nil {
			c := pt.s.cur.print.panel
			p = &c
		}
	})
	return p
}

// sheet is the sheet's view.
func (pt *printTest) sheet() *webkit.View {
	if pt.s.cur == nil || pt.s.cur.sheet == nil {
		return nil
	}
	return pt.s.cur.sheet.view
}

// waitStep waits until the panel shows step, in the sheet's page too.
func (pt *printTest) waitStep(t testing.TB, step ui.PrintStep) *ui.PrintPanel {
	t.Helper()
	var p *ui.PrintPanel
	if !waitFor(60*time.Second, func() bool {
		p = pt.panel(t)
		if p == nil || p.Step != step {
			return false
		}
		var u string
		webkittest.Do(t, func() {
			if v := pt.sheet(); v != nil {
				u = v.URI()
			}
		})
		if !strings.HasPrefix(u, "kiosk://print") {
			return false
		}
		return evalIn(t, pt.sheet, `document.readyState === "complete" && (document.querySelector("[data-ak-print-step]")||{}).getAttribute && document.querySelector("[data-ak-print-step]").getAttribute("data-ak-print-step")`) == `"`+string(step)+`"`
	}) {
		t.Fatalf("print panel: want step %s, have %+v", step, p)
	}
	return p
}

func (pt *printTest) sheetShown(t testing.TB) bool {
	var shown bool
	webkittest.Do(t, func() { shown, _ = pt.s.SheetShown(); shown = shown && pt.s.win.SheetShown() })
	return shown
}

func (pt *printTest) lastReceipt(t *testing.T, n int) bus.Receipt {
	t.Helper()
	if !waitFor(30*time.Second, func() bool {
		pt.mu.Lock()
		defer pt.mu.Unlock()
		return len(pt.receipts) >= n
	}) {
		t.Fatalf("no receipt %d within 30s", n)
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return pt.receipts[n-1]
}

func pdfPageCount(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command("pdfinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo on the printer's copy: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo gave no page count:\n%s", out)
	}
	var n int
	fmt.Sscan(string(m[1]), &n)
	return n
}

// TestPrintPageEndToEnd: an allowed page calls window.print() (a real tap
// on its button) → the panel shows its 3 pages → a real tap on Print →
// the printer receives one PDF job of 3 pages, named and owned by the
// kiosk; the page under the panel is as the resident left it; the
// session's end says print_jobs cleared with counts.
func TestPrintPageEndToEnd(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	pt := startPrintShell(t, pr.URI, pr, "")
	pt.startSession(t)
	pt.open(t, "/three")
	evalIn(t, pt.service, `document.getElementById("note").value = "kept"; true`)
	pt.clickIn(t, pt.service, webkit.PartService, "#print")
	p := pt.waitStep(t, ui.PrintReady)
	if p.Pages != 3 || len(p.Previews) != 3 || p.MaxCopies != 3 || p.PagesLeft != 20 {
		t.Errorf("panel %+v, want 3 pages previewed, 3 copies, 20 pages left", p)
	}
	if got := evalIn(t, pt.sheet, `document.querySelector("[data-ak-print-pages]").getAttribute("data-ak-print-pages") + "|" + document.querySelectorAll(".ak-print__sheet img").length + "|" + document.querySelector(".ak-print__collect").textContent.trim()`); got != `"3|3|Collect your printout from the printer by the desk."` {
		t.Errorf("panel page shows %s", got)
	}
	// The rendered PDF lived only as long as it took to read it.
	var dir string
	webkittest.Do(t, func() { dir = pt.s.cur.files.Dir() })
	if left := filesOf(t, dir); len(left) != 0 {
		t.Errorf("the session's folder still holds %v", left)
	}
	if !pt.sheetShown(t) {
		t.Fatal("no sheet over the page")
	}

	pt.clickIn(t, pt.sheet, webkit.PartSheet, "[data-ak-print-go]")
	p = pt.waitStep(t, ui.PrintSent)
	files := pr.WaitSpool(t, 1)
	if n := pdfPageCount(t, files[0]); n != 3 {
		t.Errorf("the printer got %d pages, want 3", n)
	}
	data, _ := os.ReadFile(files[0])
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Errorf("the printer got no PDF")
	}
	a := ipptest.JobAttributes(t, pr.URI, 1)
	if a["job-name"] != "Access Kiosk" || a["job-originating-user-name"] != "kiosk" {
		t.Errorf("job on the printer: name %q, user %q", a["job-name"], a["job-originating-user-name"])
	}
	if p.JobPages != 3 || p.PagesLeft != 17 {
		t.Errorf("sent panel %+v", p)
	}

	pt.clickIn(t, pt.sheet, webkit.PartSheet, `[data-ak-print="print-close"]`)
	if !waitFor(10*time.Second, func() bool { return !pt.sheetShown(t) && pt.panel(t) == nil }) {
		t.Fatal("Back to the page left the sheet up")
	}
	if got := evalIn(t, pt.service, `location.pathname + "|" + document.getElementById("note").value`); got != `"/three|kept"` {
		t.Errorf("the page after the panel: %s, want it as it was", got)
	}

	webkittest.Do(t, func() { pt.s.endSession(bus.ReasonToolbar) })
	r := pt.lastReceipt(t, 1)
	if !contains(r.Cleared, bus.ClearedPrintJobs) || contains(r.Failed, bus.ClearedPrintJobs) ||
		r.PrintJobs != 1 || r.PrintPages != 3 || r.PrintCancelled != 0 {
		t.Errorf("receipt %+v: want print_jobs cleared, 1 job, 3 pages", r)
	}
	if got := len(pr.SpoolFiles(t)); got != 1 {
		t.Errorf("%d jobs reached the printer, want 1", got)
	}
}

// TestPrintQuota: past the session's pages the panel says so with the
// counts and sends nothing; too many copies go back to the choices with
// the reason; a print posted past the limit anyway is refused the same.
func TestPrintQuota(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	pt := startPrintShell(t, pr.URI, pr, "  pages_per_session: 8\n  pages_per_day: 8\n")
	pt.startSession(t)
	pt.open(t, "/three")
	printOnce := func() {
		t.Helper()
		pt.clickIn(t, pt.service, webkit.PartService, "#print")
		pt.waitStep(t, ui.PrintReady)
	}
	printOnce()
	pt.clickIn(t, pt.sheet, webkit.PartSheet, "[data-ak-print-go]")
	pt.waitStep(t, ui.PrintSent)
	pr.WaitSpool(t, 1)
	pt.clickIn(t, pt.sheet, webkit.PartSheet, `[data-ak-print="print-close"]`)
	waitFor(10*time.Second, func() bool { return pt.panel(t) == nil })

	// 5 pages left: one copy fits, two do not.
	printOnce()
	if got := evalIn(t, pt.sheet, `document.querySelector("[data-ak-print-left]").getAttribute("data-ak-print-left")`); got != `"5"` {
		t.Errorf("pages left shown: %s, want 5", got)
	}
	pt.clickIn(t, pt.sheet, webkit.PartSheet, `label[for="print-copies-2"]`)
	if got := evalIn(t, pt.sheet, `[document.querySelector("[data-ak-print-go]").disabled, document.querySelector("[data-ak-print-toomany]").hidden].join()`); got != `"true,false"` {
		t.Errorf("2 copies of 3 pages with 5 left: Print disabled, message hidden = %s", got)
	}
	// Posted anyway (as a page that got around the button would): refused
	// by the printing session with the counts, back to the choices.
	pt.post(t, fromSheet, `{"action":"print","copies":2,"color":false}`)
	// The panel was ready before: wait for the refusal, on the page too.
	if !waitFor(30*time.Second, func() bool {
		p := pt.panel(t)
		return p != nil && p.Step == ui.PrintReady && p.Problem.Code != "" &&
			evalIn(t, pt.sheet, `!!document.querySelector("[data-ak-print-problem]")`) == "true"
	}) {
		t.Fatalf("no refusal shown; panel %+v", pt.panel(t))
	}
	p := pt.waitStep(t, ui.PrintReady)
	if p.Problem.Code != ui.ProblemQuotaSession || p.Problem.Want != 6 || p.Problem.Left != 5 {
		t.Errorf("problem %+v, want quota_session 6 wanted, 5 left", p.Problem)
	}
	// The ready page from before the post may still be the one shown
	// (the sending page and this one are loading): wait for the message.
	var got string
	if !waitFor(10*time.Second, func() bool {
		got = evalTry(t, pt.sheet, `(document.querySelector("[data-ak-print-problem]")||{}).textContent||""`)
		return strings.Contains(got, "Pages this print needs: 6. Pages left: 5.")
	}) {
		t.Errorf("message: %s", got)
	}
	pt.clickIn(t, pt.sheet, webkit.PartSheet, `label[for="print-copies-1"]`)
	pt.clickIn(t, pt.sheet, webkit.PartSheet, "[data-ak-print-go]")
	pt.waitStep(t, ui.PrintSent)
	pr.WaitSpool(t, 2)
	pt.clickIn(t, pt.sheet, webkit.PartSheet, `[data-ak-print="print-close"]`)
	waitFor(10*time.Second, func() bool { return pt.panel(t) == nil })

	// 2 pages left, 3 to print: the panel says so and offers no Print.
	printOnce2 := func() *ui.PrintPanel {
		pt.clickIn(t, pt.service, webkit.PartService, "#print")
		return pt.waitStep(t, ui.PrintFailed)
	}
	p = printOnce2()
	if p.Problem.Code != ui.ProblemQuotaSession && p.Problem.Code != ui.ProblemQuotaDay || p.Problem.Left != 2 || p.Problem.Want != 3 {
		t.Errorf("problem %+v", p.Problem)
	}
	if got := evalIn(t, pt.sheet, `!!document.querySelector("[data-ak-print-go]") + "|" + document.querySelector("[data-ak-print-problem]").textContent`); !strings.Contains(got, "false|") || !strings.Contains(got, "needs: 3.") {
		t.Errorf("past the limit the panel shows %s", got)
	}
	pt.post(t, fromSheet, `{"action":"print","copies":1,"color":false}`)
	// The session ends after the post was handled (both on the GTK loop,
	// in order); a job the post had started would be on the receipt, sent
	// or cancelled with the session.
	webkittest.Do(t, func() { pt.s.endSession(bus.ReasonToolbar) })
	r := pt.lastReceipt(t, 1)
	if r.PrintJobs != 2 || r.PrintPages != 6 || r.PrintCancelled != 0 {
		t.Errorf("receipt %+v: want 2 jobs, 6 pages, none cancelled", r)
	}
	if n := len(pr.SpoolFiles(t)); n != 2 {
		t.Errorf("%d jobs reached the printer, want 2", n)
	}
}

// TestPrintHeldCancelledAtSessionEnd: with release: pin the job waits on
// the print server (CUPS) with the code the panel shows; the session ends
// without it released and the job is cancelled there; the receipt says so.
func TestPrintHeldCancelledAtSessionEnd(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	cups := ipptest.StartCUPS(t)
	queue := cups.AddQueue(t, "desk", pr.URI)
	pt := startPrintShell(t, queue, pr, "  release: pin\n")
	pt.startSession(t)
	pt.open(t, "/three")
	pt.clickIn(t, pt.service, webkit.PartService, "#print")
	pt.waitStep(t, ui.PrintReady)
	pt.clickIn(t, pt.sheet, webkit.PartSheet, "[data-ak-print-go]")
	p := pt.waitStep(t, ui.PrintSent)
	var code string
	var jobs int
	webkittest.Do(t, func() {
		code = pt.s.printing.sess.ReleaseCode()
		jobs = len(pt.s.printing.sess.Jobs())
	})
	if !regexp.MustCompile(`^\d{4}$`).MatchString(code) || p.ReleaseCode != code || jobs != 1 {
		t.Fatalf("release code %q, panel %q, jobs %d", code, p.ReleaseCode, jobs)
	}
	if got := evalIn(t, pt.sheet, `document.querySelector("[data-ak-print-code]").textContent`); got != `"`+code+`"` {
		t.Errorf("the panel shows code %s, want %s", got, code)
	}
	var id int
	webkittest.Do(t, func() { id = pt.s.printing.sess.Jobs()[0].ID })
	a := ipptest.JobAttributes(t, queue, id)
	if a["job-state"] != "pending-held" || a["job-name"] != "Access Kiosk "+code {
		t.Fatalf("on CUPS: state %q, name %q", a["job-state"], a["job-name"])
	}

	webkittest.Do(t, func() { pt.s.endSession(bus.ReasonIdle) })
	r := pt.lastReceipt(t, 1)
	if !contains(r.Cleared, bus.ClearedPrintJobs) || r.PrintJobs != 1 || r.PrintCancelled != 1 || r.PrintPages != 0 {
		t.Errorf("receipt %+v: want print_jobs cleared, 1 job cancelled, 0 pages printed", r)
	}
	if st := ipptest.JobState(t, queue, id); st != "canceled" {
		t.Errorf("on the print server the job is %q after the session ended, want canceled", st)
	}
	if files := pr.SpoolFiles(t); len(files) != 0 {
		t.Errorf("the held job reached the printer: %v", files)
	}
}

// TestPrintFromYourFiles: the toolbar's Print on the kiosk's own page
// offers the session's PDFs; one of them prints with its pages.
func TestPrintFromYourFiles(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	pt := startPrintShell(t, pr.URI, pr, "")
	pt.startSession(t)
	var id string
	var err error
	webkittest.Do(t, func() {
		var f SessionFile
		f, err = pt.s.cur.files.Add(KindDownload, "council-tax-bill.pdf", "application/pdf", bytes.NewReader(ipptest.PDF(2)))
		id = f.ID
	})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := pt.rect(t, webkit.PartButton, toolPrint)
	if !ok {
		t.Fatal("no Print button on the toolbar")
	}
	clickAt(t, r)
	pt.waitStep(t, ui.PrintFiles)
	if got := evalIn(t, pt.sheet, `document.querySelector("[data-file]").getAttribute("data-file") + "|" + document.querySelector("[data-file]").textContent.trim()`); !strings.Contains(got, id+"|") || !strings.Contains(got, "council-tax-bill.pdf") {
		t.Errorf("files listed: %s", got)
	}
	pt.clickIn(t, pt.sheet, webkit.PartSheet, `[data-file="`+id+`"]`)
	p := pt.waitStep(t, ui.PrintReady)
	if p.Pages != 2 || !p.FromFile || p.FileName != "council-tax-bill.pdf" {
		t.Errorf("panel %+v", p)
	}
	pt.clickIn(t, pt.sheet, webkit.PartSheet, "[data-ak-print-go]")
	pt.waitStep(t, ui.PrintSent)
	files := pr.WaitSpool(t, 1)
	if got, _ := os.ReadFile(files[0]); !bytes.Equal(got, ipptest.PDF(2)) {
		t.Error("the printer got something other than the file")
	}
}

// TestPrintHostile: no way around the panel. A frame of an allow_frames
// origin calling window.print() (itself, bare, through a child frame) in
// a loop opens nothing; a page looping window.print() gets one panel, and
// no job without a tap; a remote page posting the panel's messages (as
// events and to a handler) reaches nothing, under the panel or not; the
// kiosk's own page in the service view and the guide pane may not post
// them; nothing is printed without a tap on Print, and each tap one job.
func TestPrintHostile(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	pt := startPrintShell(t, pr.URI, pr, "")
	pt.startSession(t)
	dropped := func() uint64 {
		var n uint64
		webkittest.Do(t, func() { n = pt.s.printing.dropped })
		return n
	}

	// A page of an origin in neither list never loads, so it has nothing
	// to print from (the view stays on the kiosk's page, which cannot be
	// printed from a page's window.print()).
	off := startServer(t, "off-list", "127.0.0.3", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><title>off</title><script>setInterval(function(){window.print()}, 20)</script>`)
	}))
	pt.load(t, off.URL()+"/page")
	time.Sleep(time.Second)
	if u := pt.uri(t); !strings.HasPrefix(u, "kiosk://") {
		t.Fatalf("off-list page: view at %s", u)
	}
	evalIn(t, pt.service, `window.print(); true`)
	time.Sleep(time.Second)
	if pt.panel(t) != nil || pt.sheetShown(t) || off.count("GET /page") != 0 {
		t.Fatalf("off-list page: panel %v, requests %v", pt.panel(t), off.requests())
	}

	// An allow_frames frame printing in a loop: nothing.
	pt.open(t, "/framed")
	time.Sleep(2 * time.Second) // the frame has tried ~60 times by now
	if pt.panel(t) != nil || pt.sheetShown(t) {
		t.Fatal("a frame of an allow_frames origin opened the print panel")
	}

	// A page looping window.print(): one panel.
	pt.open(t, "/loop")
	pt.waitStep(t, ui.PrintReady)
	time.Sleep(2 * time.Second) // thousands more calls
	if !pt.sheetShown(t) || dropped() == 0 {
		t.Errorf("loop: sheet %v, %d requests dropped while the panel was up", pt.sheetShown(t), dropped())
	}
	var printDrops uint64
	webkittest.Do(t, func() { printDrops = pt.s.view.PrintsDropped() })
	t.Logf("loop: %d requests dropped by the shell, %d by the binding", dropped(), printDrops)
	// The toolbar's Print while a panel is up: dropped too.
	before := dropped()
	webkittest.Do(t, func() { pt.s.button(toolPrint) })
	if dropped() != before+1 {
		t.Error("a second panel was not refused")
	}

	// The panel's messages from anywhere but the sheet: refused.
	refused := pt.refused(t)
	pt.post(t, fromService, `{"action":"print","copies":1,"color":false}`)
	pt.post(t, fromPane, `{"action":"print","copies":1,"color":false}`)
	pt.post(t, fromService, `{"action":"print-close"}`)
	if got := pt.refused(t) - refused; got != 3 {
		t.Errorf("%d of 3 messages from the service view and pane refused", got)
	}
	// Hostile values from the sheet: refused.
	for _, m := range []string{`{"action":"print","copies":0}`, `{"action":"print","copies":4}`, `{"action":"print","copies":"1"}`,
		`{"action":"print-file","file":"../../etc/passwd"}`, `{"action":"print-file"}`} {
		refused = pt.refused(t)
		pt.post(t, fromSheet, m)
		if pt.refused(t) != refused+1 {
			t.Errorf("%s from the sheet was not refused", m)
		}
	}
	if n := len(pr.SpoolFiles(t)); n != 0 {
		t.Fatalf("%d jobs reached the printer without a tap", n)
	}
	// One tap, one job, however the page goes on asking.
	pt.clickIn(t, pt.sheet, webkit.PartSheet, "[data-ak-print-go]")
	pt.waitStep(t, ui.PrintSent)
	pt.post(t, fromSheet, `{"action":"print","copies":1,"color":false}`) // again, on the sent panel
	time.Sleep(time.Second)
	if n := len(pr.SpoolFiles(t)); n != 1 {
		t.Errorf("%d jobs after one tap, want 1", n)
	}
	pt.clickIn(t, pt.sheet, webkit.PartSheet, `[data-ak-print="print-close"]`)

	// A remote page posting the panel's messages every 20 ms, with the
	// panel closed and then open over it: nothing reaches the shell.
	pt.open(t, "/poster")
	refused = pt.refused(t)
	time.Sleep(time.Second)
	webkittest.Do(t, func() { pt.s.button(toolPrint) }) // the poster's page printed: a panel over it
	pt.waitStep(t, ui.PrintReady)
	time.Sleep(2 * time.Second)
	if got := pt.refused(t) - refused; got != 0 {
		t.Errorf("%d messages from the remote page reached the bridge", got)
	}
	if tries := evalIn(t, pt.service, `window.tries`); tries == "0" {
		t.Error("the poster did not run")
	}
	if p := pt.panel(t); p == nil || p.Step != ui.PrintReady {
		t.Errorf("the poster changed the panel: %+v", p)
	}
	if n := len(pr.SpoolFiles(t)); n != 1 {
		t.Errorf("%d jobs, want the one tapped", n)
	}
}

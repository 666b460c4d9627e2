package insights

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// need skips a test when something it needs is missing, except under
// CI=true, where `make deps` and `make assets` must have provided it.
func need(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s missing (make deps && make assets)", what)
	}
	t.Skipf("%s missing (make deps && make assets); skipping", what)
}

func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// browser starts real headless Chromium with a fresh profile; host names
// other than loopback resolve to nothing.
func browser(t testing.TB) context.Context {
	t.Helper()
	_, err := exec.LookPath(chromiumPath)
	need(t, err == nil, chromiumPath)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))`

// cspWatch records Content-Security-Policy violations, so that a test can
// see that the page needs no inline style or script.
const cspWatch = `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`

// consoleCSP is the console's own policy (fleet/console): no inline
// style, so the charts must not need any.
const consoleCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// testPages is a council's pages, served the way the console and a saved
// report are: the page under the console's CSP, the report under ReportCSP.
func testPages(t *testing.T) (string, []string) {
	css, ok := Stylesheet()
	need(t, ok && len(reportCSS()) > 0, "fleet/insights/assets/*.css")
	in := seedInput(7, councilSites, Date{2025, time.April, 1}, 12)
	// Shepway's March has a day of ones and twos, and Riverside is tiny:
	// plenty of "fewer than 5".
	pages := map[string]*Figures{
		"/site-month":  mustBuild(in, "central", MonthOf(2025, time.November), 5),
		"/all-year":    mustBuild(in, "", FinancialYear(2025, time.April), 5),
		"/small-month": mustBuild(in, "riverside", MonthOf(2025, time.June), 5),
		"/no-hours":    mustBuild(in, "mobile", FinancialQuarter(2025, 3, time.April), 5),
	}
	mux := http.NewServeMux()
	var paths []string
	for path, f := range pages {
		paths = append(paths, path, path+"/report")
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", consoleCSP)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			f.RenderPage(w, PageOptions{Council: "Anytown Council", Stylesheet: "/insights.css",
				ExportURL: func(id, format string) string { return path + "/" + id + "." + format }})
		})
		mux.HandleFunc("GET "+path+"/report", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", ReportCSP())
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			f.RenderReport(w, ReportOptions{Council: "Anytown Council", Made: "1 May 2026", Version: "test"})
		})
	}
	mux.HandleFunc("GET /insights.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Write(css)
	})
	mux.HandleFunc("GET /control", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>x</title></head><body><main><img src="/nothing.png"><a href="/"></a><div style="width:900px">wide</div></main></body></html>`)
	})
	return serve(t, mux), paths
}

func setMedia(ctx context.Context, forced bool) error {
	p := emulation.SetEmulatedMediaParams{}
	if forced {
		p.Features = []*emulation.MediaFeature{{Name: "forced-colors", Value: "active"}}
	}
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, p)
		return err
	}))
}

// TestChartsInChromium runs axe-core in real headless Chromium on every
// kind of page (a site's month, all sites' year, a tiny site, a site
// without opening hours, and each one's report) at desktop width, at
// 320 CSS px (WCAG 1.4.10, with every table opened) and in forced-colours
// (high contrast) mode: no serious or critical violation, no sideways
// scrolling, no blocked inline style, and charts that stay legible.
func TestChartsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	axePath := filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js")
	axeSrc, err := os.ReadFile(axePath)
	need(t, err == nil, axePath)
	base, paths := testPages(t)
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, src := range []string{string(axeSrc), cspWatch} {
			if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
				return err
			}
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	load := func(url string, width int64) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
	}
	eval := func(what, expr string, out any) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
		if err == nil {
			err = json.Unmarshal(raw, out)
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	axe := func(what string) {
		t.Helper()
		var got []axeViolation
		eval(what+": axe", axeRun, &got)
		for _, v := range got {
			t.Errorf("%s: %s %s: %s\n    %s", what, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
		}
	}
	overflow := func() (int, int) {
		var w [2]int
		eval("widths", `(() => { document.querySelectorAll("details").forEach(d => d.open = true);
			return [document.documentElement.scrollWidth, window.innerWidth]; })()`, &w)
		return w[0], w[1]
	}

	// Controls: axe must fault a faulty page, and the width check must
	// see a page that scrolls sideways.
	load(base+"/control", 320)
	var control []axeViolation
	eval("control", axeRun, &control)
	ids := map[string]bool{}
	for _, v := range control {
		ids[v.ID] = true
	}
	if !ids["image-alt"] || !ids["link-name"] {
		t.Fatalf("axe missed the control page's faults: %+v", control)
	}
	if sw, w := overflow(); sw <= w {
		t.Fatalf("the control page is %d px wide in a %d px window: the reflow check sees nothing", sw, w)
	}

	for _, path := range paths {
		url := base + path
		for _, forced := range []bool{false, true} {
			if err := setMedia(ctx, forced); err != nil {
				t.Fatal(err)
			}
			mode := ""
			if forced {
				mode = " (forced colours)"
			}
			load(url, 1280)
			axe(path + mode)
			var csp []string
			eval("csp", `window.__csp`, &csp)
			if len(csp) > 0 {
				t.Errorf("%s: the Content-Security-Policy blocked %v", path, csp)
			}
			var styled bool
			eval("styled", `getComputedStyle(document.querySelector("h1")).fontWeight === "700"`, &styled)
			if !styled {
				t.Errorf("%s: the stylesheet did not apply", path)
			}
			// Every chart draws its own white background and dark text,
			// which Chromium leaves alone in forced colours: still legible.
			var svgs []string
			eval("svg colours", `[...document.querySelectorAll("svg.ak-chart__svg")].map(s =>
				getComputedStyle(s.querySelector(":scope > rect")).fill + " " + getComputedStyle(s.querySelector("text")).fill)`, &svgs)
			if len(svgs) < 3 {
				t.Errorf("%s: %d charts", path, len(svgs))
			}
			for _, s := range svgs {
				if s != "rgb(255, 255, 255) rgb(11, 12, 12)" {
					t.Errorf("%s%s: a chart's background and text are %s", path, mode, s)
				}
			}
			load(url, 320)
			if sw, w := overflow(); sw > w {
				t.Errorf("%s%s at 320 px: the page is %d px wide: it scrolls sideways", path, mode, sw)
			}
			axe(path + " at 320 px" + mode)
			var tooWide []string
			eval("chart widths", `[...document.querySelectorAll("svg, table")].filter(e => {
				const box = e.closest(".ak-table-scroll") || e; return box.getBoundingClientRect().right > window.innerWidth + 0.5;
			}).map(e => e.id || e.className.baseVal || e.className)`, &tooWide)
			if len(tooWide) > 0 {
				t.Errorf("%s%s at 320 px: wider than the screen: %v", path, mode, tooWide)
			}
		}
	}
	if err := setMedia(ctx, false); err != nil {
		t.Fatal(err)
	}

	// The report prints on A4.
	for _, path := range []string{"/site-month/report", "/all-year/report"} {
		load(base+path, 1280)
		pdf := printPDF(t, ctx)
		checkPDF(t, path, pdf, base+path, ctx)
	}
}

func printPDF(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var pdf []byte
	yes := true
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: &yes, PrintBackground: &yes, GenerateTaggedPDF: &yes})
		pdf = res.Data
		return err
	}))
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	return pdf
}

var numberRE = regexp.MustCompile(`[0-9][0-9,.]*`)

// checkPDF checks the printed report: A4 pages, and no number in its text
// that the report's HTML does not show (printing adds nothing).
func checkPDF(t *testing.T, what string, pdf []byte, url string, ctx context.Context) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("%s: not a PDF", what)
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := exec.LookPath("pdfinfo")
	need(t, err == nil, "pdfinfo (poppler-utils)")
	info, err := exec.Command("pdfinfo", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Page size:\s+59[45]\.\d+ x 84[12]\.\d+ pts \(A4\)`).Match(info) {
		t.Errorf("%s: not A4:\n%s", what, info)
	}
	pages := regexp.MustCompile(`Pages:\s+(\d+)`).FindSubmatch(info)
	t.Logf("%s prints on %s A4 pages", what, pages[1])
	text, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	htmlText, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText + " " + [...document.querySelectorAll("svg text")].map(e => e.textContent).join(" ")`))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, n := range numberRE.FindAllString(htmlText, -1) {
		shown[strings.TrimRight(n, ".,")] = true
	}
	for _, n := range numberRE.FindAllString(string(text), -1) {
		if n = strings.TrimRight(n, ".,"); !shown[n] {
			t.Errorf("%s: the PDF shows %q, which the report does not", what, n)
		}
	}
	if !strings.Contains(string(text), "fewer than 5") {
		t.Errorf("%s: the PDF has no \"fewer than 5\"", what)
	}
}

// TestScreenshots saves the Insights page (a site's month, all sites'
// year, at 1280 and 320 px, and in forced colours) and the report (as a
// PDF and its pages as printed) into $SCREENSHOTS (make
// screenshots-insights). Without the variable it skips.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("SCREENSHOTS")
	if dir == "" {
		t.Skip("set SCREENSHOTS=DIR to save screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base, _ := testPages(t)
	ctx := browser(t)
	shot := func(name, path string, width int64, forced, print bool) {
		t.Helper()
		if err := setMedia(ctx, forced); err != nil {
			t.Fatal(err)
		}
		if print {
			if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
				return err
			})); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("body")))
		var png []byte
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "insights-"+name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shot("site-month", "/site-month", 1280, false, false)
	shot("all-sites-year", "/all-year", 1280, false, false)
	shot("site-month-320px", "/site-month", 320, false, false)
	shot("small-site-month-320px", "/small-month", 320, false, false)
	shot("site-month-forced-colours", "/site-month", 1280, true, false)
	shot("report-site-month-print", "/site-month/report", 794, false, true)
	if err := setMedia(ctx, false); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"site-month", "all-year"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"+r+"/report"), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "insights-report-"+r+".pdf"), printPDF(t, ctx), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
}

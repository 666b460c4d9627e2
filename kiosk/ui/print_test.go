package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"accesskiosk/kiosk/printing"
)

// testPreviews are real previews of a real print-to-PDF (kiosk/printing's
// Chromium-printed three pages), drawn once by the printing package.
var testPreviews = sync.OnceValues(func() ([][]byte, error) {
	doc, err := printing.OpenDocument(context.Background(), filepath.Join("..", "printing", "testdata", "three-pages-chromium.pdf"), printing.DocumentOptions{})
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for n := 1; n <= doc.Pages(); n++ {
		png, err := doc.Preview(context.Background(), n, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, png)
	}
	return out, nil
})

// testPanels are the print panel's steps as the shell would show them,
// by the name the tests ask for (?state=NAME).
func testPanels(t testing.TB) map[string]*PrintPanel {
	t.Helper()
	previews, err := testPreviews()
	need(t, err == nil, fmt.Sprintf("previews of the test PDF (poppler-utils): %v", err))
	files := []PrintFile{{ID: "f1", Name: "council-tax-bill-2026.pdf"}, {ID: "f2", Name: "Universal Credit confirmation.pdf"}}
	ready := func(edit func(p *PrintPanel)) *PrintPanel {
		p := &PrintPanel{Step: PrintReady, Pages: 3, Previews: previews, MaxCopies: 3, Copies: 1, Color: true, PagesLeft: 17,
			Cost: "Free for council services", Collect: "Collect your printout from the printer by the desk.", Files: files}
		if edit != nil {
			edit(p)
		}
		return p
	}
	return map[string]*PrintPanel{
		"preparing": {Step: PrintPreparing},
		"ready":     ready(nil),
		"ready-mono": ready(func(p *PrintPanel) {
			p.Color, p.Files, p.Cost = false, nil, ""
		}),
		"ready-file": ready(func(p *PrintPanel) { p.FromFile, p.FileName = true, files[0].Name }),
		"ready-quota": ready(func(p *PrintPanel) {
			p.PagesLeft, p.Copies = 4, 2
			p.Problem = PrintProblem{Code: ProblemQuotaSession, Want: 6, Left: 4}
		}),
		"ready-long": ready(func(p *PrintPanel) { p.Pages = 12 }),
		"sending":    {Step: PrintSending, JobPages: 3},
		"sent":       {Step: PrintSent, JobPages: 6, PagesLeft: 11, Cost: "10p a page, pay at the desk", Collect: "Collect your printout from the printer by the desk."},
		"sent-held": {Step: PrintSent, JobPages: 3, PagesLeft: 14, ReleaseCode: "4821",
			Collect: "Collect your printout from the printer by the desk."},
		"failed":     {Step: PrintFailed, Problem: PrintProblem{Code: ProblemPrinterOffline}, Files: files},
		"failed-day": {Step: PrintFailed, Problem: PrintProblem{Code: ProblemQuotaDay, Want: 3, Left: 0}},
		"files":      {Step: PrintFiles, Files: files},
		"files-none": {Step: PrintFiles},
	}
}

// withPanels serves pages with the print panel ?state=NAME names in each
// request's context, as the shell does with the session's panel.
func withPanels(t testing.TB, pages http.Handler) http.Handler {
	panels := testPanels(t)
	for name, p := range panels {
		if len(p.Previews) > 0 {
			p.Key = name // preview URLs carry ?doc=NAME
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("state")
		if name == "" {
			name = r.URL.Query().Get("doc")
		}
		if p, ok := panels[name]; ok {
			r = r.WithContext(WithPrintPanel(r.Context(), p))
		}
		pages.ServeHTTP(w, r)
	})
}

// printPaths are the print panel's steps for the page tests.
func printPaths() []string {
	return []string{"/print?state=preparing", "/print?state=ready", "/print?state=ready-mono", "/print?state=ready-file",
		"/print?state=ready-quota", "/print?state=sending", "/print?state=sent", "/print?state=sent-held",
		"/print?state=failed", "/print?state=failed-day", "/print?state=files", "/print?state=files-none", "/print"}
}

// TestPrintPanelSteps renders every step in every language: each says
// what it must (counts, cost and collect lines, the release code, the
// problem with its counts), nothing falls back to a missing key, and the
// previews are served from the panel only.
func TestPrintPanelSteps(t *testing.T) {
	h := withPanels(t, newTestPages(t, defaultConfig(t)))
	want := map[string][]string{
		"preparing":   {"print.preparing.title"},
		"ready":       {"print.pages|3", "print.left|17", "Free for council services", "by the desk", `name="colour"`, `id="print-copies-3"`, "/print/preview/3?doc=ready", "council-tax-bill-2026.pdf", "print.go"},
		"ready-mono":  {"print.pages|3", `id="print-copies-1"`},
		"ready-file":  {"print.title.file", "council-tax-bill-2026.pdf"},
		"ready-quota": {"print.problem.quota_session|6|4", `id="print-copies-2" name="copies" type="radio" value="2" checked`},
		"ready-long":  {"print.preview.first|3", "print.pages|12"},
		"sending":     {"print.sending.title"},
		"sent":        {"print.sent.pages|6", "print.left|11", "10p a page", "print.sent.now"},
		"sent-held":   {"print.sent.code", ">4821<", "print.sent.code.hint"},
		"failed":      {"print.problem.printer_offline", "Universal Credit confirmation.pdf", "print.back"},
		"failed-day":  {"print.problem.quota_day|3|0"},
		"files":       {"council-tax-bill-2026.pdf", "print.back"},
		"files-none":  {"print.yourfiles.none"},
		"":            {"print.yourfiles.none"},
	}
	for _, lang := range Languages() {
		tr := translator{lang: lang, cats: catalogs}
		for state, wants := range want {
			w := get(t, h, "/print?state="+state+"&lang="+lang)
			body := w.Body.String()
			if w.Code != http.StatusOK {
				t.Fatalf("%s/%s: status %d", state, lang, w.Code)
			}
			if strings.Contains(body, "⟦") || strings.Contains(body, "%!") {
				t.Errorf("%s/%s: a missing message or a bad format in the page", state, lang)
			}
			for _, s := range wants {
				text := s
				if k, args, ok := strings.Cut(s, "|"); ok || strings.HasPrefix(s, "print.") {
					var a []any
					for _, x := range strings.Split(args, "|") {
						if x != "" {
							var n int
							fmt.Sscan(x, &n)
							a = append(a, n)
						}
					}
					text = tr.T(k)
					if len(a) > 0 {
						text = fmt.Sprintf(text, a...)
					}
					text = strings.NewReplacer("'", "&#39;", `"`, "&#34;").Replace(text)
				}
				if !strings.Contains(body, text) {
					t.Errorf("%s/%s: page lacks %q", state, lang, text)
				}
			}
		}
	}
	if w := get(t, h, "/print/preview/1?doc=ready"); w.Code != 200 || w.Header().Get("Content-Type") != "image/png" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("preview 1: %d %v", w.Code, w.Header())
	}
	for _, target := range []string{"/print/preview/4?doc=ready", "/print/preview/0?doc=ready", "/print/preview/x?doc=ready", "/print/preview/1",
		"/print/preview/1?state=ready&doc=ready-file"} {
		if w := get(t, h, target); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", target, w.Code)
		}
	}
}

// TestPrintPanelPosts drives the panel in headless Chromium: the copies
// and colour chosen go with Print, the page count follows the copies, too
// many copies for the pages left turns Print off with the reason beside
// it, a file and Cancel post their messages.
func TestPrintPanelPosts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	need(t, exists(filepath.Join("dist", "kiosk.css")), "kiosk/ui/dist/kiosk.css")
	base := serve(t, withPanels(t, newTestPages(t, defaultConfig(t))))
	ctx := browser(t, 1280, 800)
	installFakeHandler(t, ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	open := func(path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path)); err != nil {
			t.Fatal(err)
		}
		settled(t, ctx, `!!document.querySelector("[data-ak-print-step]")`)
	}
	postedRaw := func() []string {
		t.Helper()
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__posted`))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`).textContent.trim()`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	click := func(sel string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}

	open("/print?state=ready")
	if got := text("[data-ak-print-total]"); got != "Pages to print: 3" {
		t.Errorf("total with 1 copy: %q", got)
	}
	click(`label[for="print-copies-2"]`)
	click(`label[for="print-colour"]`)
	if got := text("[data-ak-print-total]"); got != "Pages to print: 6" {
		t.Errorf("total with 2 copies: %q", got)
	}
	click("[data-ak-print-go]")
	click("[data-ak-print-go]") // a second tap while the shell works: nothing more
	if got := postedRaw(); len(got) != 1 || got[0] != `{"action":"print","copies":2,"color":true}` {
		t.Errorf("Print posted %q", got)
	}

	// 4 pages left, 3 pages: 2 copies are too many.
	open("/print?state=ready-quota")
	hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("[data-ak-print-toomany]").hidden`))
	disabled, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("[data-ak-print-go]").disabled`))
	if hidden || !disabled {
		t.Errorf("2 copies of 3 pages with 4 left: too-many message hidden %v, Print disabled %v", hidden, disabled)
	}
	if got := text("[data-ak-print-problem]"); !strings.Contains(got, "Pages this print needs: 6. Pages left: 4.") {
		t.Errorf("problem: %q", got)
	}
	click(`label[for="print-copies-1"]`)
	click("[data-ak-print-go]")
	if got := postedRaw(); len(got) != 1 || got[0] != `{"action":"print","copies":1,"color":false}` {
		t.Errorf("after choosing 1 copy, Print posted %q", got)
	}

	open("/print?state=ready")
	click(`[data-file="f2"]`)
	click(`[data-ak-print="print-close"]`)
	if got := postedRaw(); strings.Join(got, " ") != `{"action":"print-file","file":"f2"} {"action":"print-close"}` {
		t.Errorf("file and Cancel posted %q", got)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestPrintPanelReadable: at the largest text size the preview is drawn
// at least as large as at the standard size (it grows with the text), at
// its full resolution or less (never blurred up), and "Larger" doubles it
// in a box that scrolls and takes the focus. A4 at 1400 pixels is 10-point
// text some 24 pixels tall.
func TestPrintPanelReadable(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	need(t, exists(filepath.Join("dist", "kiosk.css")), "kiosk/ui/dist/kiosk.css")
	base := serve(t, withPanels(t, newTestPages(t, defaultConfig(t))))
	for _, size := range [][2]int{{1280, 800}, {800, 1280}} {
		ctx := browser(t, size[0], size[1])
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		width := func(path string) (shown, natural float64) {
			t.Helper()
			if err := chromedp.Do(ctx, chromedp.Navigate(base+path)); err != nil {
				t.Fatal(err)
			}
			settled(t, ctx, `(function(){var i=document.querySelector(".ak-print__sheet img");return !!i && i.complete && i.naturalWidth > 0})()`)
			raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(function(){var i=document.querySelector(".ak-print__sheet img");return [i.getBoundingClientRect().width, i.naturalWidth]})()`))
			if err != nil {
				t.Fatal(err)
			}
			return raw[0], raw[1]
		}
		std, natural := width("/print?state=ready")
		big, _ := width("/print?state=ready&text=3")
		if big < std || big < 0.6*float64(size[0]) || big > natural {
			t.Errorf("%dx%d: preview %.0f px wide at the largest text size, %.0f at standard, image %.0f px", size[0], size[1], big, std, natural)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-ak-zoom]"))); err != nil {
			t.Fatal(err)
		}
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`(function(){var s=document.querySelector(".ak-print__sheet"),i=s.querySelector("img");
return [i.getBoundingClientRect().width, s.scrollWidth > s.clientWidth, s.tabIndex, s.getAttribute("role")]})()`))
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := raw[0].(float64); w < 1.9*big || raw[1] != true || raw[2] != float64(0) || raw[3] != "region" {
			t.Errorf("%dx%d: Larger: %v (want twice %.0f px, scrolling, focusable region)", size[0], size[1], raw, big)
		}
		cancel()
	}
}

// TestPrintPanelAccessibility runs axe-core on every step of the panel in
// every language, both contrast modes and the largest text size, at a
// landscape and a portrait size.
func TestPrintPanelAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	axePath := filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js")
	need(t, exists(axePath), axePath)
	need(t, exists(filepath.Join("dist", "kiosk.css")), "kiosk/ui/dist/kiosk.css")
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, withPanels(t, newTestPages(t, defaultConfig(t))))
	runs := 0
	for _, size := range [][2]int{{1280, 800}, {800, 1280}} {
		ctx := browser(t, size[0], size[1])
		if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: string(axeSrc)})
			return err
		})); err != nil {
			t.Fatal(err)
		}
		var variants []string
		for _, lang := range Languages() {
			variants = append(variants, "lang="+lang, "lang="+lang+"&contrast=high")
		}
		variants = append(variants, "text=3", "text=3&contrast=high")
		for _, v := range variants {
			for _, p := range printPaths() {
				target := base + withQuery(p, v)
				ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				raw, err := []byte(nil), chromedp.Do(ctx, chromedp.Navigate(target), chromedp.WaitReady(chromedp.CSS("body")))
				if err == nil {
					raw, err = chromedp.Run(ctx, chromedp.Evaluate[[]byte](axeRun, chromedp.EvalAwaitPromise))
				}
				cancel()
				if err != nil {
					t.Fatalf("%s: %v", target, err)
				}
				var got []axeViolation
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("%s: %v", target, err)
				}
				runs++
				for _, x := range got {
					t.Errorf("%dx%d %s: %s %s: %s\n    %s", size[0], size[1], withQuery(p, v), x.Impact, x.ID, x.Help, strings.Join(x.Nodes, "\n    "))
				}
			}
		}
	}
	t.Logf("axe-core ran on %d print panel loads", runs)
}

// TestPrintScreenshots saves the print panel in English, Welsh and Polish,
// standard and high contrast, landscape and portrait (and its other steps
// in English) into $KIOSK_SCREENSHOTS (make screenshots-kiosk-pages).
func TestPrintScreenshots(t *testing.T) {
	dir := os.Getenv("KIOSK_SCREENSHOTS")
	if dir == "" {
		t.Skip("set KIOSK_SCREENSHOTS=DIR to save screenshots")
	}
	need(t, exists(filepath.Join("dist", "kiosk.css")), "kiosk/ui/dist/kiosk.css")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := serve(t, withPanels(t, newTestPages(t, defaultConfig(t))))
	type shot struct{ name, path string }
	var shots []shot
	for _, lang := range Languages() {
		for _, c := range []string{"", "high"} {
			name, q := "print-"+lang, "lang="+lang
			if c != "" {
				name += "-high-contrast"
				q += "&contrast=high"
			}
			shots = append(shots, shot{name, "/print?state=ready&" + q})
		}
	}
	for _, s := range []string{"preparing", "ready-quota", "ready-file", "sent", "sent-held", "failed", "files"} {
		shots = append(shots, shot{"print-" + s, "/print?state=" + s})
	}
	shots = append(shots, shot{"print-text-largest", "/print?state=ready&text=3"})
	n := 0
	for _, size := range [][2]int{{1280, 800}, {800, 1280}} {
		ctx := browser(t, size[0], size[1])
		for _, s := range shots {
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(int64(size[0]), int64(size[1])),
				chromedp.Navigate(base+s.path),
				chromedp.WaitReady(chromedp.CSS("body")),
			)
			if err == nil {
				settled(t, ctx, `Array.prototype.every.call(document.images, function (i) { return i.complete; })`)
			}
			var png []byte
			if err == nil {
				png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
			}
			if err != nil {
				t.Fatalf("%s: %v", s.path, err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("kiosk-%s-%dx%d.png", s.name, size[0], size[1])), png, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	t.Logf("saved %d print panel screenshots in %s", n, dir)
}

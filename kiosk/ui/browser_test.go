package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"accesskiosk/kiosk/guides"
)

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

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

const chromiumPath = "/usr/bin/chromium"

// serve runs h on a loopback listener and returns its base URL.
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

// browser starts real headless Chromium with the project's flags and a
// fresh profile. Host names other than loopback resolve to nothing, so a
// page can never reach the network even if it tried.
func browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	_, err := exec.LookPath(chromiumPath)
	need(t, err == nil, chromiumPath)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// pagePaths lists every built-in page, each guide included.
func pagePaths(t testing.TB) []string {
	lib, err := guides.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/home", "/guides", "/how-to-use", "/help", "/accessibility",
		"/block?site=www.example.com", "/block", "/offline", "/offline?site=www.camden.gov.uk", "/ended", "/idle?seconds=30",
		"/no-such-page", "/guides/no-such-guide"}
	for _, g := range lib.List("en") {
		if g.ID != "using-this-kiosk" { // that one is /how-to-use
			paths = append(paths, "/guides/"+g.ID)
		}
	}
	return paths
}

func withQuery(p, q string) string {
	if q == "" {
		return p
	}
	if strings.Contains(p, "?") {
		return p + "&" + q
	}
	return p + "?" + q
}

// axeViolation is what the test reports of one axe-core violation.
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

// TestAccessibility runs axe-core in real headless Chromium on every
// built-in page, in every language, in both contrast modes (and the largest
// text size), and fails on any serious or critical violation.
func TestAccessibility(t *testing.T) {
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

	mux := http.NewServeMux()
	pages := newTestPages(t, defaultConfig(t))
	mux.Handle("/", pages)
	mux.Handle("/picker", pickerHandler(pages)) // the file picker, in the states a resident meets
	mux.Handle("/picker/", pickerHandler(pages))
	// A positive control: a page axe must fault, so that a harness that
	// silently checks nothing cannot pass.
	mux.HandleFunc("/control", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>x</title></head><body><main><img src="/nothing.png"><a href="/"></a></main></body></html>`)
	})
	base := serve(t, mux)
	ctx := browser(t, 1280, 800)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: string(axeSrc)})
		return err
	})); err != nil {
		t.Fatal(err)
	}

	variants := []string{}
	for _, lang := range Languages() {
		variants = append(variants, "lang="+lang, "lang="+lang+"&contrast=high")
	}
	variants = append(variants, "text=3")

	axe := func(target string) (lang string, got []axeViolation) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := chromedp.Do(ctx, chromedp.Navigate(target), chromedp.WaitReady(chromedp.CSS("body")))
		var raw []byte
		if err == nil {
			lang, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		}
		if err == nil {
			raw, err = chromedp.Run(ctx, chromedp.Evaluate[[]byte](axeRun, chromedp.EvalAwaitPromise))
		}
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s: axe result %s: %v", target, raw, err)
		}
		return lang, got
	}

	_, control := axe(base + "/control")
	ids := map[string]bool{}
	for _, v := range control {
		ids[v.ID] = true
	}
	if !ids["image-alt"] || !ids["html-has-lang"] || !ids["link-name"] {
		t.Fatalf("axe missed the control page's faults: got %+v", control)
	}

	runs := 0
	for _, v := range variants {
		for _, p := range append(pagePaths(t), pickerPaths()...) {
			lang, got := axe(base + withQuery(p, v))
			runs++
			for _, v := range got {
				t.Errorf("%s (lang %s): %s %s: %s\n    %s", p, lang, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
			}
		}
	}
	t.Logf("axe-core ran on %d page loads", runs)
}

// TestScreenshots saves every built-in page at 1280x800 and 800x1280 into
// $KIOSK_SCREENSHOTS (make screenshots-kiosk-pages sets it). It is a tool
// more than a test: without the variable it skips.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("KIOSK_SCREENSHOTS")
	if dir == "" {
		t.Skip("set KIOSK_SCREENSHOTS=DIR to save screenshots")
	}
	need(t, exists(filepath.Join("dist", "kiosk.css")), "kiosk/ui/dist/kiosk.css")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := serve(t, newTestPages(t, defaultConfig(t)))

	type shot struct{ name, path string }
	var shots []shot
	for _, p := range pagePaths(t) {
		name := strings.Trim(strings.NewReplacer("/", "-", "?", "-", "=", "-", ".", "-").Replace(p), "-")
		shots = append(shots, shot{name: name, path: p})
	}
	for _, x := range [][2]string{
		{"home-cy", "/home?lang=cy"},
		{"home-pl", "/home?lang=pl"},
		{"home-high-contrast", "/home?contrast=high"},
		{"home-text-largest", "/home?text=3"},
		{"accessibility-pl-high-contrast", "/accessibility?lang=pl&contrast=high&text=2"},
		{"guides-pay-council-tax-cy", "/guides/pay-council-tax?lang=cy"},
		{"guides-pay-council-tax-panel", "/guides/pay-council-tax?panel=1"},
		{"offline-high-contrast", "/offline?contrast=high"},
		{"idle-pl", "/idle?seconds=30&lang=pl"},
	} {
		shots = append(shots, shot{name: x[0], path: x[1]})
	}
	for _, size := range [][2]int{{1280, 800}, {800, 1280}} {
		ctx := browser(t, size[0], size[1])
		for _, s := range shots {
			h := size[1]
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(int64(size[0]), int64(h)),
				chromedp.Navigate(base+s.path),
				chromedp.WaitReady(chromedp.CSS("body")),
			)
			var png []byte
			if err == nil {
				png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
			}
			if err != nil {
				t.Fatalf("%s: %v", s.path, err)
			}
			out := filepath.Join(dir, fmt.Sprintf("kiosk-%s-%dx%d.png", s.name, size[0], h))
			if err := os.WriteFile(out, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("saved %d screenshots in %s", 2*len(shots), dir)
}

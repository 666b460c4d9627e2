package webkit_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

func TestMain(m *testing.M) {
	// A private home, as bin/kiosk has, so the tests can see what GTK
	// would write there.
	home, err := os.MkdirTemp("", "webkit-test-home-")
	if err != nil {
		panic(err)
	}
	os.Setenv("HOME", home)
	os.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	webkittest.AtExit(func() { os.RemoveAll(home) })
	webkittest.Main(m)
}

// serve starts a loopback server on ip answering path → HTML.
func serve(t *testing.T, ip string, pages map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("listen on %s: %v", ip, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// printView is a window with one view whose print requests are counted.
type printView struct {
	win      *webkit.Window
	ctx      *webkit.Context
	view     *webkit.View
	requests atomic.Int32
	loaded   chan string
	onPrint  func() // on the loop, after counting
}

func newPrintView(t *testing.T) *printView {
	t.Helper()
	pv := &printView{loaded: make(chan string, 16)}
	webkittest.Do(t, func() {
		pv.win = webkit.NewWindow(webkit.WindowOptions{Title: "print test", Width: 1024, Height: 768})
		var err error
		pv.ctx, err = webkit.NewContext(webkit.ContextOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		pv.view = webkit.NewView(pv.ctx, webkit.ViewOptions{
			Decide: func(webkit.Decision) bool { return true },
			Load: func(ev webkit.LoadEvent, uri string) {
				if ev == webkit.LoadFinished {
					select {
					case pv.loaded <- uri:
					default:
					}
				}
			},
			Print: func() {
				pv.requests.Add(1)
				if pv.onPrint != nil {
					pv.onPrint()
				}
			},
		})
		pv.win.SetView(pv.view)
	})
	t.Cleanup(func() {
		webkittest.Do(t, func() {
			pv.win.SetView(nil)
			pv.view.Destroy()
			pv.ctx.Destroy()
			pv.win.Destroy()
		})
	})
	return pv
}

func (pv *printView) load(t *testing.T, uri string) {
	t.Helper()
	webkittest.Do(t, func() { pv.view.LoadURI(uri) })
	deadline := time.After(30 * time.Second)
	for {
		select {
		case u := <-pv.loaded:
			if u == uri {
				return
			}
		case <-deadline:
			t.Fatalf("%s did not load within 30s", uri)
		}
	}
}

// eval runs js in the view's top frame and returns its JSON result.
func (pv *printView) eval(t *testing.T, js string) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	webkittest.Do(t, func() { pv.view.Eval(js, func(s string, err error) { ch <- res{s, err} }) })
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("evaluate %q: %v", js, r.err)
		}
		return r.s
	case <-time.After(30 * time.Second):
		t.Fatalf("evaluate %q: no answer", js)
	}
	return ""
}

// printPDF renders the view to a PDF and returns its path.
func (pv *printView) printPDF(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "page.pdf")
	done := make(chan error, 1)
	webkittest.Do(t, func() { pv.view.PrintPDF(path, func(err error) { done <- err }) })
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("PrintPDF: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("PrintPDF did not finish within 60s")
	}
	return path
}

func pdfPages(t *testing.T, path string) int {
	t.Helper()
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		t.Skip("pdfinfo (poppler-utils) not installed; make deps installs it")
	}
	out, err := exec.Command("pdfinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "Pages:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			return n
		}
	}
	t.Fatalf("pdfinfo gave no page count:\n%s", out)
	return 0
}

// threePages is a page that prints on exactly three A4 sheets.
const threePages = `<!doctype html><title>Three pages</title>
<style>@page { size: A4; } section { break-after: page; } section:last-child { break-after: auto; }</style>
<section><h1>Page one</h1><p>Reference ABC-123</p></section>
<section><h1>Page two</h1></section>
<section><h1>Page three</h1></section>`

// TestPrintPDF: a page renders to a PDF of its printed pages, without any
// dialog or other window.
func TestPrintPDF(t *testing.T) {
	base := serve(t, "127.0.0.1", map[string]string{"/three": threePages})
	pv := newPrintView(t)
	pv.load(t, base+"/three")
	before := 0
	webkittest.Do(t, func() { before = len(webkit.WindowsShown()) })
	path := pv.printPDF(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", data[:min(len(data), 16)])
	}
	if n := pdfPages(t, path); n != 3 {
		t.Errorf("PDF has %d pages, want 3", n)
	}
	var shown []string
	webkittest.Do(t, func() { shown = webkit.WindowsShown() })
	if len(shown) != before {
		t.Errorf("printing showed windows: %v", shown[before:])
	}
	// Nothing noted: GTK's print operation adds the PDF to its "recently
	// used" list (saved later in $XDG_DATA_HOME/recently-used.xbel, a file
	// that outlives the session) unless the list is off (loop.c).
	var noted bool
	webkittest.Do(t, func() { noted = webkit.RecentlyUsed(path) })
	if noted {
		t.Errorf("GTK noted the PDF in its recently-used list")
	}
	if b, err := os.ReadFile(filepath.Join(os.Getenv("XDG_DATA_HOME"), "recently-used.xbel")); err == nil && bytes.Contains(b, []byte(".pdf")) {
		t.Errorf("GTK noted a PDF in recently-used.xbel")
	}
}

// TestPrintRequests: window.print() in the top frame reaches Print; in a
// frame of another origin, in its nested about:blank and srcdoc frames, and
// through a saved or borrowed print function it does nothing; a loop is
// bounded by the rate.
func TestPrintRequests(t *testing.T) {
	other := serve(t, "127.0.0.2", map[string]string{
		"/frame": `<!doctype html><title>frame</title><script>
window.tries = 0;
function attempt(f) { try { f(); } catch (e) {} window.tries++; }
window.addEventListener('load', function () {
  attempt(function () { window.print(); });
  attempt(function () { print(); });
  attempt(function () { Window.prototype.print && Window.prototype.print.call(window); });
  attempt(function () { delete window.print; window.print(); });
  attempt(function () { Object.defineProperty(window, 'print', {value: function () {}}); });
  var f = document.createElement('iframe'); document.body.appendChild(f);
  attempt(function () { f.contentWindow.print(); });
  attempt(function () { f.contentWindow.print.call(window); });
  var s = document.createElement('iframe'); s.srcdoc = '<script>print()<\/script>'; document.body.appendChild(s);
  s.onload = function () { attempt(function () { s.contentWindow.print(); }); parent.postMessage('done ' + window.tries, '*'); };
});
</script><p>payment frame</p>`,
	})
	base := serve(t, "127.0.0.1", map[string]string{
		"/top": `<!doctype html><title>top</title><p>service</p>`,
		"/host": `<!doctype html><title>host</title><script>addEventListener('message', function (e) { document.title = 'frame ' + e.data; });</script>
<iframe id=f src="` + other + `/frame"></iframe>`,
	})
	pv := newPrintView(t)
	pv.load(t, base+"/host")
	// The frame tells the top page when it has made every attempt.
	if !waitUntil(30*time.Second, func() bool { return pv.eval(t, `document.title`) == `"frame done 8"` }) {
		t.Fatalf("the frame did not finish its attempts: title %s", pv.eval(t, `document.title`))
	}
	time.Sleep(500 * time.Millisecond) // a request would have come by now
	if n := pv.requests.Load(); n != 0 {
		t.Fatalf("a cross-origin frame's window.print() reached Print %d times", n)
	}

	pv.load(t, base+"/top")
	pv.eval(t, `window.print(); true`)
	if !waitUntil(10*time.Second, func() bool { return pv.requests.Load() == 1 }) {
		t.Fatalf("top frame's window.print(): %d requests, want 1", pv.requests.Load())
	}

	// Print may print the view at once (the page's own process waited in
	// window.print() while WebKit asked; printing it from inside the
	// signal crashed it).
	path := filepath.Join(t.TempDir(), "from-print.pdf")
	done := make(chan error, 1)
	webkittest.Do(t, func() {
		pv.onPrint = func() { pv.view.PrintPDF(path, func(err error) { done <- err }) }
	})
	pv.eval(t, `window.print(); document.title = "after"; true`)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("PrintPDF from Print: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("PrintPDF from Print did not finish")
	}
	if n := pdfPages(t, path); n != 1 || pv.eval(t, `document.title`) != `"after"` {
		t.Errorf("printed from Print: %d pages, page still alive: %s", n, pv.eval(t, `document.title`))
	}
	webkittest.Do(t, func() { pv.onPrint = nil })

	// A loop: at most DefaultPrintRate a second reach Go.
	time.Sleep(1100 * time.Millisecond) // a fresh second of the rate
	pv.requests.Store(0)
	start := time.Now()
	pv.eval(t, `for (let i = 0; i < 500; i++) window.print(); true`)
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	got := int(pv.requests.Load())
	limit := webkit.DefaultPrintRate * (int(elapsed/time.Second) + 2)
	if got < 1 || got > limit {
		t.Errorf("500 window.print() calls in %v gave %d requests, want 1..%d", elapsed, got, limit)
	}
	var dropped uint64
	webkittest.Do(t, func() { dropped = pv.view.PrintsDropped() })
	if dropped == 0 {
		t.Error("no print request counted as dropped")
	}
	t.Logf("500 calls in %v: %d requests, %d dropped", elapsed, got, dropped)
}

func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

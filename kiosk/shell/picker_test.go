package shell

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/capture/camera"
	"accesskiosk/kiosk/capture/scan"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// needProg skips a test when a program it needs is missing, except under
// CI=true, where `make deps` must have installed it.
func needProg(t testing.TB, prog, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(prog); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (Debian %s; make deps installs it)", prog, pkg)
	}
	t.Skipf("%s is missing (Debian %s; make deps installs it)", prog, pkg)
}

// saneEnv makes a SANE config directory that loads only SANE's test
// backend (real image data through the real libsane and scanimage), with
// test.conf's defaults changed by set, and returns the environment that
// points scanimage at it.
func saneEnv(t testing.TB, set map[string]string) []string {
	t.Helper()
	needProg(t, "scanimage", "sane-utils")
	conf := map[string]string{
		"number_of_devices": "2", "mode": "Gray", "depth": "8", "hand-scanner": "false",
		"three-pass": "false", "three-pass-order": "RGB",
		"resolution_min": "1.0", "resolution_max": "1200.0", "resolution_quant": "1.0", "resolution": "50.0",
		"test-picture": `"Color pattern"`, "invert-endianess": "false", "read-limit": "false",
		"read-limit-size": "1", "read-delay": "false", "read-delay-duration": "1000",
		"read-status-code": `"Default"`, "fuzzy-parameters": "false", "ppl-loss": "0",
		"non-blocking": "false", "select-fd": "false", "enable-test-options": "false",
		"geometry_min": "0.0", "geometry_max": "300.0", "geometry_quant": "1.0",
		"tl_x": "0.0", "tl_y": "0.0", "br_x": "80.0", "br_y": "100.0",
	}
	for k, v := range set {
		if _, ok := conf[k]; !ok {
			t.Fatalf("saneEnv: %s is not a test.conf key", k)
		}
		conf[k] = v
	}
	dir := t.TempDir()
	var b strings.Builder
	for k, v := range conf {
		b.WriteString(k + " " + v + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "test.conf"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dll.conf"), []byte("test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"SANE_CONFIG_DIR=" + dir}
}

// formServer is a loopback "council form": a page with a file input and a
// submit button that posts multipart to itself, a downloadable receipt,
// and pages framing another origin. It keeps what was posted.
type formServer struct {
	*recorder
	mu    sync.Mutex
	posts []postedFile
	got   chan postedFile
}

type postedFile struct {
	Name, Type string
	Data       []byte
}

// receiptPDF is the receipt the form server offers as a download.
const receiptPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj " +
	"3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

func uploadForm(accept string, multiple bool, extra string) string {
	m := ""
	if multiple {
		m = " multiple"
	}
	return `<!doctype html><html lang="en"><title>Apply for a Blue Badge</title>
<style>body{font:24px sans-serif;margin:30px} input,button,a{font-size:28px;margin:10px 0;display:block} #f{width:700px;height:90px}</style>
<h1>Upload your evidence</h1>
<form method="post" action="/post" enctype="multipart/form-data">
<label for="f">Proof of address</label>
<input type="file" id="f" name="evidence" accept="` + accept + `"` + m + `>
<button id="send">Send</button>
</form>` + extra + `</html>`
}

func startFormServer(t testing.TB, ip string, frameSrc string) *formServer {
	fs := &formServer{got: make(chan postedFile, 16)}
	fs.recorder = startServer(t, "form", ip, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/form":
			q := r.URL.Query()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, uploadForm(q.Get("accept"), q.Get("multiple") == "1", `<p><a id="receipt" href="/receipt.pdf">Download your receipt</a></p>`))
		case "/framed":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, uploadForm("application/pdf,image/*", false, `<iframe id="pay" src="`+frameSrc+`" style="width:800px;height:300px"></iframe>`))
		case "/receipt.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", `attachment; filename="receipt-0042.pdf"`)
			io.WriteString(w, receiptPDF)
		case "/big.bin":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Disposition", `attachment; filename="big.bin"`)
			w.Write(bytes.Repeat([]byte("x"), 3<<20))
		case "/post":
			if err := r.ParseMultipartForm(64 << 20); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			for _, fh := range r.MultipartForm.File["evidence"] {
				f, _ := fh.Open()
				b, _ := io.ReadAll(f)
				f.Close()
				p := postedFile{Name: fh.Filename, Type: fh.Header.Get("Content-Type"), Data: b}
				fs.mu.Lock()
				fs.posts = append(fs.posts, p)
				fs.mu.Unlock()
				fs.got <- p
			}
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><title>Thank you</title><h1>Thank you</h1>")
		default:
			http.NotFound(w, r)
		}
	}))
	return fs
}

// posted waits for n files posted to the form.
func (fs *formServer) posted(t testing.TB, n int) []postedFile {
	t.Helper()
	var out []postedFile
	for len(out) < n {
		select {
		case p := <-fs.got:
			out = append(out, p)
		case <-time.After(30 * time.Second):
			t.Fatalf("the form server got %d of %d files", len(out), n)
		}
	}
	return out
}

// pickerConfig is a config allowing allow (frames from frames), with the
// SANE test backend as the scanner and GStreamer's test picture as the
// camera when asked.
func pickerConfig(t testing.TB, allow, frames []string, scanner, cam bool) *config.Config {
	t.Helper()
	cfg := testConfig(t, allow, frames, time.Hour, time.Minute)
	if scanner {
		cfg.Scanner = scan.Config{Device: "test", Resolution: 200}
		if err := cfg.Scanner.Validate(nil, "scanner"); err != nil {
			t.Fatal(err)
		}
	}
	if cam {
		needProg(t, "gst-launch-1.0", "gstreamer1.0-tools")
		cfg.Camera = camera.Config{Device: camera.TestDevice, Width: 640, Height: 480, PreviewWidth: 320, PreviewFPS: 4}
		if err := cfg.Camera.Validate(nil, "camera"); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func startPickerShell(t testing.TB, cfg *config.Config, o Options) *testShell {
	t.Helper()
	pages, err := NewPages(&cfg.UI, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	o.Config, o.UI = cfg, pages
	if o.Bus == nil {
		o.NoBus = true
	}
	if o.FilesParent == "" {
		o.FilesParent = t.TempDir()
	}
	return startShell(t, o)
}

// sheet is the sheet's view (nil when none shows).
func (ts *testShell) sheet() *webkit.View {
	if ts.s.cur == nil || ts.s.cur.sheet == nil {
		return nil
	}
	return ts.s.cur.sheet.view
}

func (ts *testShell) sheetURI(t testing.TB) string {
	var u string
	webkittest.Do(t, func() {
		if v := ts.sheet(); v != nil {
			u = v.URI()
		}
	})
	return u
}

// pickerOpen reports whether the file picker is open.
func (ts *testShell) pickerOpen(t testing.TB) bool {
	var open bool
	webkittest.Do(t, func() { open = ts.s.picker != nil })
	return open
}

// waitSheet waits until the sheet's document satisfies cond (a JS
// expression), its script has run, and says what it shows otherwise.
func (ts *testShell) waitSheet(t testing.TB, what, cond string, d time.Duration) {
	t.Helper()
	js := `document.readyState === "complete" && !!window.akPicker && (` + cond + `)`
	if !waitFor(d, func() bool {
		if ts.sheet() == nil {
			return false
		}
		return evalTry(t, ts.sheet, js) == "true"
	}) {
		body := ""
		if ts.sheet() != nil {
			body = evalTry(t, ts.sheet, `document.body ? document.body.innerText.slice(0, 600) : ""`)
		}
		t.Fatalf("%s: the picker does not show it (sheet on %q): %s", what, ts.sheetURI(t), body)
	}
}

// evalTry is evalIn that answers "" instead of failing when the document
// is being replaced (the picker's pages reload as its state changes).
func evalTry(t testing.TB, pick func() *webkit.View, js string) string {
	t.Helper()
	ch := make(chan string, 1)
	webkittest.Do(t, func() {
		v := pick()
		if v == nil {
			ch <- ""
			return
		}
		v.Eval(js, func(s string, err error) {
			if err != nil {
				s = ""
			}
			ch <- s
		})
	})
	select {
	case s := <-ch:
		return s
	case <-time.After(30 * time.Second):
		return ""
	}
}

// tapSheet taps (a real XTEST click) the element sel of the picker.
func (ts *testShell) tapSheet(t testing.TB, sel string) {
	t.Helper()
	ts.clickIn(t, ts.sheet, webkit.PartSheet, sel)
}

// tapInput taps the form's file input, as a resident would, and waits for
// the picker.
func (ts *testShell) openPicker(t testing.TB) {
	t.Helper()
	ts.clickIn(t, ts.service, webkit.PartService, "#f")
	ts.waitSheet(t, "the picker's first page", `!!document.querySelector("[data-ak-picker-page=choose]")`, 20*time.Second)
}

// inputFiles is what the form's file input holds: "name:type:size" each.
func (ts *testShell) inputFiles(t testing.TB) string {
	s := evalTry(t, ts.service, `Array.from(document.getElementById("f").files).map(f => f.name + ":" + f.type + ":" + f.size).join(",")`)
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

func pdfPages(t testing.TB, data []byte) int {
	t.Helper()
	needProg(t, "pdfinfo", "poppler-utils")
	cmd := exec.Command("pdfinfo", "-")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo refuses the PDF: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatalf("pdfinfo says no page count:\n%s", out)
	return 0
}

// TestPickerEndToEnd: a resident at a loopback council form taps its file
// input (a real click), scans two pages on SANE's test backend and hands
// them to the form, which posts a valid 2-page PDF; takes a photo
// (GStreamer's test picture) for an image-only input; downloads a receipt,
// which "Your files" shows, and attaches it to the form later in the same
// session; then the session ends and the next resident's picker shows no
// files and nothing is left in the kiosk's files folder.
func TestPickerEndToEnd(t *testing.T) {
	fs := startFormServer(t, "127.0.0.1", "")
	cfg := pickerConfig(t, []string{fs.URL()}, nil, true, true)
	ts := startPickerShell(t, cfg, Options{ScanEnv: saneEnv(t, nil)})
	root := ts.s.FilesRoot()
	key(t, "shift") // a session

	t.Run("scan", func(t *testing.T) {
		ts.load(t, fs.URL()+"/form?accept="+urlq("application/pdf,image/*"))
		ts.openPicker(t)
		ts.tapSheet(t, `[data-to="scan"]`)
		ts.waitSheet(t, "the scan page", `!!document.querySelector("[data-ak-picker-page=scan] [data-ak-picker=scan]")`, 10*time.Second)
		for n := 1; n <= 2; n++ {
			ts.tapSheet(t, `[data-ak-picker="scan"]`)
			ts.waitSheet(t, fmt.Sprintf("page %d scanned", n),
				fmt.Sprintf(`document.querySelectorAll(".ak-pick-page").length === %d && !document.querySelector("[data-ak-progress]")
 && Array.from(document.querySelectorAll(".ak-pick-page__img")).every(i => i.complete && i.naturalWidth > 0)`, n), 60*time.Second)
		}
		ts.tapSheet(t, `[data-ak-picker="use"]`)
		if !waitFor(30*time.Second, func() bool { return !ts.pickerOpen(t) && ts.inputFiles(t) != "" }) {
			t.Fatalf("the form's input holds %q; picker open %v", ts.inputFiles(t), ts.pickerOpen(t))
		}
		if got := ts.inputFiles(t); !strings.HasPrefix(got, "scan.pdf:application/pdf:") {
			t.Errorf("the input holds %q, want scan.pdf", got)
		}
		ts.clickIn(t, ts.service, webkit.PartService, "#send")
		p := fs.posted(t, 1)[0]
		if p.Name != "scan.pdf" || pdfPages(t, p.Data) != 2 {
			t.Errorf("posted %s (%s, %d bytes), want a 2-page scan.pdf", p.Name, p.Type, len(p.Data))
		}
	})

	t.Run("photo", func(t *testing.T) {
		ts.load(t, fs.URL()+"/form?accept="+urlq("image/*"))
		ts.openPicker(t)
		ts.tapSheet(t, `[data-to="photo"]`)
		ts.waitSheet(t, "the live preview", `(() => { const i = document.querySelector("[data-ak-camera]"); return !!i && i.complete && i.naturalWidth > 0 })()`, 30*time.Second)
		ts.tapSheet(t, `[data-ak-picker="shoot"]`)
		ts.waitSheet(t, "the photo", `(() => { const i = document.querySelector(".ak-pick-camera__img"); return !document.querySelector("[data-ak-camera]") && !!i && i.complete && i.naturalWidth > 0 })()`, 30*time.Second)
		ts.tapSheet(t, `[data-ak-picker="use"]`)
		if !waitFor(30*time.Second, func() bool { return !ts.pickerOpen(t) && ts.inputFiles(t) != "" }) {
			t.Fatalf("the form's input holds %q", ts.inputFiles(t))
		}
		ts.clickIn(t, ts.service, webkit.PartService, "#send")
		p := fs.posted(t, 1)[0]
		img, err := jpeg.Decode(bytes.NewReader(p.Data))
		if p.Name != "photo.jpg" || err != nil || img.Bounds().Dx() != 640 {
			t.Errorf("posted %s (%s): %v; want photo.jpg, a 640 px JPEG", p.Name, p.Type, err)
		}
	})

	t.Run("download-and-attach", func(t *testing.T) {
		ts.load(t, fs.URL()+"/form?accept="+urlq("application/pdf"))
		ts.clickIn(t, ts.service, webkit.PartService, "#receipt")
		var text []string
		if !waitFor(20*time.Second, func() bool {
			webkittest.Do(t, func() { text = ts.s.win.FilesText() })
			return strings.Contains(strings.Join(text, "|"), "receipt-0042.pdf")
		}) {
			t.Fatalf("Your files shows %q, want the receipt", text)
		}
		var names []string
		webkittest.Do(t, func() { names = ts.s.win.FilesNames() })
		if len(names) < 3 || names[0] != "Your files" || !strings.HasPrefix(names[len(names)-1], "receipt-0042.pdf, Download") {
			t.Errorf("screen-reader names of the panel %q", names)
		}
		webkittest.Do(t, func() { ts.s.win.Press(filesClose) })
		ts.openPicker(t)
		ts.tapSheet(t, `[data-to="files"]`)
		ts.waitSheet(t, "this session's files", `document.querySelectorAll(".ak-pick-file").length === 3`, 10*time.Second)
		// The photo is offered too (as a PDF, made again), the receipt as it is.
		id := evalTry(t, ts.sheet, `Array.from(document.querySelectorAll(".ak-pick-file")).find(li => li.textContent.includes("receipt-0042.pdf")).querySelector("input").id`)
		ts.tapSheet(t, "#"+strings.Trim(id, `"`))
		ts.tapSheet(t, `.ak-pick-files button[type=submit]`)
		if !waitFor(30*time.Second, func() bool { return !ts.pickerOpen(t) && ts.inputFiles(t) != "" }) {
			t.Fatalf("the form's input holds %q", ts.inputFiles(t))
		}
		ts.clickIn(t, ts.service, webkit.PartService, "#send")
		if p := fs.posted(t, 1)[0]; p.Name != "receipt-0042.pdf" || string(p.Data) != receiptPDF {
			t.Errorf("posted %s (%d bytes), want the receipt as downloaded", p.Name, len(p.Data))
		}
	})

	t.Run("next-session-has-nothing", func(t *testing.T) {
		var counts FileCounts
		webkittest.Do(t, func() { counts = ts.s.cur.files.Counts() })
		if counts != (FileCounts{Scans: 2, Photos: 1, Downloads: 1, Uploads: 3}) {
			t.Errorf("session counts %+v", counts)
		}
		webkittest.Do(t, func() { ts.s.win.Press(toolEnd) })
		if !waitFor(5*time.Second, func() bool {
			var ok bool
			webkittest.Do(t, func() { ok = ts.s.win.Press(panelConfirmEnd) })
			return ok
		}) {
			t.Fatal("no Yes on the End session panel")
		}
		if !waitFor(10*time.Second, func() bool { return ts.state(t) == bus.StateIdle }) {
			t.Fatalf("state %s after End session", ts.state(t))
		}
		if left := filesOf(t, root); len(left) != 0 {
			t.Errorf("files under the kiosk's files folder after the session: %v", left)
		}
		key(t, "shift")
		ts.load(t, fs.URL()+"/form?accept="+urlq("application/pdf"))
		ts.openPicker(t)
		if got := evalTry(t, ts.sheet, `document.querySelector("[data-to=files]").textContent`); strings.Contains(got, "(") {
			t.Errorf("the next session's picker offers files: %s", got)
		}
		ts.tapSheet(t, `[data-to="files"]`)
		ts.waitSheet(t, "no files", `document.querySelectorAll(".ak-pick-file").length === 0 && !!document.querySelector("[data-ak-picker-page=files]")`, 10*time.Second)
		ts.tapSheet(t, `[data-ak-picker="cancel"]`)
		if !waitFor(10*time.Second, func() bool { return !ts.pickerOpen(t) }) {
			t.Fatal("Cancel did not close the picker")
		}
		if got := ts.inputFiles(t); got != "" {
			t.Errorf("after Cancel the input holds %s", got)
		}
	})
}

func urlq(s string) string { return url.QueryEscape(s) }

func quietLog() *logrus.Logger {
	l := logrus.New()
	if os.Getenv("KIOSK_TEST_LOG") == "" {
		l.SetOutput(io.Discard)
	}
	return l
}

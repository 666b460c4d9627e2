package shell

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/capture"
	"accesskiosk/kiosk/policy"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// refusals is how many file chooser requests the shell refused so far.
func (ts *testShell) refusals(t testing.TB) int {
	var n int
	webkittest.Do(t, func() { n = ts.s.dev.refused })
	return n
}

// clickInFrame clicks the middle of the element sel inside the iframe
// frameSel of the service page (a real click; the frame's document is not
// reachable from the page, so the frame's own position and the element's
// within it, given, are used).
func (ts *testShell) clickFrameAt(t testing.TB, frameSel string, dx, dy int) {
	t.Helper()
	s := evalIn(t, ts.service, `(function(){var e=document.querySelector(`+jsQuote(frameSel)+`);e.scrollIntoView({block:"center"});
var r=e.getBoundingClientRect();return r.left+","+r.top})()`)
	var x, y float64
	fmt.Sscanf(strings.Trim(s, `"`), "%g,%g", &x, &y)
	r, ok := ts.rect(t, webkit.PartService, 0)
	if !ok {
		t.Fatal("service view not on screen")
	}
	xdo(t, "mousemove", fmt.Sprint(r.X+int(x)+dx), fmt.Sprint(r.Y+int(y)+dy), "click", "1")
}

// loadForm shows the form server's form taking accept, tagged so that
// its URL differs from the page before (whose document would otherwise
// pass for it), and waits until it is the page shown.
func (ts *testShell) loadForm(t testing.TB, fs *formServer, accept, tag string) {
	t.Helper()
	u := fs.URL() + "/form?accept=" + urlq(accept) + "&t=" + tag
	ts.load(t, u)
	if !waitFor(10*time.Second, func() bool {
		return ts.uri(t) == u && evalTry(t, ts.service, `document.readyState === "complete" && !!document.getElementById("f")`) == "true"
	}) {
		t.Fatalf("the form did not load (view on %q)", ts.uri(t))
	}
}

// TestPickerRefusals: the picker opens only for a file input of an allowed
// page in a frame `allow` allows, and the kiosk's picker messages come
// only from the picker's own sheet. Hostile first: each case is paired
// with the control that shows the same tap would have opened it.
func TestPickerRefusals(t *testing.T) {
	// 127.0.0.2 is allow_frames only: payment and captcha frames.
	framed := startServer(t, "frames-only", "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>pay</title><style>body{margin:0} #f{width:600px;height:120px;font-size:28px}</style>`+
			`<input type="file" id="f" name="evidence">`)
	}))
	// 127.0.0.3 is on no list at all.
	offList := startServer(t, "off-list", "127.0.0.3", nil)
	fs := startFormServer(t, "127.0.0.1", framed.URL()+"/pay")
	cfg := pickerConfig(t, []string{fs.URL()}, []string{framed.URL()}, true, false)
	ts := startPickerShell(t, cfg, Options{ScanEnv: saneEnv(t, nil)})
	key(t, "shift")

	noPicker := func(t *testing.T, what string, refusedBefore int) {
		t.Helper()
		if !waitFor(10*time.Second, func() bool { return ts.refusals(t) > refusedBefore }) {
			t.Fatalf("%s: the file chooser request was not refused (refused %d)", what, ts.refusals(t))
		}
		if ts.pickerOpen(t) || ts.sheet() != nil {
			t.Fatalf("%s: the picker opened", what)
		}
	}

	t.Run("allow_frames-only-top-level", func(t *testing.T) {
		ts.load(t, framed.URL()+"/pay")
		if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.uri(t), "kiosk://block") }) {
			t.Fatalf("an allow_frames-only page opened as the page: view on %q", ts.uri(t))
		}
		if ts.pickerOpen(t) {
			t.Fatal("picker open")
		}
	})

	t.Run("allow_frames-frame-asks", func(t *testing.T) {
		ts.load(t, fs.URL()+"/framed")
		if !waitFor(10*time.Second, func() bool {
			return evalTry(t, ts.service, `document.readyState === "complete" && document.getElementById("pay").getBoundingClientRect().height > 100`) == "true"
		}) {
			t.Fatal("framed page did not load")
		}
		if !waitFor(10*time.Second, func() bool { return framed.count("GET /pay") > 0 }) {
			t.Fatal("the allow_frames frame was not loaded (the test would prove nothing)")
		}
		before := ts.refusals(t)
		ts.clickFrameAt(t, "#pay", 300, 60) // the frame's own file input
		noPicker(t, "a file input in an allow_frames frame", before)
		var panel bool
		webkittest.Do(t, func() { panel = ts.s.win.PanelVisible() })
		if !panel {
			t.Error("the resident was not told why nothing opened")
		}
		webkittest.Do(t, func() { ts.s.win.Press(panelCancel) })
		// Control: on the same page, the page's own input (allowed) opens it.
		ts.openPicker(t)
		ts.tapSheet(t, `[data-ak-picker="cancel"]`)
		if !waitFor(10*time.Second, func() bool { return !ts.pickerOpen(t) }) {
			t.Fatal("Cancel did not close the picker")
		}
	})

	t.Run("off-list-and-opaque-frames", func(t *testing.T) {
		// An off-list frame never loads (no request reaches its server). A
		// sandboxed srcdoc frame (an opaque origin) is the allowed page's
		// own: on a page with nothing from outside allow its input opens
		// the picker (the control); once the page also holds an
		// allow_frames frame, a tap in the opaque frame is refused (it
		// might be the other site's), and the resident is told.
		opaque := `<iframe id="opaque" sandbox srcdoc="&lt;input type=file id=g style='width:560px;height:100px;font-size:28px'&gt;" style="width:600px;height:130px"></iframe>`
		srv := startServer(t, "opaque", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			extra := `<iframe id="off" src="` + offList.URL() + `/x" style="width:600px;height:100px"></iframe>` + opaque
			if r.URL.Path == "/foreign" {
				extra += `<iframe id="pay" src="` + framed.URL() + `/pay" style="width:600px;height:130px"></iframe>`
			}
			io.WriteString(w, uploadForm("image/*", false, extra))
		}))
		webkittest.Do(t, func() { cfg.AllowList = mustList(t, fs.URL(), srv.URL()) })
		loaded := func(path string) {
			t.Helper()
			ts.load(t, srv.URL()+path)
			if !waitFor(10*time.Second, func() bool {
				return ts.uri(t) == srv.URL()+path &&
					evalTry(t, ts.service, `document.readyState === "complete" && !!document.getElementById("opaque")`) == "true"
			}) {
				t.Fatal("page did not load")
			}
		}
		loaded("/")
		before := ts.refusals(t)
		ts.clickFrameAt(t, "#opaque", 280, 50)
		ts.waitSheet(t, "the picker for the page's own sandboxed frame", `!!document.querySelector("[data-ak-picker-page=choose]")`, 20*time.Second)
		if ts.refusals(t) != before {
			t.Error("a refusal was counted for the page's own frame")
		}
		ts.tapSheet(t, `[data-ak-picker="cancel"]`)
		if !waitFor(10*time.Second, func() bool { return !ts.pickerOpen(t) && ts.sheet() == nil }) {
			t.Fatal("Cancel did not close the picker")
		}
		if n := len(offList.requests()); n != 0 {
			t.Errorf("the off-list frame's server got %d requests", n)
		}

		payBefore := framed.count("GET /pay")
		loaded("/foreign")
		if !waitFor(10*time.Second, func() bool { return framed.count("GET /pay") > payBefore }) {
			t.Fatal("the allow_frames frame was not loaded (the test would prove nothing)")
		}
		before = ts.refusals(t)
		ts.clickFrameAt(t, "#opaque", 280, 50)
		noPicker(t, "a file input in a sandboxed (opaque) frame of a page with a foreign frame", before)
		var panel bool
		webkittest.Do(t, func() { panel = ts.s.win.PanelVisible() })
		if !panel {
			t.Error("the resident was not told why nothing opened")
		}
		webkittest.Do(t, func() { ts.s.win.Press(panelCancel) })
		if n := len(offList.requests()); n != 0 {
			t.Errorf("the off-list frame's server got %d requests", n)
		}
	})

	t.Run("hostile-page-posts-picker-messages", func(t *testing.T) {
		ts.loadForm(t, fs, "application/pdf", "hostile")
		ts.openPicker(t)
		refusedBefore := ts.refused(t)
		// The form page, hidden under the picker, tries every way to drive
		// it: the kiosk's message event, a message handler, the picker's
		// own URLs, and its bridge action from a kiosk:// page that is not
		// the picker.
		evalIn(t, ts.service, `(function(){
  window.__tries = 0;
  const msgs = ['{"action":"picker","do":"use"}', '{"action":"picker","do":"use-files","files":["x"]}', '{"action":"picker","do":"scan"}'];
  const flood = () => {
    for (const m of msgs) {
      window.__tries++;
      document.dispatchEvent(new CustomEvent("accesskiosk-message", {detail: m, cancelable: true}));
      try { window.webkit.messageHandlers.kiosk.postMessage(m) } catch (e) {}
    }
  };
  window.__flood = setInterval(flood, 5);
  setTimeout(() => { try { location.href = "kiosk://picker/files" } catch (e) {} }, 100);
  return true;
})()`)
		ts.post(t, fromService, `{"action":"picker","do":"use"}`) // a kiosk:// page's bridge, not the sheet's
		ts.post(t, fromPane, `{"action":"picker","do":"cancel"}`)
		time.Sleep(time.Second)
		if got := evalTry(t, ts.service, `window.__tries`); got == "" || got == "0" {
			t.Fatalf("the hostile page did not run (%s)", got)
		}
		evalIn(t, ts.service, `clearInterval(window.__flood), true`)
		if !ts.pickerOpen(t) || ts.inputFiles(t) != "" {
			t.Fatalf("the page's messages drove the picker: open %v, input %q", ts.pickerOpen(t), ts.inputFiles(t))
		}
		if got := ts.refused(t) - refusedBefore; got != 2 {
			t.Errorf("bridge refused %d messages, want exactly the 2 from kiosk pages outside the sheet (the page's reach no handler)", got)
		}
		if u := ts.uri(t); !strings.HasPrefix(u, fs.URL()) {
			t.Errorf("the page navigated the service view to %q", u)
		}
		ts.waitSheet(t, "the picker, untouched", `!!document.querySelector("[data-ak-picker-page=choose]")`, 5*time.Second)
		ts.tapSheet(t, `[data-ak-picker="cancel"]`)
		waitFor(10*time.Second, func() bool { return !ts.pickerOpen(t) })
	})

	t.Run("page-leaves-under-the-picker", func(t *testing.T) {
		ts.loadForm(t, fs, "application/pdf", "leaves")
		ts.openPicker(t)
		evalIn(t, ts.service, `setTimeout(() => { location.href = "/form?accept=image/*&again=1" }, 10), true`)
		if !waitFor(10*time.Second, func() bool { return !ts.pickerOpen(t) && ts.sheet() == nil }) {
			t.Fatal("the picker stayed open over a page that is not the one that asked")
		}
	})

	t.Run("page-floods-file-chooser-requests", func(t *testing.T) {
		// One tap on the page's button asks for the chooser 50 times at
		// once and then every 5 ms: one picker opens, the rest are refused
		// while it is up, the input gets nothing, and after Cancel nothing
		// opens again without another tap (a page has no tap to spend).
		srv := startServer(t, "flood", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, uploadForm("application/pdf", false, `<button id="flood" type="button" style="width:600px;height:90px">Flood</button>
<script>
window.__asks = 0;
document.getElementById("flood").addEventListener("click", () => {
  const f = document.getElementById("f");
  for (let i = 0; i < 50; i++) { window.__asks++; f.click(); }
  setInterval(() => { window.__asks++; f.click(); }, 5);
});
</script>`))
		}))
		webkittest.Do(t, func() { cfg.AllowList = mustList(t, fs.URL(), srv.URL()) })
		ts.load(t, srv.URL()+"/flood")
		if !waitFor(10*time.Second, func() bool {
			return ts.uri(t) == srv.URL()+"/flood" && evalTry(t, ts.service, `document.readyState === "complete" && !!document.getElementById("flood")`) == "true"
		}) {
			t.Fatal("the flooding page did not load")
		}
		before := ts.refusals(t)
		ts.clickIn(t, ts.service, webkit.PartService, "#flood")
		ts.waitSheet(t, "the picker, once", `!!document.querySelector("[data-ak-picker-page=choose]")`, 20*time.Second)
		var p1 *picker
		webkittest.Do(t, func() { p1 = ts.s.picker })
		// WebKit passes on at most the first while the request is held (it
		// consumes the tap); whatever else arrives is refused as busy.
		var same bool
		webkittest.Do(t, func() { same = ts.s.picker == p1 })
		if !same {
			t.Error("a later request replaced the open picker")
		}
		ts.tapSheet(t, `[data-ak-picker="cancel"]`)
		if !waitFor(10*time.Second, func() bool { return !ts.pickerOpen(t) && ts.sheet() == nil }) {
			t.Fatal("Cancel did not close the picker")
		}
		asks := evalTry(t, ts.service, `window.__asks`)
		time.Sleep(time.Second) // the page keeps asking: nothing may open
		if ts.pickerOpen(t) || ts.sheet() != nil {
			t.Fatal("the page reopened the picker without a tap")
		}
		if got := ts.inputFiles(t); got != "" {
			t.Errorf("the input holds %q", got)
		}
		if after := evalTry(t, ts.service, `window.__asks`); after == asks {
			t.Errorf("the page stopped asking (%s): the test proves nothing", after)
		}
		t.Logf("the page asked %s times; %d requests refused", evalTry(t, ts.service, `window.__asks`), ts.refusals(t)-before)
		// Away from the asking page: about:blank is refused and the shell
		// shows its block page. Wait for it, or that navigation could land
		// after the next subtest's load and replace its form (as it did in a
		// clean CI run: 'the form did not load (view on
		// "kiosk://block?reason=scheme")').
		evalIn(t, ts.service, `location.href = "about:blank", true`)
		if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.uri(t), "kiosk://block") }) {
			t.Fatalf("leaving the asking page: view on %q, want the block page", ts.uri(t))
		}
	})

	t.Run("oversized-scan", func(t *testing.T) {
		env := saneEnv(t, map[string]string{"br_x": "200.0", "br_y": "200.0"})
		webkittest.Do(t, func() {
			cfg.Scanner.MaxMegapixels = 1 // the test page is 2.5 MP
			ts.s.opts.ScanEnv = env
			ts.s.makeDevices()
		})
		ts.loadForm(t, fs, "application/pdf", "oversized")
		ts.openPicker(t)
		ts.tapSheet(t, `[data-to="scan"]`)
		ts.waitSheet(t, "the scan page", `!!document.querySelector("[data-ak-picker-page=scan] [data-ak-picker=scan]")`, 10*time.Second)
		ts.tapSheet(t, `[data-ak-picker="scan"]`)
		ts.waitSheet(t, "the too-large message", `(document.querySelector("[role=alert]") || {}).textContent.includes("too large to scan")`, 60*time.Second)
		if n := evalTry(t, ts.sheet, `document.querySelectorAll(".ak-pick-page").length`); n != "0" {
			t.Errorf("%s pages kept from an oversized scan", n)
		}
		ts.tapSheet(t, `[data-ak-picker="cancel"]`)
		waitFor(10*time.Second, func() bool { return !ts.pickerOpen(t) })
	})

	t.Run("download-refusals", func(t *testing.T) {
		// Too large: more than files.max_download_size, stopped and removed.
		webkittest.Do(t, func() { cfg.Files.MaxDownloadSize = capture.ByteSize(1 << 20) })
		ts.load(t, fs.URL()+"/big.bin")
		var text string
		if !waitFor(20*time.Second, func() bool {
			webkittest.Do(t, func() {
				if ts.s.win.PanelVisible() {
					text = "visible"
				}
			})
			return text != ""
		}) {
			t.Fatal("no message about the download that was too large")
		}
		webkittest.Do(t, func() { ts.s.win.HidePanel() })
		var files []SessionFile
		webkittest.Do(t, func() { files = ts.s.cur.files.List() })
		for _, f := range files {
			if f.Name == "big.bin" {
				t.Errorf("the oversized download was kept: %+v", f)
			}
		}
		if left := filesOf(t, ts.s.FilesRoot()); len(strings.Join(left, "")) > 0 {
			for _, l := range left {
				if strings.Contains(l, "big.bin") {
					t.Errorf("part of the oversized download left: %s", l)
				}
			}
		}
	})

	t.Run("no-scanner", func(t *testing.T) {
		webkittest.Do(t, func() {
			cfg.Scanner.Device = ""
			ts.s.makeDevices()
		})
		ts.loadForm(t, fs, "application/pdf", "noscanner")
		// Nothing of the subtests before may cover the form: a picker
		// closing, a download's message.
		var why string
		if !waitFor(20*time.Second, func() bool {
			webkittest.Do(t, func() {
				why = ""
				if ts.s.win.PanelVisible() {
					why = "a panel shows"
				}
			})
			if ts.pickerOpen(t) || ts.sheet() != nil {
				why += " a picker is open"
			}
			return why == ""
		}) {
			t.Fatalf("before tapping the form: %s", why)
		}
		// Known: after the refused download just before, WebKit sometimes
		// drops the first tap on the next page's file input (no file
		// chooser request reaches the shell; measured in 4 of 8 runs of
		// these three subtests; a second tap opens the picker). Not
		// understood yet: a resident taps again. One retry, logged.
		ts.clickIn(t, ts.service, webkit.PartService, "#f")
		if !waitFor(5*time.Second, func() bool { return ts.sheet() != nil }) {
			t.Log("the first tap on the file input opened nothing; tapping again")
			ts.clickIn(t, ts.service, webkit.PartService, "#f")
		}
		ts.waitSheet(t, "the picker's first page", `!!document.querySelector("[data-ak-picker-page=choose]")`, 20*time.Second)
		got := evalTry(t, ts.sheet, `document.body.innerText`)
		if strings.Contains(got, "Scan a document") || !strings.Contains(got, "There is no scanner at this kiosk") {
			t.Errorf("without a scanner the picker shows:\n%s", got)
		}
		ts.tapSheet(t, `[data-ak-picker="cancel"]`)
		waitFor(10*time.Second, func() bool { return !ts.pickerOpen(t) })
	})
}

func mustList(t testing.TB, rules ...string) *policy.List {
	t.Helper()
	l, err := policy.Parse(rules)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

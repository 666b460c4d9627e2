package assist_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"accesskiosk/kiosk/assist"
	"accesskiosk/kiosk/assist/assisttest"
)

// serve serves pages on addr (127.0.0.1 or 127.0.0.2, any port).
func serve(t *testing.T, host string, pages map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", host, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, p)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestMaskScriptInEveryFrame runs MaskScript in real headless Chromium in
// every frame of a page with a password field, a same-origin iframe with
// a password field, a cross-origin payment iframe with a card number (a
// mask selector) and a harmless cross-origin iframe; the reports go
// through a Tracker onto a screenshot of that page, and the pixels are
// checked: every secret is black, the harmless parts are not.
func TestMaskScriptInEveryFrame(t *testing.T) {
	if _, err := exec.LookPath("/usr/bin/chromium"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium missing: run make deps")
		}
		t.Skip("chromium missing")
	}
	other := serve(t, "127.0.0.2", map[string]string{
		"/pay.html":   `<!DOCTYPE html><body style="margin:0;background:#f0f"><input autocomplete="cc-number" style="position:absolute;left:10px;top:10px;width:200px;height:30px" value="4929 1234 5678 9012"></body>`,
		"/clean.html": `<!DOCTYPE html><body style="margin:0;background:#00f;color:#fff">Call us on 020 7974 4444</body>`,
	})
	pages := map[string]string{
		"/inner.html": `<!DOCTYPE html><body style="margin:0;background:#0f0"><input type="password" style="position:absolute;left:10px;top:10px;width:150px;height:30px;background:#f0f;border:0" value="secret"></body>`,
		"/main.html": `<!DOCTYPE html><body style="margin:0;background:#fff">
<input id="name" style="position:absolute;left:20px;top:20px;width:200px;height:30px" value="Alex">
<input id="pw" type="password" style="position:absolute;left:20px;top:70px;width:200px;height:30px;background:#f0f" value="secret">
<iframe src="/inner.html" style="position:absolute;left:20px;top:120px;width:300px;height:100px;border:0"></iframe>
<iframe src="` + other + `/pay.html" style="position:absolute;left:400px;top:20px;width:320px;height:120px;border:0"></iframe>
<iframe src="` + other + `/clean.html" style="position:absolute;left:400px;top:200px;width:250px;height:90px;border:0"></iframe>
</body>`,
	}
	main := serve(t, "127.0.0.1", pages)

	for _, tc := range []struct {
		name      string
		selectors []string
		blind     bool
	}{
		{"selectors", []string{"input[autocomplete=cc-number]"}, false},
		{"a selector the engine refuses", []string{"input[[["}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			actx, c1 := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath("/usr/bin/chromium"), chromedp.Headless,
				chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("hide-scrollbars", true),
				// All frames in one process, so the script and the binding reach the cross-origin ones too.
				chromedp.Flag("disable-site-isolation-trials", true), chromedp.Flag("disable-features", "IsolateOrigins,site-per-process"),
				chromedp.UserDataDir(t.TempDir()))
			defer c1()
			ctx, c2 := chromedp.NewContext(actx)
			defer c2()
			ctx, c3 := context.WithTimeout(ctx, 2*time.Minute)
			defer c3()
			tr := assist.NewTracker()
			tr.Reset()
			var mu sync.Mutex
			ready := map[runtime.ExecutionContextID]bool{}
			said := map[runtime.ExecutionContextID]string{}
			reports := 0
			var last time.Time
			chromedp.Listen(ctx, func(ev any) {
				if b, ok := ev.(*runtime.EventBindingCalled); ok && b.Name == "akReport" {
					r, err := assist.ParseFrameReport([]byte(b.Payload))
					if err != nil {
						t.Errorf("report: %v", err)
						return
					}
					tr.ReportFrame(fmt.Sprint(b.ExecutionContextID), r)
					mu.Lock()
					reports++
					// The script repeats an unchanged report every second:
					// only a change is news.
					if said[b.ExecutionContextID] != b.Payload {
						said[b.ExecutionContextID] = b.Payload
						last = time.Now()
					}
					ready[b.ExecutionContextID] = r.Ready
					mu.Unlock()
				}
			})
			stub := `window.webkit = {messageHandlers: {assist: {postMessage: (m) => akReport(JSON.stringify(m))}}};`
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(1000, 400),
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, runtime.AddBinding, runtime.AddBindingParams{Name: "akReport"})
					return err
				}),
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
						page.AddScriptToEvaluateOnNewDocumentParams{Source: stub + "\n" + assist.MaskScript(tc.selectors)})
					return err
				}),
				chromedp.Navigate(main+"/main.html")); err != nil {
				t.Fatal(err)
			}
			// Wait until the main frame and both cross-origin frames have
			// reported a loaded document.
			deadline := time.After(60 * time.Second)
			for {
				m := tr.Masks()
				mu.Lock()
				n, loaded, quiet := reports, 0, time.Since(last) > assist.PrevKeep+200*time.Millisecond
				for _, r := range ready {
					if r {
						loaded++
					}
				}
				mu.Unlock()
				if !quiet { // the reports have not settled yet
					loaded = 0
				}
				if tc.blind && m.Blind && n > 0 && loaded >= 4 {
					break
				}
				if !tc.blind && !m.Blind && loaded >= 4 {
					break
				}
				select {
				case <-deadline:
					t.Fatalf("reports never settled: %+v", m)
				case <-time.After(50 * time.Millisecond):
				}
			}
			shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			src, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatal(err)
			}
			img := image.NewRGBA(src.Bounds())
			draw.Draw(img, img.Bounds(), src, image.Point{}, draw.Src)
			assist.Paint(img, tr.Masks())
			r := func(x, y, w, h int) image.Rectangle { return image.Rect(x, y, x+w, y+h) }
			black := map[string]image.Rectangle{
				"password field":                      r(20, 70, 200, 30),
				"same-origin iframe's password field": r(30, 130, 150, 30),
				"cross-origin payment iframe":         r(400, 20, 320, 120),
			}
			visible := map[string]image.Rectangle{
				"name field":                     r(30, 28, 100, 14),
				"rest of the same-origin iframe": r(200, 170, 100, 40),
				"harmless cross-origin iframe":   r(410, 210, 200, 60),
			}
			if tc.blind {
				black, visible = map[string]image.Rectangle{"whole page": img.Bounds()}, nil
			}
			for what, rr := range black {
				if m := assisttest.MaxChannel(img, rr); m != 0 {
					t.Errorf("%s %v: brightest channel %d, want black", what, rr, m)
				}
			}
			for what, rr := range visible {
				if m := assisttest.MaxChannel(img, rr); m < 200 {
					t.Errorf("%s %v: brightest channel %d, want it visible", what, rr, m)
				}
			}
		})
	}
}

// TestComposeFailsClosed: which frame is which is never guessed in the
// resident's disfavour.
func TestComposeFailsClosed(t *testing.T) {
	box := func(x, y, w, h int) [4]int { return [4]int{x, y, w, h} }
	mainR := assist.FrameReport{Action: "assist_masks", Main: true, W: 1000, H: 800, Ready: true,
		Frames: [][4]int{box(0, 0, 300, 100), box(0, 200, 300, 100)}}
	clean := assist.FrameReport{Action: "assist_masks", W: 300, H: 100, Ready: true}
	dirty := assist.FrameReport{Action: "assist_masks", W: 300, H: 100, Ready: true, Rects: [][4]int{box(5, 5, 50, 20)}}
	loading := clean
	loading.Ready = false
	for _, tt := range []struct {
		name     string
		children []assist.FrameReport
		masked   int // iframe boxes masked
	}{
		{"no child reports", nil, 2},
		{"both clean", []assist.FrameReport{clean, clean}, 0},
		{"one of two same-sized frames has a field", []assist.FrameReport{clean, dirty}, 2},
		{"still loading", []assist.FrameReport{loading, loading}, 2},
	} {
		tr := assist.NewTracker()
		tr.Reset()
		tr.ReportFrame("main", mainR)
		for i, c := range tt.children {
			tr.ReportFrame(fmt.Sprint("child", i), c)
		}
		m := tr.Masks()
		n := 0
		for _, r := range m.Rects {
			if r.Dx() == 300 && r.Dy() == 100 {
				n++
			}
		}
		// Each box may appear twice (current and previous report sets).
		if (n > 0) != (tt.masked > 0) || m.Blind {
			t.Errorf("%s: %d iframe boxes masked (blind %v), want %d", tt.name, n, m.Blind, tt.masked)
		}
	}
	tr := assist.NewTracker()
	tr.Reset()
	if !tr.Masks().Blind {
		t.Error("no report after a navigation: not blind")
	}
	bad := mainR
	bad.Error = true
	tr.ReportFrame("main", bad)
	if !tr.Masks().Blind {
		t.Error("a main frame whose selector failed: not blind")
	}
	if _, err := assist.ParseFrameReport([]byte(`{"action":"assist_masks","rects":[` + strings.Repeat("[1,1,1,1],", 300) + `[1,1,1,1]]}`)); err == nil {
		t.Error("a report with 301 rectangles was accepted")
	}
}

// FuzzParseFrameReport: any message a page's script posts parses within
// bounds or is refused, and composing what parses never panics.
func FuzzParseFrameReport(f *testing.F) {
	f.Add([]byte(`{"action":"assist_masks","main":true,"w":800,"h":600,"rects":[[1,2,3,4]],"frames":[[0,0,300,100]],"ready":true}`))
	f.Add([]byte(`{"action":"assist_masks","w":300,"h":100,"ready":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := assist.ParseFrameReport(b)
		if err != nil {
			return
		}
		tr := assist.NewTracker()
		tr.ReportFrame("a", r)
		tr.ReportFrame("b", r)
		img := image.NewRGBA(image.Rect(0, 0, 64, 64))
		assist.Paint(img, tr.Masks())
	})
}

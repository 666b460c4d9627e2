package assist_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"accesskiosk/kiosk/assist/assisttest"
)

var update = flag.Bool("update", false, "capture testdata/form.png and form.json again in headless Chromium")

// captureForm takes testdata/form.png (1280×800) of testdata/form.html in
// headless Chromium and records where its fields are in testdata/form.json.
func captureForm(t testing.TB) {
	if _, err := exec.LookPath("/usr/bin/chromium"); err != nil {
		t.Fatalf("-update needs /usr/bin/chromium: %v", err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	defer srv.Close()
	actx, c1 := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath("/usr/bin/chromium"), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("hide-scrollbars", true), chromedp.UserDataDir(t.TempDir()))
	defer c1()
	ctx, c2 := chromedp.NewContext(actx)
	defer c2()
	ctx, c3 := context.WithTimeout(ctx, time.Minute)
	defer c3()
	type layout struct{ Password, Card, Marker, Name [4]int }
	const js = `(() => { const r = (s) => { const b = document.querySelector(s).getBoundingClientRect(); return [Math.round(b.left), Math.round(b.top), Math.round(b.width), Math.round(b.height)]; };
		return {Password: r("#password"), Card: r("#card"), Marker: r("#marker"), Name: r("#name")}; })()`
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(srv.URL+"/form.html"),
		chromedp.WaitVisible(chromedp.ID("marker"))); err != nil {
		t.Fatalf("load the form in Chromium: %v", err)
	}
	fc, err := chromedp.Run(ctx, chromedp.Evaluate[layout](js))
	if err != nil {
		t.Fatalf("lay out the form: %v", err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("capture the form: %v", err)
	}
	if err := os.WriteFile("testdata/form.png", shot, 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(fc, "", "  ")
	if err := os.WriteFile("testdata/form.json", append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFormCapture checks the committed capture is what the other tests
// expect (go test -run TestFormCapture -update takes it again).
func TestFormCapture(t *testing.T) {
	if *update {
		captureForm(t)
	}
	img, fc, err := assisttest.LoadForm()
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 1280 || img.Bounds().Dy() != 800 {
		t.Fatalf("capture is %v, want 1280×800", img.Bounds())
	}
	m := fc.Marker
	if !assisttest.Near(img, m.Min.X+m.Dx()/2, m.Min.Y+m.Dy()/2, assisttest.Magenta, 0) {
		t.Errorf("marker centre is %v, want magenta", img.RGBAAt(m.Min.X+m.Dx()/2, m.Min.Y+m.Dy()/2))
	}
	if assisttest.MaxChannel(img, fc.Password.Inset(4)) < 200 {
		t.Errorf("the password field has no white in it: is the capture right?")
	}
}

package shell

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sirupsen/logrus"

	agentassist "accesskiosk/agent/assist"
	"accesskiosk/fleet/assist/hubtest"
	"accesskiosk/kiosk/assist/link"
	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// TestRemoteHelpWholeChain is issue 17 end to end with every real part:
// the kiosk shell (WebKitGTK under Xvfb, real taps), the agent's relay on
// its socket (agent/assist), the fleet's hub on loopback TLS with the
// fleet server's timeouts (fleet/assist/hubtest: its device and staff
// checks are fakes; fleet/cli's TestServeAssist covers the real ones) and
// the console's viewer in headless Chromium:
//
//   - the resident taps Get help, the help page shows the code, staff type
//     it in the console; the native consent prompt appears; a real tap on
//     Allow; the console's canvas shows the page's marker at its place,
//     and the password field (with typed text) black;
//   - glass-to-glass latency: the page changes colour, the canvas follows
//     (logged, with frames and bytes relayed);
//   - a click in the console draws the ring on the kiosk at that place;
//   - Stop sharing tapped on the kiosk: the console says so;
//   - Offer help, No thanks: nothing is relayed;
//   - Offer help, Allow, then End session: the wipe ends the share first;
//   - no frame bytes in any file the fleet or the agent wrote.
func TestRemoteHelpWholeChain(t *testing.T) {
	if _, err := exec.LookPath(chainChromium); err != nil {
		t.Skipf("chromium missing: %v", err)
	}
	base := t.TempDir()
	fleetDir, agentDir := filepath.Join(base, "fleet"), filepath.Join(base, "agent")
	os.MkdirAll(fleetDir, 0o700)
	os.MkdirAll(agentDir, 0o700)
	f := hubtest.Start(t, fleetDir, "127.0.0.1:0")

	// The agent's relay, as bin/agent runs it (agent/assist.go).
	lf, err := os.OpenFile(filepath.Join(agentDir, "agent.log"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lf.Close() })
	alog := logrus.New()
	alog.SetOutput(lf)
	alog.SetLevel(logrus.DebugLevel)
	socket := filepath.Join(agentDir, "run", "assist.sock")
	relay, err := agentassist.New(agentassist.Options{Listen: link.ListenOptions{Path: socket, Group: -1},
		FleetURL: f.URL, Pin: f.Pin, Credential: func() string { return hubtest.DeviceCred }, Log: alog, PingEvery: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	relayDone := make(chan struct{})
	go func() { relay.Run(rctx); close(relayDone) }()
	t.Cleanup(func() { rcancel(); <-relayDone })
	f.SetOffer(func(id string) error { return relay.Offer(rctx, id) })

	r := startAssistOn(t, nil, socket)
	ts := r.ts
	if !waitFor(30*time.Second, func() bool { return relay.KioskConnected() }) {
		t.Fatal("the kiosk did not connect to the agent's socket")
	}
	ctx := chainBrowser(t)

	// 1. The resident taps Get help; the page shows the code.
	r.tap(t, toolAssist)
	var code string
	if !waitFor(30*time.Second, func() bool {
		code = strings.ReplaceAll(evalString(t, ts.service, `(document.getElementById("assist-code") || {}).textContent || ""`), " ", "")
		return len(code) == 6
	}) {
		t.Fatal("the help page shows no code")
	}
	f.WaitMetric(t, "fleet_assist_codes_registered_total", 1)
	chainDo(t, ctx, "sign in and type the code", chromedp.Navigate(f.URL+"/test/login?user=alice"),
		chromedp.WaitVisible(chromedp.ID("code")), chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID("claim")), chromedp.WaitVisible(chromedp.ID("assist-canvas")))
	if !waitFor(20*time.Second, func() bool { return r.shown(t).Prompting }) {
		t.Fatal("no consent prompt after staff typed the code")
	}
	var prompt string
	webkittest.Do(t, func() { prompt = ts.s.win.PanelName() })
	if !strings.Contains(prompt, "would like to see this screen") {
		t.Errorf("the prompt is named %q", prompt)
	}
	if m := relayFrames(relay); m != 0 {
		t.Errorf("%d frames relayed before Allow", m)
	}

	// 2. Allow, for real; back to the form; the resident types a password.
	r.tap(t, panelAssistAllow)
	if !waitFor(10*time.Second, func() bool { return r.shown(t).Sharing }) {
		t.Fatal("not sharing after Allow")
	}
	allowed := time.Now()
	r.show(t, r.page)
	if !waitFor(20*time.Second, func() bool {
		r.clickPage(t, centre(pagePW))
		return waitFor(2*time.Second, func() bool {
			return evalOK(t, ts.service, `document.activeElement && document.activeElement.id === "pw"`)
		})
	}) {
		t.Fatal("the password field did not take the focus")
	}
	key(t, "s", "e", "c", "r", "e", "t")
	if !waitFor(10*time.Second, func() bool {
		return evalOK(t, ts.service, `document.getElementById("pw").value === "secret"`)
	}) {
		t.Fatal("the password was not typed")
	}
	webkittest.Do(t, func() { r.place, _ = ts.s.win.ViewPlace(ts.s.view) })
	mk := centre(r.at(pageMarker))
	chainPoll(t, ctx, "the marker on the console's canvas", fmt.Sprintf(`(() => { const p = %s; return p[0] > 215 && p[1] < 40 && p[2] > 215; })()`, chainPixel(mk.X, mk.Y)), 30*time.Second)
	t.Logf("Allow → the marker on the console's canvas: %v", time.Since(allowed).Round(time.Millisecond))
	pw := r.at(pagePW)
	if m := chainEval[int](t, ctx, chainMax(pw.Min.X, pw.Min.Y, pw.Dx(), pw.Dy())); m > 40 {
		t.Errorf("the password field is not black on the console (brightest %d)", m)
	}
	nm := r.at(pageName).Inset(6)
	if m := chainEval[int](t, ctx, chainMax(nm.Min.X, nm.Min.Y, nm.Dx(), nm.Dy())); m < 200 {
		t.Errorf("the name field is not visible on the console (brightest %d)", m)
	}

	// 3. Glass to glass: the page changes, the canvas follows.
	colours := [][3]int{{255, 0, 0}, {0, 0, 255}, {0, 160, 0}, {255, 255, 0}, {255, 0, 255}}
	st0, f0, b0, t0 := ts.s.Assist().Stats(), relayFrames(relay), relayBytes(relay), time.Now()
	var lat []time.Duration
	for i := range 15 {
		c := colours[i%len(colours)]
		start := time.Now()
		if !evalOK(t, ts.service, fmt.Sprintf(`(document.getElementById("marker").style.background = "rgb(%d,%d,%d)", true)`, c[0], c[1], c[2])) {
			t.Fatal("the marker's colour could not be changed")
		}
		chainPoll(t, ctx, "the new colour on the canvas", fmt.Sprintf(`(() => { const p = %s; return Math.abs(p[0]-%d) < 40 && Math.abs(p[1]-%d) < 40 && Math.abs(p[2]-%d) < 40; })()`, chainPixel(mk.X, mk.Y), c[0], c[1], c[2]), 10*time.Second)
		lat = append(lat, time.Since(start))
	}
	el := time.Since(t0)
	st1 := ts.s.Assist().Stats()
	slices.Sort(lat)
	frames, nbytes := relayFrames(relay)-f0, relayBytes(relay)-b0
	t.Logf("glass to glass on loopback (page change → console canvas, %d changes): median %v, max %v; %d frames (%.1f/s), %.0f kB/s upstream, %.0f B a frame; sharer busy %v (%.1f%% of one core), JPEG quality %d",
		len(lat), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), frames, float64(frames)/el.Seconds(),
		float64(nbytes)/el.Seconds()/1000, float64(nbytes)/float64(max(frames, 1)), (st1.Busy - st0.Busy).Round(time.Millisecond),
		100*(st1.Busy-st0.Busy).Seconds()/el.Seconds(), st1.Quality)

	// 4. Staff point: the ring on the kiosk there.
	chainDo(t, ctx, "type a note", chromedp.SendKeys(chromedp.ID("assist-note"), "Tap here"))
	rect := chainEval[[]float64](t, ctx, `(() => { const c = document.getElementById("assist-canvas"); const r = c.getBoundingClientRect(); return [r.left, r.top, r.width / c.width, r.height / c.height]; })()`)
	chainDo(t, ctx, "point", chromedp.MouseClickXY(rect[0]+(float64(mk.X)+0.5)*rect[2], rect[1]+(float64(mk.Y)+0.5)*rect[3]))
	if !waitFor(10*time.Second, func() bool {
		var x, y int
		var ok bool
		webkittest.Do(t, func() { x, y, ok = ts.s.win.RingShown() })
		return ok && abs(x-mk.X) <= 2 && abs(y-mk.Y) <= 2
	}) {
		t.Error("no ring on the kiosk where staff clicked")
	}

	// 5. Stop sharing, tapped on the kiosk: the console says so.
	stopped := time.Now()
	r.tap(t, toolAssistStop)
	chainPoll(t, ctx, "the console shows the stop", `document.getElementById("assist-viewer").dataset.ended === "stop"`, 10*time.Second)
	t.Logf("Stop on the kiosk → the console says it ended: %v", time.Since(stopped).Round(time.Millisecond))

	// 6. Offer help; No thanks: nothing is relayed.
	before := relayFrames(relay)
	chainOffer(t, ctx, f, r)
	r.tap(t, panelAssistNo)
	chainPoll(t, ctx, "the console shows the refusal", `document.getElementById("assist-viewer").dataset.ended === "refused"`, 10*time.Second)
	if got := relayFrames(relay); got != before {
		t.Errorf("frames relayed after No thanks: %d → %d", before, got)
	}

	// 7. Offer help; Allow; End session: the wipe ends the share first.
	chainOffer(t, ctx, f, r)
	r.tap(t, panelAssistAllow)
	chainPoll(t, ctx, "a frame on the canvas", `"seq" in document.getElementById("assist-canvas").dataset`, 30*time.Second)
	r.tap(t, toolEnd)
	r.tap(t, panelConfirmEnd) // End session asks first
	chainPoll(t, ctx, "the console shows the session end", `document.getElementById("assist-viewer").dataset.ended === "session_end"`, 15*time.Second)
	select {
	case rc := <-r.receipts:
		if !rc.RemoteHelp || rc.RemoteHelpMs <= 0 {
			t.Errorf("receipt assist %v %d ms", rc.RemoteHelp, rc.RemoteHelpMs)
		}
	case <-time.After(30 * time.Second):
		t.Error("no receipt")
	}

	// 8. No frame bytes in any file the fleet or the agent wrote.
	rcancel()
	<-relayDone
	f.Crash()
	n := 0
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		n++
		for _, sig := range [][]byte{{0xFF, 0xD8, 0xFF}, []byte("\x89PNG"), []byte("AKF1")} {
			if bytes.Contains(b, sig) {
				t.Errorf("%s holds %q: frame bytes on disk", p, sig)
			}
		}
		return nil
	})
	if n < 2 {
		t.Errorf("scanned %d files; the logs should be there", n)
	}
}

const chainChromium = "/usr/bin/chromium"

func relayFrames(r *agentassist.Relay) int  { return r.Stats().FramesRelayed }
func relayBytes(r *agentassist.Relay) int64 { return r.Stats().BytesRelayed }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// chainOffer presses Offer help in the console and waits for the prompt.
func chainOffer(t *testing.T, ctx context.Context, f *hubtest.Fleet, r *assistRig) {
	t.Helper()
	chainDo(t, ctx, "offer help", chromedp.Navigate(f.URL+"/test/login?user=alice"), chromedp.WaitVisible(chromedp.ID("offer")),
		chromedp.Click(chromedp.ID("offer")), chromedp.WaitVisible(chromedp.ID("assist-canvas")))
	if !waitFor(20*time.Second, func() bool { return r.shown(t).Prompting }) {
		t.Fatal("no consent prompt after Offer help")
	}
}

func evalString(t testing.TB, pick func() *webkit.View, js string) string {
	ch := make(chan string, 1)
	webkittest.Do(t, func() {
		v := pick()
		if v == nil {
			ch <- ""
			return
		}
		v.Eval(js, func(s string, err error) { ch <- s })
	})
	select {
	case s := <-ch:
		return strings.Trim(s, `"`)
	case <-time.After(30 * time.Second):
		return ""
	}
}

func chainBrowser(t *testing.T) context.Context {
	t.Helper()
	// Chromium's own profile, caches and NSS database stay out of the
	// kiosk's private home (TestWipe checks nothing else is there).
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
	actx, c1 := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chainChromium), chromedp.Headless, chromedp.Env(env...),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()))
	ctx, c2 := chromedp.NewContext(actx)
	ctx, c3 := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { c3(); c2(); c1() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, 1200)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func chainDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func chainEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// chainPoll evaluates expr until it is true and returns how long it took.
func chainPoll(t *testing.T, ctx context.Context, what, expr string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not true within %v (last error %v)", what, d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func chainPixel(x, y int) string {
	return fmt.Sprintf(`(() => { const d = document.getElementById("assist-canvas").getContext("2d").getImageData(%d, %d, 1, 1).data; return [d[0], d[1], d[2]]; })()`, x, y)
}

func chainMax(x, y, w, h int) string {
	return fmt.Sprintf(`(() => { const d = document.getElementById("assist-canvas").getContext("2d").getImageData(%d, %d, %d, %d).data; let m = 0; for (let i = 0; i < d.length; i += 4) m = Math.max(m, d[i], d[i+1], d[i+2]); return m; })()`, x, y, w, h)
}

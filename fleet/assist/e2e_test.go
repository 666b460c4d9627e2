package assist_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"accesskiosk/fleet/assist/hubtest"
	"accesskiosk/fleet/assist/wire"
	"accesskiosk/kiosk/assist/assisttest"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium with a fresh profile (skipped without
// Chromium unless CI=true). The fleet's certificate is self-signed, as
// `fleet serve` makes it: Chromium is told to accept it.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium missing (%v): run make deps", err)
		}
		t.Skipf("chromium missing: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1400, 1000)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// poll evaluates expr in the page until it is true or d passes, and
// returns how long it took.
func poll(t *testing.T, ctx context.Context, what, expr string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not true within %v (%s; last error %v)", what, d, expr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// canvasPixel is JS for the canvas's RGB at (x, y).
func canvasPixel(x, y int) string {
	return fmt.Sprintf(`(() => { const d = document.getElementById("assist-canvas").getContext("2d").getImageData(%d, %d, 1, 1).data; return [d[0], d[1], d[2]]; })()`, x, y)
}

// canvasMax is JS for the brightest channel inside a rectangle of the canvas.
func canvasMax(x, y, w, h int) string {
	return fmt.Sprintf(`(() => { const d = document.getElementById("assist-canvas").getContext("2d").getImageData(%d, %d, %d, %d).data; let m = 0; for (let i = 0; i < d.length; i += 4) m = Math.max(m, d[i], d[i+1], d[i+2]); return m; })()`, x, y, w, h)
}

func near(got []int, want [3]uint8, tol int) bool {
	if len(got) != 3 {
		return false
	}
	for i := range 3 {
		if d := got[i] - int(want[i]); d > tol || d < -tol {
			return false
		}
	}
	return true
}

// TestRemoteHelpEndToEnd: a resident asks for help on the kiosk (code),
// staff type the code in the console (real Chromium), the resident allows,
// the viewer's canvas shows the marker at the right place and the
// password field black; a click with a note comes back to the kiosk as a
// pointer event; a second viewer is refused; Stop on the kiosk ends it in
// the console. Then "Offer help" with No thanks sends nothing; an agent
// crash and a fleet crash mid-share end it cleanly on the kiosk. Finally no
// file under the fleet's or the agent's data directory (logs included)
// holds frame bytes.
func TestRemoteHelpEndToEnd(t *testing.T) {
	base := t.TempDir()
	fleetDir, agentDir := filepath.Join(base, "fleet"), filepath.Join(base, "agent")
	os.MkdirAll(fleetDir, 0o700)
	os.MkdirAll(agentDir, 0o700)
	f := hubtest.Start(t, fleetDir, "127.0.0.1:0")
	acfg := agentConfig{Socket: filepath.Join(agentDir, "run", "assist.sock"), FleetURL: f.URL, Pin: f.Pin.String(), Cred: hubtest.DeviceCred,
		Log: filepath.Join(agentDir, "agent.log")}
	agent := startAgent(t, acfg)
	f.SetOffer(func(id string) error { return agent.offer(id) })
	k := startKiosk(t, acfg.Socket)
	k.waitLink(t)
	ctx := browser(t)

	// 1. The resident asks; staff type the code.
	code, expires, err := k.s.RequestHelp()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(expires); d < 9*time.Minute || d > wire.CodeTTL {
		t.Errorf("code expires in %v, want 10 minutes", d)
	}
	// The code's hash reaches the fleet through the agent: wait for it
	// rather than race it.
	f.WaitMetric(t, "fleet_assist_codes_registered_total", 1)
	do(t, ctx, "sign in and claim the code",
		chromedp.Navigate(f.URL+"/test/login?user=alice"),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID("claim")),
		chromedp.WaitVisible(chromedp.ID("assist-canvas")),
	)
	if via := recv(t, k.offers, "consent prompt", 20*time.Second); via != wire.ViaCode {
		t.Errorf("offer via %q, want code", via)
	}
	poll(t, ctx, "waiting for consent shown", `document.getElementById("assist-status").textContent.includes("allow")`, 10*time.Second)
	if ev := recv(t, f.Audit, "audit start", 5*time.Second); ev.Action != "assist.start" || ev.Staff != "alice" || ev.DeviceID != hubtest.DeviceID || ev.Via != wire.ViaCode {
		t.Errorf("audit start = %+v", ev)
	}

	// 2. Allow: the marker appears in the canvas at its place.
	allowed := time.Now()
	if err := k.s.Answer(true); err != nil {
		t.Fatal(err)
	}
	recv(t, k.sharing, "sharing", 5*time.Second)
	mk := k.form.Marker
	cx, cy := mk.Min.X+mk.Dx()/2, mk.Min.Y+mk.Dy()/2
	poll(t, ctx, "marker drawn", fmt.Sprintf(`(() => { const p = %s; return Math.abs(p[0]-255) < 40 && p[1] < 40 && Math.abs(p[2]-255) < 40; })()`, canvasPixel(cx, cy)), 30*time.Second)
	t.Logf("Allow → marker on the console's canvas: %v (issue 17 asks for 2 s; this machine's load is shared)", time.Since(allowed).Round(time.Millisecond))
	if dir := os.Getenv("SCREENSHOTS"); dir != "" {
		do(t, ctx, "point for the screenshot", chromedp.SendKeys(chromedp.ID("assist-note"), "Tap Continue"))
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "console-assist.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, "clear the note", chromedp.Evaluate[chromedp.Void](`document.getElementById("assist-note").value = ""`))
	}
	// Around the marker is the page's white, not magenta: it is at the right place.
	for _, p := range [][2]int{{mk.Min.X - 6, cy}, {mk.Max.X + 6, cy}, {cx, mk.Min.Y - 6}, {cx, mk.Max.Y + 6}} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](canvasPixel(p[0], p[1])))
		if err != nil || !near(got, [3]uint8{255, 255, 255}, 30) {
			t.Errorf("canvas at %v = %v (%v), want white just outside the marker", p, got, err)
		}
	}
	for name, r := range map[string][4]int{"password": {k.form.Password.Min.X, k.form.Password.Min.Y, k.form.Password.Dx(), k.form.Password.Dy()},
		"card": {k.form.Card.Min.X, k.form.Card.Min.Y, k.form.Card.Dx(), k.form.Card.Dy()}} {
		m, err := chromedp.Run(ctx, chromedp.Evaluate[int](canvasMax(r[0], r[1], r[2], r[3])))
		if err != nil || m > 24 {
			t.Errorf("%s field on the console's canvas: brightest channel %d (%v), want black", name, m, err)
		}
	}
	if m, _ := chromedp.Run(ctx, chromedp.Evaluate[int](canvasMax(k.form.Name.Min.X+4, k.form.Name.Min.Y+4, 100, 20))); m < 200 {
		t.Errorf("the name field is not visible on the canvas (brightest %d)", m)
	}

	// 3. A click with a note points on the kiosk, at the frame pixel clicked.
	for len(k.points) > 0 {
		<-k.points
	}
	do(t, ctx, "type a note", chromedp.SendKeys(chromedp.ID("assist-note"), "Tap Next"))
	rect, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const c = document.getElementById("assist-canvas"); const r = c.getBoundingClientRect(); return [r.left, r.top, r.width / c.width, r.height / c.height]; })()`))
	if err != nil || len(rect) != 4 {
		t.Fatalf("canvas geometry: %v %v", rect, err)
	}
	do(t, ctx, "point with a note",
		chromedp.MouseClickXY(rect[0]+(float64(cx)+0.5)*rect[2], rect[1]+(float64(cy)+0.5)*rect[3]))
	p := recv(t, k.points, "pointer event", 10*time.Second)
	if abs(p.X-cx) > 2 || abs(p.Y-cy) > 2 || p.Text != "Tap Next" {
		t.Errorf("pointer event %+v, want (%d, %d) \"Tap Next\"", p, cx, cy)
	}

	// 4. A second viewer is refused: the same staff user in another tab,
	// and another staff user.
	share := strings.TrimPrefix(mustEval[string](t, ctx, `location.pathname`), "/assist/")
	for user, want := range map[string]int{"alice": http.StatusConflict, "bob": http.StatusForbidden} {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws, got, err := f.DialViewer(dctx, share, user)
		cancel()
		if ws != nil {
			ws.CloseNow()
		}
		if got != want {
			t.Logf("dial as %s: %v", user, err)
			t.Errorf("second viewer as %s: %d, want %d", user, got, want)
		}
	}

	// 5. Stop on the kiosk: the console says so within a second (or so, on this machine).
	stopped := time.Now()
	k.s.Stop(wire.ReasonStop)
	if r := recv(t, k.ended, "end on the kiosk", 5*time.Second); r != wire.ReasonStop {
		t.Errorf("kiosk ended with %q", r)
	}
	poll(t, ctx, "console shows the end", `document.getElementById("assist-viewer").dataset.ended === "stop"`, 10*time.Second)
	t.Logf("Stop on the kiosk → the console says it ended: %v", time.Since(stopped).Round(time.Millisecond))
	if m, _ := chromedp.Run(ctx, chromedp.Evaluate[int](canvasMax(0, 0, 1280, 800))); m != 0 {
		t.Errorf("the canvas still shows the screen after the end (brightest %d)", m)
	}
	ev := recv(t, f.Audit, "audit end", 5*time.Second)
	if ev.Action != "assist.end" || ev.Reason != wire.ReasonStop || ev.Started.IsZero() || ev.Staff != "alice" {
		t.Errorf("audit end = %+v", ev)
	}

	// 6. Offer help; the resident says No thanks: nothing is sent.
	framesBefore := f.Metric(t, "fleet_assist_frames_relayed_total")
	do(t, ctx, "offer help", chromedp.Navigate(f.URL+"/test/login?user=alice"), chromedp.WaitVisible(chromedp.ID("offer")),
		chromedp.Click(chromedp.ID("offer")), chromedp.WaitVisible(chromedp.ID("assist-canvas")))
	if via := recv(t, k.offers, "consent prompt for the offer", 20*time.Second); via != wire.ViaOffer {
		t.Errorf("offer via %q", via)
	}
	// The viewer is connected before the resident answers (as in 1.): a
	// viewer that connects after the refusal finds the share gone (404) and
	// says the connection was lost, which a busy machine made happen.
	poll(t, ctx, "waiting for consent shown", `document.getElementById("assist-status").textContent.includes("allow")`, 10*time.Second)
	k.s.Answer(false)
	if r := recv(t, k.ended, "refusal", 5*time.Second); r != wire.ReasonRefused {
		t.Errorf("kiosk ended with %q, want refused", r)
	}
	poll(t, ctx, "console shows the refusal", `document.getElementById("assist-viewer").dataset.ended === "refused"`, 10*time.Second)
	if got := f.Metric(t, "fleet_assist_frames_relayed_total"); got != framesBefore {
		t.Errorf("frames relayed after No thanks: %v → %v", framesBefore, got)
	}
	if has, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`"seq" in document.getElementById("assist-canvas").dataset`)); has {
		t.Error("the viewer drew a frame after No thanks")
	}

	// 7. The agent crashes mid-share: the kiosk ends it (agent_gone), the console too.
	startSharing(t, ctx, f, k)
	agent.kill()
	if r := recv(t, k.ended, "end after the agent died", 10*time.Second); r != wire.ReasonAgentGone {
		t.Errorf("kiosk ended with %q, want agent_gone", r)
	}
	poll(t, ctx, "console shows the agent gone", `document.getElementById("assist-viewer").dataset.ended === "agent_gone"`, 30*time.Second)
	agent = startAgent(t, acfg)
	f.SetOffer(func(id string) error { return agent.offer(id) })
	k.waitLink(t)

	// 8. The fleet crashes mid-share: the kiosk ends it (fleet_gone).
	startSharing(t, ctx, f, k)
	f.Crash()
	if r := recv(t, k.ended, "end after the fleet died", 15*time.Second); r != wire.ReasonFleetGone {
		t.Errorf("kiosk ended with %q, want fleet_gone", r)
	}
	poll(t, ctx, "console shows the connection lost", `!!document.getElementById("assist-viewer").dataset.ended`, 30*time.Second)
	// A fleet started again on the same address serves the next share.
	f2 := hubtest.Start(t, fleetDir, f.Addr)
	f2.SetOffer(func(id string) error { return agent.offer(id) })
	startSharing(t, ctx, f2, k)
	k.s.Stop(wire.ReasonSessionEnd)
	if r := recv(t, k.ended, "end on session end", 5*time.Second); r != wire.ReasonSessionEnd {
		t.Errorf("kiosk ended with %q, want session_end", r)
	}
	poll(t, ctx, "console shows the session end", `document.getElementById("assist-viewer").dataset.ended === "session_end"`, 10*time.Second)

	// 9. No frame bytes in any file the fleet or the agent wrote.
	agent.kill()
	f2.Crash()
	n := scanForFrames(t, fleetDir, agentDir)
	t.Logf("scanned %d files under the fleet's and the agent's directories", n)
	if n < 3 {
		t.Errorf("scanned only %d files: the logs and certificate should be there", n)
	}
}

// startSharing offers help from the console, the resident allows, and it
// waits for the first frame on the canvas.
func startSharing(t *testing.T, ctx context.Context, f *hubtest.Fleet, k *kiosk) {
	t.Helper()
	do(t, ctx, "offer help", chromedp.Navigate(f.URL+"/test/login?user=alice"), chromedp.WaitVisible(chromedp.ID("offer")),
		chromedp.Click(chromedp.ID("offer")), chromedp.WaitVisible(chromedp.ID("assist-canvas")))
	recv(t, k.offers, "consent prompt", 20*time.Second)
	if err := k.s.Answer(true); err != nil {
		t.Fatal(err)
	}
	recv(t, k.sharing, "sharing", 5*time.Second)
	poll(t, ctx, "first frame drawn", `"seq" in document.getElementById("assist-canvas").dataset`, 30*time.Second)
}

func mustEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

var _ = assisttest.Magenta

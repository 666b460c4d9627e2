package webkit_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// glPage asks for every kind of GL a page can (WebGL 1 and 2, the old
// name, from an OffscreenCanvas and from a worker), then paints a 2D
// canvas, plays a video and draws a frame of it into a canvas, and runs
// a CSS 3D animation, and puts what it got in window.result.
const glPage = `<!doctype html><title>gl</title>
<canvas id="c2" width="8" height="8"></canvas>
<video id="v" muted playsinline src="/clip.webm"></video>
<div id="spin" style="width:40px;height:40px;background:#1d70b8;transform:perspective(100px) rotateY(30deg);will-change:transform;animation:s 1s linear infinite"></div>
<style>@keyframes s { to { transform: perspective(100px) rotateY(390deg) } }</style>
<script>
window.marker = 42;
const gl = {};
for (const k of ["webgl", "webgl2", "experimental-webgl"]) gl[k] = !!document.createElement("canvas").getContext(k);
gl.offscreen = typeof OffscreenCanvas === "undefined" ? null : !!new OffscreenCanvas(4, 4).getContext("webgl");
const c = document.getElementById("c2").getContext("2d");
c.fillStyle = "rgb(255,0,0)";
c.fillRect(0, 0, 8, 8);
const px = Array.from(c.getImageData(4, 4, 1, 1).data);
const worker = new Worker(URL.createObjectURL(new Blob([
  "postMessage(typeof OffscreenCanvas === 'undefined' ? null : !!new OffscreenCanvas(4, 4).getContext('webgl'))"])));
const fromWorker = new Promise(r => worker.onmessage = e => r(e.data));
let frames = 0;
(function tick() { frames++; requestAnimationFrame(tick); })();
const v = document.getElementById("v");
const played = new Promise(r => {
  v.ontimeupdate = () => {
    if (v.currentTime < 0.2 || !v.videoWidth) return;
    const vc = document.createElement("canvas");
    vc.width = v.videoWidth; vc.height = v.videoHeight;
    const x = vc.getContext("2d");
    x.drawImage(v, 0, 0);
    const d = x.getImageData(0, 0, vc.width, vc.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 0) lit++;
    r({width: v.videoWidth, lit});
  };
  v.onerror = () => r({error: String(v.error && v.error.message || v.error && v.error.code)});
});
v.play().catch(e => {});
Promise.all([fromWorker, played]).then(([w, video]) => {
  gl.worker = w;
  window.result = JSON.stringify({gl, px, video, frames});
});
</script>`

// TestNoGL: with webgl off (the default, and what Main gives every test
// here), the web processes load no GL driver: no Mesa, no LLVM. A page
// asking for WebGL in every way a page can gets none and carries on;
// asking 300 times does not crash its web process; 2D canvas, video (a
// frame of it drawn into a canvas) and CSS 3D animation still work. With
// webgl on (the test binary again, with WebGLEnv=1), the same page gets
// WebGL from the system's driver.
func TestNoGL(t *testing.T) {
	webgl := os.Getenv(webkittest.WebGLEnv) == "1"
	clip := filepath.Join(t.TempDir(), "clip.webm")
	gst, err := exec.LookPath("gst-launch-1.0")
	if err != nil {
		t.Fatal("gst-launch-1.0 not installed (make deps installs gstreamer1.0-tools)")
	}
	if out, err := exec.Command(gst, "-q", "videotestsrc", "num-buffers=45", "pattern=smpte", "!", "video/x-raw,width=64,height=48,framerate=15/1",
		"!", "vp8enc", "!", "webmmux", "!", "filesink", "location="+clip).CombinedOutput(); err != nil {
		t.Fatalf("make a test clip: %v\n%s", err, out)
	}
	base := serveGL(t, clip)
	pv := newPrintView(t)
	pv.load(t, base+"/gl")
	var res struct {
		GL     map[string]*bool `json:"gl"`
		Px     []int            `json:"px"`
		Video  map[string]any   `json:"video"`
		Frames int              `json:"frames"`
	}
	waitUntil(60*time.Second, func() bool { return pv.eval(t, `window.result || null`) != "null" })
	var raw string
	if err := json.Unmarshal([]byte(pv.eval(t, `window.result || null`)), &raw); err != nil || raw == "" {
		t.Fatalf("the page did not finish within 60s: %v", err)
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatalf("result %s: %v", raw, err)
	}
	t.Logf("webgl=%v: %s", webgl, raw)
	for _, k := range []string{"webgl", "webgl2", "experimental-webgl", "offscreen", "worker"} {
		got := res.GL[k]
		switch {
		case got == nil && (k == "offscreen" || k == "worker"):
			// no OffscreenCanvas in this WebKit: nothing to ask
		case got == nil:
			t.Errorf("getContext(%q): no answer", k)
		case k == "webgl" && *got != webgl:
			t.Errorf("getContext(%q) gave a context: %v, want %v", k, *got, webgl)
		case !webgl && *got:
			t.Errorf("getContext(%q) gave a context without a GL driver", k)
		}
	}
	if fmt.Sprint(res.Px) != "[255 0 0 255]" {
		t.Errorf("2D canvas pixel %v, want [255 0 0 255]", res.Px)
	}
	if res.Video["error"] != nil || res.Video["width"] != float64(64) || res.Video["lit"] == float64(0) {
		t.Errorf("video: %v; want it played, 64 px wide, a frame with colour drawn into a canvas", res.Video)
	}
	if res.Frames < 2 {
		t.Errorf("%d animation frames; the page is not painting", res.Frames)
	}
	// A flood of WebGL requests does not take the web process down: the
	// page's own state is still there afterwards.
	pv.eval(t, `(() => { for (let i = 0; i < 300; i++) document.createElement("canvas").getContext(i % 2 ? "webgl" : "webgl2"); return true })()`)
	if got := pv.eval(t, `window.marker`); got != "42" {
		t.Errorf("after 300 WebGL requests the page's state is %s, want 42 (did its web process restart?)", got)
	}
	maps := webProcessMaps(t)
	if len(maps) == 0 {
		t.Fatal("found no web process of this test")
	}
	for pid, m := range maps {
		mesa := strings.Contains(m, "libLLVM") || strings.Contains(m, "_dri.so") || strings.Contains(m, "libgallium")
		if !webgl && mesa {
			t.Errorf("web process %d maps Mesa or LLVM with webgl off", pid)
		}
	}
	if webgl {
		return
	}
	// The same page with webgl on: the test binary again, as a kiosk with
	// webgl: true starts.
	cmd := exec.Command(os.Args[0], "-test.run", "^TestNoGL$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), webkittest.WebGLEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "webgl=true") {
		t.Errorf("with webgl on: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "webgl=true") {
			t.Log("with webgl on:", strings.TrimSpace(line))
		}
	}
}

// TestNoGLRefusesWhatItCannotLoad: a library that is not an EGL vendor, a
// file that is not a library and a missing file are refused up front
// (the kiosk then keeps the system's driver and says why), instead of
// every web process aborting at start; NoGL after Init is refused.
func TestNoGLRefusesWhatItCannotLoad(t *testing.T) {
	text := filepath.Join(t.TempDir(), "not-a-library.so")
	os.WriteFile(text, []byte("hello"), 0o644)
	libc := ""
	for _, p := range []string{"/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1"} {
		if _, err := os.Stat(p); err == nil {
			libc = p
			break
		}
	}
	cases := map[string]string{text: "", filepath.Join(t.TempDir(), "missing.so"): "no such file", t.TempDir(): "not a regular file"}
	if libc != "" {
		cases[libc] = "not an EGL vendor"
	}
	for lib, want := range cases {
		err := webkit.CheckVendor(lib)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckVendor(%s) = %v, want an error saying %q", lib, err, want)
		}
	}
	if err := webkit.NoGL(os.Getenv(webkit.NoGLEnv), t.TempDir()); err == nil || !strings.Contains(err.Error(), "after Init") {
		t.Errorf("NoGL after Init = %v, want refused", err)
	}
}

// serveGL serves glPage at /gl and clip at /clip.webm.
func serveGL(t *testing.T, clip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gl":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, glPage)
		case "/clip.webm":
			w.Header().Set("Content-Type", "video/webm")
			http.ServeFile(w, r, clip)
		default:
			http.NotFound(w, r)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// webProcessMaps reads /proc/PID/maps of every WebKit web process below
// this test process.
func webProcessMaps(t *testing.T) map[int]string {
	t.Helper()
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so after the last ')'.
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	below := func(pid int) bool {
		for p := pid; p > 1; p = parent[p] {
			if p == os.Getpid() {
				return true
			}
		}
		return false
	}
	out := map[int]string{}
	for pid := range parent {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if !strings.HasPrefix(string(comm), "WebKitWebProc") || !below(pid) {
			continue
		}
		if m, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid)); err == nil {
			out[pid] = string(m)
		}
	}
	return out
}

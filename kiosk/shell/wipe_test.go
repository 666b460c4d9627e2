package shell

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
	"accesskiosk/kiosk/webkit/webkittest"
)

// The page that fills a session with everything a browser can keep. Its
// magenta background is how a screenshot tells it (reset_test.go).
const writePage = `<!doctype html><title>write</title>
<style>html{background:#ff00ff}</style>
<script src="/cached.js"></script>
<form id=f><input id=q name=q autocomplete=on></form>
<script>
(async () => {
  const r = {};
  try { document.cookie = "scriptcookie=resident; max-age=3600; path=/"; r.cookie = true } catch (e) { r.cookie = String(e) }
  try { localStorage.setItem("ls", "resident"); r.localStorage = true } catch (e) { r.localStorage = String(e) }
  try { sessionStorage.setItem("ss", "resident"); r.sessionStorage = true } catch (e) { r.sessionStorage = String(e) }
  try {
    r.indexedDB = await new Promise((ok, bad) => {
      const q = indexedDB.open("residentdb", 1);
      q.onupgradeneeded = () => q.result.createObjectStore("s");
      q.onerror = () => bad(q.error);
      q.onsuccess = () => {
        const tx = q.result.transaction("s", "readwrite");
        tx.objectStore("s").put("resident", "k");
        tx.oncomplete = () => { q.result.close(); ok(true) };
        tx.onerror = () => bad(tx.error);
      };
    });
  } catch (e) { r.indexedDB = String(e) }
  try { const c = await caches.open("residentcache"); await c.put("/cache-api-entry", new Response("resident")); r.cacheAPI = true } catch (e) { r.cacheAPI = String(e) }
  try { await navigator.serviceWorker.register("/sw.js"); await navigator.serviceWorker.ready; r.serviceWorker = true } catch (e) { r.serviceWorker = String(e) }
  r.httpCache = window.cachedLoaded === true;
  try { for (let i = 0; i < 3; i++) history.pushState({i}, "", "/write?step=" + i); r.history = history.length } catch (e) { r.history = String(e) }
  document.getElementById("q").value = "resident typed this";
  r.form = true;
  await fetch("/report?stage=write", {method: "POST", body: JSON.stringify(r)});
})();
</script>`

// The page that looks for all of it.
const checkPage = `<!doctype html><title>check</title>
<script src="/cached.js"></script>
<form id=f><input id=q name=q autocomplete=on></form>
<script>
(async () => {
  const r = {};
  r.cookie = document.cookie;
  try { r.localStorage = localStorage.getItem("ls") || "" } catch (e) { r.localStorage = "error " + e }
  try { r.sessionStorage = sessionStorage.getItem("ss") || "" } catch (e) { r.sessionStorage = "error " + e }
  try { r.indexedDB = (await indexedDB.databases()).map(d => d.name).join(",") } catch (e) { r.indexedDB = "error " + e }
  try { r.cacheAPI = (await caches.keys()).join(",") } catch (e) { r.cacheAPI = "error " + e }
  try { r.serviceWorker = (await navigator.serviceWorker.getRegistrations()).length } catch (e) { r.serviceWorker = "error " + e }
  r.history = history.length;
  r.form = document.getElementById("q").value;
  await fetch("/report?stage=check", {method: "POST", body: JSON.stringify(r)});
})();
</script>`

type wipeServer struct {
	*recorder
	mu      sync.Mutex
	reports map[string][]map[string]any
	cached  int // requests for /cached.js
	cookies []string
}

func startWipeServer(t *testing.T) *wipeServer {
	ws := &wipeServer{reports: map[string][]map[string]any{}}
	mux := http.NewServeMux()
	html := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ws.mu.Lock()
			ws.cookies = append(ws.cookies, r.Header.Get("Cookie"))
			ws.mu.Unlock()
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Cache-Control", "no-store")
			if strings.HasPrefix(r.URL.Path, "/write") {
				http.SetCookie(w, &http.Cookie{Name: "servercookie", Value: "resident", MaxAge: 3600, Path: "/"})
			}
			io.WriteString(w, body)
		}
	}
	mux.HandleFunc("/write", html(writePage))
	mux.HandleFunc("/check", html(checkPage))
	mux.HandleFunc("/sw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, "self.addEventListener('fetch', () => {});")
	})
	mux.HandleFunc("/cached.js", func(w http.ResponseWriter, r *http.Request) {
		ws.mu.Lock()
		ws.cached++
		ws.mu.Unlock()
		w.Header().Set("Content-Type", "text/javascript")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		io.WriteString(w, "window.cachedLoaded = true;")
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err == nil {
			ws.mu.Lock()
			st := r.URL.Query().Get("stage")
			ws.reports[st] = append(ws.reports[st], m)
			ws.mu.Unlock()
		}
	})
	ws.recorder = startServer(t, "A", "127.0.0.1", mux)
	return ws
}

func (ws *wipeServer) report(t testing.TB, stage string, n int) map[string]any {
	t.Helper()
	if !waitFor(15*time.Second, func() bool {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		return len(ws.reports[stage]) >= n
	}) {
		t.Fatalf("no %s report #%d from the page", stage, n)
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.reports[stage][n-1]
}

func (ws *wipeServer) cachedCount() int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.cached
}

func (ws *wipeServer) lastCookie() string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if len(ws.cookies) == 0 {
		return ""
	}
	return ws.cookies[len(ws.cookies)-1]
}

// TestWipe fills a session with every kind of browser state, ends it (by
// idle timeout, by D-Bus, by a killed web process) and checks the next
// session finds none of it, and that nothing reached the disk.
func TestWipe(t *testing.T) {
	ws := startWipeServer(t)
	addr := bustest.Start(t)
	cfg := testConfig(t, []string{ws.URL()}, nil, time.Hour, time.Minute)
	// Short timers for the idle case (below the limits a config file may set).
	cfg.Session.IdleTimeout, cfg.Session.IdleWarning = 2*time.Second, 2*time.Second
	ts := startShell(t, Options{Config: cfg, Bus: bustest.Conn(t, addr), Tick: 100 * time.Millisecond})
	client := bus.NewClient(bustest.Conn(t, addr))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := client.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var procsBefore []int // web processes before the session (the shown view's)
	setIdle := func(d time.Duration) {
		webkittest.Do(t, func() { cfg.Session.IdleTimeout = d })
	}
	ends := []struct {
		name   string
		reason string
		end    func(t *testing.T)
	}{
		{"idle-timeout", bus.ReasonIdle, func(t *testing.T) {
			// No input for idle_timeout, then the warning runs out.
			setIdle(time.Second)
			if !waitFor(5*time.Second, func() bool { return ts.state(t) == bus.StateWarning }) {
				t.Errorf("no idle warning after idle_timeout; state %s", ts.state(t))
			}
		}},
		{"dbus", bus.ReasonDBus, func(t *testing.T) {
			if err := client.EndSession(ctx, bus.ReasonDBus); err != nil {
				t.Fatal(err)
			}
		}},
		{"killed-web-process", bus.ReasonWebCrash, func(t *testing.T) {
			// Kill the shown view's web process (not the spare one made at session start).
			var pids []int
			now := webProcesses()
			for _, p := range procsBefore {
				if contains(now, p) {
					pids = append(pids, p)
				}
			}
			if len(pids) == 0 {
				t.Fatal("no WebKitWebProcess of the shown view found among this process's descendants")
			}
			for _, p := range pids {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}},
	}
	for i, e := range ends {
		t.Run(e.name, func(t *testing.T) {
			n := i + 1
			setIdle(time.Hour)
			procsBefore = webProcesses()
			// A resident starts a session (real key press) and fills it.
			key(t, "shift")
			if !waitFor(3*time.Second, func() bool { return ts.state(t) == bus.StateInSession }) {
				t.Fatalf("no session after a key press; state %s", ts.state(t))
			}
			if ev := nextEvent(t, events); ev.Kind != bus.EventStarted || ev.UnixMs == 0 {
				t.Errorf("want SessionStarted with a time, got %+v", ev)
			}
			ts.load(t, ws.URL()+"/write")
			w := ws.report(t, "write", n)
			for _, k := range []string{"cookie", "localStorage", "sessionStorage", "indexedDB", "cacheAPI", "serviceWorker", "httpCache", "form"} {
				if w[k] != true {
					t.Errorf("write %s: %v", k, w[k])
				}
			}
			// Control: the same session sees all of it.
			cachedBefore := ws.cachedCount()
			ts.load(t, ws.URL()+"/check")
			c := ws.report(t, "check", 2*n-1)
			wantPresent := map[string]string{"cookie": "scriptcookie=resident", "localStorage": "resident",
				"indexedDB": "residentdb", "cacheAPI": "residentcache"}
			for k, want := range wantPresent {
				if s, _ := c[k].(string); !strings.Contains(s, want) {
					t.Errorf("control: same session's %s = %v, want it to contain %q", k, c[k], want)
				}
			}
			if c["serviceWorker"] != float64(1) {
				t.Errorf("control: service workers = %v, want 1", c["serviceWorker"])
			}
			// WebKit's ephemeral sessions keep no HTTP cache across page
			// loads (no network cache without a disk), so this is only noted.
			t.Logf("same session refetched the cacheable resource %d time(s)", ws.cachedCount()-cachedBefore)
			if !strings.Contains(ws.lastCookie(), "servercookie=resident") {
				t.Errorf("control: server did not get its cookie back: %q", ws.lastCookie())
			}
			if c["history"].(float64) < 4 {
				t.Errorf("control: history length %v, want at least 4", c["history"])
			}

			t0 := time.Now()
			e.end(t)
			// Home comes back by itself, within a bound only a broken kiosk
			// misses, on a busy machine too. How fast is a speed claim, for
			// make bench (reset, crash to home), not for a bound here: under
			// load (average 28 on 2 cores) home took 1.2 s after the kill
			// that takes 0.1 s on an idle machine.
			if !waitFor(20*time.Second, func() bool { return ts.state(t) == bus.StateIdle && ts.uri(t) == "kiosk://home" }) {
				t.Fatalf("home not back within 20s of the end; state %s, view on %q", ts.state(t), ts.uri(t))
			}
			homeBack := time.Since(t0)
			ev := nextEvent(t, events)
			if ev.Kind != bus.EventEnded || ev.Reason != e.reason {
				t.Fatalf("want SessionEnded(%s), got %+v", e.reason, ev)
			}
			r := ev.Receipt
			for _, want := range []string{bus.ClearedWebView, bus.ClearedWebsiteData, bus.ClearedClipboard, bus.ClearedHistory, bus.ClearedSettings} {
				if !contains(r.Cleared, want) {
					t.Errorf("receipt cleared %v, missing %s", r.Cleared, want)
				}
			}
			if len(r.Failed) != 0 || r.ResetMs <= 0 || r.SessionMs <= 0 || r.StartedUnixMs == 0 || r.EndedUnixMs < r.StartedUnixMs {
				t.Errorf("receipt %+v", r)
			}
			t.Logf("reset_ms=%d (home back %v after the end was triggered)", r.ResetMs, homeBack.Round(time.Millisecond))
			if st := ts.state(t); st != bus.StateIdle {
				t.Errorf("state after the wipe %s, want idle", st)
			}
			if u := ts.uri(t); u != "kiosk://home" {
				t.Errorf("view after the wipe on %q, want kiosk://home", u)
			}

			// The next session finds nothing.
			cachedBefore = ws.cachedCount()
			ts.load(t, ws.URL()+"/check")
			c = ws.report(t, "check", 2*n)
			for _, k := range []string{"cookie", "localStorage", "sessionStorage", "indexedDB", "cacheAPI", "form"} {
				if c[k] != "" {
					t.Errorf("after the wipe %s = %v, want nothing", k, c[k])
				}
			}
			if c["serviceWorker"] != float64(0) {
				t.Errorf("after the wipe service workers = %v, want 0", c["serviceWorker"])
			}
			if c["history"] != float64(2) {
				t.Errorf("after the wipe history length = %v, want 2 (home, this page)", c["history"])
			}
			if ws.cachedCount() != cachedBefore+1 {
				t.Errorf("after the wipe the cached resource was not fetched again (%d → %d)", cachedBefore, ws.cachedCount())
			}
			if ck := ws.lastCookie(); ck != "" {
				t.Errorf("after the wipe the server got cookies %q", ck)
			}
			// Back to the home page for the next round.
			ts.load(t, "kiosk://home")
			waitFor(3*time.Second, func() bool { return ts.uri(t) == "kiosk://home" })
		})
	}

	t.Run("killed-web-process-while-idle", func(t *testing.T) {
		// Nobody is using the kiosk: home shows and there is no spare view
		// (one is made only when a session starts). The shown view's web
		// process dies; a fresh view must bring home back by itself.
		if st := ts.state(t); st != bus.StateIdle {
			t.Fatalf("state %s, want idle before the crash", st)
		}
		pids := webProcesses()
		if len(pids) == 0 {
			t.Fatal("no WebKitWebProcess found among this process's descendants")
		}
		t0 := time.Now()
		for _, p := range pids {
			syscall.Kill(p, syscall.SIGKILL)
		}
		ev := nextEvent(t, events)
		if ev.Kind != bus.EventEnded || ev.Reason != bus.ReasonWebCrash {
			t.Fatalf("want SessionEnded(%s), got %+v", bus.ReasonWebCrash, ev)
		}
		if r := ev.Receipt; r.SessionMs != 0 || r.StartedUnixMs != 0 || len(r.Failed) != 0 {
			t.Errorf("receipt %+v: a crash with nobody there has no session and nothing failed", r)
		}
		if !waitFor(10*time.Second, func() bool { return ts.state(t) == bus.StateIdle && ts.uri(t) == "kiosk://home" }) {
			t.Fatalf("home not back after the crash; state %s, view on %q", ts.state(t), ts.uri(t))
		}
		// The receipt (and so this wait) also covers the delay before the
		// dead view may be destroyed; reset_ms is crash → fresh home loaded.
		t.Logf("reset_ms=%d; receipt %v after the idle view's web process was killed", ev.Receipt.ResetMs, time.Since(t0).Round(time.Millisecond))
		if now := webProcesses(); len(now) == 0 || contains(now, pids[0]) {
			t.Errorf("web processes %v after the crash (killed %v), want a fresh one", now, pids)
		}
		// The fresh view works.
		ts.load(t, ws.URL()+"/check")
		if c := ws.report(t, "check", 2*len(ends)+1); c["cookie"] != "" {
			t.Errorf("after the crash cookie = %v, want nothing", c["cookie"])
		}
	})

	t.Run("no-storage-on-disk", func(t *testing.T) {
		var files []string
		filepath.WalkDir(privateHome, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, strings.TrimPrefix(p, privateHome))
			}
			return nil
		})
		// What WebKit, GTK and D-Bus may leave that is not website data:
		// sandbox bookkeeping, accessibility-bus sockets, settings and
		// shader caches, and the empty structures of the data manager that
		// anchors the shared network process (reset.go; no page uses it).
		// Anything else fails the test.
		harmless := regexp.MustCompile(`^/(` +
			`cache/accesskiosk-network/(hsts-storage\.sqlite|WebKitCache/Version [0-9]+/salt|mediakeys/v1/salt|storage/salt)|` +
			`cache/\.flatpak/webkit-[^/]+/bwrapinfo\.json|` +
			`cache/webkitgtk/(a11y-proxy-[A-Za-z0-9]+|at-spi-bus)|` +
			`cache/at-spi/bus(_[0-9]+)?|` +
			`cache/dconf/user|` +
			`cache/mesa_shader_cache/.*|` +
			`cache/fontconfig/.*|` +
			`cache/gstreamer-1\.0/registry\.[a-z0-9_]+\.bin|` +
			`\.dbus/session-bus/.*)$`)
		for _, f := range files {
			if f == "/data/recently-used.xbel" {
				// GTK's recent files list, written by its print operation:
				// disabled (kiosk/webkit), it is written empty.
				if b, err := os.ReadFile(filepath.Join(privateHome, f)); err != nil || strings.Contains(string(b), "<bookmark") {
					t.Errorf("GTK's recently used files list names files: %v\n%s", err, b)
				}
				continue
			}
			if !harmless.MatchString(f) {
				t.Errorf("unexpected file under the kiosk's private home: %s", f)
			}
		}
		t.Logf("%d files under the private home: %v", len(files), files)
		// None of them holds anything of the sessions: what the pages
		// wrote, or the address they were served from.
		for _, f := range files {
			bs, err := os.ReadFile(filepath.Join(privateHome, f))
			if err != nil {
				continue // a socket
			}
			for _, mark := range []string{"resident", ws.addr} {
				if strings.Contains(string(bs), mark) {
					t.Errorf("%s holds %q from a session", f, mark)
				}
			}
		}
	})
}

func (ts *testShell) state(t testing.TB) string {
	return service{ts.s}.Status().State
}

func nextEvent(t testing.TB, events <-chan bus.Event) bus.Event {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(15 * time.Second):
		t.Fatal("no D-Bus signal within 15s")
	}
	return bus.Event{}
}

func contains[T comparable](list []T, s T) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// webProcesses lists the WebKitWebProcess processes descended from this one.
func webProcesses() []int { return treeComm(os.Getpid(), "WebKitWebProces") }

package shell

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// vector is one attempt by a page on the allowed server to reach an
// off-list server (or, for a control, an allowed one).
type vector struct {
	name string
	// page is the HTML the allowed server serves for this vector, with
	// {A} {F} {X} {Y} {XPORT} {YPORT} {APORT} replaced by the servers.
	page string
	// click clicks the middle of the page (a user gesture) after it loads.
	click bool
	// control: the target is allowed; want says which server must get
	// which request ("A GET /landing?v=name") and where the view must end
	// (a prefix of its URI, after replacements).
	control  bool
	wantHit  string
	wantView string
}

// Pages that a click can trigger: the whole viewport is the link or button.
const big = `style="position:fixed;left:0;top:0;width:100%;height:100%;display:block;font-size:40px;background:#eee"`

func escapeVectors() []vector {
	return []vector{
		// Script navigations of the main frame.
		{name: "location-href-other-ip", page: `<script>location.href="{X}/a"</script>`},
		{name: "location-href-other-port", page: `<script>location.href="{Y}/a"</script>`},
		{name: "location-replace", page: `<script>location.replace("{X}/b")</script>`},
		{name: "location-assign-other-port", page: `<script>location.assign("{Y}/b")</script>`},
		{name: "window-open-no-gesture", page: `<script>window.open("{X}/c")</script>`},
		{name: "window-open-gesture", click: true, page: `<button ` + big + ` onclick='window.open("{X}/c2")'>open</button>`},
		{name: "target-blank-link", click: true, page: `<a ` + big + ` href="{X}/d" target="_blank">link</a>`},
		{name: "named-target-link", click: true, page: `<a ` + big + ` href="{Y}/d2" target="elsewhere">link</a>`},
		{name: "link-click-other-port", click: true, page: `<a ` + big + ` href="{Y}/e">link</a>`},
		{name: "meta-refresh", page: `<meta http-equiv="refresh" content="0;url={X}/f">`},
		{name: "form-get", page: `<form id=f action="{X}/g" method=get><input name=q value=1></form><script>f.submit()</script>`},
		{name: "form-post-other-port", page: `<form id=f action="{Y}/h" method=post><input name=q value=1></form><script>f.submit()</script>`},
		{name: "form-post-target-blank-click", click: true, page: `<form action="{X}/h2" method=post target=_blank><input name=q value=1><button ` + big + `>send</button></form>`},
		// Frames.
		{name: "iframe-src", page: `<iframe src="{X}/i"></iframe>`},
		{name: "iframe-src-other-port", page: `<iframe src="{Y}/i2"></iframe>`},
		{name: "iframe-srcdoc-navigates-top", page: `<iframe srcdoc="<script>top.location.href='{X}/j'</script>"></iframe>`},
		{name: "allowed-iframe-navigates-top", page: `<iframe src="{A}/frame-top?to={Y}/k"></iframe>`},
		{name: "frames-only-iframe-navigates-top", page: `<iframe src="{F}/frame-top?to={X}/k2"></iframe>`},
		{name: "object-data", page: `<object data="{X}/l" type="text/html" width=300 height=200></object>`},
		{name: "object-data-untyped", page: `<object data="{Y}/l2" width=300 height=200></object>`},
		{name: "embed-src", page: `<embed src="{X}/m" type="text/html" width=300 height=200>`},
		// Server redirects.
		{name: "redirect-302", page: `<script>location.href="{A}/r302?to={X}/n"</script>`},
		{name: "redirect-307-post", page: `<form id=f action="{A}/r307?to={Y}/o" method=post><input name=q value=1></form><script>f.submit()</script>`},
		{name: "redirect-302-in-iframe", page: `<iframe src="{A}/r302?to={X}/p"></iframe>`},
		{name: "redirect-302-link-click", click: true, page: `<a ` + big + ` href="{A}/r302?to={Y}/p2">link</a>`},
		// Host and URL tricks.
		{name: "userinfo-allowed-host-as-user", page: `<script>location.href="http://127.0.0.1:{APORT}@127.0.0.2:{XPORT}/q"</script>`},
		{name: "userinfo-on-allowed-host", page: `<script>location.href="http://user:pw@127.0.0.1:{APORT}/landing?v=userinfo"</script>`},
		{name: "decimal-ip", page: `<script>location.href="http://2130706434:{XPORT}/r"</script>`},
		{name: "hex-ip", page: `<script>location.href="http://0x7f000002:{XPORT}/s"</script>`},
		{name: "short-ip", page: `<script>location.href="http://127.2:{XPORT}/t"</script>`},
		{name: "octal-ip", page: `<script>location.href="http://0177.0.0.2:{XPORT}/t2"</script>`},
		{name: "https-other-port", page: `<script>location.href="https://127.0.0.1:{YPORT}/u"</script>`},
		// Other schemes.
		{name: "data-url-top", page: `<script>location.href="data:text/html,<script>location.href='{X}/v'<\/script>"</script>`},
		{name: "data-url-iframe", page: `<iframe src="data:text/html,<script>top.location.href='{X}/w'<\/script>"></iframe>`},
		{name: "blob-url-top", page: `<script>const b=new Blob(["<script>location.href='{X}/x'<\/script>"],{type:"text/html"});location.href=URL.createObjectURL(b)</script>`},
		{name: "file-url", page: `<script>location.href="file:///etc/hostname"</script>`},
		{name: "about-blank-top", page: `<script>location.href="about:blank"</script>`},
		{name: "view-source", page: `<script>location.href="view-source:{X}/y"</script>`},
		{name: "javascript-url-link", click: true, page: `<a ` + big + ` href="javascript:location.href='{X}/z'">link</a>`},
		{name: "javascript-url-from-frames-only-frame", page: `<iframe src="{F}/frame-top?to=javascript:location.href='{X}/z2'"></iframe>`},
		{name: "window-open-javascript-url", click: true, page: `<button ` + big + ` onclick="window.open('javascript:location.href=\'{Y}/z3\'')">open</button>`},
		// Downloads.
		{name: "download-attachment", page: `<script>location.href="{A}/download"</script>`},
		{name: "download-attribute-off-list", click: true, page: `<a ` + big + ` href="{X}/file.bin" download>get</a>`},
		{name: "download-attribute-allowed", click: true, page: `<a ` + big + ` href="{A}/download" download>get</a>`},
	}
}

func controlVectors() []vector {
	return []vector{
		{name: "control-location-href", control: true, page: `<script>location.href="{A}/landing?v=1"</script>`,
			wantHit: "A GET /landing?v=1", wantView: "{A}/landing?v=1"},
		{name: "control-window-open-gesture", control: true, click: true, page: `<button ` + big + ` onclick='window.open("{A}/landing?v=2")'>open</button>`,
			wantHit: "A GET /landing?v=2", wantView: "{A}/landing?v=2"},
		{name: "control-target-blank", control: true, click: true, page: `<a ` + big + ` href="{A}/landing?v=3" target=_blank>link</a>`,
			wantHit: "A GET /landing?v=3", wantView: "{A}/landing?v=3"},
		{name: "control-form-post", control: true, page: `<form id=f action="{A}/landing?v=4" method=post><input name=q value=1></form><script>f.submit()</script>`,
			wantHit: "A POST /landing?v=4", wantView: "{A}/landing?v=4"},
		{name: "control-redirect-302", control: true, page: `<script>location.href="{A}/r302?to={A}/landing%3Fv%3D5"</script>`,
			wantHit: "A GET /landing?v=5", wantView: "{A}/landing?v=5"},
		{name: "control-iframe", control: true, page: `<iframe src="{A}/landing?v=6"></iframe>`,
			wantHit: "A GET /landing?v=6", wantView: "{A}/v/control-iframe"},
		{name: "control-frames-only-iframe", control: true, page: `<iframe src="{F}/framed?v=7"></iframe>`,
			wantHit: "F GET /framed?v=7", wantView: "{A}/v/control-frames-only-iframe"},
		{name: "control-meta-refresh", control: true, page: `<meta http-equiv="refresh" content="0;url={A}/landing?v=8">`,
			wantHit: "A GET /landing?v=8", wantView: "{A}/landing?v=8"},
		{name: "control-link-click", control: true, click: true, page: `<a ` + big + ` href="{A}/landing?v=9">link</a>`,
			wantHit: "A GET /landing?v=9", wantView: "{A}/landing?v=9"},
	}
}

// TestEscape runs every escape vector and control in one real WebKit view.
func TestEscape(t *testing.T) {
	var a, f, x, y *recorder
	pages := map[string]string{}
	fill := func(s string) string {
		return strings.NewReplacer("{A}", a.URL(), "{F}", f.URL(), "{X}", x.URL(), "{Y}", y.URL(),
			"{APORT}", a.Port(), "{XPORT}", x.Port(), "{YPORT}", y.Port()).Replace(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<!doctype html><title>%s</title><body>%s", r.PathValue("name"), fill(pages[r.PathValue("name")]))
	})
	landing := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>landing</title><h1>allowed landing page</h1>")
	}
	mux.HandleFunc("/landing", landing)
	mux.HandleFunc("/framed", landing)
	mux.HandleFunc("/frame-top", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<!doctype html><script>try{top.location.href=%q}catch(e){}</script>", r.URL.Query().Get("to"))
	})
	mux.HandleFunc("/r302", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	mux.HandleFunc("/r307", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="escape.bin"`)
		fmt.Fprint(w, "DOWNLOADED-BYTES")
	})
	a = startServer(t, "A", "127.0.0.1", mux)
	f = startServer(t, "F", "127.0.0.1", mux)
	x = startServer(t, "X", "127.0.0.2", nil)
	y = startServer(t, "Y", "127.0.0.1", nil)
	servers := map[string]*recorder{"A": a, "F": f, "X": x, "Y": y}

	cfg := testConfig(t, []string{a.URL()}, []string{f.URL()}, 4*time.Hour, time.Minute)
	ts := startShell(t, Options{Config: cfg, NoBus: true})

	vectors := append(escapeVectors(), controlVectors()...)
	for _, v := range vectors {
		pages[v.name] = v.page
	}
	if n := len(escapeVectors()); n < 30 {
		t.Fatalf("only %d escape vectors, want at least 30", n)
	}
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			xBefore, yBefore := len(x.requests()), len(y.requests())
			page := a.URL() + "/v/" + v.name
			// A block page the previous vector queued may still replace
			// this load on a busy machine: try again then.
			for try := 0; ; try++ {
				ts.load(t, page)
				if waitFor(5*time.Second, func() bool { return a.count("GET /v/"+v.name) > 0 }) {
					break
				}
				if try == 2 {
					t.Fatal("vector page was never requested")
				}
			}
			if v.click {
				// The page is loaded (and so laid out) before the click, or the
				// click lands on nothing and the vector proves nothing. Asked of
				// the document: the view's URI changes as the load starts. The
				// previous vector's block page may still replace it: load it again.
				for try := 0; ; try++ {
					var at string
					waitFor(10*time.Second, func() bool { // a document not seen before, loaded
						at = pollIn(t, ts.service, `document.readyState === "complete" && !window.akSeen ? location.href : ""`)
						return at == jsQuote(page) || strings.HasPrefix(at, `"kiosk://block`)
					})
					if at == jsQuote(page) {
						break
					}
					if try == 2 {
						t.Fatalf("vector page not loaded before the click: the document is %s", at)
					}
					evalIn(t, ts.service, `window.akSeen = true`) // this block page stays until the load replaces it
					ts.load(t, page)
				}
				click(t)
			}
			if v.control {
				parts := strings.SplitN(v.wantHit, " ", 2)
				srv, want := servers[parts[0]], parts[1]
				if !waitFor(5*time.Second, func() bool { return srv.count(want) > 0 }) {
					t.Errorf("control: %s never got %q; got %q", srv.name, want, srv.requests())
				}
				wantView := fill(v.wantView)
				if !waitFor(3*time.Second, func() bool { return ts.uri(t) == wantView }) {
					t.Errorf("control: view on %q, want %q", ts.uri(t), wantView)
				}
			} else {
				time.Sleep(800 * time.Millisecond)
			}
			if got := x.requests()[xBefore:]; len(got) > 0 {
				t.Errorf("off-list server 127.0.0.2 got %q", got)
			}
			if got := y.requests()[yBefore:]; len(got) > 0 {
				t.Errorf("off-list server on another port got %q", got)
			}
			uri := ts.uri(t)
			if d := cfg.AllowList.Decide(uri); !d.Allow {
				t.Errorf("view left the allow list: now on a %s URL (%s)", strings.SplitN(uri, ":", 2)[0], d.Reason)
			}
			if strings.HasPrefix(uri, f.URL()) {
				t.Errorf("view shows a frames-only origin as the main page")
			}
		})
	}
	t.Run("frames-only-origin-as-main-page", func(t *testing.T) {
		ts.load(t, f.URL()+"/framed?v=top")
		if !waitFor(5*time.Second, func() bool { return strings.HasPrefix(ts.uri(t), "kiosk://block") }) {
			t.Errorf("frames-only origin as the main page: view on %q, want the block page", ts.uri(t))
		}
	})
	t.Run("no-download-written", func(t *testing.T) {
		var found []string
		for _, root := range []string{privateHome, os.TempDir()} {
			// One file system only: other packages' tests bind-mount
			// directories (a chroot's /dev/shm, where the kiosk keeps its
			// sessions' files) under the temporary directory.
			dev := deviceOf(root)
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() && p != root && deviceOf(p) != dev {
					return filepath.SkipDir
				}
				if err == nil && !d.IsDir() && strings.Contains(d.Name(), "escape.bin") {
					found = append(found, p)
				}
				return nil
			})
		}
		if len(found) > 0 {
			t.Errorf("a download reached the disk: %v", found)
		}
	})
	if n := len(x.requests()) + len(y.requests()); n > 0 {
		t.Errorf("off-list servers got %d requests in all", n)
	}
}

// deviceOf is the device of the file system holding path (0 when it cannot
// be read).
func deviceOf(path string) uint64 {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return 0
	}
	return uint64(st.Dev)
}

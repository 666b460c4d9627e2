package policy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// browserURL is what a browser's own URL parser (new URL(s)) makes of s.
type browserURL struct {
	OK       bool   `json:"ok"`
	Protocol string `json:"protocol"`
	Hostname string `json:"hostname"`
	Port     string `json:"port"`
	Pathname string `json:"pathname"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// differentialInputs are every URL the table and fuzz tests know about.
func differentialInputs() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] && utf8.ValidString(s) {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range trickyURLs {
		add(s)
	}
	for _, tt := range normalizeTests {
		add(tt.in)
	}
	for _, tt := range refuseTests {
		add(tt.in)
	}
	for _, tt := range decideTests {
		add(tt.url)
	}
	// Every combination of the ways to write each part.
	for _, scheme := range []string{"https://", "HTTP://", "https:", `https:\\`, "http:///", " https:/\\"} {
		for _, host := range []string{
			"127.1", "0x7f.1", "0177.0.0.1", "2130706433", "0x7F000001", "%31%32%37.0.0.1", "１２７.0.0.1",
			"127.0.0.1.", "[::1]", "[0:0::FFFF:7f00:1]", "EXAMPLE.gov.uk.", "ｅｘａｍｐｌｅ.gov.uk", "example。gov。uk",
			"ex%41mple.gov.uk", "ex\u00adample.gov.uk", "bücher.example", "XN--BCHER-KVA.example", "faß.de",
			"a.b%2ec", "0x1g", "foo.09", "my_host.example", "ex%2fample", "exa\u200Bmple.gov.uk", "ⓔⓧⓐⓜⓟⓛⓔ.gov.uk",
		} {
			for _, port := range []string{"", ":443", ":0080", ":", ":8080", "@evil.example", `\\@evil.example`} {
				for _, path := range []string{
					"", "/", "/a/../b", "/a/%2e%2E/b", `\\a\\..\\b`, "/a/.%2E/b", "/%62rowse", "/a%2fb", "/é", "/a b",
					"/./", "/..;/x", "?/../x", "#/../x", "/a/b/..", "/%zz", "/a|b^c",
				} {
					add(scheme + host + port + path)
				}
			}
		}
	}
	return out
}

// TestAgainstWebKit checks Normalize against the URL parser of the engine
// the kiosk runs, WebKitGTK (its MiniBrowser under Xvfb): for every URL
// Normalize accepts, WebKit must read the same scheme, host, port and path.
func TestAgainstWebKit(t *testing.T) {
	mini, _ := filepath.Glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser")
	if len(mini) == 0 {
		requireTool(t, "WebKitGTK MiniBrowser (Debian libwebkit2gtk-4.1-0)")
	}
	if _, err := exec.LookPath("Xvfb"); err != nil {
		requireTool(t, "Xvfb (Debian xvfb)")
	}
	display := startXvfb(t)
	results := collect(t, func(pageURL string) *exec.Cmd {
		cmd := exec.Command(mini[0], "--private", pageURL)
		cmd.Env = append(os.Environ(), "DISPLAY="+display, "GDK_BACKEND=x11", "WAYLAND_DISPLAY=")
		return cmd
	})
	compareWithBrowser(t, "WebKit", results)
}

// TestAgainstChromium does the same against Chromium's URL parser, a second
// independent implementation of the URL Standard.
func TestAgainstChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		requireTool(t, "chromium (Debian chromium)")
	}
	profile := t.TempDir()
	results := collect(t, func(pageURL string) *exec.Cmd {
		return exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+profile, pageURL)
	})
	compareWithBrowser(t, "Chromium", results)
}

func requireTool(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (make deps installs it)", what)
	}
	t.Skipf("%s is missing; make deps installs it", what)
}

// startXvfb runs a private Xvfb for the test and returns its display.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "800x600x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	done := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		done <- strings.TrimSpace(line)
	}()
	select {
	case n := <-done:
		if n == "" {
			t.Fatal("Xvfb did not report a display")
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start within 30s")
	}
	return ""
}

// collect serves a page on 127.0.0.1 that runs new URL() on every input
// and posts the answers back, opens it in the browser start returns, and
// returns the answers by input.
func collect(t *testing.T, start func(pageURL string) *exec.Cmd) map[string]browserURL {
	t.Helper()
	inputs := differentialInputs()
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	page := `<!doctype html><title>url parser</title><script>
const inputs = ` + string(in) + `;
const out = inputs.map(s => { try { const u = new URL(s);
  return {ok: true, protocol: u.protocol, hostname: u.hostname, port: u.port, pathname: u.pathname, username: u.username, password: u.password};
} catch (e) { return {ok: false}; } });
fetch("/result", {method: "POST", body: JSON.stringify(out)});
</script>`
	got := make(chan []browserURL, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var res []browserURL
		if err := json.NewDecoder(io.LimitReader(r.Body, 10<<20)).Decode(&res); err != nil {
			http.Error(w, html.EscapeString(err.Error()), http.StatusBadRequest)
			return
		}
		select {
		case got <- res:
		default:
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	cmd := start("http://" + ln.Addr().String() + "/")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the browser and the helpers it started
		<-exited
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	select {
	case res := <-got:
		if len(res) != len(inputs) {
			t.Fatalf("browser answered %d inputs, want %d", len(res), len(inputs))
		}
		m := make(map[string]browserURL, len(inputs))
		for i, s := range inputs {
			m[s] = res[i]
		}
		return m
	case err := <-exited:
		t.Fatalf("%s exited before answering: %v\n%s", cmd.Path, err, tail(stderr.String()))
	case <-ctx.Done():
		t.Fatalf("%s did not answer within 90s\n%s", cmd.Path, tail(stderr.String()))
	}
	return nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// compareWithBrowser checks that for every input Normalize accepts, the
// browser reads the same scheme, host, port and path. Inputs Normalize
// refuses as bad_url but a browser accepts are only logged: refusing more
// than a browser is safe.
func compareWithBrowser(t *testing.T, name string, results map[string]browserURL) {
	t.Helper()
	compared, stricter := 0, 0
	defer func() {
		if t.Failed() {
			t.Log("the first differences are above")
		}
	}()
	for _, in := range differentialInputs() {
		b := results[in]
		u, err := Normalize(in)
		var ue *URLError
		if errors.As(err, &ue) {
			if ue.Reason == ReasonBadURL && b.OK && (b.Protocol == "http:" || b.Protocol == "https:") {
				if stricter++; stricter <= 10 {
					t.Logf("stricter than %s: %q refused (%s); %s reads host %q", name, in, ue.Msg, name, b.Hostname)
				}
			}
			if ue.Reason == ReasonUserinfo && b.OK && b.Username == "" && b.Password == "" && !strings.Contains(in, "@") {
				t.Errorf("%q refused for userinfo, but %s sees none", in, name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Normalize(%q): %v", in, err)
		}
		if u.Scheme == SchemeKiosk {
			continue
		}
		compared++
		if !b.OK {
			t.Errorf("%q: Normalize accepts it as %q, %s refuses it", in, u, name)
			continue
		}
		if diff := diffBrowser(u, b); diff != "" {
			t.Errorf("%q: Normalize reads %q, %s %s", in, u, name, diff)
		}
	}
	t.Logf("%s agrees on %d URLs; refuses %d more than %s does", name, compared, stricter, name)
}

// diffBrowser says how b differs from u, or "" when it does not.
func diffBrowser(u *url.URL, b browserURL) string {
	if b.Protocol != u.Scheme+":" {
		return "reads scheme " + b.Protocol
	}
	if b.Username != "" || b.Password != "" {
		return "sees a user name or password"
	}
	host := strings.TrimSuffix(b.Hostname, ".")
	if strings.HasPrefix(host, "[") {
		a1, err1 := netip.ParseAddr(strings.Trim(host, "[]"))
		a2, err2 := netip.ParseAddr(u.Hostname())
		if err1 != nil || err2 != nil || a1 != a2 {
			return fmt.Sprintf("reads host %q", b.Hostname)
		}
	} else if host != u.Hostname() {
		return fmt.Sprintf("reads host %q", b.Hostname)
	}
	if b.Port != u.Port() {
		return fmt.Sprintf("reads port %q", b.Port)
	}
	if p := normPath(b.Pathname, true); p != u.EscapedPath() {
		return fmt.Sprintf("reads path %q (%q canonical)", b.Pathname, p)
	}
	return ""
}

// Package walkthrough holds one test: what the README's "Provisioning and
// first boot" section tells an IT admin to do, end to end, in-process with
// the real programs' Main functions — the real fleet server on loopback,
// a card image made here, first boot against the hostnamed/NetworkManager
// fake on a private dbus-daemon — and then each mistake an admin can make
// on the way, with the one-line error and exit status it must give.
package walkthrough

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	agentcli "accesskiosk/agent/cli"
	"accesskiosk/agent/firstboot/firstboottest"
	fleetcli "accesskiosk/fleet/cli"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/diskimage/imagetest"
	"accesskiosk/kiosk/bus/bustest"
	provisioncli "accesskiosk/provisioning/cli"
)

// admin is the IT admin's shell: their environment and working directory.
type admin struct {
	t   *testing.T
	env map[string]string
	dir string
}

// syncBuffer is a bytes.Buffer safe for a server writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run runs one command as the admin would type it and returns its exit
// status, stdout and stderr.
func (a *admin) run(line ...string) (int, string, string) {
	a.t.Helper()
	var out, errOut bytes.Buffer
	ctx := context.Background()
	var code int
	switch line[0] {
	case "fleet":
		code = fleetcli.Main(ctx, line[1:], &out, &errOut)
	case "agent":
		code = agentcli.Main(ctx, line[1:], &out, &errOut)
	case "provision":
		env := provisioncli.Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return a.env[k] }}
		code = cmdline.Status(&errOut, "provision", provisioncli.Run(ctx, line[1:], env))
	default:
		a.t.Fatalf("no program %s", line[0])
	}
	return code, out.String(), errOut.String()
}

// ok runs a command that must succeed and returns its stdout.
func (a *admin) ok(line ...string) string {
	a.t.Helper()
	code, out, errOut := a.run(line...)
	if code != 0 {
		a.t.Fatalf("%s: exit %d\n%s%s", strings.Join(line, " "), code, out, errOut)
	}
	return out
}

// serve runs `fleet serve` until the test ends and returns its URL and
// the fingerprint it printed.
func (a *admin) serve(data string) (url, fingerprint string) {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- fleetcli.Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, out, errOut)
	}()
	a.t.Cleanup(func() { cancel(); <-done })
	urlRE := regexp.MustCompile(`serving the console and device API at (https://127\.0\.0\.1:\d+)/`)
	fpRE := regexp.MustCompile(`TLS certificate SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m, f := urlRE.FindStringSubmatch(out.String()), fpRE.FindStringSubmatch(out.String()); m != nil && f != nil {
			return m[1], f[1]
		}
		select {
		case code := <-done:
			a.t.Fatalf("fleet serve exited %d:\n%s%s", code, out, errOut)
		default:
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("fleet serve printed no address in 30s:\n%s%s", out, errOut)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (a *admin) file(name, content string) string {
	p := filepath.Join(a.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		a.t.Fatal(err)
	}
	return p
}

func TestWalkThrough(t *testing.T) {
	a := &admin{t: t, env: map[string]string{}, dir: t.TempDir()}
	data := filepath.Join(a.dir, "accesskiosk-fleet")

	// The fleet server, on a spare box.
	out := a.ok("fleet", "admin", "create", "--data", data, "--user", "alice")
	if !strings.Contains(out, "password: ") {
		t.Fatalf("admin create printed no password:\n%s", out)
	}
	staff := strings.TrimSpace(a.ok("fleet", "admin", "api-token", "--data", data, "--user", "alice"))
	fleetURL, fp := a.serve(data)
	a.env[provisioncli.APITokenEnv] = staff // export ACCESSKIOSK_API_TOKEN=...

	// Provisioning: a site, a token, the first-boot file, the card.
	a.ok("provision", "site", "create", "--fleet", fleetURL, "--fingerprint", fp, "--id", "riverside", "--name", "Riverside Library")
	tokenFile := filepath.Join(a.dir, "riverside.token")
	out = a.ok("provision", "token", "create", "--fleet", fleetURL, "--fingerprint", fp, "--site", "riverside", "--expires", "7d", "--token-out", tokenFile, "--no-qr")
	if want := "Next: provision config --fleet " + fleetURL + " --fingerprint " + fp + " --token-file " + tokenFile; !strings.Contains(out, want) {
		t.Errorf("token create's hint:\n%s\nwant %q", out, want)
	}
	token := strings.TrimSpace(string(must(os.ReadFile(tokenFile))))
	psk := a.file("wifi.psk", "riverside-reading-room\n")
	boot := filepath.Join(a.dir, "accesskiosk-firstboot.yaml")
	out = a.ok("provision", "config", "--fleet", fleetURL, "--fingerprint", fp, "--token-file", tokenFile,
		"--wifi-ssid", "Riverside Public", "--wifi-psk-file", psk, "--hostname-prefix", "riverside", "--out", boot)
	if !strings.Contains(out, "the fleet knows this token (site riverside, 1 of 1 uses left") {
		t.Errorf("config did not say it checked with the fleet:\n%s", out)
	}
	card := imagetest.GPT(t) // the image the admin downloaded, or a card
	a.ok("provision", "write", "--config", boot, "--image", card)

	// The kiosk's first boot, on a private system bus with hostnamed and
	// NetworkManager stood in, and the kiosk's screen.
	busAddr := bustest.Start(t)
	sys := firstboottest.Start(t, busAddr)
	screen := firstboottest.StartKiosk(t, busAddr)
	state := filepath.Join(t.TempDir(), "state")
	agentCfg := a.file("agent.yaml", "state_dir: "+state+"\nkiosk:\n  bus: "+busAddr+"\nsystem:\n  bus: "+busAddr+"\n")
	a.ok("agent", "firstboot", "--i-know-this-is-not-a-kiosk", "--config", agentCfg, "--boot", card, "--hostname-file", "", "--kiosk-wait", "5s")
	sys.Lock()
	hostname := sys.Static
	sys.Unlock()
	if !strings.HasPrefix(hostname, "riverside-") {
		t.Errorf("host name %q", hostname)
	}
	if msgs := screen.Messages(); len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1], "This kiosk is set up") {
		t.Errorf("kiosk screen: %q", msgs)
	}

	// The kiosk is listed; the card holds no secret.
	out = a.ok("provision", "device", "list", "--fleet", fleetURL, "--fingerprint", fp)
	if !strings.Contains(out, "riverside") || !strings.Contains(out, hostname) {
		t.Errorf("device list does not show the kiosk %s:\n%s", hostname, out)
	}
	raw := must(os.ReadFile(card))
	for name, secret := range map[string]string{"enrolment token": token, "Wi-Fi passphrase": "riverside-reading-room", "staff API token": staff} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the card still holds the %s", name)
		}
	}

	t.Run("mistakes", func(t *testing.T) { mistakes(t, a, data, fleetURL, fp, token, agentCfg) })
}

// mistakes are what an admin gets wrong, each with its one-line error and
// exit status.
func mistakes(t *testing.T, a *admin, data, fleetURL, fp, usedToken, agentCfg string) {
	staff := a.env[provisioncli.APITokenEnv]
	staffFile := a.file("pasted.token", staff+"\n")
	cutFile := a.file("cut.token", usedToken[:40]+"\n")
	usedFile := a.file("used.token", usedToken+"\n")
	otherFP := "AB:" + fp[3:]
	if otherFP == fp {
		otherFP = "CD:" + fp[3:]
	}
	card := imagetest.GPT(t)
	config := func(args ...string) []string {
		return append([]string{"provision", "config", "--fleet", fleetURL, "--out", filepath.Join(t.TempDir(), "fb.yaml")}, args...)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		line []string
		code int
		want string // the whole stderr, or its start when it ends with "…"
	}{
		{"the staff token pasted as the enrolment token", nil, config("--fingerprint", fp, "--token-file", staffFile), 2,
			"provision: command line: --token-file: this is a staff API token (akapi_...), which acts as you and must never go on a card; give the enrolment token from `provision token create` (ake_...)"},
		{"a token cut short", nil, config("--fingerprint", fp, "--token-file", cutFile), 2,
			"provision: command line: --token-file: an enrolment token has 56 characters, this one 40: was it cut short when copied?"},
		{"a token already used", nil, config("--fingerprint", fp, "--token-file", usedFile), 2,
			"provision: command line: --token-file: this enrolment token has been used by 1 of 1 kiosks; make a new one with provision token create"},
		{"a wrong fingerprint", nil, config("--fingerprint", otherFP, "--token-file", usedFile), 2,
			"provision: command line: --fingerprint: the server at " + fleetURL + " has the certificate " + fp + ", not " + otherFP + ": check --fingerprint against what fleet serve printed"},
		{"no fingerprint", nil, []string{"provision", "site", "create", "--fleet", fleetURL, "--id", "north"}, 2,
			"provision: command line: --fingerprint: missing: the fleet at " + fleetURL + " has a self-signed certificate (fingerprint " + fp + "); give --fingerprint with what fleet serve printed, after checking it is this one"},
		{"no staff token in the environment", map[string]string{}, []string{"provision", "site", "create", "--fleet", fleetURL, "--fingerprint", fp, "--id", "north"}, 2,
			"provision: command line: --api-token-file: no staff API token: set $ACCESSKIOSK_API_TOKEN or give --api-token-file (make one with `fleet admin api-token --user NAME` or on the console's Staff page)"},
		{"a misspelt provision flag", nil, []string{"provision", "token", "create", "--fleet", fleetURL, "--fingerprint", fp, "--sit", "riverside"}, 2,
			`provision: command line: --sit: unknown flag (did you mean "--site"?)`},
		{"a misspelt data directory", nil, []string{"fleet", "admin", "api-token", "--data", data + "-old", "--user", "alice"}, 2,
			"fleet: command line: --data: " + data + "-old does not exist (fleet admin create makes it; is the path right?)"},
		{"a misspelt fleet flag", nil, []string{"fleet", "serve", "--adress", "0.0.0.0:8443", "--data", data}, 2,
			`fleet: command line: --adress: unknown flag (did you mean "--addr"?)`},
		{"a misspelt agent command", nil, []string{"agent", "firstbot"}, 2,
			`agent: command line: unknown command "firstbot" (did you mean "firstboot"?)`},
		{"first boot tried on a laptop", nil, []string{"agent", "firstboot", "--config", agentCfg, "--boot", card}, 2,
			"agent firstboot: this computer is not an Access Kiosk image (it has no /usr/share/accesskiosk/kiosk-image): first boot would rename it, add a Wi-Fi network to NetworkManager and enrol it with a fleet; --dry-run shows what it would do, --i-know-this-is-not-a-kiosk does it anyway"},
		{"a card written from a file holding a staff token", nil, []string{"provision", "write", "--config", a.file("staff.yaml", "version: 1\nfleet:\n  url: "+fleetURL+"\n  fingerprint: "+fp+"\ntoken: "+staff+"\n"), "--image", card}, 2,
			filepath.Join(a.dir, "staff.yaml") + ":5: token: this is a staff API token…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := a.env
			if tc.env != nil {
				a.env = tc.env
			}
			defer func() { a.env = saved }()
			code, _, errOut := a.run(tc.line...)
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			got := lines[len(lines)-1] // log lines may come first (first boot)
			want, prefix := strings.CutSuffix(tc.want, "…")
			if code != tc.code || (prefix && !strings.Contains(got, want)) || (!prefix && got != want) {
				t.Errorf("%s\n exit %d, stderr %q\n want exit %d, %q", strings.Join(tc.line, " "), code, errOut, tc.code, tc.want)
			}
			if strings.Contains(errOut, "usage:") {
				t.Errorf("usage dumped with the error:\n%s", errOut)
			}
		})
	}
	// No staff token ever reached a card.
	if raw := must(os.ReadFile(card)); bytes.Contains(raw, []byte(staff)) {
		t.Error("the staff API token is on the card")
	}
	// Help reads right: durations as 168h, no backquote artefacts.
	_, out, _ := a.run("fleet", "admin", "enrol-token", "-h")
	if !strings.Contains(out, "--expires DURATION  how long it is valid (default 168h)") || strings.Contains(out, "168h0m0s") {
		t.Errorf("fleet admin enrol-token -h:\n%s", out)
	}
	_, out, _ = a.run("provision", "token", "create", "-h")
	if strings.Contains(out, "-fingerprint fleet serve") || strings.Contains(out, "`") {
		t.Errorf("provision token create -h:\n%s", out)
	}
	_, out, _ = a.run("agent", "-h")
	if !strings.Contains(out, "agent firstboot") {
		t.Errorf("agent -h does not list firstboot:\n%s", out)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

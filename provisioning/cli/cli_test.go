package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/realfleet"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/diskimage"
	"accesskiosk/internal/diskimage/imagetest"
	"accesskiosk/internal/pin"
	"accesskiosk/provisioning/bootfile"
)

func run(t testing.TB, env map[string]string, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	return out.String(), err
}

var tokenRE = regexp.MustCompile(`(?m)^  (ake_\S+|\S{20,})$`)

// tok is shaped like an enrolment token (api.CheckEnrolToken) but made by
// no fleet: for commands run with --offline.
const tok = "ake_abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"

func TestSiteAndToken(t *testing.T) {
	f := realfleet.Start(t)
	env := map[string]string{APITokenEnv: f.APIToken}
	out, err := run(t, env, "site", "create", "--fleet", f.URL, "--fingerprint", f.Fingerprint, "--id", "central", "--name", "Central Library")
	if err != nil || !strings.Contains(out, "site central (Central Library) created") {
		t.Fatalf("site create: %q, %v", out, err)
	}
	png := filepath.Join(t.TempDir(), "qr.png")
	out, err = run(t, env, "token", "create", "--fleet", f.URL, "--fingerprint", f.Fingerprint, "--site", "central", "--expires", "2d", "--uses", "3", "--qr-png", png)
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	m := tokenRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no token printed:\n%s", out)
	}
	if !strings.Contains(out, "for 3 kiosk(s)") || !strings.Contains(out, "▀") && !strings.Contains(out, "█") {
		t.Errorf("token output lacks uses or a QR code:\n%s", out)
	}
	if st, err := os.Stat(png); err != nil || st.Mode().Perm() != 0o600 || st.Size() == 0 {
		t.Errorf("QR PNG: %v %v", st, err)
	}
	if data, _ := os.ReadFile(png); !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Error("QR file is not a PNG")
	}
	out, err = run(t, env, "token", "list", "--fleet", f.URL, "--fingerprint", f.Fingerprint)
	if err == nil {
		// The fake fleet has no list endpoint; the real one does (e2e test).
		t.Logf("token list: %s", out)
	}

	// Without a staff token, a clear refusal before any request.
	_, err = run(t, nil, "site", "create", "--fleet", f.URL, "--id", "x")
	if confile.ExitStatus(err) != 2 || !strings.Contains(err.Error(), "no staff API token") || !strings.Contains(err.Error(), "fleet admin api-token") {
		t.Errorf("no API token: %v", err)
	}
	// A wrong staff token: refused by the fleet, explained.
	_, err = run(t, map[string]string{APITokenEnv: "akapi_wrong"}, "site", "create", "--fleet", f.URL, "--fingerprint", f.Fingerprint, "--id", "y")
	if err == nil || !strings.Contains(err.Error(), "is the staff API token right") {
		t.Errorf("wrong API token: %v", err)
	}
	// A wrong fingerprint.
	_, err = run(t, env, "site", "create", "--fleet", f.URL, "--fingerprint", strings.Repeat("cd", 32), "--id", "z")
	if err == nil || !strings.Contains(err.Error(), "check --fingerprint") {
		t.Errorf("wrong fingerprint: %v", err)
	}
}

func TestConfigAndWrite(t *testing.T) {
	dir := t.TempDir()
	psk := filepath.Join(dir, "psk")
	os.WriteFile(psk, []byte("correct horse battery\n"), 0o600)
	key := filepath.Join(dir, "id.pub")
	os.WriteFile(key, []byte("# staff key\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB it@council.example\n"), 0o644)
	cfg := filepath.Join(dir, "fb.yaml")
	fp := strings.Repeat("AB:", 31) + "AB"
	out, err := run(t, nil, "config", "--fleet", "https://fleet.example:8443", "--fingerprint", fp, "--token", tok, "--offline",
		"--wifi-ssid", "Library Public", "--wifi-psk-file", psk, "--ssh-key", key, "--hostname-prefix", "central", "--out", cfg)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if !strings.Contains(out, "Wi-Fi passphrase") {
		t.Errorf("config output: %q", out)
	}
	st, err := os.Stat(cfg)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("first-boot file mode: %v %v", st, err)
	}
	data, _ := os.ReadFile(cfg)
	f, err := bootfile.Parse(cfg, data)
	if err != nil {
		t.Fatalf("written file does not parse: %v\n%s", err, data)
	}
	want := bootfile.File{Version: 1, Fleet: bootfile.Fleet{URL: "https://fleet.example:8443", Fingerprint: strings.Repeat("ab", 32)},
		Token: tok, HostnamePrefix: "central", WiFi: &bootfile.WiFi{SSID: "Library Public", PSK: "correct horse battery"},
		SSHAuthorizedKeys: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB it@council.example"}}
	if f.Token != want.Token || f.Fleet != want.Fleet || *f.WiFi != *want.WiFi || f.HostnamePrefix != want.HostnamePrefix || len(f.SSHAuthorizedKeys) != 1 {
		t.Errorf("got %+v\nwant %+v", f, want)
	}

	img := imagetest.GPT(t)
	if _, err := run(t, nil, "write", "--config", cfg, "--image", img); err != nil {
		t.Fatalf("write: %v", err)
	}
	im, err := diskimage.Open(img, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := im.ReadFile(bootfile.FileName)
	im.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("image holds %q, %v; want the config", got, err)
	}
}

func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	priv := filepath.Join(dir, "id")
	os.WriteFile(priv, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"), 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nfleet:\n  url: https://f.example\n  fingerprint: abc\ntoken: "+tok+"\n"), 0o600)
	staffFile := filepath.Join(dir, "staff-token")
	os.WriteFile(staffFile, []byte("akapi_"+tok[4:]+"\n"), 0o600)
	blank := filepath.Join(dir, "blank.img")
	os.WriteFile(blank, make([]byte, 1<<20), 0o600)
	good := filepath.Join(dir, "good.yaml")
	fp := strings.Repeat("ab", 32)
	if _, err := run(t, nil, "config", "--fleet", "https://f.example", "--fingerprint", fp, "--token", tok, "--offline", "--out", good); err != nil {
		t.Fatal(err)
	}
	base := []string{"config", "--offline", "--fleet", "https://f.example", "--fingerprint", fp, "--token", tok, "--out", filepath.Join(dir, "x.yaml")}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "command line: missing a command: site, token, device, config, write"},
		{"unknown command", []string{"frobnicate"}, `command line: unknown command "frobnicate"`},
		{"unknown flag", []string{"config", "--wifi-psk", "hunter22"}, "command line: --wifi-psk: unknown flag"},
		{"stray argument", append(base, "extra"), `unexpected argument "extra"`},
		{"http fleet", []string{"config", "--fleet", "http://f.example", "--fingerprint", fp, "--token", tok}, "command line: --fleet: want an https:// address"},
		{"bad fingerprint", []string{"config", "--fleet", "https://f.example", "--fingerprint", "abcd", "--token", tok}, "command line: --fingerprint: want a SHA-256 fingerprint"},
		{"no token", []string{"config", "--fleet", "https://f.example", "--fingerprint", fp}, "command line: --token-file: missing"},
		{"staff token", []string{"config", "--offline", "--fleet", "https://f.example", "--fingerprint", fp, "--token", "akapi_" + tok[4:]}, "command line: --token: this is a staff API token"},
		{"staff token in a file", []string{"config", "--offline", "--fleet", "https://f.example", "--fingerprint", fp, "--token-file", staffFile}, "command line: --token-file: this is a staff API token"},
		{"truncated token", []string{"config", "--offline", "--fleet", "https://f.example", "--fingerprint", fp, "--token", tok[:30]}, "command line: --token: an enrolment token has 56 characters, this one 30: was it cut short when copied?"},
		{"token twice", []string{"config", "--offline", "--fleet", "https://f.example", "--fingerprint", fp, "--token", tok, "--token-file", staffFile}, "command line: --token-file: give the token once"},
		{"token file missing", []string{"config", "--offline", "--fleet", "https://f.example", "--fingerprint", fp, "--token-file", filepath.Join(dir, "none")}, "command line: --token-file: cannot read " + filepath.Join(dir, "none")},
		{"no fingerprint", []string{"config", "--offline", "--fleet", "https://f.example", "--token", tok}, "command line: --fingerprint: missing"},
		{"checked without a staff token", []string{"config", "--fleet", "https://f.example", "--fingerprint", fp, "--token", tok}, "command line: --api-token-file: provision config asks the fleet whether the token is live: set $ACCESSKIOSK_API_TOKEN (fleet admin api-token --user NAME makes one) or give --api-token-file; --offline skips the check"},
		{"psk without ssid", append(base, "--wifi-psk-file", short), "command line: --wifi-ssid: missing"},
		{"ssid without psk", append(base, "--wifi-ssid", "Lib"), "command line: --wifi-psk-file: missing"},
		{"short psk", append(base, "--wifi-ssid", "Lib", "--wifi-psk-file", short), "command line: --wifi-psk-file: " + short + ": a WPA passphrase has 8 to 63 characters, got 3"},
		{"open and psk", append(base, "--wifi-ssid", "Lib", "--wifi-psk-file", short, "--wifi-open"), "command line: --wifi-open: an open network has no passphrase"},
		{"private ssh key", append(base, "--ssh-key", priv), "command line: --ssh-key: " + priv + ":1: this is a private key"},
		{"bad prefix", append(base, "--hostname-prefix", "Kiosk!"), "command line: --hostname-prefix: want lower-case"},
		{"bad expires", []string{"token", "create", "--expires", "soon"}, `command line: --expires: want a duration such as 7d, 12h or 30m, got "soon"`},
		{"bad uses", []string{"token", "create", "--site", "s", "--uses", "0"}, "command line: --uses: want 1 to 10000, got 0"},
		{"no site", []string{"token", "create"}, "command line: --site: missing"},
		{"write neither", []string{"write", "--config", good}, "command line: --image: give exactly one of --image FILE.img or --device /dev/sdX"},
		{"write both", []string{"write", "--config", good, "--image", blank, "--device", "/dev/null"}, "give exactly one"},
		{"write bad config", []string{"write", "--config", bad, "--image", blank}, bad + ":4: fleet.fingerprint: want a SHA-256 fingerprint"},
		{"write no table", []string{"write", "--config", good, "--image", blank}, "command line: --image: open disk " + blank + ": no partition table"},
		{"write char device", []string{"write", "--config", good, "--device", "/dev/null"}, "command line: --device: /dev/null is not a block device"},
		{"write missing image", []string{"write", "--config", good, "--image", filepath.Join(dir, "nope.img")}, "command line: --image: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, nil, tt.args...)
			if confile.ExitStatus(err) != 2 {
				t.Fatalf("exit status %d for %v, want 2", confile.ExitStatus(err), err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got  %q\nwant %q", err, tt.want)
			}
		})
	}
	if raw, _ := os.ReadFile(blank); !bytes.Equal(raw, make([]byte, 1<<20)) {
		t.Error("a refused write changed the image")
	}
}

// provision config asks the fleet that the token is live and that the
// fingerprint is the fleet's own, before anything is written.
func TestConfigAsksTheFleet(t *testing.T) {
	ctx := context.Background()
	f := realfleet.Start(t)
	env := map[string]string{APITokenEnv: f.APIToken}
	if _, err := f.Admin.CreateSite(ctx, "central", ""); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenFile := func(secret string) string {
		p := filepath.Join(t.TempDir(), "token")
		os.WriteFile(p, []byte(secret+"\n"), 0o600)
		return p
	}
	newToken := func(ttl time.Duration) api.CreatedToken {
		tk, err := f.Admin.CreateToken(ctx, "central", ttl, 1)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	live := newToken(time.Hour)
	out := filepath.Join(dir, "fb.yaml")
	stdout, err := run(t, env, "config", "--fleet", f.URL, "--fingerprint", f.Fingerprint, "--token-file", tokenFile(live.Secret), "--out", out)
	if err != nil {
		t.Fatalf("a live token: %v", err)
	}
	if !strings.Contains(stdout, "the fleet knows this token (site central, 1 of 1 uses left") || !strings.Contains(stdout, "Next: provision write --config "+out) {
		t.Errorf("config output:\n%s", stdout)
	}

	revoked := newToken(time.Hour)
	f.Admin.RevokeToken(ctx, revoked.ID)
	expired := newToken(time.Hour)
	other := "ake_" + strings.Repeat("q", 52)
	wrongFP := pin.Of([]byte("another certificate"))
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"revoked", []string{"--fingerprint", f.Fingerprint, "--token-file", tokenFile(revoked.Secret)}, 2,
			"command line: --token-file: this enrolment token was revoked on the fleet; make a new one with provision token create"},
		{"unknown", []string{"--fingerprint", f.Fingerprint, "--token", other}, 2,
			"command line: --token: the fleet at " + f.URL + " did not make this enrolment token (another fleet's, or mistyped); make one with provision token create"},
		{"wrong fingerprint", []string{"--fingerprint", wrongFP.String(), "--token-file", tokenFile(live.Secret)}, 2,
			"command line: --fingerprint: the server at " + f.URL + " has the certificate " + f.Pin.String() + ", not " + wrongFP.String() + ": check --fingerprint against what fleet serve printed"},
		{"wrong staff token", []string{"--fingerprint", f.Fingerprint, "--token-file", tokenFile(live.Secret), "--api-token-file", tokenFile("akapi_nope")}, 1,
			"is the staff API token right"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "fb.yaml")
			_, err := run(t, env, append([]string{"config", "--fleet", f.URL, "--out", p}, tc.args...)...)
			if confile.ExitStatus(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (exit %d), want exit %d and %q", err, confile.ExitStatus(err), tc.code, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is more than one line: %q", err)
			}
			if _, serr := os.Stat(p); serr == nil {
				t.Error("a refused config wrote the file")
			}
		})
	}
	f.Advance(2 * time.Hour)
	_, err = run(t, env, "config", "--fleet", f.URL, "--fingerprint", f.Fingerprint, "--token", expired.Secret, "--out", filepath.Join(dir, "x.yaml"))
	if confile.ExitStatus(err) != 2 || !strings.Contains(err.Error(), "command line: --token: this enrolment token expired at ") {
		t.Errorf("expired token: %v", err)
	}
	// --offline writes without asking.
	if _, err := run(t, nil, "config", "--offline", "--fleet", f.URL, "--fingerprint", wrongFP.String(), "--token", other, "--out", filepath.Join(dir, "off.yaml")); err != nil {
		t.Errorf("--offline: %v", err)
	}
}

// The admin commands explain a missing or wrong fingerprint in one
// sentence, print fingerprints as `fleet serve` does, and their "Next:"
// hints carry real values.
func TestAdminHints(t *testing.T) {
	f := realfleet.Start(t)
	env := map[string]string{APITokenEnv: f.APIToken}
	_, err := run(t, env, "site", "create", "--fleet", f.URL, "--id", "central")
	want := "command line: --fingerprint: missing: the fleet at " + f.URL + " has a self-signed certificate (fingerprint " + f.Pin.String() + "); give --fingerprint with what fleet serve printed, after checking it is this one"
	if confile.ExitStatus(err) != 2 || err == nil || err.Error() != want {
		t.Errorf("no --fingerprint:\n got %v\nwant %s", err, want)
	}
	wrong := pin.Of([]byte("x"))
	_, err = run(t, env, "site", "create", "--fleet", f.URL, "--fingerprint", wrong.Hex(), "--id", "central")
	if err == nil || !strings.Contains(err.Error(), "has the certificate "+f.Pin.String()+", not "+wrong.String()) {
		t.Errorf("wrong --fingerprint: %v", err)
	}
	if _, err := run(t, env, "site", "create", "--fleet", f.URL, "--fingerprint", f.Fingerprint, "--id", "central"); err != nil {
		t.Fatal(err)
	}
	tokOut := filepath.Join(t.TempDir(), "central.token")
	out, err := run(t, env, "token", "create", "--fleet", f.URL, "--fingerprint", f.Pin.Hex(), "--site", "central", "--no-qr", "--token-out", tokOut)
	if err != nil {
		t.Fatal(err)
	}
	next := "Next: provision config --fleet " + f.URL + " --fingerprint " + f.Pin.String() + " --token-file " + tokOut
	if !strings.Contains(out, next) || strings.Contains(out, " FP ") {
		t.Errorf("token create's hint:\n%s\nwant %q", out, next)
	}
	data, err := os.ReadFile(tokOut)
	if st, _ := os.Stat(tokOut); err != nil || st.Mode().Perm() != 0o600 || api.CheckEnrolToken(strings.TrimSpace(string(data))) != nil {
		t.Errorf("--token-out file: %q, %v", data, err)
	}
}

package cli_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/cli"
	"accesskiosk/fleet/store/storetest"
)

func run(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadFlagsAndConfig(t *testing.T) {
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badCfg, []byte("council_name: Anytown\nalerts:\n  hot_celsius: 500\n"), 0o644)
	unknownCfg := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknownCfg, []byte("council_nam: Anytown\n"), 0o644)
	assistCfg := filepath.Join(dir, "assist.yaml")
	os.WriteFile(assistCfg, []byte("assist:\n  enabled: true\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "command line: missing a command: serve, admin, release, tls, version"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"serve without addr", []string{"serve", "--data", dir}, "--addr: is required"},
		{"serve bad addr", []string{"serve", "--addr", "nope", "--data", dir}, "--addr: must be HOST:PORT"},
		{"serve without data", []string{"serve", "--addr", "127.0.0.1:0"}, "--data: is required"},
		{"serve unknown flag", []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--fast"}, "--fast"},
		{"serve cert without key", []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--tls-cert", "c.pem"}, "--tls-key"},
		{"serve bad db", []string{"serve", "--addr", "127.0.0.1:0", "--db", "mysql://x"}, "--db: must be a postgres:// URL"},
		{"serve bad config value", []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--config", badCfg}, "bad.yaml:3: alerts.hot_celsius: must be between 30 and 150"},
		{"serve unknown config key", []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--config", unknownCfg}, "unknown.yaml:1"},
		{"serve internal-addr without db", []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--internal-addr", "127.0.0.1:0"}, "--internal-addr: is for several replicas"},
		{"serve bad internal-addr", []string{"serve", "--addr", "127.0.0.1:0", "--db", "postgres://x/y", "--internal-addr", "nope"}, "--internal-addr: must be HOST:PORT"},
		{"serve replicas with assist without internal-addr", []string{"serve", "--addr", "127.0.0.1:0", "--db", "postgres://x/y", "--config", assistCfg}, "--internal-addr: is required with --db"},
		{"admin create bad role", []string{"admin", "create", "--data", dir, "--user", "a", "--role", "god"}, "--role"},
		{"admin create bad user", []string{"admin", "create", "--data", dir, "--user", "a b"}, "--user"},
		{"admin enrol-token unknown site", []string{"admin", "enrol-token", "--data", dir, "--site", "nowhere"}, "--site"},
		{"admin site bad id", []string{"admin", "site", "--data", dir, "--id", "Bad Id"}, "--id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// TestServe runs `fleet serve` in-process over HTTPS with the self-signed
// certificate, pins its printed fingerprint, and enrols through the API
// with a token made by `fleet admin enrol-token`.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := run(t, "admin", "create", "--data", dir, "--user", "alice"); code != 0 || !strings.Contains(out, "password: ") {
		t.Fatalf("admin create: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := run(t, "admin", "create", "--data", dir, "--user", "alice"); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("second admin create: %d %s", code, errOut)
	}
	run(t, "admin", "site", "--data", dir, "--id", "central", "--name", "Central Library")
	code, tokOut, errOut := run(t, "admin", "enrol-token", "--data", dir, "--site", "central", "--uses", "2")
	if code != 0 || !strings.HasPrefix(tokOut, "ake_") {
		t.Fatalf("enrol-token: %d %s %s", code, tokOut, errOut)
	}
	code, apiTok, _ := run(t, "admin", "api-token", "--data", dir, "--user", "alice")
	if code != 0 || !strings.HasPrefix(apiTok, "akapi_") {
		t.Fatalf("api-token: %d %s", code, apiTok)
	}

	offline := t.TempDir()
	if code, _, errOut := run(t, "release", "keys", "generate", "--offline", offline); code != 0 {
		t.Fatalf("release keys generate: %s", errOut)
	}
	if code, _, errOut := run(t, "release", "init", "--data", dir, "--offline", offline); code != 0 {
		t.Fatalf("release init: %s", errOut)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- cli.Serve(ctx, ln, cli.ServeOptionsForTest(dir), cli.DefaultConfig(), storetest.Logger(t), &out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}()
	var fp string
	re := regexp.MustCompile(`fingerprint ([0-9A-F:]{95})`)
	for i := 0; i < 100 && fp == ""; i++ {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			fp = m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	if fp == "" {
		t.Fatalf("no fingerprint printed: %q", out.String())
	}
	// A device pins the fingerprint instead of trusting a CA.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			sum := sha256.Sum256(raw[0])
			got := strings.ToUpper(hex.EncodeToString(sum[:]))
			if got != strings.ReplaceAll(fp, ":", "") {
				t.Errorf("certificate fingerprint %s, printed %s", got, fp)
			}
			return nil
		},
	}}}
	base := "https://" + ln.Addr().String()
	for i := 0; ; i++ {
		resp, err := client.Get(base + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if i > 50 {
			t.Fatalf("healthz: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	body, _ := json.Marshal(api.EnrolRequest{Token: strings.TrimSpace(tokOut), Hostname: "kiosk-1", Arch: "amd64", AgentVersion: "1", Capability: 2})
	resp, err := client.Post(base+api.PathEnrol, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var er api.EnrolResponse
	json.NewDecoder(resp.Body).Decode(&er)
	resp.Body.Close()
	if resp.StatusCode != 200 || er.Site != "central" {
		t.Errorf("enrol over HTTPS: %d %+v", resp.StatusCode, er)
	}
	req, _ := http.NewRequest("GET", base+api.PathAdminDevices, nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(apiTok))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var dl api.DeviceList
	json.NewDecoder(resp.Body).Decode(&dl)
	resp.Body.Close()
	if len(dl.Devices) != 1 || dl.Devices[0].ID != er.DeviceID {
		t.Errorf("admin devices = %+v", dl)
	}
	// The signed release repository is served for agents' updates.
	resp, err = client.Get(base + "/release/metadata/timestamp.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(out.String(), "repo_url https://") {
		t.Errorf("release timestamp.json: %d; serve said %q", resp.StatusCode, out.String())
	}
	// The certificate is kept: a restart keeps the fingerprint devices pinned.
	if _, err := os.Stat(filepath.Join(dir, "tls", "cert.pem")); err != nil {
		t.Error(err)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
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

// A mistyped --data is refused, naming the path, instead of becoming a new
// empty store; only admin create makes the directory.
func TestDataDirectory(t *testing.T) {
	parent := t.TempDir()
	typo := filepath.Join(parent, "flet")
	wantMissing := "fleet: command line: --data: " + typo + " does not exist (fleet admin create makes it; is the path right?)\n"
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--data", typo},
		{"admin", "api-token", "--data", typo, "--user", "alice"},
		{"admin", "site", "--data", typo, "--id", "central"},
		{"admin", "enrol-token", "--data", typo, "--site", "central"},
	} {
		code, _, errOut := run(t, args...)
		if code != 2 || errOut != wantMissing {
			t.Errorf("%v: exit %d\n got %q\nwant %q", args, code, errOut, wantMissing)
		}
	}
	if _, err := os.Stat(typo); err == nil {
		t.Fatal("a refused command made the directory")
	}
	dir := filepath.Join(parent, "fleet")
	if code, _, errOut := run(t, "admin", "create", "--data", dir, "--user", "alice"); code != 0 {
		t.Fatalf("admin create in a new directory: exit %d %s", code, errOut)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("admin create made %v, %v; want a 0700 directory", st, err)
	}
	code, _, errOut := run(t, "admin", "api-token", "--data", dir, "--user", "bob")
	if want := "fleet: command line: --user: no such user \"bob\" in " + filepath.Join(dir, "fleet.db") + " (fleet admin create adds one)\n"; code != 2 || errOut != want {
		t.Errorf("unknown user: exit %d\n got %q\nwant %q", code, errOut, want)
	}
}

package cli_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/cli"
	"accesskiosk/fleet/store/storetest"
)

// `fleet release ...` makes a repository in the data directory, and
// `fleet serve` then serves it under /release/.
func TestReleaseCommandsAndServing(t *testing.T) {
	dir, usb := t.TempDir(), filepath.Join(t.TempDir(), "usb")
	tree := t.TempDir()
	os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
	os.WriteFile(filepath.Join(tree, "bin", "agent"), []byte("agent binary"), 0o755)
	bundleFile := filepath.Join(t.TempDir(), "b.tar.zst")
	for _, args := range [][]string{
		{"release", "keys", "generate", "--offline", usb},
		{"release", "init", "--data", dir, "--offline", usb},
		{"release", "bundle", "--version", "1.0.0", "--arch", "amd64", "--out", bundleFile, tree},
		{"release", "add", "--data", dir, "--offline", usb, bundleFile},
	} {
		if code, out, errOut := run(t, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// A rollout whose canary ring names several sites and a kiosk, each
	// checked against the fleet's store.
	for _, args := range [][]string{
		{"admin", "site", "--data", dir, "--id", "central", "--name", "Central Library"},
		{"admin", "site", "--data", dir, "--id", "north", "--name", "North Hub"},
	} {
		if code, out, errOut := run(t, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	rolloutTests := []struct {
		name     string
		ring     string
		wantCode int
		wantOut  string
	}{
		{"unknown site and kiosk", "canary=site:central,site:atlantis,device:ghost", 2, "no site atlantis, kiosk ghost"},
		{"two sites", "canary=site:central,site:north,site:central", 0, "sites central, north"},
	}
	for i, tt := range rolloutTests {
		code, out, errOut := run(t, "release", "rollout", "start", "--data", dir, "--id", fmt.Sprint("r", i), "--release", "1.0.0", "--ring", tt.ring, "--ring", "all=all")
		if code != tt.wantCode || !strings.Contains(out+errOut, tt.wantOut) {
			t.Errorf("%s: exit %d, want %d with %q\n%s%s", tt.name, code, tt.wantCode, tt.wantOut, out, errOut)
		}
	}
	_, list, _ := run(t, "release", "rollout", "list", "--data", dir)
	if strings.Contains(list, "r0") || !strings.Contains(list, "r1") {
		t.Errorf("rollout list: want r1 only:\n%s", list)
	}
	if code, _, _ := run(t, "release", "add", "--data", dir); code != 2 {
		t.Errorf("release add without --offline: exit %d, want 2", code)
	}
	_, root, _ := run(t, "release", "root", "--data", dir)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("viewer password 1\n"), 0o600)
	if code, out, errOut := run(t, "admin", "create", "--data", dir, "--user", "victor", "--role", "viewer", "--password-file", pwFile); code != 0 {
		t.Fatalf("admin create: exit %d\n%s%s", code, out, errOut)
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
		<-done
	}()
	// Loopback test server with its own fresh self-signed certificate.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var body []byte
	for i := 0; ; i++ {
		resp, err := client.Get("https://" + ln.Addr().String() + "/release/metadata/root.json")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET /release/metadata/root.json: %s", resp.Status)
			}
			break
		}
		if i > 50 {
			t.Fatalf("serve: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.TrimSpace(string(body)) != strings.TrimSpace(root) {
		t.Errorf("served root differs from `fleet release root`")
	}

	// The console's Releases page finds the same repository.
	jar, _ := cookiejar.New(nil)
	client.Jar = jar
	resp, err := client.PostForm("https://"+ln.Addr().String()+"/login", url.Values{"user": {"victor"}, "password": {"viewer password 1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = client.Get("https://" + ln.Addr().String() + "/releases")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Releases in the repository") || !strings.Contains(string(page), "amd64") {
		t.Errorf("console /releases: %s\n%s", resp.Status, page)
	}
}

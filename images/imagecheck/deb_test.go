//go:build imagetest

package imagecheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFleetPackageInstalls installs out/deb/SUITE/accesskiosk-fleet_*_amd64.deb
// into a plain Debian of that release (SUITE, default trixie) made by mmdebstrap, checks what the package put
// there, then starts the server with the installed unit's ExecStart (as the
// unit's user, its --addr moved to a loopback port) and asks /healthz.
func TestFleetPackageInstalls(t *testing.T) {
	if !programInTree("fleet") {
		t.Skip("fleet/cmd/fleet is not in this tree yet")
	}
	suite := envOr("SUITE", "trixie")
	debs, _ := filepath.Glob("../../out/deb/" + suite + "/accesskiosk-fleet_*_amd64.deb")
	if len(debs) == 0 {
		t.Fatalf("no out/deb/%s/accesskiosk-fleet_*_amd64.deb (make deb)", suite)
	}
	deb, _ := filepath.Abs(debs[len(debs)-1])
	root := filepath.Join(t.TempDir(), "debian")
	cmd := exec.Command("nice", "-n", "10", "mmdebstrap", "--mode=root", "--variant=apt",
		"--customize-hook=copy-in "+deb+" /tmp",
		`--customize-hook=chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/`+filepath.Base(deb),
		suite, root, "deb http://deb.debian.org/debian "+suite+" main")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mmdebstrap with %s: %v\n%s", filepath.Base(deb), err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-R", filepath.Join(root, "proc")).Run() })

	unit, err := os.ReadFile(filepath.Join(root, "usr/lib/systemd/system/accesskiosk-fleet.service"))
	if err != nil {
		t.Fatalf("unit not installed: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/accesskiosk-fleet.service")); err != nil {
		t.Errorf("accesskiosk-fleet.service not enabled: %v", err)
	}
	m := regexp.MustCompile(`(?m)^ExecStart=[-+!@:]*(.+)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatalf("no ExecStart in the unit:\n%s", unit)
	}
	args := strings.Fields(string(m[1]))
	if _, err := os.Stat(filepath.Join(root, args[0])); err != nil {
		t.Fatalf("ExecStart binary %s not installed: %v", args[0], err)
	}
	user := "root"
	if u := regexp.MustCompile(`(?m)^User=(\S+)$`).FindSubmatch(unit); u != nil {
		user = string(u[1])
		pw, err := readPasswd(root)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pw[user]; !ok {
			t.Fatalf("the unit's user %s was not created", user)
		}
	}
	if got := Passwords(root); len(got) != 0 {
		t.Errorf("passwords: %q", got)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// Environment= defaults the unit expands (${FLEET_ADDR}, $FLEET_ARGS):
	// the address becomes ours, empty ones go.
	var kept []string
	for _, a := range args {
		if strings.HasPrefix(a, "$") && !strings.HasPrefix(a, "${") {
			continue
		}
		kept = append(kept, a)
	}
	args = kept
	for i, a := range args {
		if a == "--addr" && i+1 < len(args) {
			args[i+1] = addr
		} else if strings.HasPrefix(a, "--addr=") {
			args[i] = "--addr=" + addr
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, "chroot", append([]string{"--userspec=" + user + ":" + user, root}, args...)...)
	out := &strings.Builder{}
	run.Stdout, run.Stderr = out, out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { run.Process.Kill(); run.Wait() }()
	// The server may speak TLS with its own certificate: liveness only here.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var last error
	for i := 0; i < 60; i++ {
		scheme := []string{"http", "https"}[i%2]
		resp, err := client.Get(scheme + "://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Logf("%s as %s answered /healthz 200 on %s", strings.Join(args, " "), user, addr)
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("fleet from the package never answered /healthz: %v\n%s", last, out)
}

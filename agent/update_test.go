package agent

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"accesskiosk/agent/fakefleet"
	"accesskiosk/agent/system/systemdtest"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/release"
	"accesskiosk/fleet/release/releasetest"
	"accesskiosk/internal/applog"
	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/bus/bustest"
)

// TestDesiredReleaseIsInstalled: the fleet's answer names a release; the
// agent installs it through agent/update from a real signed repository on
// loopback, restarts the release's units through the systemd fake, and
// passes the health gate (kiosk on the bus, a report accepted since).
func TestDesiredReleaseIsInstalled(t *testing.T) {
	repo := releasetest.NewRepo(t, release.Options{})
	root, err := repo.RootJSON()
	if err != nil {
		t.Fatal(err)
	}
	repo.Add(t, "1.1.0", runtime.GOARCH, releasetest.Files("1.1.0", 4096, 1))
	srv := releasetest.Serve(t, repo.Handler())

	addr := bustest.Start(t)
	sd := systemdtest.Start(t, addr)
	sd.SetUnit("accesskiosk-kiosk.service", "active", "running", 0)
	sd.SetUnit("accesskiosk-agent.service", "active", "running", 0)
	kiosk := &versionedShell{version: "1.0.0"}
	if _, err := bus.Serve(bustest.Conn(t, addr), kiosk); err != nil {
		t.Fatal(err)
	}
	// Restarting the kiosk unit starts the switched release.
	sd.OnRestart = func(unit string) string {
		if unit == "accesskiosk-kiosk.service" {
			kiosk.set("1.1.0")
		}
		return "done"
	}
	fs := fakefleet.Start(t, false)
	cfg := testConfig(t, fs.URL, addr)
	os.WriteFile(cfg.Fleet.EnrolTokenFile, []byte(fs.Token), 0o600)
	cfg.Update.RepoURL = srv.URL
	cfg.Update.TrustedRoot = filepath.Join(t.TempDir(), "root.json")
	os.WriteFile(cfg.Update.TrustedRoot, root, 0o600)
	log, _ := applog.New(io.Discard, "info")
	if os.Getenv("AGENT_TEST_LOG") != "" {
		log, _ = applog.New(os.Stderr, "debug")
	}

	ctx, cancel := context.WithCancel(context.Background())
	a, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); a.Stop() }()
	fs.SetDesired(api.DesiredState{Release: "1.1.0"})
	waitFor(t, "release 1.1.0 running", func() bool {
		cur, err := a.upd.Current()
		if err != nil || cur != "1.1.0" || !a.updating.TryLock() {
			return false // not switched yet, or still at its health gate
		}
		a.updating.Unlock()
		return true
	})
	if a.Health().Has("update") {
		t.Errorf("update warning: %v", a.Health().Warnings())
	}
	if len(sd.Restarts()) == 0 {
		t.Errorf("no unit restarted after the switch")
	}
}

// versionedShell is a kiosk whose Status says which version it runs.
type versionedShell struct {
	shell
	mu      sync.Mutex
	version string
}

func (v *versionedShell) set(ver string) {
	v.mu.Lock()
	v.version = ver
	v.mu.Unlock()
}

func (v *versionedShell) Status() bus.Status {
	v.mu.Lock()
	defer v.mu.Unlock()
	return bus.Status{State: bus.StateIdle, Version: v.version}
}

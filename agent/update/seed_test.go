package update

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/release"
)

// factoryFiles writes a packaged agent and unit under a temp /usr and
// returns the Factory that names them (plus a kiosk that is not installed).
func factoryFiles(t testing.TB, version string) Factory {
	t.Helper()
	usr := t.TempDir()
	os.MkdirAll(filepath.Join(usr, "bin"), 0o755)
	os.MkdirAll(filepath.Join(usr, "lib/systemd/system"), 0o755)
	if err := os.WriteFile(filepath.Join(usr, "bin/accesskiosk-agent"), []byte("#!/bin/sh\necho agent "+version+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(usr, "lib/systemd/system/accesskiosk-agent.service"), []byte("[Service]\nExecStart=/usr/bin/accesskiosk-agent\n"), 0o644)
	return Factory{
		Version: version,
		Files: map[string]string{
			"bin/agent":                       filepath.Join(usr, "bin/accesskiosk-agent"),
			"bin/kiosk":                       filepath.Join(usr, "bin/accesskiosk-kiosk"), // not installed
			"units/accesskiosk-agent.service": filepath.Join(usr, "lib/systemd/system/accesskiosk-agent.service"),
			"units/accesskiosk-kiosk.service": filepath.Join(usr, "lib/systemd/system/accesskiosk-kiosk.service"),
		},
		Units: []string{"accesskiosk-kiosk.service", "accesskiosk-agent.service"},
	}
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string) // applied to a device running 1.0.0
		want   string                         // running after Seed
		seeded bool
	}{
		{"usable current is kept", func(*testing.T, string) {}, "1.0.0", false},
		{"no current", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, currentLink)) }, "0.9.0+factory", true},
		{"dangling link", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, currentLink))
			os.Symlink("releases/7.7.7", filepath.Join(dir, currentLink))
		}, "0.9.0+factory", true},
		{"link outside releases", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, currentLink))
			os.Symlink("/usr", filepath.Join(dir, currentLink))
		}, "0.9.0+factory", true},
		{"current is a file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, currentLink))
			os.WriteFile(filepath.Join(dir, currentLink), []byte("garbage"), 0o644)
		}, "0.9.0+factory", true},
		{"program truncated", func(t *testing.T, dir string) {
			os.Truncate(filepath.Join(dir, currentLink, "bin/agent"), 10)
		}, "0.9.0+factory", true},
		{"manifest garbled", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, currentLink, "manifest.json"), []byte("{not json"), 0o644)
		}, "0.9.0+factory", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, release.Options{})
			f.seed(t, "1.0.0")
			tt.damage(t, f.dir)
			u := f.updater(t, nil)
			got, seeded, err := u.Seed(ctx, factoryFiles(t, "0.9.0+factory"))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || seeded != tt.seeded {
				t.Fatalf("Seed = %q, seeded %v; want %q, %v", got, seeded, tt.want, tt.seeded)
			}
			if r := running(t, f.dir); r != tt.want {
				t.Errorf("running %s, want %s", r, tt.want)
			}
			if !tt.seeded {
				return
			}
			body, err := os.ReadFile(filepath.Join(f.dir, currentLink, "bin/agent"))
			if err != nil || !strings.Contains(string(body), "agent 0.9.0+factory") {
				t.Errorf("factory bin/agent = %q, %v", body, err)
			}
			if _, err := os.Stat(filepath.Join(f.dir, currentLink, "bin/kiosk")); err == nil {
				t.Errorf("bin/kiosk laid down though it is not installed")
			}
			// Seeding twice does nothing.
			if _, again, err := u.Seed(ctx, factoryFiles(t, "0.9.0+factory")); err != nil || again {
				t.Errorf("second Seed: seeded %v, %v", again, err)
			}
			// The factory release has serial 0: any signed release is newer.
			units := &fakeUnits{}
			u2 := f.updater(t, func(c *Config) { c.Units = units })
			if res, err := u2.Apply(ctx, "1.1.0"); err != nil || res.Outcome != OutcomeInstalled || res.From != "0.9.0+factory" {
				t.Fatalf("Apply 1.1.0 over the factory release: %+v, %v", res, err)
			}
		})
	}
}

// A release that fails its health gate goes back to the factory release,
// restarting the factory release's units.
func TestSeedRollbackToFactory(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, release.Options{})
	u := f.updater(t, nil)
	if _, seeded, err := u.Seed(ctx, factoryFiles(t, "0.9.0")); err != nil || !seeded {
		t.Fatalf("Seed: %v, %v", seeded, err)
	}
	units := &fakeUnits{}
	u2 := f.updater(t, func(c *Config) {
		c.Units = units
		c.Gate = gateFunc(func(context.Context, string, time.Time) error { return os.ErrDeadlineExceeded })
		c.HealthTimeout = 50 * time.Millisecond
	})
	res, err := u2.Apply(ctx, "1.1.0")
	if res.Outcome != OutcomeRolledBack || err == nil {
		t.Fatalf("Apply: %+v, %v", res, err)
	}
	if got := running(t, f.dir); got != "0.9.0" {
		t.Fatalf("running %s after rollback, want the factory 0.9.0", got)
	}
	got := strings.Join(units.restarts, ",")
	// 1.1.0's units, then the factory's (the kiosk unit is not in it).
	if want := "accesskiosk-kiosk.service,accesskiosk-agent.service,accesskiosk-agent.service"; got != want {
		t.Errorf("restarts %s, want %s", got, want)
	}
}

func TestSeedRefusesNothingInstalled(t *testing.T) {
	f := newFixture(t, release.Options{})
	u := f.updater(t, nil)
	fa := factoryFiles(t, "0.9.0")
	delete(fa.Files, "bin/agent")
	if _, _, err := u.Seed(context.Background(), fa); err == nil {
		t.Fatal("Seed with no program installed succeeded")
	}
	if v, _ := u.Current(); v != "" {
		t.Errorf("current = %q after a refused seed", v)
	}
}

type gateFunc func(ctx context.Context, version string, since time.Time) error

func (g gateFunc) Healthy(ctx context.Context, version string, since time.Time) error {
	return g(ctx, version, since)
}

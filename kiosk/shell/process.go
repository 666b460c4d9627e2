package shell

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/webkit"
)

// This file is bin/kiosk around the shell: its private home directory, its
// command line and the GTK loop.

// PrivateHome makes a fresh directory for this process and points HOME and
// the XDG base directories into it, so that nothing GTK or WebKit might
// write lands in a real home directory; cleanup removes it. Call before
// webkit.Init. It honours an existing $XDG_RUNTIME_DIR (a tmpfs) as parent.
func PrivateHome() (dir string, cleanup func(), err error) {
	parent := os.Getenv("XDG_RUNTIME_DIR")
	if fi, err := os.Stat(parent); parent == "" || err != nil || !fi.IsDir() {
		parent = os.TempDir()
	}
	dir, err = os.MkdirTemp(parent, "accesskiosk-")
	if err != nil {
		return "", nil, fmt.Errorf("make private home: %w", err)
	}
	for env, sub := range map[string]string{"HOME": "", "XDG_CONFIG_HOME": "config", "XDG_CACHE_HOME": "cache",
		"XDG_DATA_HOME": "data", "XDG_STATE_HOME": "state"} {
		p := filepath.Join(dir, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("make private home: %w", err)
		}
		os.Setenv(env, p)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// CommandLine is what bin/kiosk's flags say.
type CommandLine struct {
	ConfigPath string // "" means the embedded default
	Windowed   bool
	Screenshot string // "" for none
}

// LoadConfig loads the file the command line names, or the embedded default.
func (c CommandLine) LoadConfig() (*config.Config, error) {
	if c.ConfigPath == "" {
		return config.Default()
	}
	return config.Load(c.ConfigPath)
}

// Main is bin/kiosk after its flags: a private home directory, then Run.
// Call from the main goroutine of a program that locked the main OS thread.
func Main(ctx context.Context, cfg *config.Config, cl CommandLine, log logrus.FieldLogger, version string) error {
	_, cleanup, err := PrivateHome()
	if err != nil {
		return err
	}
	defer cleanup()
	pages, err := NewPages(&cfg.UI, log)
	if err != nil {
		return err
	}
	o := Options{Config: cfg, Log: log, Fullscreen: !cl.Windowed, Version: version, UI: pages, StateDir: stateDir()}
	if cl.Screenshot != "" {
		path := cl.Screenshot
		var s **Shell
		o.Observer.Ready = func() {
			// Let the first frame paint before reading the window back.
			time.AfterFunc(500*time.Millisecond, func() {
				webkit.Invoke(func() {
					if s == nil || *s == nil {
						return
					}
					if err := (*s).win.Snapshot(path); err != nil {
						log.WithError(err).Error("screenshot")
						return
					}
					log.WithField("path", path).Info("screenshot saved")
				})
			})
		}
		return runWith(ctx, o, func(sh *Shell) { s = &sh })
	}
	return Run(ctx, o)
}

// stateDir is the kiosk's state directory from systemd (StateDirectory=
// sets $STATE_DIRECTORY, the first of its paths), "" when not run so.
func stateDir() string {
	d, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":")
	return d
}

func runWith(ctx context.Context, o Options, started func(*Shell)) error {
	setupGL(o.Config, o.Log)
	if err := webkit.Init(); err != nil {
		return err
	}
	s, err := Start(o)
	if err != nil {
		return err
	}
	started(s)
	stop := context.AfterFunc(ctx, func() { webkit.Invoke(func() { s.Close(); webkit.Quit() }) })
	defer stop()
	webkit.Run()
	return nil
}

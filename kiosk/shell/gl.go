package shell

import (
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/webkit"
)

// noGLInstalled is where the kiosk package installs it.
const noGLInstalled = "/usr/lib/accesskiosk-kiosk/" + webkit.NoGLLibrary

// setupGL decides, once and before webkit.Init, what the web processes
// draw GL with: with webgl off (the default) nothing, through the no-GL
// vendor (webkit.NoGL); with webgl on, or without that library, the
// system's driver. Either way the kiosk runs; only its memory and WebGL
// differ, and the log says which.
func setupGL(cfg *config.Config, log logrus.FieldLogger) {
	if log == nil {
		log = logrus.StandardLogger()
	}
	if cfg.WebGL {
		log.Info("webgl: true: web processes load the system's GL driver, and pages may use WebGL")
		return
	}
	lib := noGLLibrary()
	if lib == "" {
		log.WithField("path", noGLInstalled).Warn("no-GL library missing: web processes load the system's GL driver (about 25 MiB more each)")
		return
	}
	cache := os.Getenv("XDG_CACHE_HOME") // private to this process (PrivateHome)
	if cache == "" {
		log.Warn("no private cache directory for the no-GL vendor file: web processes load the system's GL driver")
		return
	}
	if err := webkit.NoGL(lib, filepath.Join(cache, "accesskiosk-nogl")); err != nil {
		log.WithError(err).Warn("web processes load the system's GL driver (about 25 MiB more each)")
		return
	}
	log.WithField("library", lib).Info("web processes load no GL driver (webgl: false)")
}

// noGLLibrary is the no-GL vendor library to use: $ACCESSKIOSK_NOGL when
// set, else the installed one, else one beside this program (make build
// puts it in bin/); "" when there is none.
func noGLLibrary() string {
	if p := os.Getenv(webkit.NoGLEnv); p != "" {
		return p // NoGL says what is wrong with it, if anything
	}
	candidates := []string{noGLInstalled}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), webkit.NoGLLibrary))
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

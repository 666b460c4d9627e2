//go:build cgo && linux

package webkit

// #include <stdlib.h>
// #include "native.h"
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// eglVendorsEnv is libglvnd's list of EGL vendor files to load, instead of
// the system's; set, it is the only vendor a process sees.
const eglVendorsEnv = "__EGL_VENDOR_LIBRARY_FILENAMES"

// NoGL makes every web process started from now on load the EGL vendor
// library lib (kiosk/webkit/nogl built) instead of the system's GL driver,
// so that no page can draw with WebGL and no web process maps Mesa and
// its LLVM (about 25 MiB of PSS each). WebKitGTK's web process opens an
// EGL display when it starts and aborts without one; lib's display has no
// configs, so WebKit paints on the CPU, as it does with hardware
// acceleration off, and WebGL's getContext gives pages null.
//
// It checks that this process can load lib, writes the vendor file that
// names it in dir (created 0700), points libglvnd at that file for this
// process and its children, and lets every context made after it read
// both (its sandbox sees little else). Call before Init; an error changes
// nothing, and the web processes then load the system's driver.
func NoGL(lib, dir string) error {
	if initialised.Load() {
		return errors.New("webkit: NoGL after Init")
	}
	lib, err := filepath.Abs(lib)
	if err != nil {
		return fmt.Errorf("webkit: no-GL vendor: %w", err)
	}
	if err := checkVendor(lib); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("webkit: no-GL vendor: %w", err)
	}
	vendor := filepath.Join(dir, "nogl.json")
	body, _ := json.Marshal(map[string]any{
		"file_format_version": "1.0.0",
		"ICD":                 map[string]string{"library_path": lib},
	})
	if err := os.WriteFile(vendor, body, 0o600); err != nil {
		return fmt.Errorf("webkit: no-GL vendor: %w", err)
	}
	if err := os.Setenv(eglVendorsEnv, vendor); err != nil {
		return fmt.Errorf("webkit: no-GL vendor: %w", err)
	}
	for _, p := range []string{dir, filepath.Dir(lib)} {
		if !systemPath(p) {
			addToSandbox(p)
		}
	}
	return nil
}

// checkVendor fails unless lib is a file this process can load as an EGL
// vendor library: a missing file, another architecture's or a library that
// is not one would make every web process abort instead.
func checkVendor(lib string) error {
	if fi, err := os.Stat(lib); err != nil {
		return fmt.Errorf("webkit: no-GL vendor: %w", err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("webkit: no-GL vendor %s: not a regular file", lib)
	}
	cl := cstr(lib)
	defer free(cl)
	if why := C.ak_egl_vendor_check(cl); why != nil {
		return fmt.Errorf("webkit: no-GL vendor %s: %s", lib, C.GoString(why))
	}
	return nil
}

// systemPath reports whether WebKit's sandbox already shows p (read-only):
// the system's programs and libraries.
func systemPath(p string) bool {
	for _, root := range []string{"/usr/", "/lib/", "/lib64/"} {
		if strings.HasPrefix(p+"/", root) {
			return true
		}
	}
	return false
}

// addToSandbox lets the processes of every context made after it read p.
func addToSandbox(p string) {
	cp := cstr(p)
	defer free(cp)
	C.ak_sandbox_add(cp)
}

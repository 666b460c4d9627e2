// Package webkittest runs tests against real WebKitGTK: it starts a private
// Xvfb on a free display, runs the GTK main loop on the main OS thread
// (where GTK must run) while the tests run on other goroutines, and gives
// tests a way to run code on that loop and wait for it.
//
// A package's tests use it from TestMain:
//
//	func TestMain(m *testing.M) { webkittest.Main(m) }
//
// and then call webkittest.Do(t, func() { ... }) to touch GTK or WebKit.
package webkittest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"accesskiosk/kiosk/webkit"
)

func init() { runtime.LockOSThread() }

// Screen is the size of the Xvfb screen: room for a 1280×800 landscape
// window and an 800×1280 portrait one.
const Screen = "1280x1280x24"

// ScreenEnv, when set (WIDTHxHEIGHTxDEPTH), is the Xvfb screen's size
// instead of Screen: a test that needs a real screen of a kiosk's size
// runs the test binary again with it (kiosk/shell's toolbar test does).
const ScreenEnv = "WEBKITTEST_SCREEN"

// Xvfb starts an X server on a free display and returns its name (":N")
// and a function that stops it.
func Xvfb() (display string, stop func(), err error) {
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		return "", nil, fmt.Errorf("Xvfb not installed (make deps installs it): %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	screen := Screen
	if s := os.Getenv(ScreenEnv); s != "" {
		screen = s
	}
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0", screen, "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	// Xvfb dies with the test binary even when it crashes (Main runs on
	// the locked main thread, which lives as long as the process).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		w.Close()
		return "", nil, fmt.Errorf("start Xvfb: %w", err)
	}
	w.Close()
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			stop()
			return "", nil, fmt.Errorf("Xvfb printed no display number")
		}
		return ":" + n, stop, nil
	case <-time.After(15 * time.Second):
		stop()
		return "", nil, fmt.Errorf("Xvfb did not start within 15s")
	}
}

// Main starts Xvfb, initialises GTK on the main thread, runs m's tests on
// another goroutine while the GTK loop runs, then cleans up and exits.
// Without Xvfb the tests are skipped (exit 0) unless CI=true, where that
// is a failure.
func Main(m *testing.M) {
	display, stop, err := Xvfb()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "webkittest:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "webkittest: skipping real-WebKit tests:", err)
		os.Exit(0)
	}
	os.Setenv("DISPLAY", display)
	os.Unsetenv("WAYLAND_DISPLAY")
	os.Setenv("GDK_BACKEND", "x11")
	noGL, err := setupGL()
	if err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "webkittest:", err)
		os.Exit(1)
	}
	if err := webkit.Init(); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "webkittest:", err)
		os.Exit(1)
	}
	code := make(chan int, 1)
	go func() {
		c := m.Run()
		code <- c
		webkit.Quit()
	}()
	webkit.Run()
	c := <-code
	stop()
	os.RemoveAll(noGL)
	atExitMu.Lock()
	for i := len(atExit) - 1; i >= 0; i-- {
		atExit[i]()
	}
	atExitMu.Unlock()
	os.Exit(c)
}

var (
	atExitMu sync.Mutex
	atExit   []func()
)

// AtExit runs f when Main has run the tests, before it exits (the last
// added first): a TestMain's clean-up, which a defer before Main would
// never run.
func AtExit(f func()) {
	atExitMu.Lock()
	defer atExitMu.Unlock()
	atExit = append(atExit, f)
}

// Display is the X display the tests run on.
func Display() string { return os.Getenv("DISPLAY") }

// Do runs f on the GTK loop and waits for it (at most 30s).
func Do(t testing.TB, f func()) {
	t.Helper()
	done := make(chan struct{})
	webkit.Invoke(func() {
		defer close(done)
		f()
	})
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("GTK loop did not run the function within 30s")
	}
}

// WebGLEnv, set to 1, makes Main leave the web processes the system's GL
// driver (kiosk.yaml's webgl: true) instead of the no-GL vendor: a test of
// that mode runs the test binary again with it.
const WebGLEnv = "WEBKITTEST_WEBGL"

// setupGL gives this process's web processes, and those of the kiosks it
// starts, what an installed kiosk's get by default (webgl: false): the
// no-GL vendor, built from kiosk/webkit/nogl into a temporary directory
// it returns. With WebGLEnv=1, the system's driver instead.
func setupGL() (string, error) {
	if os.Getenv(WebGLEnv) == "1" {
		os.Unsetenv(webkit.NoGLEnv)
		os.Unsetenv("__EGL_VENDOR_LIBRARY_FILENAMES")
		return "", nil
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("no-GL vendor: cannot find this file to find kiosk/webkit/nogl")
	}
	src := filepath.Join(filepath.Dir(self), "..", "nogl", "nogl.c")
	dir, err := os.MkdirTemp("", "webkittest-nogl-")
	if err != nil {
		return "", err
	}
	lib := filepath.Join(dir, webkit.NoGLLibrary)
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-fvisibility=hidden", "-o", lib, src).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("no-GL vendor: build %s: %v\n%s", src, err, out)
	}
	if err := webkit.NoGL(lib, filepath.Join(dir, "vendor")); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	os.Setenv(webkit.NoGLEnv, lib) // for the kiosks the tests start
	return dir, nil
}

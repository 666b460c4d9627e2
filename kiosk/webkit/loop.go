//go:build cgo && linux

package webkit

// #include <stdlib.h>
// #include "native.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"strings"
	"sync/atomic"
	"unsafe"
)

var initialised atomic.Bool

// Init initialises GTK on the calling thread, which must be the main OS
// thread (locked with runtime.LockOSThread in an init function). It fails
// when there is no display. It keeps the GL stack out of the UI process
// (see ak_init), which saves about a tenth of the kiosk's memory.
func Init() error {
	if initialised.Load() {
		return nil
	}
	if C.ak_init() == 0 {
		return errors.New("webkit: cannot initialise GTK (no display? set DISPLAY or WAYLAND_DISPLAY)")
	}
	initialised.Store(true)
	return nil
}

// Run runs the GTK main loop until Quit.
func Run() { C.gtk_main() }

// Quit makes Run return. Safe from any goroutine.
func Quit() { Invoke(func() { C.gtk_main_quit() }) }

// Invoke runs f on the GTK main loop. Safe from any goroutine; f runs later
// (never inside the call), in the order of calls.
func Invoke(f func()) {
	C.ak_invoke(C.uintptr_t(cgo.NewHandle(f)))
}

// InputCount is the number of key presses, button presses, touches and
// scrolls seen so far (it only grows).
func InputCount() uint64 { return uint64(C.ak_input_count_get()) }

// WindowsShown lists every top-level GTK window and every GTK popover
// mapped since Init, in order, as "GtkTypeName:title": the kiosk's own
// window, and anything else a page or a key made GTK show (a colour
// chooser, the emoji chooser). Menus and tooltips are not top-level.
func WindowsShown() []string {
	n := int(C.ak_windows_shown())
	out := make([]string, n)
	for i := range out {
		out[i] = C.GoString(C.ak_window_shown(C.int(i)))
	}
	return out
}

// WindowsRefused counts the top-level windows and popovers other than the
// kiosk's own that GTK mapped and the binding hid at once: the last line
// behind the refusals of the colour chooser and the emoji keys.
func WindowsRefused() int { return int(C.ak_windows_refused()) }

// ToplevelsVisible counts the top-level GTK windows showing now.
func ToplevelsVisible() int { return int(C.ak_toplevels_visible()) }

// SettingsBackend names the GSettings backend of this process
// ("GMemorySettingsBackend" once Init has run).
func SettingsBackend() string { return C.GoString(C.ak_settings_backend()) }

// ClearClipboards empties the CLIPBOARD and PRIMARY selections.
func ClearClipboards() { C.ak_clear_clipboards() }

// akDispatch is the one entry point from C into Go. h names the Go object
// the event is for; an unknown or released handle is ignored (refused).
//
//export akDispatch
func akDispatch(h C.uintptr_t, ev *C.akEvent) (verdict C.int) {
	verdict = C.AK_IGNORE
	defer func() {
		if r := recover(); r != nil {
			// A released handle (an object already destroyed) panics in
			// Value; anything else is a bug worth crashing for.
			if s, ok := r.(string); ok && strings.HasPrefix(s, "runtime/cgo: misuse of an invalid Handle") {
				verdict = C.AK_IGNORE
				return
			}
			panic(r)
		}
	}()
	hd := cgo.Handle(h)
	switch o := hd.Value().(type) {
	case func():
		hd.Delete()
		o()
	case *jsCall:
		hd.Delete()
		if ev.kind == C.AK_JS_RESULT && o.done != nil {
			if ev.flags == 2 {
				o.done("", fmt.Errorf("webkit: evaluate script: %s: %w", gostr(ev.str), ErrNoResult))
			} else if ev.flags != 0 {
				o.done("", fmt.Errorf("webkit: evaluate script: %s", gostr(ev.str)))
			} else {
				o.done(gostr(ev.str), nil)
			}
		}
	case *printCall:
		hd.Delete()
		if ev.kind == C.AK_PRINT_DONE && o.done != nil {
			if ev.flags != 0 {
				o.done(fmt.Errorf("webkit: print to PDF: %s", gostr(ev.str)))
			} else {
				o.done(nil)
			}
		}
	case *View:
		return o.dispatch(ev)
	case *Context:
		o.dispatch(ev)
	case *Download:
		return o.dispatch(ev)
	case *Window:
		if ev.kind == C.AK_BUTTON && o.opts.Button != nil {
			o.opts.Button(int(ev.num))
		}
	}
	return verdict
}

func cstr(s string) *C.char { return C.CString(s) }

func free(p *C.char) { C.free(unsafe.Pointer(p)) }

func gostr(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

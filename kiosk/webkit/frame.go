//go:build cgo && linux

package webkit

// #include "native.h"
import "C"

import "runtime/cgo"

// InvokeUrgent runs f on the GTK loop, as Invoke does, but ahead of the
// loop's ordinary work: events and messages already queued (a busy page's
// among them) wait until f has run. For what a person is waiting for
// (ending a session). Safe from any goroutine.
func InvokeUrgent(f func()) {
	C.ak_invoke_urgent(C.uintptr_t(cgo.NewHandle(f)))
}

// AfterPaint calls f on the GTK loop once the window has painted its next
// frame (GDK's frame clock "after-paint": what the window shows has been
// drawn), and asks for that frame. A window not yet realized calls f at
// the next turn of the loop. A frame that never comes (the window
// destroyed first) never calls f.
func (w *Window) AfterPaint(f func()) {
	C.ak_window_after_paint(w.w, C.uintptr_t(cgo.NewHandle(f)))
}

//go:build cgo && linux

package webkit

// #include "native.h"
import "C"

// The toolbar's overflow (toolbar.c): when every button does not fit the
// window's width, the buttons of lowest priority leave the bar and the
// More button offers them in a native panel under the toolbar, inside the
// window. Their ids, labels, accessible names and tooltips stay as the
// shell set them; a tap on one in the panel reaches the Button callback
// with its id, as a tap on the bar would.

// SetToolPriority says how long the toolbar button with id stays on a bar
// too narrow for every button: the lowest priority leaves first (and every
// button below it with it); ToolPinned never leaves. Buttons start at
// priority 0. False when no toolbar button has id.
func (w *Window) SetToolPriority(id int, priority int) bool {
	return C.ak_window_tool_priority(w.w, C.int(id), C.int(priority)) != 0
}

// ToolPlace is where the toolbar button with id is now (as the window was
// last laid out).
func (w *Window) ToolPlace(id int) ToolPlace {
	return ToolPlace(C.ak_window_tool_place(w.w, C.int(id)))
}

// ToolbarWidth is the toolbar's minimum width (its pinned buttons, More
// and the title's shortest form: what the window needs) and its natural
// width (every shown button on the bar).
func (w *Window) ToolbarWidth() (minimum, natural int) {
	var m, n C.int
	C.ak_window_toolbar_width(w.w, &m, &n)
	return int(m), int(n)
}

// ShowMore opens (true) or closes the More panel; it opens only while
// some button is off the bar.
func (w *Window) ShowMore(show bool) { C.ak_window_more_show(w.w, cbool(show)) }

// MoreShown reports whether the More panel is open.
func (w *Window) MoreShown() bool { return C.ak_window_more_visible(w.w) != 0 }

// MorePressed reports whether a screen reader is told More is pressed
// (its ATK state), which it is exactly while the panel is open.
func (w *Window) MorePressed() bool { return C.ak_window_more_pressed(w.w) != 0 }

// Size is the window's size and the size of the monitor it is on (0s
// before the window is on one).
func (w *Window) Size() (width, height, screenWidth, screenHeight int) {
	var a, b, c, d C.int
	C.ak_window_size(w.w, &a, &b, &c, &d)
	return int(a), int(b), int(c), int(d)
}

// FocusedButton is the id of the button that has the keyboard focus (a
// toolbar button, More, a key) and whether it is a twin in the More
// panel; ok is false when no button has it.
func (w *Window) FocusedButton() (id int, inMore, ok bool) {
	var m C.int
	id = int(C.ak_window_focused(w.w, &m))
	return id, m != 0, id != 0
}

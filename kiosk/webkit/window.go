//go:build cgo && linux

package webkit

// #include "native.h"
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"
)

// Window is the kiosk's single top-level window: undecorated, full screen
// when asked, close requests ignored; a native toolbar on top, an optional
// banner under it, the web view below, and a panel that can cover it all.
type Window struct {
	w    *C.akWindow
	h    cgo.Handle
	opts WindowOptions
}

// NewWindow makes and shows the window. Call on the GTK thread after Init.
func NewWindow(o WindowOptions) *Window {
	if o.Width == 0 {
		o.Width, o.Height = 1280, 800
	}
	w := &Window{opts: o}
	w.h = cgo.NewHandle(w)
	t := cstr(o.Title)
	defer free(t)
	w.w = C.ak_window_new(C.uintptr_t(w.h), t, cbool(o.Fullscreen), C.int(o.Width), C.int(o.Height))
	return w
}

// AddTool adds a toolbar button: at the start, or at the end when atEnd.
// accessibleName is what a screen reader says.
func (w *Window) AddTool(id int, label, accessibleName string, style ToolStyle, atEnd bool) {
	l, n := cstr(label), cstr(accessibleName)
	defer free(l)
	defer free(n)
	wn := cstr("")
	if style == ToolDanger {
		free(wn)
		wn = cstr("ak-end")
	}
	defer free(wn)
	C.ak_window_add_tool(w.w, l, n, wn, C.int(id), cbool(atEnd))
}

// SetView puts v in the content area (replacing what was there); nil empties it.
func (w *Window) SetView(v *View) {
	if v == nil {
		C.ak_window_set_view(w.w, nil)
		return
	}
	C.ak_window_set_view(w.w, v.v)
}

// SetSheet shows v in place of the service view and the guide pane (the
// toolbar, the banner, the keyboard and the panel stay as they are); the
// views it covers stay alive, their documents untouched, hidden under it.
// nil hides the sheet and gives the service view the focus again.
func (w *Window) SetSheet(v *View) {
	if v == nil || v.v == nil {
		C.ak_window_set_sheet(w.w, nil)
		return
	}
	C.ak_window_set_sheet(w.w, v.v)
}

// SheetShown reports whether a sheet covers the service view.
func (w *Window) SheetShown() bool { return C.ak_window_sheet_shown(w.w) != 0 }

// SetGuide shows v in the guide pane beside the service view (under it
// when the window is portrait), with title in the pane's bar and a Close
// button that reports closeID to the Button callback; nil hides the pane.
func (w *Window) SetGuide(v *View, title, closeLabel string, closeID int) {
	if v == nil || v.v == nil {
		C.ak_window_set_guide(w.w, nil, nil, nil, 0)
		return
	}
	t, l := cstr(title), cstr(closeLabel)
	defer free(t)
	defer free(l)
	C.ak_window_set_guide(w.w, v.v, t, l, C.int(closeID))
}

// Split reports the split view: whether the guide pane is shown, whether
// it is stacked under the service (portrait), and the handle's position in
// pixels from the left (or top).
func (w *Window) Split() (shown, stacked bool, position int) {
	var s, v, p C.int
	C.ak_window_split(w.w, &s, &v, &p)
	return s != 0, v != 0, int(p)
}

// SetKeyboard replaces the on-screen keyboard's keys, row by row. Key
// presses reach the Button callback with the key's ID.
func (w *Window) SetKeyboard(rows [][]Key) {
	C.ak_window_kb_clear(w.w)
	for _, row := range rows {
		C.ak_window_kb_row(w.w)
		for _, k := range row {
			l, n := cstr(k.Label), cstr(k.Name)
			C.ak_window_kb_key(w.w, l, n, C.int(k.ID), C.int(k.Width), C.int(k.Style))
			free(l)
			free(n)
		}
	}
}

// ShowKeyboard shows or hides the on-screen keyboard under the views.
func (w *Window) ShowKeyboard(show bool) { C.ak_window_kb_show(w.w, cbool(show)) }

// KeyboardVisible reports whether the on-screen keyboard is showing.
func (w *Window) KeyboardVisible() bool { return C.ak_window_kb_visible(w.w) != 0 }

// Rect is where a part of the window is on the screen (root coordinates).
func (w *Window) Rect(p Part, id int) (r Rect, ok bool) {
	var x, y, wd, ht C.int
	if C.ak_window_rect(w.w, C.int(p), C.int(id), &x, &y, &wd, &ht) == 0 {
		return Rect{}, false
	}
	return Rect{X: int(x), Y: int(y), W: int(wd), H: int(ht)}, true
}

// AccessibleName is what a screen reader says for a part of the window
// (PartGuide: the guide pane; PartButton: the button with id; PartPanel:
// the panel, named by its title); "" for none.
func (w *Window) AccessibleName(p Part, id int) string {
	return gostr(C.ak_window_accessible_name(w.w, C.int(p), C.int(id)))
}

// AccessibleAbout is what else a screen reader knows of a part of the
// window: its description and its role (ATK's name for it: "alert",
// "notification", "push button"); "" for none.
func (w *Window) AccessibleAbout(p Part, id int) (description, role string) {
	var d, r *C.char
	C.ak_window_accessible_about(w.w, C.int(p), C.int(id), &d, &r)
	return gostr(d), gostr(r)
}

// SetTool changes a toolbar button's label and accessible name (also its
// tooltip), as AddTool set them; false when no button has id.
func (w *Window) SetTool(id int, label, accessibleName string) bool {
	l, n := cstr(label), cstr(accessibleName)
	defer free(l)
	defer free(n)
	return C.ak_window_set_tool(w.w, C.int(id), l, n) != 0
}

// SetNames sets what a screen reader says for the window's own parts, in
// the session's language (they start in English).
func (w *Window) SetNames(n Names) {
	t, s, g, k, c := cstr(n.Toolbar), cstr(n.Split), cstr(n.Guide), cstr(n.Keyboard), cstr(n.CloseGuide)
	defer func() {
		for _, p := range []*C.char{t, s, g, k, c} {
			free(p)
		}
	}()
	C.ak_window_set_names(w.w, t, s, g, k, c)
	if n.More != "" {
		m, mn, mc := cstr(n.More), cstr(n.MoreName), cstr(n.MoreClose)
		defer free(m)
		defer free(mn)
		defer free(mc)
		C.ak_window_more_names(w.w, m, mn, mc)
	}
}

// SetGuideBar changes the guide pane's title and Close label (as SetGuide
// set them) without touching the view in it.
func (w *Window) SetGuideBar(title, closeLabel string) {
	t, l := cstr(title), cstr(closeLabel)
	defer free(t)
	defer free(l)
	C.ak_window_guide_bar(w.w, t, l)
}

// Label is the text a part of the window shows (PartGuide: the guide
// bar's title; PartButton: the label of the button with id); "" for none.
func (w *Window) Label(p Part, id int) string {
	return gostr(C.ak_window_label(w.w, C.int(p), C.int(id)))
}

// Tooltip is the tooltip of the button with id; "" for none.
func (w *Window) Tooltip(id int) string {
	t := C.ak_window_tooltip(w.w, C.int(id))
	if t == nil {
		return ""
	}
	defer C.g_free(C.gpointer(unsafe.Pointer(t)))
	return C.GoString(t)
}

// Press clicks the button (a keyboard key, a toolbar button) with id, as a
// tap would; false when there is no such button shown.
func (w *Window) Press(id int) bool { return C.ak_window_press(w.w, C.int(id)) != 0 }

// SetHighContrast switches the native toolbar, guide bar and keyboard to
// yellow and white on black (true) or back.
func (w *Window) SetHighContrast(on bool) { C.ak_window_set_high_contrast(w.w, cbool(on)) }

// HighContrast reports whether the native parts are in high contrast.
func (w *Window) HighContrast() bool { return C.ak_window_high_contrast(w.w) != 0 }

// Resize asks for a new window size (a plain window; tests and screenshots).
func (w *Window) Resize(width, height int) { C.ak_window_resize(w.w, C.int(width), C.int(height)) }

// HasTouchscreen reports whether the display has a touch input device.
func HasTouchscreen() bool { return C.ak_has_touchscreen() != 0 }

// Banner shows text in the banner under the toolbar; "" hides it.
func (w *Window) Banner(text string) {
	t := cstr(text)
	defer free(t)
	C.ak_window_banner(w.w, t)
}

// ShowPanel covers the window with a panel: a title, a text and buttons.
func (w *Window) ShowPanel(title, text string, buttons []PanelButton) {
	C.ak_window_panel_clear(w.w)
	for _, b := range buttons {
		l := cstr(b.Label)
		C.ak_window_panel_button(w.w, l, C.int(b.ID), cbool(b.Secondary))
		free(l)
	}
	t, x := cstr(title), cstr(text)
	defer free(t)
	defer free(x)
	C.ak_window_panel_show(w.w, t, x)
}

// SetPanelText replaces the panel's text (a countdown).
func (w *Window) SetPanelText(text string) {
	t := cstr(text)
	defer free(t)
	C.ak_window_panel_text(w.w, t)
}

// HidePanel hides the panel.
func (w *Window) HidePanel() { C.ak_window_panel_clear(w.w) }

// PanelVisible reports whether the panel is showing.
func (w *Window) PanelVisible() bool { return C.ak_window_panel_visible(w.w) != 0 }

// BannerText is the banner's text, "" when it is hidden.
func (w *Window) BannerText() string { return gostr(C.ak_window_banner_text(w.w)) }

// Snapshot saves what the window shows as a PNG at path.
func (w *Window) Snapshot(path string) error {
	p := cstr(path)
	defer free(p)
	if C.ak_window_snapshot(w.w, p) == 0 {
		return fmt.Errorf("webkit: cannot save a screenshot to %s", path)
	}
	return nil
}

// Destroy closes the window.
func (w *Window) Destroy() {
	if w.w == nil {
		return
	}
	C.ak_window_destroy(w.w)
	w.w = nil
	w.h.Delete()
}

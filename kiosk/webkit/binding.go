//go:build cgo && linux

package webkit

/*
#include <stdlib.h>
#include "native.h"
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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

func idleMicros() int64 { return int64(C.ak_idle_us()) }

// ClearClipboards empties the CLIPBOARD and PRIMARY selections.
func ClearClipboards() { C.ak_clear_clipboards() }

// ClipboardText returns the text on the CLIPBOARD selection ("" for none).
// It runs a nested main loop until the owner answers.
func ClipboardText() string {
	p := C.ak_clipboard_text()
	if p == nil {
		return ""
	}
	defer C.g_free(C.gpointer(p))
	return C.GoString(p)
}

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
			if ev.flags != 0 {
				o.done("", fmt.Errorf("webkit: evaluate script: %s", gostr(ev.str)))
			} else {
				o.done(gostr(ev.str), nil)
			}
		}
	case *View:
		return o.dispatch(ev)
	case *Context:
		o.dispatch(ev)
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

// ---- Context ----------------------------------------------------------------

// Context is an ephemeral WebKit web context: its website data manager keeps
// cookies, storage, caches and service workers in memory only, and
// destroying the context throws them away. WebKit's web-process sandbox
// (bubblewrap) is on.
type Context struct {
	c    *C.WebKitWebContext
	h    cgo.Handle
	opts ContextOptions
}

// NewContext makes an ephemeral web context. Call on the GTK thread after Init.
func NewContext(o ContextOptions) (*Context, error) {
	if !initialised.Load() {
		return nil, errors.New("webkit: NewContext before Init")
	}
	if o.Scheme != "" && o.SchemeHandler == nil {
		return nil, fmt.Errorf("webkit: scheme %q without a handler", o.Scheme)
	}
	ctx := &Context{opts: o}
	ctx.h = cgo.NewHandle(ctx)
	s := cstr(o.Scheme)
	defer free(s)
	ctx.c = C.ak_context_new(C.uintptr_t(ctx.h), s, C.int(o.CacheModel))
	if ctx.c == nil {
		ctx.h.Delete()
		return nil, errors.New("webkit: cannot create web context")
	}
	return ctx, nil
}

// Ephemeral reports whether the context's data manager keeps nothing on disk.
func (c *Context) Ephemeral() bool { return C.ak_context_ephemeral(c.c) != 0 }

// Sandboxed reports whether WebKit's web-process sandbox is on.
func (c *Context) Sandboxed() bool { return C.ak_context_sandboxed(c.c) != 0 }

// Destroy releases the context and its website data. Views made on it must
// be destroyed first.
func (c *Context) Destroy() {
	if c.c == nil {
		return
	}
	C.ak_context_destroy(c.c)
	c.c = nil
	c.h.Delete()
}

func (c *Context) dispatch(ev *C.akEvent) {
	switch ev.kind {
	case C.AK_DOWNLOAD:
		if c.opts.Download != nil {
			c.opts.Download()
		}
	case C.AK_SCHEME:
		c.serveScheme((*C.WebKitURISchemeRequest)(ev.ptr), gostr(ev.uri), gostr(ev.str))
	}
}

// serveScheme answers a custom-scheme request from the context's http.Handler.
func (c *Context) serveScheme(req *C.WebKitURISchemeRequest, uri, method string) {
	rec := &recorder{header: http.Header{}, status: 0}
	u, err := url.Parse(uri)
	if err != nil {
		rec.status = http.StatusBadRequest
		rec.body.WriteString("bad URI")
	} else {
		if method == "" {
			method = http.MethodGet
		}
		r := &http.Request{Method: method, URL: u, Host: u.Host, RequestURI: u.RequestURI(),
			Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: http.NoBody}
		c.opts.SchemeHandler.ServeHTTP(rec, r)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	ctype := rec.header.Get("Content-Type")
	if ctype == "" {
		ctype = http.DetectContentType(rec.body.Bytes())
	}
	cs := cstr(ctype)
	defer free(cs)
	body := rec.body.Bytes()
	var p unsafe.Pointer
	if len(body) > 0 {
		p = unsafe.Pointer(&body[0])
	}
	C.ak_scheme_finish(req, C.int(rec.status), cs, p, C.gsize(len(body)))
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// ---- View -------------------------------------------------------------------

// View is a WebKit web view on a Context.
type View struct {
	v    *C.WebKitWebView
	h    cgo.Handle
	opts ViewOptions
}

// NewView makes a web view on ctx. Call on the GTK thread.
func NewView(ctx *Context, o ViewOptions) *View {
	v := &View{opts: o}
	v.h = cgo.NewHandle(v)
	mh, us := cstr(o.MessageHandler), cstr(o.UserScript)
	defer free(mh)
	defer free(us)
	v.v = C.ak_view_new(ctx.c, C.uintptr_t(v.h), mh, us)
	return v
}

// LoadURI starts loading uri (subject to the Decide callback like any navigation).
func (v *View) LoadURI(uri string) {
	s := cstr(uri)
	defer free(s)
	C.webkit_web_view_load_uri(v.v, s)
}

// LoadAlternateHTML shows html in place of contentURI (a page that failed or was refused).
func (v *View) LoadAlternateHTML(html, contentURI, baseURI string) {
	h, c, b := cstr(html), cstr(contentURI), cstr(baseURI)
	defer free(h)
	defer free(c)
	defer free(b)
	C.webkit_web_view_load_alternate_html(v.v, h, c, b)
}

// URI is the view's current URI ("" before the first load).
func (v *View) URI() string { return gostr(C.webkit_web_view_get_uri(v.v)) }

// Title is the current page's title.
func (v *View) Title() string { return gostr(C.webkit_web_view_get_title(v.v)) }

// CanGoBack reports whether there is a page to go back to.
func (v *View) CanGoBack() bool { return C.webkit_web_view_can_go_back(v.v) != 0 }

// GoBack goes back one page in the view's history.
func (v *View) GoBack() { C.webkit_web_view_go_back(v.v) }

// HistoryLength is the number of entries in the back-forward list.
func (v *View) HistoryLength() int {
	l := C.webkit_web_view_get_back_forward_list(v.v)
	n := 0
	if C.webkit_back_forward_list_get_current_item(l) != nil {
		n = 1
	}
	back := C.webkit_back_forward_list_get_back_list(l)
	fwd := C.webkit_back_forward_list_get_forward_list(l)
	n += int(C.g_list_length(back)) + int(C.g_list_length(fwd))
	C.g_list_free(back)
	C.g_list_free(fwd)
	return n
}

// Reload reloads the current page.
func (v *View) Reload() { C.webkit_web_view_reload(v.v) }

// SetZoom sets the page zoom (1.0 is 100%).
func (v *View) SetZoom(level float64) { C.webkit_web_view_set_zoom_level(v.v, C.gdouble(level)) }

// Zoom is the page zoom.
func (v *View) Zoom() float64 { return float64(C.webkit_web_view_get_zoom_level(v.v)) }

// TerminateWebProcess kills the view's web process (Terminated is called
// with TerminatedByAPI).
func (v *View) TerminateWebProcess() { C.webkit_web_view_terminate_web_process(v.v) }

// jsCall is a pending Eval's callback.
type jsCall struct {
	done func(result string, err error)
}

// Eval runs js in the view's main frame. done, when not nil, is called on
// the GTK loop with the script's completion value as JSON ("null" for
// undefined) or the error the script threw.
func (v *View) Eval(js string, done func(result string, err error)) {
	if v.v == nil {
		if done != nil {
			Invoke(func() { done("", errors.New("webkit: evaluate script: the view is gone")) })
		}
		return
	}
	s := cstr(js)
	defer free(s)
	var h cgo.Handle
	if done != nil {
		h = cgo.NewHandle(&jsCall{done: done})
	}
	C.ak_view_eval(v.v, s, C.uintptr_t(h))
}

// Type types text into the view as a physical keyboard would: one
// synthesized key press and release per character, through WebKit's
// normal input path, so it reaches the focused field of whichever frame
// has the focus (a cross-origin iframe included) and no script of another
// frame can see it. The view takes the keyboard focus first if it lost it.
// False when the view is gone or not in a window.
func (v *View) Type(text string) bool {
	if v.v == nil || text == "" {
		return false
	}
	s := cstr(text)
	defer free(s)
	return C.ak_view_type(v.v, s, 0) != 0
}

// Press presses one editing key in the view, as Type does for characters.
func (v *View) Press(k EditKey) bool {
	if v.v == nil {
		return false
	}
	var keyval C.guint
	switch k {
	case Backspace:
		keyval = C.GDK_KEY_BackSpace
	case Enter:
		keyval = C.GDK_KEY_Return
	default:
		return false
	}
	return C.ak_view_type(v.v, nil, keyval) != 0
}

// Destroy disconnects the view's callbacks, ends its web process and frees it.
func (v *View) Destroy() {
	if v.v == nil {
		return
	}
	C.ak_view_destroy(v.v)
	v.v = nil
	v.h.Delete()
}

func (v *View) dispatch(ev *C.akEvent) C.int {
	o := &v.opts
	flags := int(ev.flags)
	switch ev.kind {
	case C.AK_DECIDE_NAVIGATION, C.AK_DECIDE_NEW_WINDOW, C.AK_DECIDE_RESPONSE:
		d := Decision{URI: gostr(ev.uri), Method: gostr(ev.str),
			Redirect:    flags&C.AK_FLAG_REDIRECT != 0,
			UserGesture: flags&C.AK_FLAG_USER_GESTURE != 0}
		switch ev.kind {
		case C.AK_DECIDE_NAVIGATION:
			d.Kind, d.Navigation = Navigation, NavigationType(ev.num)
		case C.AK_DECIDE_NEW_WINDOW:
			d.Kind, d.Navigation = NewWindowRequest, NavigationType(ev.num)
		default:
			d.Kind, d.Status = Response, int(ev.num)
			d.MainFrame = flags&C.AK_FLAG_MAIN_FRAME != 0
			d.MIMESupported = flags&C.AK_FLAG_MIME_SUPPORTED != 0
			d.Attachment = flags&C.AK_FLAG_ATTACHMENT != 0
		}
		if o.Decide != nil && o.Decide(d) {
			return C.AK_USE
		}
	case C.AK_LOAD_CHANGED:
		if o.Load != nil {
			o.Load(LoadEvent(ev.num), gostr(ev.uri))
		}
	case C.AK_LOAD_FAILED:
		if o.LoadFailed != nil {
			o.LoadFailed(gostr(ev.uri), gostr(ev.str), flags&C.AK_FLAG_CANCELLED != 0)
		}
	case C.AK_TERMINATED:
		if o.Terminated != nil {
			o.Terminated(TerminationReason(ev.num))
		}
	case C.AK_SCRIPT_MESSAGE:
		if o.Message != nil {
			o.Message(gostr(ev.str))
		}
	case C.AK_PERMISSION:
		if o.Permission != nil && o.Permission(Permission(ev.num), gostr(ev.uri)) {
			return C.AK_USE
		}
	case C.AK_REFUSED:
		if o.Refused != nil {
			o.Refused(gostr(ev.str))
		}
	}
	return C.AK_IGNORE
}

// ---- Window -----------------------------------------------------------------

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

// SetSplitPosition moves the split view's handle (as dragging it would).
func (w *Window) SetSplitPosition(px int) { C.ak_window_set_split_position(w.w, C.int(px)) }

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
// (PartGuide: the guide pane; PartButton: the button with id); "" for none.
func (w *Window) AccessibleName(p Part, id int) string {
	return gostr(C.ak_window_accessible_name(w.w, C.int(p), C.int(id)))
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

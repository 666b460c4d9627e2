//go:build cgo && linux

package webkit

// #include "native.h"
import "C"

import (
	"errors"
	"runtime/cgo"
)

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
	bridge := ""
	if o.Bridge != nil && o.BridgeScript != "" && ctx.opts.Scheme != "" {
		bridge = privileged(ctx.opts.Scheme, o.BridgeScript)
	}
	if o.Watch == nil {
		o.WatchScript = ""
	}
	br, wr, pr := o.BridgeRate, o.WatchRate, o.PrintRate
	if br <= 0 {
		br = DefaultRate
	}
	if wr <= 0 {
		wr = DefaultRate
	}
	switch {
	case o.Print == nil:
		pr = 0 // refused
	case pr <= 0:
		pr = DefaultPrintRate
	}
	bs, ws := cstr(bridge), cstr(o.WatchScript)
	defer free(bs)
	defer free(ws)
	v.v = C.ak_view_new(ctx.c, C.uintptr_t(v.h), bs, ws, C.int(br), C.int(wr), C.int(pr))
	if o.Assist != nil && o.AssistScript != "" {
		v.assistChannel(o.AssistScript, o.AssistRate)
	}
	return v
}

// Dropped is how many messages each channel dropped over its rate so far.
func (v *View) Dropped() (bridge, watch uint64) {
	if v.v == nil {
		return 0, 0
	}
	var b, w, p C.guint64
	C.ak_view_dropped(v.v, &b, &w, &p)
	return uint64(b), uint64(w)
}

// PrintsDropped is how many print requests the view dropped over its
// PrintRate so far.
func (v *View) PrintsDropped() uint64 {
	if v.v == nil {
		return 0
	}
	var b, w, p C.guint64
	C.ak_view_dropped(v.v, &b, &w, &p)
	return uint64(p)
}

// LoadURI starts loading uri (subject to the Decide callback like any navigation).
func (v *View) LoadURI(uri string) {
	s := cstr(uri)
	defer free(s)
	C.webkit_web_view_load_uri(v.v, s)
}

// URI is the view's current URI ("" before the first load).
func (v *View) URI() string { return gostr(C.webkit_web_view_get_uri(v.v)) }

// Title is the current page's title.
func (v *View) Title() string { return gostr(C.webkit_web_view_get_title(v.v)) }

// CanGoBack reports whether there is a page to go back to.
func (v *View) CanGoBack() bool { return C.webkit_web_view_can_go_back(v.v) != 0 }

// GoBack goes back one page in the view's history.
func (v *View) GoBack() { C.webkit_web_view_go_back(v.v) }

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
// undefined) or the error the script threw; the error wraps ErrNoResult
// when WebKit had no value to return (see ErrNoResult).
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
	case C.AK_BRIDGE_MESSAGE:
		if o.Bridge != nil {
			o.Bridge(gostr(ev.str))
		}
	case C.AK_WATCH_MESSAGE:
		if o.Watch != nil {
			o.Watch(gostr(ev.str))
		}
	case assistMessage:
		if o.Assist != nil {
			o.Assist(v, gostr(ev.str))
		}
	case C.AK_PERMISSION:
		if o.Permission != nil && o.Permission(Permission(ev.num), gostr(ev.uri)) {
			return C.AK_USE
		}
	case C.AK_REFUSED:
		if o.Refused != nil {
			o.Refused(gostr(ev.str))
		}
	case C.AK_FILE_CHOOSER:
		if o.FileChooser != nil && o.FileChooser(newFileChooser(ev)) {
			return C.AK_USE
		}
	case C.AK_DECIDE_DOWNLOAD:
		d := Decision{Kind: Response, URI: gostr(ev.uri), Status: int(ev.num),
			MainFrame:     flags&C.AK_FLAG_MAIN_FRAME != 0,
			MIMESupported: flags&C.AK_FLAG_MIME_SUPPORTED != 0,
			Attachment:    flags&C.AK_FLAG_ATTACHMENT != 0}
		decide := o.DecideDownload
		if decide == nil {
			decide = o.Decide
		}
		if decide != nil && decide(d) {
			return C.AK_USE
		}
	case C.AK_DOWNLOAD_START:
		if o.Download == nil {
			return C.AK_IGNORE
		}
		d := &Download{d: (*C.WebKitDownload)(ev.ptr), URI: gostr(ev.uri)}
		if o.Download(d) && d.h != 0 {
			return C.AK_USE
		}
	case C.AK_PRINT_REQUEST:
		if o.Print != nil {
			// Later on the loop, not inside WebKit's "print" signal: the
			// page's process waits for the signal's answer, and printing
			// the view (PrintPDF) before it has it crashes that process.
			Invoke(o.Print)
		}
	}
	return C.AK_IGNORE
}

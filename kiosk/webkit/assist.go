//go:build cgo && linux

package webkit

// #include "assist.h"
import "C"

import (
	"errors"
	"image"
	"unsafe"
)

// This file is remote help's part of the binding (issue 17): the window's
// pixels in memory, the sharing bar, the pointer's ring, the consent
// prompt's accessible name, where views and the keyboard are in the
// capture, and the mask reporters' channel.

// EnableAssist makes the window's remote-help parts: the sharing bar
// above everything (no page and no panel can cover it) and the ring's
// layer. Call once, right after NewWindow, before any view is set.
func (w *Window) EnableAssist() { C.ak_window_assist_setup(w.w) }

// AssistBar shows the sharing bar with text and a Stop button labelled
// stopLabel (an underscore marks its Alt key, as GTK mnemonics do; the
// key works whatever has the focus, a page included) and named stopName
// for screen readers; clicking it reports stopID to the Button callback.
// text "" hides the bar.
func (w *Window) AssistBar(text, stopLabel, stopName string, stopID int) {
	t, l, n := cstr(text), cstr(stopLabel), cstr(stopName)
	defer free(t)
	defer free(l)
	defer free(n)
	C.ak_window_assist_bar(w.w, t, l, n, C.int(stopID))
}

// AssistBarText is the sharing bar's text, "" when it is hidden.
func (w *Window) AssistBarText() string { return gostr(C.ak_window_assist_bar_text(w.w)) }

// AssistBarNames are what a screen reader says for the bar and its Stop
// button.
func (w *Window) AssistBarNames() (bar, stop string) {
	return gostr(C.ak_window_assist_bar_name(w.w, 0)), gostr(C.ak_window_assist_bar_name(w.w, 1))
}

// Ring draws the pointer's ring centred at x, y (window pixels, the
// capture's grid) with text beside it; it stays until HideRing or the
// next Ring. It takes no input: taps go to what is under it.
func (w *Window) Ring(x, y int, text string) {
	t := cstr(text)
	defer free(t)
	C.ak_window_ring(w.w, 1, C.int(x), C.int(y), t)
}

// HideRing takes the ring away.
func (w *Window) HideRing() { C.ak_window_ring(w.w, 0, 0, 0, nil) }

// RingShown reports where the ring is, if it is shown.
func (w *Window) RingShown() (x, y int, ok bool) {
	var cx, cy C.int
	if C.ak_window_ring_shown(w.w, &cx, &cy) == 0 {
		return 0, 0, false
	}
	return int(cx), int(cy), true
}

// SetPanelName names the full-screen panel for screen readers (as an
// alert, read out when it appears); "" makes it a plain panel again.
func (w *Window) SetPanelName(name string) {
	n := cstr(name)
	defer free(n)
	C.ak_window_panel_name(w.w, n)
}

// PanelName is what a screen reader says for the panel.
func (w *Window) PanelName() string { return gostr(C.ak_window_panel_name(w.w, nil)) }

// ViewPlace is where v is in the window (the capture's grid); false when
// it is not shown.
func (w *Window) ViewPlace(v *View) (image.Rectangle, bool) {
	if v == nil || v.v == nil {
		return image.Rectangle{}, false
	}
	var x, y, wd, ht C.int
	if C.ak_window_view_place(w.w, v.v, &x, &y, &wd, &ht) == 0 {
		return image.Rectangle{}, false
	}
	return image.Rect(int(x), int(y), int(x+wd), int(y+ht)), true
}

// KeyboardPlace is where the on-screen keyboard is in the window (the
// capture's grid); false when it is not shown.
func (w *Window) KeyboardPlace() (image.Rectangle, bool) {
	var x, y, wd, ht C.int
	if C.ak_window_keyboard_place(w.w, &x, &y, &wd, &ht) == 0 {
		return image.Rectangle{}, false
	}
	return image.Rect(int(x), int(y), int(x+wd), int(y+ht)), true
}

// Capture draws the whole window into memory (never the screen, never a
// file): bar, toolbar, views, keyboard, panel and ring, as GTK would draw
// them now. The pixels are in the capture's own order; Frame.RGBA turns
// them into an image off the GTK loop.
func (w *Window) Capture() (Frame, error) {
	var wd, ht C.int
	if C.ak_window_capture_size(w.w, &wd, &ht) == 0 {
		return Frame{}, errors.New("webkit: capture: the window is not shown")
	}
	stride := 4 * int(wd)
	f := Frame{Pix: make([]byte, stride*int(ht)), W: int(wd), H: int(ht), Stride: stride}
	switch C.ak_window_capture(w.w, (*C.uchar)(unsafe.Pointer(&f.Pix[0])), wd, ht, C.int(stride)) {
	case 0:
		return Frame{}, errors.New("webkit: capture: cairo could not draw the window")
	case -1:
		return Frame{}, ErrLayout
	}
	return f, nil
}

// ErrLayout is Capture's answer while the window is being laid out again
// (a part appeared or went): capture again a frame later.
var ErrLayout = errors.New("webkit: capture: the window is being laid out; try again")

// AssistDropped is how many mask reports the view's channel dropped over
// its rate so far.
func (v *View) AssistDropped() uint64 {
	if v.v == nil {
		return 0
	}
	return uint64(C.ak_view_assist_dropped(v.v))
}

// assistChannel opens the mask reporters' channel (NewView, before any load).
func (v *View) assistChannel(script string, rate int) {
	if rate <= 0 {
		rate = DefaultRate
	}
	s := cstr(script)
	defer free(s)
	C.ak_view_assist_channel(v.v, C.uintptr_t(v.h), s, C.int(rate))
}

// assistMessage is the channel's event kind.
const assistMessage = C.AK_ASSIST_MESSAGE

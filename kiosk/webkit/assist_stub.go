//go:build !cgo || !linux

package webkit

import (
	"errors"
	"image"
)

// ErrLayout is never returned in this build.
var ErrLayout = errors.New("webkit: capture: the window is being laid out; try again")

// EnableAssist does nothing.
func (w *Window) EnableAssist() {}

// AssistBar does nothing.
func (w *Window) AssistBar(text, stopLabel, stopName string, stopID int) {}

// AssistBarText is "".
func (w *Window) AssistBarText() string { return "" }

// AssistBarNames are "".
func (w *Window) AssistBarNames() (bar, stop string) { return "", "" }

// Ring does nothing.
func (w *Window) Ring(x, y int, text string) {}

// HideRing does nothing.
func (w *Window) HideRing() {}

// RingShown is false.
func (w *Window) RingShown() (x, y int, ok bool) { return 0, 0, false }

// SetPanelName does nothing.
func (w *Window) SetPanelName(name string) {}

// PanelName is "".
func (w *Window) PanelName() string { return "" }

// ViewPlace is false.
func (w *Window) ViewPlace(v *View) (image.Rectangle, bool) { return image.Rectangle{}, false }

// KeyboardPlace is false.
func (w *Window) KeyboardPlace() (image.Rectangle, bool) { return image.Rectangle{}, false }

// Capture fails with ErrUnavailable.
func (w *Window) Capture() (Frame, error) { return Frame{}, ErrUnavailable }

// AssistDropped is 0.
func (v *View) AssistDropped() uint64 { return 0 }

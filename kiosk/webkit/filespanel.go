//go:build cgo && linux

package webkit

// #include <stdlib.h>
// #include "native.h"
import "C"

import (
	"strings"
	"unsafe"
)

// ShowFiles shows the "Your files" panel (see FilesPanel), or fills it
// again when it shows. Its Close button reports p.CloseID to the Button
// callback; it takes the keyboard focus.
func (w *Window) ShowFiles(p FilesPanel) {
	var rows strings.Builder
	for _, r := range p.Rows {
		rows.WriteString(oneLine(r.Name) + "\t" + oneLine(r.Detail) + "\n")
	}
	cs := []*C.char{cstr(p.Title), cstr(p.Status), cstr(p.Note), cstr(p.Empty), cstr(p.ListName), cstr(rows.String()), cstr(p.Close)}
	defer func() {
		for _, c := range cs {
			free(c)
		}
	}()
	C.ak_window_files_show(w.w, cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], C.int(p.CloseID))
}

// oneLine keeps a row's text on its line.
func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\t", " ", "\r", " ").Replace(s) }

// HideFiles hides the "Your files" panel.
func (w *Window) HideFiles() { C.ak_window_files_hide(w.w) }

// FilesShown reports whether the "Your files" panel shows.
func (w *Window) FilesShown() bool { return C.ak_window_files_visible(w.w) != 0 }

// FilesText is the text the panel shows, label by label (nil when hidden).
func (w *Window) FilesText() []string { return lines(C.ak_window_files_text(w.w)) }

// FilesNames is what a screen reader says for the panel, its list and
// each row, in that order (nil when hidden).
func (w *Window) FilesNames() []string { return lines(C.ak_window_files_names(w.w)) }

func lines(p *C.char) []string {
	defer C.free(unsafe.Pointer(p))
	s := strings.TrimSuffix(C.GoString(p), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// SetToolVisible shows or hides the toolbar button with id; false when
// there is none.
func (w *Window) SetToolVisible(id int, visible bool) bool {
	return C.ak_window_tool_visible(w.w, C.int(id), cbool(visible)) != 0
}

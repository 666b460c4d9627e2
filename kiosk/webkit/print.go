//go:build cgo && linux

package webkit

// #include "native.h"
import "C"

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime/cgo"
)

// printCall is a pending PrintPDF's callback.
type printCall struct {
	done func(err error)
}

// PrintPDF renders the view's top document into a PDF file at path (an
// absolute path; the file is created or replaced), as a printer would get
// it: print media styles, A4 portrait, GTK's default margins. It uses
// WebKit's own print operation with GTK's file printer, with no dialog;
// the kiosk loads no other GTK print backend, so this can reach no
// printer. done is called on the GTK loop when the file is complete, or
// with the error. The view must stay alive until then.
func (v *View) PrintPDF(path string, done func(err error)) {
	fail := func(err error) {
		if done != nil {
			Invoke(func() { done(err) })
		}
	}
	if v.v == nil {
		fail(errors.New("webkit: print to PDF: the view is gone"))
		return
	}
	if !filepath.IsAbs(path) {
		fail(fmt.Errorf("webkit: print to PDF: %q is not an absolute path", path))
		return
	}
	u := (&url.URL{Scheme: "file", Path: path}).String()
	s := cstr(u)
	defer free(s)
	h := cgo.NewHandle(&printCall{done: done})
	C.ak_view_print_pdf(v.v, s, C.uintptr_t(h))
}

// recentlyUsed says whether GTK's recently-used list holds the file at
// path (TestPrintPDF). Run it on the GTK loop.
func recentlyUsed(path string) bool {
	s := cstr((&url.URL{Scheme: "file", Path: path}).String())
	defer free(s)
	return C.ak_recently_used(s) != 0
}

//go:build cgo && linux

package webkit

// #include <stdlib.h>
// #include "native.h"
import "C"

import (
	"errors"
	"runtime/cgo"
	"strings"
	"unsafe"
)

// FileChooser is a page's request for files (WebKit's run-file-chooser),
// held until the shell answers it with Choose or Cancel, on the loop.
type FileChooser struct {
	r *C.WebKitFileChooserRequest
	// MIMETypes are the MIME types of the asking input's accept attribute
	// as WebKit parsed them (extensions such as ".pdf" are not among
	// them); nil when the input takes any file.
	MIMETypes []string
	// Multiple is the input's multiple attribute.
	Multiple bool
}

// Answered reports whether Choose or Cancel was called.
func (f *FileChooser) Answered() bool { return f.r == nil }

// Choose hands the files at paths to the input that asked (and to no
// other): WebKit fires its input and change events. Nothing when already
// answered; an empty list cancels.
func (f *FileChooser) Choose(paths []string) {
	if f.r == nil {
		return
	}
	p := cstr(strings.Join(paths, "\n"))
	defer free(p)
	C.ak_file_chooser_answer(f.r, p)
	f.r = nil
}

// Cancel answers the request with no file (the input's cancel event).
func (f *FileChooser) Cancel() {
	if f.r == nil {
		return
	}
	C.ak_file_chooser_answer(f.r, nil)
	f.r = nil
}

func newFileChooser(ev *C.akEvent) *FileChooser {
	f := &FileChooser{r: (*C.WebKitFileChooserRequest)(ev.ptr), Multiple: ev.flags&1 != 0}
	if s := gostr(ev.str); s != "" {
		f.MIMETypes = strings.Split(s, ",")
	}
	return f
}

// Download is a download a view started.
type Download struct {
	d *C.WebKitDownload
	h cgo.Handle
	// URI is the request's URI (where the file comes from).
	URI  string
	opts DownloadOptions
	path string
}

// Accept keeps the download (call it from ViewOptions.Download and return
// true): its destination and its end go to o.
func (d *Download) Accept(o DownloadOptions) {
	if d.d == nil || d.h != 0 {
		return
	}
	d.opts = o
	d.h = cgo.NewHandle(d)
	C.ak_download_accept(d.d, C.uintptr_t(d.h), C.gint64(o.MaxBytes))
}

// Cancel stops an accepted download (Done then says ErrDownloadCancelled).
func (d *Download) Cancel() {
	if d.d != nil && d.h != 0 {
		C.ak_download_cancel(d.d)
	}
}

func (d *Download) dispatch(ev *C.akEvent) C.int {
	switch ev.kind {
	case C.AK_DOWNLOAD_DEST:
		var path string
		if d.opts.Destination != nil {
			path = d.opts.Destination(gostr(ev.str))
		}
		if path == "" {
			return C.AK_IGNORE
		}
		d.path = path
		p := cstr(path)
		defer free(p)
		C.ak_download_set_destination(d.d, p)
		return C.AK_USE
	case C.AK_DOWNLOAD_DONE:
		var err error
		switch fl := int(ev.flags); {
		case fl&C.AK_DL_TOO_LARGE != 0:
			err = ErrDownloadTooLarge
		case fl&C.AK_DL_CANCELLED != 0:
			err = ErrDownloadCancelled
		case fl&C.AK_DL_FAILED != 0:
			err = errors.New("webkit: download failed: " + gostr(ev.str))
		}
		dl := d.d
		d.d = nil
		d.h.Delete()
		C.g_object_unref(C.gpointer(unsafe.Pointer(dl)))
		if d.opts.Done != nil {
			d.opts.Done(d.path, err)
		}
	}
	return C.AK_IGNORE
}

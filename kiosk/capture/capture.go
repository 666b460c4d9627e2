// Package capture is the device back end of the kiosk's own file picker
// (issue 15): it turns paper and faces into files an allowed page's
// <input type=file> can take, and keeps them only where the session wipe
// will find them.
//
// The pieces:
//
//   - Page: one scanned page or photo, a full-size JPEG plus a small preview
//     JPEG, with its size, resolution and a rotation kept as metadata (so
//     rotating never re-encodes).
//   - Document: the pages the resident is putting together, in order; add,
//     insert, retake (Replace), delete, move, rotate. It lives in memory or in
//     a private directory the caller gives (the session's tmpfs folder, which
//     the session wipe deletes); nothing is written anywhere else.
//   - Accept: a browser's <input accept> list ("application/pdf,image/*,.jpg")
//     parsed and matched the way a browser filters a file chooser.
//   - Export: a Document as the files the input accepts: one PDF of every
//     page, or a JPEG (or PNG) per page, written into the private directory.
//   - Counters, Health and LimitError: what reports, device health and
//     the picker page may learn (counts, device states, which limit was hit),
//     never anything about a document.
//
// The devices are in sub-packages that produce Pages: kiosk/capture/scan
// (SANE scanners through scanimage) and kiosk/capture/camera (V4L2 cameras
// through GStreamer). Each has a Config for its section of the kiosk config
// (`scanner:`, `camera:`), validated the way the rest of the config is.
//
// # Driving it from the GTK loop
//
// Nothing here touches GTK. Calls that wait on a device (a scan, a camera
// stream) return at once with a job whose results arrive on channels; the
// shell reads them in a goroutine and hands each to the loop with
// webkit.Invoke. Calls that only compute (Export, NewPage) take a context
// and run for at most a few hundred milliseconds per page; run them off the
// loop too. Document methods other than Add/Replace/Export are quick (no I/O
// beyond a small preview re-encode) and safe from any goroutine.
//
// # Privacy
//
// Nothing in these packages logs a page's contents, size or name; errors
// say which limit was hit, not how large the document was. Files are
// created only inside the caller's private directory, mode 0600, under
// names made of random identifiers; a partial file (an export cut short)
// is removed. A device child process is in its own process group, dies with
// the kiosk (PR_SET_PDEATHSIG) and streams its image through a pipe, so a
// killed kiosk leaves no image anywhere but the private directory.
package capture

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
)

// Source says where a page came from.
type Source int

const (
	// Scanned pages have a known resolution; a PDF page is their true size.
	Scanned Source = iota + 1
	// Photo pages come from a camera; a PDF places them on an A4 page.
	Photo
)

func (s Source) String() string {
	switch s {
	case Scanned:
		return "scan"
	case Photo:
		return "photo"
	}
	return "unknown"
}

// Errors for expected states, checked with errors.Is.
var (
	// ErrTooLarge is matched by every *LimitError.
	ErrTooLarge = errors.New("too large")
	// ErrNotAccepted means the page's input accepts none of the formats the
	// kiosk can make (PDF, JPEG, PNG).
	ErrNotAccepted = errors.New("the form does not take scans or photos")
	// ErrOnePageOnly means the input takes one image and no PDF, and the
	// document has more than one page: the resident keeps one page, or the
	// page allows several files.
	ErrOnePageOnly = errors.New("the form takes one image; keep one page")
	// ErrNoPage means a page ID is not in the document.
	ErrNoPage = errors.New("no such page")
	// ErrEmpty means a document with no pages was exported.
	ErrEmpty = errors.New("the document has no pages")
	// ErrClosed means the document was closed (its files are gone).
	ErrClosed = errors.New("the document is closed")
)

// Limit names which limit a LimitError is about.
type Limit string

const (
	LimitPagePixels Limit = "page_pixels" // one page's width × height
	LimitFileSize   Limit = "file_size"   // one file handed to a page, in bytes
	LimitPages      Limit = "pages"       // pages in one document
)

// LimitError says that a configured limit was hit. Its text names the limit
// and what to do, never the size of the document; it is fit to show a
// resident and to log.
type LimitError struct {
	Limit Limit
	Max   int64 // the configured maximum, in pixels, bytes or pages
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case LimitPagePixels:
		return fmt.Sprintf("the page is too large to scan: more than %.1f megapixels (choose a lower resolution or a smaller area)", float64(e.Max)/1e6)
	case LimitFileSize:
		return fmt.Sprintf("the file would be larger than %s (scan fewer pages, or in greyscale)", ByteSize(e.Max))
	case LimitPages:
		return fmt.Sprintf("a document can have at most %d pages", e.Max)
	}
	return fmt.Sprintf("over the %s limit (%d)", e.Limit, e.Max)
}

// Is makes errors.Is(err, ErrTooLarge) true for every LimitError.
func (e *LimitError) Is(target error) bool { return target == ErrTooLarge }

// Counters count what residents made, for reports: numbers only. The zero
// value is ready; share one between the scanner and the camera.
type Counters struct {
	scans, photos atomic.Int64
}

// Counts is a snapshot of Counters.
type Counts struct {
	Scans  int64 // pages scanned
	Photos int64 // photos taken
}

// AddScan counts one scanned page. Nil-safe.
func (c *Counters) AddScan() {
	if c != nil {
		c.scans.Add(1)
	}
}

// AddPhoto counts one photo. Nil-safe.
func (c *Counters) AddPhoto() {
	if c != nil {
		c.photos.Add(1)
	}
}

// Snapshot returns the counts so far.
func (c *Counters) Snapshot() Counts {
	return Counts{Scans: c.scans.Load(), Photos: c.photos.Load()}
}

// Take returns the counts so far and sets them to zero (at a session's end,
// for its receipt).
func (c *Counters) Take() Counts {
	return Counts{Scans: c.scans.Swap(0), Photos: c.photos.Swap(0)}
}

// State is what a device looks like to the kiosk.
type State string

const (
	// NotConfigured: the config names no device; the picker leaves the choice out.
	NotConfigured State = "not_configured"
	// Present: the device answered.
	Present State = "present"
	// Absent: the config names a device that is not there (unplugged, off).
	Absent State = "absent"
	// Failing: the device is there but does not work (busy elsewhere, I/O
	// errors, a crashing driver, a missing helper program).
	Failing State = "failing"
)

// Health is a device's state and, when it is not Present, a short reason
// for IT staff (an error from the driver, never document data).
type Health struct {
	State  State
	Detail string
}

// Warning is the health warning code for device ("scanner",
// "camera") in this state: "scanner_missing" when a configured device is
// Absent, "scanner_failing" when it is Failing, "" otherwise.
func (h Health) Warning(device string) string {
	switch h.State {
	case Absent:
		return device + "_missing"
	case Failing:
		return device + "_failing"
	}
	return ""
}

func (h Health) String() string {
	if h.Detail == "" {
		return string(h.State)
	}
	return string(h.State) + ": " + h.Detail
}

// NewID returns a random identifier for a page (16 hex digits). IDs name
// pages to the picker page and files in the private directory; they say
// nothing about the document.
func NewID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("capture: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

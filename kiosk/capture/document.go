package capture

import (
	"bytes"
	"errors"
	"fmt"
	"image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Page is one scanned page or photo: a full-size JPEG and a preview. Its
// exported fields do not change once it is made; a Document keeps the
// page's rotation itself. A Page is made by NewPage, by a scanner or a
// camera, and handed to a Document, which then owns its image.
type Page struct {
	ID     string // random, unique; names the page to the picker page
	Source Source
	// Width and Height are the image's size in pixels as captured, before
	// any rotation.
	Width, Height int
	// DPI is the scan resolution; 0 for a photo.
	DPI int
	// Colour is false for a greyscale page.
	Colour bool
	// Preview is a small JPEG of the page as captured (long side at most
	// PreviewSize); Document.Preview gives it rotated.
	Preview []byte

	data []byte // full-size JPEG; nil once a Document stored it in its directory
	size int64  // len(data) when made
}

// Size is the full-size JPEG's length in bytes.
func (p *Page) Size() int64 { return p.size }

// JPEG returns the page's full-size JPEG as captured (not rotated), until
// the page is added to a Document with a directory.
func (p *Page) JPEG() []byte { return p.data }

// Defaults for Limits.
const (
	DefaultMaxPages    = 20
	DefaultMaxFileSize = 10 * 1000 * 1000 // 10 MB, a common upload limit of council forms
)

// Limits bound a Document. Zero fields mean the defaults.
type Limits struct {
	// MaxPages is how many pages a document may have; 0 means DefaultMaxPages.
	MaxPages int
	// MaxFileSize bounds every file Export writes, and so the whole
	// document (its PDF); 0 means DefaultMaxFileSize.
	MaxFileSize ByteSize
}

func (l Limits) maxPages() int {
	if l.MaxPages <= 0 {
		return DefaultMaxPages
	}
	return l.MaxPages
}

func (l Limits) maxFileSize() int64 {
	if l.MaxFileSize <= 0 {
		return DefaultMaxFileSize
	}
	return int64(l.MaxFileSize)
}

// pdfOverhead is a generous estimate of what a PDF adds per page and per
// file around the JPEGs it embeds; Add refuses a page whose PDF would pass
// MaxFileSize by this estimate, so the resident learns at the page and not
// at the end.
const (
	pdfPageOverhead = 1024
	pdfFileOverhead = 2048
)

// Document is the pages a resident is putting together, in order. It
// lives in memory or, when made with a directory, as files in that
// directory (which must be private: the session's folder that the session
// wipe deletes). Its methods are safe from any goroutine.
type Document struct {
	mu     sync.Mutex
	dir    string
	lim    Limits
	pages  []*entry
	bytes  int64
	closed bool
}

type entry struct {
	page  *Page
	turns int    // quarter turns clockwise, 0..3
	path  string // file holding the full-size JPEG; "" when in memory
	size  int64

	prevTurns int // turns of prev
	prev      []byte
}

// PageInfo describes a page of a Document as it will be exported.
type PageInfo struct {
	ID     string
	Source Source
	// Width and Height in pixels after rotation.
	Width, Height int
	// Turns is the rotation, in quarter turns clockwise (0..3).
	Turns  int
	DPI    int
	Colour bool
}

// NewDocument returns an empty document. dir "" keeps pages in memory;
// otherwise dir must be an existing directory owned by this user and closed
// to everyone else (mode 0700 or stricter), and pages are written into it
// as files readable by this user only.
func NewDocument(dir string, lim Limits) (*Document, error) {
	if dir != "" {
		if err := CheckPrivateDir(dir); err != nil {
			return nil, err
		}
	}
	return &Document{dir: dir, lim: lim}, nil
}

// ErrNotPrivate means a directory given for documents could be read by
// someone else.
var ErrNotPrivate = errors.New("not a private directory")

// CheckPrivateDir returns nil when dir is a directory owned by the
// effective user with no permissions for group or others.
func CheckPrivateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("private directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("private directory %s: %w: not a directory", dir, ErrNotPrivate)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("private directory %s: %w: mode %v lets others in (want 0700)", dir, ErrNotPrivate, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("private directory %s: %w: owned by uid %d, not this user", dir, ErrNotPrivate, st.Uid)
	}
	return nil
}

// Dir is the document's directory ("" for a document in memory).
func (d *Document) Dir() string { return d.dir }

// Limits is the document's limits with defaults filled in.
func (d *Document) Limits() Limits {
	return Limits{MaxPages: d.lim.maxPages(), MaxFileSize: ByteSize(d.lim.maxFileSize())}
}

// Len is the number of pages.
func (d *Document) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pages)
}

// Add appends p (see Insert).
func (d *Document) Add(p *Page) error { return d.Insert(-1, p) }

// Insert puts p at position at (0 is first; -1 or past the end appends).
// The document takes p: with a directory, p's image is written there and
// dropped from memory. It fails with a *LimitError when the document has
// MaxPages pages already or its PDF would pass MaxFileSize.
func (d *Document) Insert(at int, p *Page) error {
	if p == nil {
		return errors.New("insert page: nil page")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	if d.find(p.ID) >= 0 {
		return fmt.Errorf("insert page: page %s is already in the document", p.ID)
	}
	if len(d.pages) >= d.lim.maxPages() {
		return &LimitError{Limit: LimitPages, Max: int64(d.lim.maxPages())}
	}
	if err := d.checkSize(p.Size(), 0); err != nil {
		return err
	}
	e, err := d.store(p)
	if err != nil {
		return err
	}
	if at < 0 || at > len(d.pages) {
		at = len(d.pages)
	}
	d.pages = append(d.pages, nil)
	copy(d.pages[at+1:], d.pages[at:])
	d.pages[at] = e
	d.bytes += e.size
	return nil
}

// Replace puts p in the place of the page with ID id (a retake), keeping
// its position; the old page's file is removed. The rotation starts again
// at 0.
func (d *Document) Replace(id string, p *Page) error {
	if p == nil {
		return errors.New("replace page: nil page")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	i := d.find(id)
	if i < 0 {
		return fmt.Errorf("replace page %s: %w", id, ErrNoPage)
	}
	if err := d.checkSize(p.Size(), d.pages[i].size); err != nil {
		return err
	}
	e, err := d.store(p)
	if err != nil {
		return err
	}
	old := d.pages[i]
	d.pages[i] = e
	d.bytes += e.size - old.size
	return d.discard(old)
}

// Delete removes the page with ID id and its file.
func (d *Document) Delete(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	i := d.find(id)
	if i < 0 {
		return fmt.Errorf("delete page %s: %w", id, ErrNoPage)
	}
	old := d.pages[i]
	d.pages = append(d.pages[:i], d.pages[i+1:]...)
	d.bytes -= old.size
	return d.discard(old)
}

// Move puts the page with ID id at position to (0 is first; past the end
// means last), shifting the pages between.
func (d *Document) Move(id string, to int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	i := d.find(id)
	if i < 0 {
		return fmt.Errorf("move page %s: %w", id, ErrNoPage)
	}
	e := d.pages[i]
	d.pages = append(d.pages[:i], d.pages[i+1:]...)
	to = min(max(to, 0), len(d.pages))
	d.pages = append(d.pages, nil)
	copy(d.pages[to+1:], d.pages[to:])
	d.pages[to] = e
	return nil
}

// Rotate turns the page with ID id by turns quarter turns clockwise
// (negative: anticlockwise). Only the page's rotation changes; its image is
// rotated when exported, without re-encoding into a PDF.
func (d *Document) Rotate(id string, turns int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	i := d.find(id)
	if i < 0 {
		return fmt.Errorf("rotate page %s: %w", id, ErrNoPage)
	}
	e := d.pages[i]
	e.turns = (((e.turns + turns) % 4) + 4) % 4
	return nil
}

// Pages describes the pages in order.
func (d *Document) Pages() []PageInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]PageInfo, len(d.pages))
	for i, e := range d.pages {
		out[i] = e.info()
	}
	return out
}

func (e *entry) info() PageInfo {
	p := e.page
	w, h := p.Width, p.Height
	if e.turns%2 == 1 {
		w, h = h, w
	}
	return PageInfo{ID: p.ID, Source: p.Source, Width: w, Height: h, Turns: e.turns, DPI: p.DPI, Colour: p.Colour}
}

// Preview returns the preview JPEG of the page with ID id, rotated as the
// page is.
func (d *Document) Preview(id string) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := d.find(id)
	if i < 0 {
		return nil, fmt.Errorf("preview page %s: %w", id, ErrNoPage)
	}
	e := d.pages[i]
	if e.turns == 0 {
		return e.page.Preview, nil
	}
	if e.prev != nil && e.prevTurns == e.turns {
		return e.prev, nil
	}
	img, err := jpeg.Decode(bytes.NewReader(e.page.Preview))
	if err != nil {
		return nil, fmt.Errorf("preview page %s: %w", id, err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Rotate(img, e.turns), &jpeg.Options{Quality: PreviewQuality}); err != nil {
		return nil, fmt.Errorf("preview page %s: %w", id, err)
	}
	e.prev, e.prevTurns = buf.Bytes(), e.turns
	return e.prev, nil
}

// Close removes the document's page files and forgets its pages. Files
// made by Export stay (they belong to the session, whose wipe removes
// them). Close is idempotent.
func (d *Document) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for _, e := range d.pages {
		errs = append(errs, d.discard(e))
	}
	d.pages, d.bytes = nil, 0
	return errors.Join(errs...)
}

func (d *Document) find(id string) int {
	for i, e := range d.pages {
		if e.page.ID == id {
			return i
		}
	}
	return -1
}

// checkSize refuses a page of add bytes (replacing one of sub bytes) when
// the document's PDF would pass MaxFileSize.
func (d *Document) checkSize(add, sub int64) error {
	n := len(d.pages)
	if sub == 0 {
		n++
	}
	est := d.bytes - sub + add + int64(n)*pdfPageOverhead + pdfFileOverhead
	if est > d.lim.maxFileSize() {
		return &LimitError{Limit: LimitFileSize, Max: d.lim.maxFileSize()}
	}
	return nil
}

// store takes p's image: into a file in d.dir, or kept in memory.
func (d *Document) store(p *Page) (*entry, error) {
	e := &entry{page: p, size: p.Size()}
	if d.dir == "" {
		return e, nil
	}
	if p.data == nil {
		return nil, fmt.Errorf("store page %s: the page has no image (already in a document?)", p.ID)
	}
	path := filepath.Join(d.dir, "page-"+p.ID+".jpg")
	if err := writePrivate(path, p.data); err != nil {
		return nil, fmt.Errorf("store page %s: %w", p.ID, err)
	}
	e.path = path
	p.data = nil
	return e, nil
}

func (d *Document) discard(e *entry) error {
	e.page.data, e.prev = nil, nil
	if e.path == "" {
		return nil
	}
	if err := os.Remove(e.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove page %s: %w", e.page.ID, err)
	}
	return nil
}

// snap is a page as it was when an export began, so the export runs
// without holding the document's lock.
type snap struct {
	info PageInfo
	path string // file of the full-size JPEG, or "" with data set
	data []byte
}

// image returns the page's full-size JPEG (not rotated).
func (s snap) image() ([]byte, error) {
	if s.path == "" {
		return s.data, nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("read page %s: %w", s.info.ID, err)
	}
	return b, nil
}

func (d *Document) snapshot() ([]snap, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	out := make([]snap, len(d.pages))
	for i, e := range d.pages {
		out[i] = snap{info: e.info(), path: e.path, data: e.page.data}
	}
	return out, nil
}

// writePrivate creates path (which must not exist) with mode 0600 and
// writes data; a failed write leaves no file.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

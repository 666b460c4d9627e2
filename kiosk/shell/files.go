package shell

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/capture"
)

// This file is the session's private files folder: what a resident
// scanned, photographed or downloaded in this session, the one place such
// files ever are, and the list other shell code reads them from (the file
// picker, the "Your files" panel, the print panel).
//
//   - The shell makes one files root when it starts: a private directory
//     (0700) named accesskiosk-files-* on a tmpfs ($RUNTIME_DIRECTORY,
//     which systemd empties whenever the unit stops, else
//     $XDG_RUNTIME_DIR, else /dev/shm), held with an flock for as long as
//     the shell runs. Before making it, the shell removes every root in
//     the same place whose lock is free: the folders of a kiosk that was
//     killed (mid-scan, mid-download) are gone before the next one shows
//     its first page. Close removes the root.
//   - Each tab (a session's views and ephemeral context, and the prepared
//     view of the next session) has a folder of its own in the root, made
//     with the tab. A session's files live only there, one subdirectory per
//     file (so a file keeps the name a page receives, "scan.pdf" or the
//     download's own, without two files ever meeting), mode 0600.
//   - The session's wipe (every end path: idle, End session, D-Bus, a web
//     process that died, a volunteer's hand-over) removes the folder
//     before the next resident sees anything, whatever still holds a file;
//     the receipt's cleared list says "files" (failed when it could not be
//     removed) and the receipt carries the session's counts: scans (pages
//     scanned), photos, downloads (files saved) and uploads (files handed
//     to a page), numbers only.
//   - The list is in memory only. Nothing about a file (name, content,
//     size) is logged or reported.
//
// The list is safe from any goroutine: other shell code takes it on the
// GTK loop (s.cur.files, the session's) and may read files off the loop
// (Open); once the session is wiped, every method fails with
// errFilesWiped, and a file being added is removed.

// FileKind says where a session file came from.
type FileKind string

// Kinds of session files.
const (
	KindScan     FileKind = "scan"     // pages from the scanner (a PDF, or a JPEG/PNG per page)
	KindPhoto    FileKind = "photo"    // a photo from the camera
	KindDownload FileKind = "download" // saved from an allowed page
)

// SessionFile is one file of the session as other shell code sees it.
// Its name and contents are the resident's: show them, never log them.
type SessionFile struct {
	ID    string // random; names the file to the kiosk's pages and panels
	Name  string // the file's name, as a page that is given it receives it
	MIME  string
	Kind  FileKind
	Size  int64
	Pages int // pages of a scan or photo document; 0 when not known
	Added time.Time
}

// fileEntry is a SessionFile and where it is.
type fileEntry struct {
	SessionFile
	path string
	// doc is the scan or photo the file was made from, kept (in the
	// folder) so that another page can take it in another format; nil for
	// downloads. Closed with the session.
	doc *capture.Document
}

// FileCounts are a session's counts for its receipt.
type FileCounts struct {
	Scans     int64 // pages scanned
	Photos    int64 // photos taken
	Downloads int64 // downloads saved
	Uploads   int64 // files handed to a page
}

// sessionFiles is one tab's folder and the list of what is in it.
type sessionFiles struct {
	mu     sync.Mutex
	dir    string
	max    int64 // bytes the folder may hold
	files  []*fileEntry
	bytes  int64
	wiped  bool
	counts FileCounts
	now    func() time.Time
}

// Errors of the session's files.
var (
	errFilesWiped = errors.New("the session's files are gone (the session ended)")
	errNoFile     = errors.New("no such file in this session")
	// errFilesFull: the session's folder would pass files.max_session_size.
	errFilesFull = errors.New("this session cannot keep more files")
)

// newSessionFiles makes a fresh private folder in root for a tab.
func newSessionFiles(root string, max int64, now func() time.Time) (*sessionFiles, error) {
	dir, err := os.MkdirTemp(root, "session-")
	if err != nil {
		return nil, fmt.Errorf("make the session's files folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("make the session's files folder: %w", err)
	}
	return &sessionFiles{dir: dir, max: max, now: now}, nil
}

// Dir is the folder (tests; the web context's sandbox).
func (f *sessionFiles) Dir() string {
	if f == nil {
		return ""
	}
	return f.dir
}

// List is the session's files, oldest first.
func (f *sessionFiles) List() []SessionFile {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]SessionFile, len(f.files))
	for i, e := range f.files {
		out[i] = e.SessionFile
	}
	return out
}

// Get is the file with id.
func (f *sessionFiles) Get(id string) (SessionFile, bool) {
	if f == nil {
		return SessionFile{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.find(id); e != nil {
		return e.SessionFile, true
	}
	return SessionFile{}, false
}

// Open opens the file with id for reading. The caller closes it.
func (f *sessionFiles) Open(id string) (*os.File, SessionFile, error) {
	if f == nil {
		return nil, SessionFile{}, errFilesWiped
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wiped {
		return nil, SessionFile{}, errFilesWiped
	}
	e := f.find(id)
	if e == nil {
		return nil, SessionFile{}, errNoFile
	}
	r, err := os.Open(e.path)
	if err != nil {
		return nil, SessionFile{}, fmt.Errorf("open a session file: %w", noPath(err))
	}
	return r, e.SessionFile, nil
}

// Path is where the file with id is (to hand to WebKit's file chooser).
func (f *sessionFiles) Path(id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wiped {
		return "", errFilesWiped
	}
	e := f.find(id)
	if e == nil {
		return "", errNoFile
	}
	return e.path, nil
}

// doc is the document the file with id was made from (nil for none).
func (f *sessionFiles) doc(id string) *capture.Document {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.find(id); e != nil {
		return e.doc
	}
	return nil
}

func (f *sessionFiles) find(id string) *fileEntry {
	for _, e := range f.files {
		if e.ID == id {
			return e
		}
	}
	return nil
}

// NewDir makes a fresh private subdirectory of the folder for a file
// being made (an export's directory, a download's destination); Adopt
// then lists the file made in it, or Discard removes it.
func (f *sessionFiles) NewDir() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wiped {
		return "", errFilesWiped
	}
	d := filepath.Join(f.dir, capture.NewID())
	if err := os.Mkdir(d, 0o700); err != nil {
		return "", fmt.Errorf("make a folder for a session file: %w", noPath(err))
	}
	return d, nil
}

// Discard removes a directory NewDir made, and what is in it.
func (f *sessionFiles) Discard(dir string) {
	if f.inside(dir) {
		os.RemoveAll(dir)
	}
}

// inside reports whether p is strictly inside the folder.
func (f *sessionFiles) inside(p string) bool {
	rel, err := filepath.Rel(f.dir, p)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel)
}

// Adopt lists a file made at path (in a directory NewDir made) as one of
// the session's, taking doc (closed with the session, or now if the file
// is refused). It fails with errFilesFull when the folder would hold more
// than the session may keep (the file is then removed), errFilesWiped
// after the wipe.
func (f *sessionFiles) Adopt(kind FileKind, path, mime string, pages int, doc *capture.Document) (SessionFile, error) {
	fail := func(err error) (SessionFile, error) {
		os.RemoveAll(filepath.Dir(path))
		if doc != nil {
			doc.Close()
		}
		return SessionFile{}, err
	}
	if !f.inside(path) || filepath.Dir(filepath.Dir(path)) != f.dir {
		return fail(fmt.Errorf("adopt a session file: not in a folder of this session"))
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return fail(fmt.Errorf("adopt a session file: not a regular file"))
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fail(fmt.Errorf("adopt a session file: %w", noPath(err)))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wiped {
		return fail(errFilesWiped)
	}
	if f.bytes+fi.Size() > f.max {
		return fail(errFilesFull)
	}
	e := &fileEntry{SessionFile: SessionFile{ID: filepath.Base(filepath.Dir(path)), Name: filepath.Base(path),
		MIME: mime, Kind: kind, Size: fi.Size(), Pages: pages, Added: f.now()}, path: path, doc: doc}
	f.files = append(f.files, e)
	f.bytes += e.Size
	return e.SessionFile, nil
}

// Add copies r (at most what the session may still keep) into a new file
// called name (made safe: see safeFileName) and lists it.
func (f *sessionFiles) Add(kind FileKind, name, mime string, r io.Reader) (SessionFile, error) {
	dir, err := f.NewDir()
	if err != nil {
		return SessionFile{}, err
	}
	path := filepath.Join(dir, safeFileName(name, kind))
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		f.Discard(dir)
		return SessionFile{}, fmt.Errorf("add a session file: %w", noPath(err))
	}
	n, err := io.Copy(w, io.LimitReader(r, f.room()+1))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		f.Discard(dir)
		return SessionFile{}, fmt.Errorf("add a session file: %w", noPath(err))
	case n > f.room():
		f.Discard(dir)
		return SessionFile{}, errFilesFull
	}
	return f.Adopt(kind, path, mime, 0, nil)
}

// room is how many more bytes the folder may hold.
func (f *sessionFiles) room() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return max(f.max-f.bytes, 0)
}

// Remove deletes the file with id.
func (f *sessionFiles) Remove(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wiped {
		return errFilesWiped
	}
	for i, e := range f.files {
		if e.ID == id {
			f.files = append(f.files[:i], f.files[i+1:]...)
			f.bytes -= e.Size
			if e.doc != nil {
				e.doc.Close()
			}
			return os.RemoveAll(filepath.Dir(e.path))
		}
	}
	return errNoFile
}

// count adds to the session's counts.
func (f *sessionFiles) count(add FileCounts) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts.Scans += add.Scans
	f.counts.Photos += add.Photos
	f.counts.Downloads += add.Downloads
	f.counts.Uploads += add.Uploads
}

// Counts is the session's counts so far.
func (f *sessionFiles) Counts() FileCounts {
	if f == nil {
		return FileCounts{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

// wipe forgets every file and removes the folder; afterwards every method
// fails with errFilesWiped. It is idempotent and nil-safe. The counts stay
// readable for the receipt.
func (f *sessionFiles) wipe() error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wiped {
		return nil
	}
	f.wiped = true
	for _, e := range f.files {
		if e.doc != nil {
			e.doc.Close()
		}
	}
	f.files, f.bytes = nil, 0
	if err := os.RemoveAll(f.dir); err != nil {
		return fmt.Errorf("remove the session's files folder: %w", noPath(err))
	}
	if _, err := os.Lstat(f.dir); !errors.Is(err, fs.ErrNotExist) {
		return errors.New("remove the session's files folder: it is still there")
	}
	return nil
}

// noPath is err without the path an *fs.PathError carries: a session
// file's path holds its name, which is the resident's and is never logged.
func noPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// safeFileName is name as a file name a page may receive: its last path
// element, without control characters, slashes or a leading dot, at most
// 120 bytes (the extension kept), valid UTF-8; "download" (or the kind)
// when nothing is left.
func safeFileName(name string, kind FileKind) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' || r == '\\' || r == 0 {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if len(name) > 120 {
		ext := filepath.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		cut := 120 - len(ext)
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + ext
	}
	if name == "" {
		name = string(kind)
	}
	return name
}

// ---- the files root ------------------------------------------------------

// filesRootPrefix names the shell's files roots, so that a new shell can
// find those of shells that are gone.
const (
	filesRootPrefix = "accesskiosk-files-"
	filesRootNew    = ".accesskiosk-new-" // a root being made, not yet locked
)

// filesRoot is the shell's private directory for every tab's folder.
type filesRoot struct {
	dir  string
	lock *os.File // flocked for the shell's life: a free lock means a dead shell's root
}

// defaultFilesMax is files.max_session_size's default.
const defaultFilesMax = 100 * 1000 * 1000

// filesParent is where the files root goes: the first of
// $RUNTIME_DIRECTORY (the unit's, which systemd removes when it stops),
// $XDG_RUNTIME_DIR and /dev/shm that is a tmpfs, else the temporary
// directory (with tmpfs false).
func filesParent() (dir string, tmpfs bool) {
	for _, d := range []string{os.Getenv("RUNTIME_DIRECTORY"), os.Getenv("XDG_RUNTIME_DIR"), "/dev/shm"} {
		if d == "" {
			continue
		}
		if i := strings.IndexByte(d, ':'); i >= 0 { // RUNTIME_DIRECTORY may list several
			d = d[:i]
		}
		if isTmpfs(d) {
			return d, true
		}
	}
	return os.TempDir(), false
}

// isTmpfs reports whether dir is a directory on a tmpfs (memory only).
func isTmpfs(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	const tmpfsMagic = 0x01021994
	return st.Type == tmpfsMagic
}

// openFilesRoot removes the roots of shells that are gone from parent,
// then makes this shell's root there and locks it. The root is made under
// a temporary name, locked, then renamed, so that no other shell ever sees
// it unlocked.
func openFilesRoot(parent string) (*filesRoot, int, error) {
	swept := sweepFilesRoots(parent)
	tmp, err := os.MkdirTemp(parent, filesRootNew)
	if err != nil {
		return nil, swept, fmt.Errorf("make the kiosk's files root: %w", err)
	}
	if err := os.Chmod(tmp, 0o700); err != nil {
		os.RemoveAll(tmp)
		return nil, swept, fmt.Errorf("make the kiosk's files root: %w", err)
	}
	lock, err := lockRoot(tmp, true)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, swept, fmt.Errorf("lock the kiosk's files root: %w", err)
	}
	dir := filepath.Join(parent, filesRootPrefix+capture.NewID())
	if err := os.Rename(tmp, dir); err != nil {
		lock.Close()
		os.RemoveAll(tmp)
		return nil, swept, fmt.Errorf("make the kiosk's files root: %w", err)
	}
	return &filesRoot{dir: dir, lock: lock}, swept, nil
}

// lockRoot opens dir's lock file (making it with create) and takes its
// flock without waiting; an error when another process holds it.
func lockRoot(dir string, create bool) (*os.File, error) {
	flag := os.O_RDONLY
	if create {
		flag = os.O_RDWR | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), flag|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// sweepFilesRoots removes every files root in parent owned by this user
// whose lock is free (its shell is gone), and returns how many.
func sweepFilesRoots(parent string) int {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		// A root being made (filesRootNew) counts only once it has a
		// lock file: before that its shell may be about to lock it.
		fresh := strings.HasPrefix(e.Name(), filesRootNew)
		if !e.IsDir() || !(fresh || strings.HasPrefix(e.Name(), filesRootPrefix)) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		fi, err := os.Lstat(dir)
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
			continue
		}
		lock, err := lockRoot(dir, false)
		if err != nil && (fresh || !errors.Is(err, fs.ErrNotExist)) {
			continue // held: a running shell's (or one being made)
		}
		if os.RemoveAll(dir) == nil {
			n++
		}
		if lock != nil {
			lock.Close()
		}
	}
	return n
}

// close removes the root and releases its lock.
func (r *filesRoot) close() error {
	if r == nil {
		return nil
	}
	err := os.RemoveAll(r.dir)
	r.lock.Close()
	return err
}

// ---- the shell's side ----------------------------------------------------

// startFiles removes what killed kiosks left and makes this shell's files
// root. From Start, before the first tab.
func (s *Shell) startFiles() error {
	parent, tmpfs := s.opts.FilesParent, true
	if parent == "" {
		parent, tmpfs = filesParent()
	}
	root, swept, err := openFilesRoot(parent)
	if err != nil {
		return err
	}
	s.filesRoot = root
	if swept > 0 {
		s.log.WithField("folders", swept).Warn("removed the session files a kiosk that was stopped left behind")
	}
	if !tmpfs {
		s.log.Warn("no tmpfs for the session's files ($XDG_RUNTIME_DIR, /dev/shm): using the temporary directory, which may be on disk")
	}
	return nil
}

// filesMax is what one session may keep, in bytes.
func (s *Shell) filesMax() int64 {
	if m := int64(s.cfg.Files.MaxSessionSize); m > 0 {
		return m
	}
	return defaultFilesMax
}

// newFiles makes the folder of a new tab.
func (s *Shell) newFiles() (*sessionFiles, error) {
	return newSessionFiles(s.filesRoot.dir, s.filesMax(), s.now)
}

// FilesRoot is the directory every session's files folder is in (tests).
func (s *Shell) FilesRoot() string { return s.filesRoot.dir }

// wipeFiles wipes tab t's files at a session's end: the folder is removed
// and the receipt says so and carries the counts. On the GTK loop, from
// endSession, before anything of the next session shows.
func (s *Shell) wipeFiles(t *tab, r *bus.Receipt) (ok bool) {
	if t == nil || t.files == nil {
		return true
	}
	s.endDownloads(t)
	c := t.files.Counts()
	r.Scans, r.Photos, r.Downloads, r.Uploads = c.Scans, c.Photos, c.Downloads, c.Uploads
	if err := t.files.wipe(); err != nil {
		s.log.WithError(err).Error("the session's files could not all be removed")
		return false
	}
	return true
}

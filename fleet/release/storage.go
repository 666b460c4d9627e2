package release

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"accesskiosk/fleet/release/target"
	"accesskiosk/internal/atomicfile"
)

// Storage keeps a repository's files by their slash-separated names in
// the repository ("metadata/root.json", "keys/snapshot.key",
// "targets/arm64/HASH.1.2.0.tar.zst"). DirStorage keeps them in a
// directory (one fleet server); the fleet store keeps them in PostgreSQL
// for several replicas (fleet/store.ReleaseFiles). Every method is safe
// for concurrent use, from several processes too.
type Storage interface {
	// ReadFile returns a whole file (metadata or a key); an error
	// wrapping fs.ErrNotExist when there is none.
	ReadFile(ctx context.Context, name string) ([]byte, error)
	// WriteFile replaces name with data at once: readers see the old
	// file or the new one, never a part. private marks a key, readable
	// by the fleet only.
	WriteFile(ctx context.Context, name string, data []byte, private bool) error
	// PutFile stores everything r yields as name (a target, large) and
	// returns its length; a failure leaves no file.
	PutFile(ctx context.Context, name string, r io.Reader) (int64, error)
	// Open opens name for reading and seeking (targets are served with
	// HTTP Range); an error wrapping fs.ErrNotExist when there is none.
	Open(ctx context.Context, name string) (File, error)
	// Lock takes the repository for a change (from any process or
	// replica), waiting while another holder has it.
	Lock(ctx context.Context) (unlock func(), err error)
	// String says where the files are, for messages.
	String() string
}

// File is an open repository file.
type File interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// Where a repository keeps its files.
const (
	metaPrefix    = "metadata/"
	targetsPrefix = "targets/"
	keysPrefix    = "keys/"
)

// validName reports whether name is a clean relative path inside the
// repository, with no part starting with a dot.
func validName(name string) bool {
	if name == "" || path.Clean(name) != name || strings.HasPrefix(name, "/") {
		return false
	}
	for _, p := range strings.Split(name, "/") {
		if p == "" || strings.HasPrefix(p, ".") {
			return false
		}
	}
	return true
}

// DirStorage keeps a repository's files in a directory, laid out as the
// names say; Lock is an flock(2) on DIR/.lock.
type DirStorage string

// String implements Storage.
func (d DirStorage) String() string { return string(d) }

func (d DirStorage) path(name string) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("release file %q: %w", name, fs.ErrNotExist)
	}
	return filepath.Join(string(d), filepath.FromSlash(name)), nil
}

// ReadFile implements Storage.
func (d DirStorage) ReadFile(_ context.Context, name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// WriteFile implements Storage.
func (d DirStorage) WriteFile(_ context.Context, name string, data []byte, private bool) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if private {
		mode = 0o600
	}
	return atomicfile.Write(p, data, mode)
}

// PutFile implements Storage: a temp file beside the target, synced and
// renamed into place.
func (d DirStorage) PutFile(_ context.Context, name string, r io.Reader) (int64, error) {
	p, err := d.path(name)
	if err != nil {
		return 0, err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err == nil {
		err = atomicfile.SyncDir(dir)
	}
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", name, err)
	}
	return n, nil
}

// Open implements Storage.
func (d DirStorage) Open(_ context.Context, name string) (File, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("release file %s: %w", name, fs.ErrNotExist)
	}
	return dirFile{f, st}, nil
}

type dirFile struct {
	*os.File
	st fs.FileInfo
}

func (f dirFile) Size() int64        { return f.st.Size() }
func (f dirFile) ModTime() time.Time { return f.st.ModTime() }

// Lock implements Storage: an exclusive flock on DIR/.lock, which ends
// with the process however that ends.
func (d DirStorage) Lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(string(d), ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", string(d), err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// targetName is where a target's content is kept: its consistent-snapshot
// name under targets/.
func targetName(name, sumHex string) string {
	return targetsPrefix + target.TargetPath(name, sumHex)
}

// Package atomicfile writes files so that a crash or a power cut leaves
// either the old content or the new, never a part: write a temporary file in
// the same directory, fsync it, check Close, rename it over the target, then
// fsync the directory so the rename itself is durable.
//
// Every program that keeps state on a kiosk's persistent partition or the
// fleet's data directory (identities, keys, update state, first-boot files)
// writes through here.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Write replaces the file at path with data, with permissions perm. Its
// error names the path.
func Write(path string, data []byte, perm os.FileMode) error {
	if err := write(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tempMark is in the name of every temporary file Write makes (and leaves
// behind only when the process dies mid-write): see IsTemp.
const tempMark = ".tmp-"

// IsTemp reports whether name (a base name) is a temporary file Write left
// behind: the program was killed between creating and renaming it. A
// program that scans its directory removes these.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMark)
}

func write(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempMark+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, making renames and removals in it durable.
// File systems that cannot sync a directory (EINVAL, as FAT does) are not
// an error: there is nothing more to be had from them.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

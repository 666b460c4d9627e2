package firstboot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"accesskiosk/internal/atomicfile"
	"accesskiosk/provisioning/bootfile"

	"accesskiosk/internal/diskimage"
)

// Boot is where the first-boot file lives: the boot partition.
type Boot interface {
	// ReadFile returns a file's contents; a missing file wraps fs.ErrNotExist.
	ReadFile(name string) ([]byte, error)
	// WriteFile replaces a file, overwriting its old bytes first, durably.
	WriteFile(name string, data []byte) error
	// String names the partition in messages.
	String() string
	Close() error
}

// OpenBoot opens the boot partition at path: a directory is a mounted boot
// partition (/boot/firmware on a Raspberry Pi, /boot/efi on x86); a file or
// block device is a disk image whose FAT partition is used (part, 1-based,
// or the first FAT partition when 0), read and written without mounting.
func OpenBoot(path string, part int) (Boot, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open boot partition: %w", err)
	}
	if st.IsDir() {
		if part != 0 {
			return nil, fmt.Errorf("open boot partition %s: a partition number only applies to a disk image", path)
		}
		return Dir(path), nil
	}
	im, err := diskimage.Open(path, part)
	if err != nil {
		return nil, fmt.Errorf("open boot partition: %w", err)
	}
	return im, nil
}

// fileOn names the first-boot file on b in messages: a path on a mounted
// partition, "FILE on IMAGE partition N" in an image.
func fileOn(b Boot) string {
	if d, ok := b.(Dir); ok {
		return filepath.Join(string(d), bootfile.FileName)
	}
	return bootfile.FileName + " on " + b.String()
}

// Dir is a mounted boot partition.
type Dir string

func (d Dir) String() string { return string(d) }

// Close does nothing: there is nothing to release.
func (d Dir) Close() error { return nil }

// ReadFile reads name in the directory, at most diskimage.MaxFileBytes.
func (d Dir) ReadFile(name string) ([]byte, error) {
	f, err := os.Open(filepath.Join(string(d), name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, diskimage.MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > diskimage.MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", f.Name(), diskimage.MaxFileBytes)
	}
	return data, nil
}

// WriteFile overwrites name's old bytes with zeros in place (so a secret
// does not linger in free space on the FAT partition), then writes data to a
// temporary file, syncs it and renames it over name, and syncs the
// directory. When the partition is mounted read-only (as the images mount
// it), WriteFile remounts it read-write for the write and read-only again
// after.
func (d Dir) WriteFile(name string, data []byte) error {
	err := d.writeFile(name, data)
	if !errors.Is(err, syscall.EROFS) {
		return err
	}
	if rerr := remount(string(d), false); rerr != nil {
		return fmt.Errorf("%w (and remounting %s read-write failed: %v)", err, d, rerr)
	}
	err = d.writeFile(name, data)
	if rerr := remount(string(d), true); rerr != nil && err == nil {
		err = fmt.Errorf("remount %s read-only after writing: %w", d, rerr)
	}
	return err
}

func (d Dir) writeFile(name string, data []byte) error {
	p := filepath.Join(string(d), name)
	if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
		st, serr := f.Stat()
		if serr == nil && st.Size() > 0 {
			_, serr = io.Copy(f, bytes.NewReader(make([]byte, st.Size())))
			if serr == nil {
				serr = f.Sync()
			}
		}
		if cerr := f.Close(); serr == nil {
			serr = cerr
		}
		if serr != nil {
			return fmt.Errorf("erase old %s: %w", p, serr)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("erase old %s: %w", p, err)
	}
	return atomicfile.Write(p, data, 0o600)
}

// Package diskimage reads and writes files on the FAT boot partition inside
// a disk image or on a card's block device, without mounting anything (with
// github.com/diskfs/go-diskfs). `provision write` uses it to put the
// first-boot file onto an image or card, and `agent firstboot` can use it to
// read and erase that file straight from an image (in tests, or from a
// rescue system).
//
// Replacing a file first overwrites its old bytes in place with zeros, so
// that a secret in the old version (an enrolment token, a Wi-Fi passphrase)
// does not stay behind in free clusters of the partition.
package diskimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
)

// MaxFileBytes bounds the files this package reads and writes: boot
// partition files it handles are small config files.
const MaxFileBytes = 1 << 20

// ErrNoFAT means the image has no FAT partition (or not the one asked for).
var ErrNoFAT = errors.New("no FAT boot partition")

// Image is an open disk image or block device with a FAT partition.
type Image struct {
	path string
	disk *disk.Disk
	fs   filesystem.FileSystem
	part int
}

// Open opens the disk image or block device at p for reading and writing
// and finds its FAT boot partition: partition number part (1-based) when
// part > 0, otherwise the first partition holding a FAT file system. A
// block device is opened exclusively, so a card with a mounted partition is
// refused rather than written under the kernel's feet. The caller closes it.
func Open(p string, part int) (*Image, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("open disk %s: %w", p, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open disk %s: is a directory, want a disk image file or a block device", p)
	}
	mode := diskfs.ReadWrite
	if st.Mode()&os.ModeDevice != 0 {
		mode = diskfs.ReadWriteExclusive
	}
	d, err := diskfs.Open(p, diskfs.WithOpenMode(mode))
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("open disk %s: permission denied (writing a card needs root)", p)
		}
		if mode == diskfs.ReadWriteExclusive && strings.Contains(err.Error(), "device or resource busy") {
			return nil, fmt.Errorf("open disk %s: in use (is one of its partitions mounted? unmount it first): %w", p, err)
		}
		return nil, fmt.Errorf("open disk %s: %w", p, err)
	}
	im := &Image{path: p, disk: d}
	if err := im.findFAT(part); err != nil {
		d.Close()
		return nil, err
	}
	return im, nil
}

func isFAT(t filesystem.Type) bool {
	return t == filesystem.TypeFat32 || t == filesystem.TypeFat16 || t == filesystem.TypeFat12
}

func (im *Image) findFAT(part int) error {
	if im.disk.Table == nil {
		return fmt.Errorf("open disk %s: no partition table (want an MBR or GPT disk image): %w", im.path, ErrNoFAT)
	}
	if part > 0 {
		f, err := im.disk.GetFilesystem(part)
		if err != nil {
			return fmt.Errorf("open disk %s: partition %d: %v: %w", im.path, part, err, ErrNoFAT)
		}
		if !isFAT(f.Type()) {
			return fmt.Errorf("open disk %s: partition %d is not FAT: %w", im.path, part, ErrNoFAT)
		}
		im.fs, im.part = f, part
		return nil
	}
	for _, p := range im.disk.Table.GetPartitions() {
		if p.GetSize() == 0 {
			continue
		}
		f, err := im.disk.GetFilesystem(p.GetIndex())
		if err != nil || !isFAT(f.Type()) {
			continue
		}
		im.fs, im.part = f, p.GetIndex()
		return nil
	}
	return fmt.Errorf("open disk %s: %w", im.path, ErrNoFAT)
}

// Partition returns the 1-based number of the FAT partition in use.
func (im *Image) Partition() int { return im.part }

// String names the image and partition, for messages.
func (im *Image) String() string { return fmt.Sprintf("%s partition %d", im.path, im.part) }

func clean(name string) (string, error) {
	n := path.Clean("/" + strings.TrimPrefix(name, "/"))
	if n == "/" || strings.Contains(name, "\\") {
		return "", fmt.Errorf("bad file name %q", name)
	}
	return n, nil
}

func (im *Image) exists(name string) (bool, error) {
	dir, base := path.Split(name)
	fsDir := strings.Trim(path.Clean(dir), "/") // io/fs form: "." for the root
	if fsDir == "" {
		fsDir = "."
	}
	entries, err := im.fs.ReadDir(fsDir)
	if err != nil {
		return false, fmt.Errorf("read directory %s on %s: %w", dir, im, err)
	}
	for _, e := range entries {
		if strings.EqualFold(e.Name(), base) {
			return true, nil
		}
	}
	return false, nil
}

// ReadFile returns the contents of name (a path in the partition, such as
// "accesskiosk-firstboot.yaml"). A missing file is an error wrapping
// fs.ErrNotExist.
func (im *Image) ReadFile(name string) ([]byte, error) {
	n, err := clean(name)
	if err != nil {
		return nil, err
	}
	ok, err := im.exists(n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("read %s on %s: %w", name, im, fs.ErrNotExist)
	}
	f, err := im.fs.OpenFile(n, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("read %s on %s: %w", name, im, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s on %s: %w", name, im, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("read %s on %s: larger than %d bytes", name, im, MaxFileBytes)
	}
	return data, nil
}

// WriteFile creates or replaces name with data. When name exists, its old
// bytes are first overwritten in place with zeros, then it is truncated and
// written. The writes reach the image file or device before WriteFile
// returns (it syncs).
func (im *Image) WriteFile(name string, data []byte) error {
	if len(data) > MaxFileBytes {
		return fmt.Errorf("write %s on %s: larger than %d bytes", name, im, MaxFileBytes)
	}
	n, err := clean(name)
	if err != nil {
		return err
	}
	ok, err := im.exists(n)
	if err != nil {
		return err
	}
	if ok {
		if err := im.scrub(n); err != nil {
			return err
		}
	}
	f, err := im.fs.OpenFile(n, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("write %s on %s: %w", name, im, err)
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		f.Close()
		return fmt.Errorf("write %s on %s: %w", name, im, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s on %s: %w", name, im, err)
	}
	if err := im.fixFSInfo(); err != nil {
		return err
	}
	return im.sync()
}

// scrub overwrites the current contents of n with zeros, in place.
func (im *Image) scrub(n string) error {
	old, err := im.ReadFile(n)
	if err != nil {
		return err
	}
	if len(old) == 0 {
		return nil
	}
	f, err := im.fs.OpenFile(n, os.O_RDWR)
	if err != nil {
		return fmt.Errorf("erase old %s on %s: %w", n, im, err)
	}
	if _, err := f.Write(make([]byte, len(old))); err != nil {
		f.Close()
		return fmt.Errorf("erase old %s on %s: %w", n, im, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("erase old %s on %s: %w", n, im, err)
	}
	return im.sync()
}

// fixFSInfo sets a FAT32 partition's FSInfo free-cluster count to the true
// count from the FAT (go-diskfs allocates clusters without updating it,
// which fsck.fat reports and df would misstate) and its next-free hint to
// "unknown". Other FAT types have no FSInfo: nothing to do.
func (im *Image) fixFSInfo() error {
	if im.fs.Type() != filesystem.TypeFat32 {
		return nil
	}
	p, err := im.disk.GetPartition(im.part)
	if err != nil {
		return fmt.Errorf("update FSInfo on %s: %w", im, err)
	}
	start := p.GetStart()
	bs := make([]byte, 512)
	if _, err := im.disk.Backend.ReadAt(bs, start); err != nil {
		return fmt.Errorf("update FSInfo on %s: read boot sector: %w", im, err)
	}
	le16 := func(b []byte, o int) int64 { return int64(binary.LittleEndian.Uint16(b[o:])) }
	le32 := func(b []byte, o int) int64 { return int64(binary.LittleEndian.Uint32(b[o:])) }
	bps, spc, rsvd, nfats := le16(bs, 0x0B), int64(bs[0x0D]), le16(bs, 0x0E), int64(bs[0x10])
	tot, fatSz, fsInfo := le32(bs, 0x20), le32(bs, 0x24), le16(bs, 0x30)
	if bps < 512 || spc == 0 || fatSz == 0 || fsInfo == 0 || fsInfo == 0xFFFF || tot == 0 {
		return nil // no FSInfo sector to keep right
	}
	info := make([]byte, bps)
	if _, err := im.disk.Backend.ReadAt(info, start+fsInfo*bps); err != nil {
		return fmt.Errorf("update FSInfo on %s: %w", im, err)
	}
	if binary.LittleEndian.Uint32(info[0:]) != 0x41615252 || binary.LittleEndian.Uint32(info[484:]) != 0x61417272 {
		return nil // not a valid FSInfo sector: leave it alone
	}
	clusters := (tot - rsvd - nfats*fatSz) / spc
	if n := fatSz*bps/4 - 2; clusters > n {
		clusters = n // never read past the FAT
	}
	fat := make([]byte, 4*(clusters+2))
	if _, err := im.disk.Backend.ReadAt(fat, start+rsvd*bps); err != nil {
		return fmt.Errorf("update FSInfo on %s: read FAT: %w", im, err)
	}
	var free uint32
	for c := int64(2); c < clusters+2; c++ {
		if binary.LittleEndian.Uint32(fat[4*c:])&0x0FFFFFFF == 0 {
			free++
		}
	}
	binary.LittleEndian.PutUint32(info[488:], free)
	binary.LittleEndian.PutUint32(info[492:], 0xFFFFFFFF)
	w, err := im.disk.Backend.Writable()
	if err != nil {
		return fmt.Errorf("update FSInfo on %s: %w", im, err)
	}
	if _, err := w.WriteAt(info[:512], start+fsInfo*bps); err != nil {
		return fmt.Errorf("update FSInfo on %s: %w", im, err)
	}
	return nil
}

func (im *Image) sync() error {
	osf, err := im.disk.Backend.Sys()
	if err != nil {
		return nil // not backed by an *os.File: nothing to sync
	}
	if err := osf.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", im.path, err)
	}
	return nil
}

// Close syncs and closes the image or device.
func (im *Image) Close() error {
	if im.disk == nil {
		return nil
	}
	serr := im.sync()
	cerr := im.disk.Close()
	im.disk = nil
	if serr != nil {
		return serr
	}
	if cerr != nil {
		return fmt.Errorf("close %s: %w", im.path, cerr)
	}
	return nil
}

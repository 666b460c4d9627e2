// Package bundle defines the release bundle: the one file a release ships
// per architecture, and how it is built and unpacked.
//
// # Format (version 1)
//
// A bundle is a POSIX tar stream compressed with zstd (".tar.zst"). Its
// first entry is "manifest.json" (a Manifest); every other entry is a regular
// file listed in the manifest, in the manifest's order, with the size, mode
// and SHA-256 the manifest gives. Nothing else is allowed: no directories,
// links, devices, absolute paths or "..". Directories are implied by file
// paths. Files are laid out as the device runs them:
//
//	bin/kiosk, bin/agent        the programs
//	units/*.service             systemd units (the image links them)
//	pages/...                   built-in pages
//	guides/...                  assisted-digital guides
//
// Build writes entries sorted by path with zero timestamps and fixed
// owners, so two builds of the same tree are byte-identical and a binary
// delta between consecutive releases stays small.
//
// The TUF target of a full bundle is the .tar.zst; its custom metadata also
// carries the SHA-256 and length of the uncompressed tar (TarInfo), which is
// what a delta reconstructs and what the agent keeps as the next delta's
// base.
package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"

	"accesskiosk/internal/ident"
)

// FormatVersion is the bundle format this package writes and reads.
const FormatVersion = 1

// ManifestName is the first entry of every bundle.
const ManifestName = "manifest.json"

// Limits that protect a device from a hostile or broken bundle.
const (
	MaxManifestBytes = 1 << 20
	MaxFiles         = 10000
	MaxFileBytes     = 1 << 31
)

// ErrBadBundle is wrapped by every error about a malformed bundle.
var ErrBadBundle = errors.New("bad bundle")

// Manifest describes a bundle.
type Manifest struct {
	Format  int    `json:"format"`
	Version string `json:"version"`
	Arch    string `json:"arch"` // GOARCH: amd64, arm64
	// Units are the systemd units to restart, in order, after switching to
	// this release (for example the kiosk's and the agent's).
	Units []string `json:"units,omitempty"`
	Files []File   `json:"files"`
}

// File is one file of a bundle.
type File struct {
	Path   string `json:"path"` // slash-separated, relative
	Mode   uint32 `json:"mode"` // permission bits only: 0644 or 0755
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// Size returns the sum of the files' sizes: the space an unpacked bundle needs.
func (m *Manifest) Size() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

var (
	archRE = regexp.MustCompile(`^[a-z0-9]{2,16}$`)
	unitRE = regexp.MustCompile(`^[A-Za-z0-9@._-]+\.(service|target|timer|socket|path)$`)
	hexRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ValidVersion reports whether v can name a release: letters, digits and
// ". _ + -", at most 64 characters, safe as a file name.
func ValidVersion(v string) bool { return ident.Version.Valid(v) }

// Validate checks a manifest without touching any file.
func (m *Manifest) Validate() error {
	if m.Format != FormatVersion {
		return fmt.Errorf("%w: manifest format %d, want %d", ErrBadBundle, m.Format, FormatVersion)
	}
	if !ValidVersion(m.Version) {
		return fmt.Errorf("%w: manifest version %q is not a valid version", ErrBadBundle, m.Version)
	}
	if !archRE.MatchString(m.Arch) {
		return fmt.Errorf("%w: manifest arch %q is not a GOARCH", ErrBadBundle, m.Arch)
	}
	for i, u := range m.Units {
		if !unitRE.MatchString(u) {
			return fmt.Errorf("%w: manifest units[%d] %q is not a systemd unit name", ErrBadBundle, i, u)
		}
	}
	if len(m.Files) == 0 || len(m.Files) > MaxFiles {
		return fmt.Errorf("%w: manifest lists %d files (1..%d allowed)", ErrBadBundle, len(m.Files), MaxFiles)
	}
	seen := make(map[string]bool, len(m.Files))
	for i, f := range m.Files {
		if err := validPath(f.Path); err != nil {
			return fmt.Errorf("%w: manifest files[%d]: %v", ErrBadBundle, i, err)
		}
		if seen[f.Path] {
			return fmt.Errorf("%w: manifest files[%d]: %q listed twice", ErrBadBundle, i, f.Path)
		}
		seen[f.Path] = true
		if f.Mode != 0o644 && f.Mode != 0o755 {
			return fmt.Errorf("%w: manifest files[%d] %q: mode %o (only 644 and 755)", ErrBadBundle, i, f.Path, f.Mode)
		}
		if f.Size < 0 || f.Size > MaxFileBytes {
			return fmt.Errorf("%w: manifest files[%d] %q: size %d", ErrBadBundle, i, f.Path, f.Size)
		}
		if !hexRE.MatchString(f.SHA256) {
			return fmt.Errorf("%w: manifest files[%d] %q: sha256 is not 64 lowercase hex digits", ErrBadBundle, i, f.Path)
		}
	}
	// A file may not also be a directory of another file ("a" and "a/b").
	for p := range seen {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if seen[d] {
				return fmt.Errorf("%w: manifest: %q is both a file and a directory", ErrBadBundle, d)
			}
		}
	}
	return nil
}

func validPath(p string) error {
	switch {
	case p == "" || len(p) > 255:
		return fmt.Errorf("path %q: empty or longer than 255", p)
	case strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0):
		return fmt.Errorf("path %q: must be relative and slash-separated", p)
	case path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("path %q: not clean or leaves the bundle", p)
	case p == ManifestName:
		return fmt.Errorf("path %q: reserved", p)
	}
	return nil
}

// Options name what Build puts in the manifest.
type Options struct {
	Version string
	Arch    string
	Units   []string
}

// Build writes a compressed bundle (.tar.zst) of every regular file under
// dir to w and returns its manifest. Files with any execute bit become
// 0755, others 0644. Symlinks and special files are refused.
func Build(w io.Writer, dir string, opt Options) (*Manifest, error) {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return nil, fmt.Errorf("build bundle: %w", err)
	}
	m, err := BuildTar(zw, dir, opt)
	if err != nil {
		zw.Close()
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("build bundle: compress: %w", err)
	}
	return m, nil
}

// BuildTar is Build without compression: it writes the bundle's tar stream.
func BuildTar(w io.Writer, dir string, opt Options) (*Manifest, error) {
	m := &Manifest{Format: FormatVersion, Version: opt.Version, Arch: opt.Arch, Units: opt.Units}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum, err := hashFile(p)
		if err != nil {
			return err
		}
		mode := uint32(0o644)
		if info.Mode().Perm()&0o111 != 0 {
			mode = 0o755
		}
		m.Files = append(m.Files, File{Path: filepath.ToSlash(rel), Mode: mode, Size: info.Size(), SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build bundle from %s: %w", dir, err)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("build bundle from %s: %w", dir, err)
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(w)
	if err := writeEntry(tw, ManifestName, 0o644, int64(len(mj)), bytes.NewReader(mj)); err != nil {
		return nil, fmt.Errorf("build bundle: %w", err)
	}
	for _, f := range m.Files {
		src, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, fmt.Errorf("build bundle: %w", err)
		}
		err = writeEntry(tw, f.Path, f.Mode, f.Size, src)
		src.Close()
		if err != nil {
			return nil, fmt.Errorf("build bundle: %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build bundle: %w", err)
	}
	return m, nil
}

func writeEntry(tw *tar.Writer, name string, mode uint32, size int64, r io.Reader) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(mode), Size: size, Format: tar.FormatPAX, Uname: "root", Gname: "root"}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(tw, r)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("changed while building: %d bytes, expected %d", n, size)
	}
	return nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// NewDecoder returns a zstd decoder for a bundle stream, bounded in memory.
// Close it when done.
func NewDecoder(r io.Reader) (*zstd.Decoder, error) {
	return zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
}

// ReadManifest reads and validates the manifest at the start of a tar
// stream (not compressed) and returns it with the tar reader positioned at
// the first file.
func ReadManifest(r io.Reader) (*Manifest, *tar.Reader, error) {
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: read first entry: %v", ErrBadBundle, err)
	}
	if hdr.Name != ManifestName || hdr.Typeflag != tar.TypeReg {
		return nil, nil, fmt.Errorf("%w: first entry is %q, want %s", ErrBadBundle, hdr.Name, ManifestName)
	}
	if hdr.Size > MaxManifestBytes {
		return nil, nil, fmt.Errorf("%w: manifest is %d bytes (max %d)", ErrBadBundle, hdr.Size, MaxManifestBytes)
	}
	data, err := io.ReadAll(io.LimitReader(tr, MaxManifestBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: read manifest: %v", ErrBadBundle, err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, nil, fmt.Errorf("%w: decode manifest: %v", ErrBadBundle, err)
	}
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	return &m, tr, nil
}

// ReadFileManifest opens a compressed bundle file and returns its manifest.
func ReadFileManifest(name string) (*Manifest, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read bundle manifest: %w", err)
	}
	defer f.Close()
	zr, err := NewDecoder(f)
	if err != nil {
		return nil, fmt.Errorf("read bundle manifest %s: %w", name, err)
	}
	defer zr.Close()
	m, _, err := ReadManifest(zr)
	if err != nil {
		return nil, fmt.Errorf("read bundle manifest %s: %w", name, err)
	}
	return m, nil
}

// Unpack reads an uncompressed bundle tar stream and writes its files under
// dst, which must not exist yet (it is created 0755). Every file is checked
// against the manifest (name, order, size, SHA-256), written with its mode
// and synced; dst and its directories are synced too, so once Unpack
// returns the tree survives a power cut. The manifest is written as
// dst/manifest.json. On error dst is left partly written: the caller
// unpacks into a staging directory and removes it on failure.
//
// progress, when not nil, is called after each file.
func Unpack(r io.Reader, dst string, progress func(File)) (*Manifest, error) {
	m, tr, err := ReadManifest(r)
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		return nil, fmt.Errorf("unpack bundle: %w", err)
	}
	dirs := map[string]bool{dst: true}
	for i, f := range m.Files {
		hdr, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d (%s): %v", ErrBadBundle, i+1, f.Path, err)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Name != f.Path || hdr.Size != f.Size {
			return nil, fmt.Errorf("%w: entry %d is %q (%d bytes, type %c), manifest says %q (%d bytes)",
				ErrBadBundle, i+1, hdr.Name, hdr.Size, hdr.Typeflag, f.Path, f.Size)
		}
		target := filepath.Join(dst, filepath.FromSlash(f.Path))
		dir := filepath.Dir(target)
		if !dirs[dir] {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("unpack bundle: %w", err)
			}
			for d := dir; !dirs[d]; d = filepath.Dir(d) {
				dirs[d] = true
			}
		}
		if err := writeFile(target, f, tr); err != nil {
			return nil, err
		}
		if progress != nil {
			progress(f)
		}
	}
	if _, err := tr.Next(); err != io.EOF {
		return nil, fmt.Errorf("%w: entries after the last file in the manifest", ErrBadBundle)
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dst, ManifestName), File{Mode: 0o644, Size: int64(len(mj))}, bytes.NewReader(mj)); err != nil {
		return nil, err
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return nil, fmt.Errorf("unpack bundle: %w", err)
		}
	}
	return m, nil
}

func writeFile(target string, f File, r io.Reader) error {
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(f.Mode))
	if err != nil {
		return fmt.Errorf("unpack bundle: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(r, f.Size))
	if err == nil && n != f.Size {
		err = fmt.Errorf("%w: %s: %d bytes, manifest says %d", ErrBadBundle, f.Path, n, f.Size)
	}
	if err == nil && f.SHA256 != "" && hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		err = fmt.Errorf("%w: %s: SHA-256 differs from the manifest", ErrBadBundle, f.Path)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("unpack bundle: write %s: %w", target, err)
	}
	return nil
}

func syncDir(d string) error {
	f, err := os.Open(d)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// LoadManifest reads the manifest of an unpacked bundle in dir.
func LoadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: load manifest %s: %v", ErrBadBundle, dir, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("load manifest %s: %w", dir, err)
	}
	return &m, nil
}

// Check verifies that every file of the unpacked bundle in dir is present
// with the size and hash its manifest gives. It returns the manifest.
func Check(dir string) (*Manifest, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range m.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", dir, err)
		}
		if st.Size() != f.Size {
			return nil, fmt.Errorf("%w: check %s: %s is %d bytes, manifest says %d", ErrBadBundle, dir, f.Path, st.Size(), f.Size)
		}
		sum, err := hashFile(p)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", dir, err)
		}
		if sum != f.SHA256 {
			return nil, fmt.Errorf("%w: check %s: %s differs from the manifest", ErrBadBundle, dir, f.Path)
		}
	}
	return m, nil
}

// Verify reads an uncompressed bundle tar stream to its end, checking the
// manifest and every file against it, without writing anything.
func Verify(r io.Reader) error {
	m, tr, err := ReadManifest(r)
	if err != nil {
		return err
	}
	for i, f := range m.Files {
		hdr, err := tr.Next()
		if err != nil {
			return fmt.Errorf("%w: entry %d (%s): %v", ErrBadBundle, i+1, f.Path, err)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Name != f.Path || hdr.Size != f.Size {
			return fmt.Errorf("%w: entry %d is %q, manifest says %q (%d bytes)", ErrBadBundle, i+1, hdr.Name, f.Path, f.Size)
		}
		h := sha256.New()
		if _, err := io.Copy(h, tr); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadBundle, f.Path, err)
		}
		if hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
			return fmt.Errorf("%w: %s: SHA-256 differs from the manifest", ErrBadBundle, f.Path)
		}
	}
	if _, err := tr.Next(); err != io.EOF {
		return fmt.Errorf("%w: entries after the last file in the manifest", ErrBadBundle)
	}
	return nil
}

package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/release/bundle"
	"accesskiosk/fleet/release/target"
)

// Factory is the release the Debian packages installed (the binaries in
// /usr/bin and their units): the first release of a device, and the one it
// falls back to when the update directory holds no usable release.
type Factory struct {
	// Version names the release (the packages' version).
	Version string
	// Files maps a bundle path ("bin/agent", "units/accesskiosk-agent.service")
	// to the installed file it is copied from. Missing files are left out
	// (a device with the agent package but not the kiosk's).
	Files map[string]string
	// Units are the units to restart after switching to this release (on a
	// rollback to it); only those whose "units/NAME" file is in the release
	// are kept.
	Units []string
}

// Usable returns the version current points at when that release is
// complete: current is a link into releases/, the release's manifest loads
// and matches its version, and every file the manifest lists is there with
// its size. ok is false otherwise (no current, a dangling or foreign link,
// a release damaged from outside).
func (u *Updater) Usable() (version string, ok bool) {
	u.run.Lock()
	defer u.run.Unlock()
	return u.usable()
}

func (u *Updater) usable() (string, bool) {
	v, err := u.linkVersion(currentLink)
	if err != nil || v == "" {
		return "", false
	}
	dir := u.releaseDir(v)
	m, err := bundle.LoadManifest(dir)
	if err != nil || m.Version != v {
		return v, false
	}
	for _, f := range m.Files {
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != f.Size {
			return v, false
		}
	}
	return v, true
}

// Seed makes the factory release current when no usable release is (see
// Usable): on a device's first start, after a plain `apt install` of the
// packages, or when the update directory was damaged. It returns the
// current version and whether it laid the factory release down. A usable
// current release is never touched.
//
// It is safe against power cuts at any point: the release is built and
// unpacked in staging/ (which Recover empties), renamed into releases/, and
// only then is current pointed at it by an atomic symlink rename. Until
// then the units run the packaged binaries themselves (the units' launcher
// falls back to them), so there is always something to run.
func (u *Updater) Seed(ctx context.Context, f Factory) (string, bool, error) {
	u.run.Lock()
	defer u.run.Unlock()
	if v, ok := u.usable(); ok {
		return v, false, nil
	}
	if !bundle.ValidVersion(f.Version) {
		return "", false, fmt.Errorf("seed the factory release: %q is not a release version", f.Version)
	}
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	broken, _ := u.linkVersion(currentLink)
	if _, err := os.Lstat(filepath.Join(u.cfg.Dir, currentLink)); err == nil {
		u.log.WithField("current", broken).Warn("the current release is damaged or incomplete; laying down the factory release")
	}
	tree := filepath.Join(u.cfg.Dir, stagingDir, "factory-tree")
	os.RemoveAll(tree)
	defer os.RemoveAll(tree)
	paths := make([]string, 0, len(f.Files))
	for p := range f.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	have := map[string]bool{}
	for _, p := range paths {
		if p != filepath.ToSlash(filepath.Clean(p)) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "..") {
			return "", false, fmt.Errorf("seed the factory release: %q is not a relative bundle path", p)
		}
		copied, err := copyFactoryFile(f.Files[p], filepath.Join(tree, filepath.FromSlash(p)))
		if err != nil {
			return "", false, fmt.Errorf("seed the factory release: %s: %w", p, err)
		}
		have[p] = copied
	}
	var units []string
	for _, un := range f.Units {
		if have["units/"+un] {
			units = append(units, un)
		}
	}
	anyBin := false
	for p, ok := range have {
		anyBin = anyBin || (ok && strings.HasPrefix(p, "bin/"))
	}
	if !anyBin {
		return "", false, fmt.Errorf("seed the factory release: none of its programs is installed (%v)", f.Files)
	}

	tarPath := u.stagedTar(f.Version)
	tmp := tarPath + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return "", false, fmt.Errorf("seed the factory release: %w", err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(out, h)}
	m, err := bundle.BuildTar(cw, tree, bundle.Options{Version: f.Version, Arch: u.cfg.Arch, Units: units})
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, tarPath)
	}
	if err != nil {
		os.Remove(tmp)
		return "", false, fmt.Errorf("seed the factory release: %w", err)
	}
	u.hook("seed:tar")
	// A leftover of an earlier try (or the damaged release itself) goes;
	// unpack renames a complete copy into place.
	if err := os.RemoveAll(u.releaseDir(f.Version)); err != nil {
		return "", false, fmt.Errorf("seed the factory release: %w", err)
	}
	c := target.Custom{Kind: target.KindBundle, Version: f.Version, Arch: u.cfg.Arch, TarSHA256: hex.EncodeToString(h.Sum(nil)), TarLength: cw.n, UnpackedBytes: m.Size()}
	if err := u.unpack(tarPath, u.releaseDir(f.Version), c); err != nil {
		return "", false, fmt.Errorf("seed the factory release: %w", err)
	}
	if err := u.pointLink(currentLink, f.Version); err != nil {
		return "", false, fmt.Errorf("seed the factory release: %w", err)
	}
	u.hook("seed:linked")
	// Whatever switch was under way pointed at a release that is gone.
	u.st.Phase, u.st.Restarted, u.st.SwitchedUnixMs, u.st.RestartIndex, u.st.RollbackReason, u.st.RollbackDetail = phaseIdle, false, 0, 0, "", ""
	if err := u.saveState(); err != nil {
		return "", false, fmt.Errorf("seed the factory release: %w", err)
	}
	u.cleanup(f.Version, "")
	u.log.WithFields(logrus.Fields{"version": f.Version, "files": len(m.Files)}).Info("factory release laid down as the current release")
	return f.Version, true, nil
}

// copyFactoryFile copies src to dst (making its directory), keeping the
// execute bits; it returns false, with no error, when src does not exist.
func copyFactoryFile(src, dst string) (bool, error) {
	in, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s is not a regular file", src)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, err
	}
	mode := os.FileMode(0o644)
	if fi.Mode()&0o111 != 0 {
		mode = 0o755
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return false, err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err == nil, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

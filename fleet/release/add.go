package release

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"accesskiosk/fleet/release/bundle"
	"accesskiosk/fleet/release/target"
)

// Release is one bundle in the repository.
type Release struct {
	Target string
	target.Custom
	Length int64
	// Delta is the delta target to this release, "" if none; DeltaLength its size.
	Delta       string
	DeltaLength int64
}

// Releases lists the repository's bundles, newest (highest serial) first.
func (r *Repo) Releases() []Release {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil { // another process may have added one
		r.opt.Log.WithError(err).Warn("listing releases from memory")
	}
	return r.releasesLocked()
}

func (r *Repo) releasesLocked() []Release {
	var out []Release
	deltas := map[string]Release{}
	for name, tf := range r.targets.Signed.Targets {
		c, err := target.ParseCustom(tf)
		if err != nil {
			continue
		}
		rel := Release{Target: name, Custom: c, Length: tf.Length}
		if c.Kind == target.KindDelta {
			deltas[c.Arch+"/"+c.Version] = rel
			continue
		}
		out = append(out, rel)
	}
	for i := range out {
		if d, ok := deltas[out[i].Arch+"/"+out[i].Version]; ok {
			out[i].Delta, out[i].DeltaLength = d.Target, d.Length
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Serial != out[j].Serial {
			return out[i].Serial > out[j].Serial
		}
		return out[i].Arch < out[j].Arch
	})
	return out
}

// ErrReleaseExists is returned by Add for a version already in the
// repository for the bundle's architecture.
var ErrReleaseExists = errors.New("release already exists")

// Add copies the bundle file into the repository, signs it (and, when a
// previous release of the same architecture exists, a delta from it) with
// the offline targets key in offlineDir, and publishes new snapshot and
// timestamp metadata. The bundle is checked first: a bad bundle is refused
// and nothing changes.
func (r *Repo) Add(offlineDir, bundlePath string) (Release, error) {
	targetsKey, err := loadKey(offlineDir, metadata.TARGETS)
	if err != nil {
		return Release{}, fmt.Errorf("add release: %w", err)
	}
	m, err := bundle.ReadFileManifest(bundlePath)
	if err != nil {
		return Release{}, fmt.Errorf("add release: %w", err)
	}
	unlock, err := r.lock()
	if err != nil {
		return Release{}, fmt.Errorf("add release: %w", err)
	}
	defer unlock()
	name := target.BundleTarget(m.Arch, m.Version)
	if _, ok := r.targets.Signed.Targets[name]; ok {
		return Release{}, fmt.Errorf("add release %s for %s: %w", m.Version, m.Arch, ErrReleaseExists)
	}
	var serial int64
	var prev *Release
	for _, rel := range r.releasesLocked() {
		serial = max(serial, rel.Serial)
		if rel.Arch == m.Arch && prev == nil {
			p := rel
			prev = &p
		}
	}
	serial++

	// Hash the bundle and its tar while checking every file against the manifest.
	tarSum, tarLen, err := checkBundle(bundlePath)
	if err != nil {
		return Release{}, fmt.Errorf("add release %s: %w", bundlePath, err)
	}
	custom := target.Custom{Kind: target.KindBundle, Version: m.Version, Arch: m.Arch, Serial: serial, TarSHA256: tarSum, TarLength: tarLen, UnpackedBytes: m.Size()}
	tf, err := r.storeTarget(name, bundlePath, custom)
	if err != nil {
		return Release{}, fmt.Errorf("add release: %w", err)
	}
	added := map[string]*metadata.TargetFiles{name: tf}
	rel := Release{Target: name, Custom: custom, Length: tf.Length}

	if prev != nil && prev.TarLength <= r.opt.MaxDeltaBase {
		dname := target.DeltaTarget(m.Arch, prev.Version, m.Version)
		dtf, err := r.makeDelta(prev, bundlePath, dname, custom)
		switch {
		case err != nil:
			r.opt.Log.WithError(err).WithField("from", prev.Version).Warn("no delta for this release; devices download the full bundle")
		case dtf != nil:
			added[dname] = dtf
			rel.Delta, rel.DeltaLength = dname, dtf.Length
		}
	}
	for n, t := range added {
		r.targets.Signed.Targets[n] = t
	}
	if err := r.publishTargets(targetsKey, true); err != nil {
		for n := range added {
			delete(r.targets.Signed.Targets, n)
		}
		r.targets.Signed.Version--
		return Release{}, fmt.Errorf("add release: %w", err)
	}
	r.opt.Log.WithFields(logrus.Fields{"version": m.Version, "arch": m.Arch, "serial": serial, "bytes": tf.Length, "delta_bytes": rel.DeltaLength}).Info("release added")
	return rel, nil
}

// checkBundle decompresses a bundle file, unpacking nothing but checking
// its manifest and every file, and returns the SHA-256 and length of its tar.
func checkBundle(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	zr, err := bundle.NewDecoder(f)
	if err != nil {
		return "", 0, err
	}
	defer zr.Close()
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(zr, h)}
	if err := bundle.Verify(cr); err != nil {
		return "", 0, err
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), cr.n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// storeTarget copies src into the repository's storage under its
// consistent snapshot name and returns its signed description.
func (r *Repo) storeTarget(name, src string, c target.Custom) (*metadata.TargetFiles, error) {
	in, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	h256, h512 := sha256.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(h256, h512), in)
	if err != nil {
		return nil, fmt.Errorf("store target %s: %w", name, err)
	}
	sum := h256.Sum(nil)
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	ctx, cancel := bg()
	defer cancel()
	// The content must be what was hashed: a file changed meanwhile is refused.
	put, err := r.st.PutFile(ctx, targetName(name, hex.EncodeToString(sum)), &hashCheck{r: io.LimitReader(in, n), h: sha256.New(), want: sum, n: n})
	if err != nil {
		return nil, fmt.Errorf("store target %s: %w", name, err)
	}
	if put != n {
		return nil, fmt.Errorf("store target %s: stored %d bytes of %d", name, put, n)
	}
	cj, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	raw := json.RawMessage(cj)
	return &metadata.TargetFiles{Length: n, Hashes: metadata.Hashes{"sha256": sum, "sha512": h512.Sum(nil)}, Custom: &raw, Path: name}, nil
}

// hashCheck reads n bytes from r and fails at the end unless they hash to want.
type hashCheck struct {
	r    io.Reader
	h    hash.Hash
	want []byte
	n    int64
	read int64
}

func (c *hashCheck) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.read += int64(n)
	if err == io.EOF && (c.read != c.n || !bytes.Equal(c.h.Sum(nil), c.want)) {
		return n, errors.New("the file changed while it was being added")
	}
	return n, err
}

// targetFile returns the storage name of a target already in the metadata.
func (r *Repo) targetFile(name string) (string, error) {
	tf, ok := r.targets.Signed.Targets[name]
	if !ok {
		return "", fmt.Errorf("target %s not in the repository", name)
	}
	return targetName(name, hex.EncodeToString(tf.Hashes["sha256"])), nil
}

// makeDelta writes a patch-from delta of the new bundle's tar against the
// previous release's tar. It returns nil (no delta) when the delta is not
// clearly smaller than the full bundle.
func (r *Repo) makeDelta(prev *Release, bundlePath, name string, c target.Custom) (*metadata.TargetFiles, error) {
	prevFile, err := r.targetFile(prev.Target)
	if err != nil {
		return nil, err
	}
	oldTar, err := r.readTar(prevFile, prev.TarLength)
	if err != nil {
		return nil, fmt.Errorf("read previous release %s: %w", prev.Version, err)
	}
	in, err := os.Open(bundlePath)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	zr, err := bundle.NewDecoder(in)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	tmp, err := os.CreateTemp("", "accesskiosk-delta-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := target.EncodeDelta(tmp, zr, oldTar); err != nil {
		return nil, err
	}
	full, err := os.Stat(bundlePath)
	if err != nil {
		return nil, err
	}
	st, err := tmp.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() >= full.Size()*9/10 {
		r.opt.Log.WithFields(logrus.Fields{"delta_bytes": st.Size(), "full_bytes": full.Size()}).Info("delta not smaller than the bundle; skipped")
		return nil, nil
	}
	c.Kind, c.From = target.KindDelta, prev.Version
	return r.storeTarget(name, tmp.Name(), c)
}

// readTar decompresses a stored bundle into memory, refusing more than limit bytes.
func (r *Repo) readTar(name string, limit int64) ([]byte, error) {
	ctx, cancel := bg()
	defer cancel()
	f, err := r.st.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := bundle.NewDecoder(f)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(zr, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) != limit {
		return nil, fmt.Errorf("tar is %d bytes, metadata says %d", buf.Len(), limit)
	}
	return buf.Bytes(), nil
}

// From returns the version a release's delta applies to ("" without one).
func (r Release) From() string {
	if r.Delta == "" {
		return ""
	}
	parts := strings.Split(r.Delta, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[len(parts)-2]
}

// HasVersion reports whether the repository holds a release of version v.
func (r *Repo) HasVersion(v string) bool {
	for _, rel := range r.Releases() {
		if rel.Version == v {
			return true
		}
	}
	return false
}

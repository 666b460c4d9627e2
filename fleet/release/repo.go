// Package release is the fleet's side of updates: a TUF repository of
// signed release bundles (github.com/theupdateframework/go-tuf/v2), an
// http.Handler that serves its metadata and targets with Range support, and
// a rollout engine that decides which release each device should run.
//
// # Keys
//
// Root and targets keys are offline: GenerateOfflineKeys writes them to a
// directory IT staff keep on removable media, and only Init, Add and Rotate
// read them. Snapshot and timestamp keys are online: Init writes them into
// the repository directory and the fleet server re-signs snapshot and
// timestamp by itself before they expire (Repo.Refresh). Every role has one
// Ed25519 key and threshold 1; Rotate replaces a role's key with a new root
// version signed by the old and the new root keys, so devices follow the
// chain from the root their image carries.
//
// # Layout of the repository directory
//
//	keys/snapshot.key, keys/timestamp.key   online keys (0600)
//	metadata/N.root.json, root.json         every root version, and the newest
//	metadata/N.targets.json, N.snapshot.json, timestamp.json
//	targets/ARCH/HASH.VERSION.tar.zst        full bundles (consistent snapshot names)
//	targets/ARCH/delta/FROM/HASH.TO.zst      zstd patch-from deltas
//
// # Targets
//
// Package target defines the targets' names, their signed custom metadata
// and the delta format; package bundle the bundles. Add gives every release
// a serial that increases with every release added (devices refuse a serial
// lower than the one they run: the rollback defence for releases) and, when
// a previous release of the same architecture exists, a delta from it.
package release

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"accesskiosk/fleet/release/target"
	"accesskiosk/internal/atomicfile"

	"accesskiosk/fleet/release/bundle"
)

// Expiry of each role's metadata when signed.
type Expiry struct {
	Root, Targets, Snapshot, Timestamp time.Duration
}

// DefaultExpiry: offline roles last a year (IT staff re-sign with Add or
// Rotate); snapshot a week and timestamp a day, re-signed by the fleet.
var DefaultExpiry = Expiry{Root: 365 * 24 * time.Hour, Targets: 365 * 24 * time.Hour, Snapshot: 7 * 24 * time.Hour, Timestamp: 24 * time.Hour}

// Options configure a Repo. The zero value uses DefaultExpiry, the real
// clock and a discarding logger.
type Options struct {
	Expiry Expiry
	Now    func() time.Time
	Log    *logrus.Entry
	// MaxDeltaBase bounds the size of the previous tar used as a delta
	// dictionary (it is held in memory). 0 means 512 MiB.
	MaxDeltaBase int64
}

// Repo is a TUF repository in a directory. It is safe for concurrent use.
type Repo struct {
	dir string
	opt Options

	mu        sync.Mutex
	root      *metadata.Metadata[metadata.RootType]
	targets   *metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]
	online    map[string]*signingKey
}

func (o *Options) fill() {
	if o.Expiry == (Expiry{}) {
		o.Expiry = DefaultExpiry
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		o.Log = logrus.NewEntry(l)
	}
	if o.MaxDeltaBase == 0 {
		o.MaxDeltaBase = 512 << 20
	}
}

func (r *Repo) metaDir() string    { return filepath.Join(r.dir, "metadata") }
func (r *Repo) targetsDir() string { return filepath.Join(r.dir, "targets") }
func (r *Repo) keysDir() string    { return filepath.Join(r.dir, "keys") }

// GenerateOfflineKeys writes new root and targets keys into dir (created
// 0700). It refuses to overwrite existing keys.
func GenerateOfflineKeys(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("generate offline keys: %w", err)
	}
	for _, role := range OfflineRoles {
		if _, err := os.Stat(filepath.Join(dir, role+keyFileSuffix)); err == nil {
			return fmt.Errorf("generate offline keys: %s: %w", role, ErrKeyExists)
		}
	}
	for _, role := range OfflineRoles {
		if _, err := generateKey(dir, role); err != nil {
			return fmt.Errorf("generate offline keys: %w", err)
		}
	}
	return nil
}

// Init creates a repository in dir (which must be empty or absent) trusting
// the offline keys in offlineDir, with new online keys, and returns it.
func Init(dir, offlineDir string, opt Options) (*Repo, error) {
	opt.fill()
	r := &Repo{dir: dir, opt: opt, online: map[string]*signingKey{}}
	if _, err := os.Stat(filepath.Join(r.metaDir(), "root.json")); err == nil {
		return nil, fmt.Errorf("init release repository %s: already initialised", dir)
	}
	for _, d := range []string{r.keysDir(), r.metaDir(), r.targetsDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("init release repository: %w", err)
		}
	}
	keys := map[string]*signingKey{}
	for _, role := range OfflineRoles {
		k, err := loadKey(offlineDir, role)
		if err != nil {
			return nil, fmt.Errorf("init release repository: %w", err)
		}
		keys[role] = k
	}
	for _, role := range OnlineRoles {
		k, err := generateKey(r.keysDir(), role)
		if err != nil {
			return nil, fmt.Errorf("init release repository: %w", err)
		}
		keys[role] = k
		r.online[role] = k
	}
	now := opt.Now().UTC()
	r.root = metadata.Root(now.Add(opt.Expiry.Root))
	for role, k := range keys {
		if err := r.root.Signed.AddKey(k.tuf, role); err != nil {
			return nil, fmt.Errorf("init release repository: %w", err)
		}
	}
	r.targets = metadata.Targets(now.Add(opt.Expiry.Targets))
	r.snapshot = metadata.Snapshot(now.Add(opt.Expiry.Snapshot))
	r.timestamp = metadata.Timestamp(now.Add(opt.Expiry.Timestamp))
	if err := r.writeRoot(keys[metadata.ROOT]); err != nil {
		return nil, fmt.Errorf("init release repository: %w", err)
	}
	if err := r.publishTargets(keys[metadata.TARGETS], false); err != nil {
		return nil, fmt.Errorf("init release repository: %w", err)
	}
	return r, nil
}

// Open loads the repository in dir with its online keys.
func Open(dir string, opt Options) (*Repo, error) {
	opt.fill()
	r := &Repo{dir: dir, opt: opt, online: map[string]*signingKey{}}
	var err error
	if r.root, err = new(metadata.Metadata[metadata.RootType]).FromFile(filepath.Join(r.metaDir(), "root.json")); err != nil {
		return nil, fmt.Errorf("open release repository %s (run `fleet release init` first): %w", dir, err)
	}
	if r.targets, err = new(metadata.Metadata[metadata.TargetsType]).FromFile(filepath.Join(r.metaDir(), "targets.json")); err != nil {
		return nil, fmt.Errorf("open release repository %s: %w", dir, err)
	}
	if r.snapshot, err = new(metadata.Metadata[metadata.SnapshotType]).FromFile(filepath.Join(r.metaDir(), "snapshot.json")); err != nil {
		return nil, fmt.Errorf("open release repository %s: %w", dir, err)
	}
	if r.timestamp, err = new(metadata.Metadata[metadata.TimestampType]).FromFile(filepath.Join(r.metaDir(), "timestamp.json")); err != nil {
		return nil, fmt.Errorf("open release repository %s: %w", dir, err)
	}
	for _, role := range OnlineRoles {
		k, err := loadKey(r.keysDir(), role)
		if err != nil {
			return nil, fmt.Errorf("open release repository %s: %w", dir, err)
		}
		if !contains(r.root.Signed.Roles[role].KeyIDs, k.id) {
			return nil, fmt.Errorf("open release repository %s: %s key %s is not trusted by root v%d", dir, role, k.id, r.root.Signed.Version)
		}
		r.online[role] = k
	}
	return r, nil
}

// Dir is the repository directory.
func (r *Repo) Dir() string { return r.dir }

// RootJSON returns the newest signed root metadata: what an image carries
// as its trusted root.
func (r *Repo) RootJSON() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r.root.ToBytes(true)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// writeRoot signs root with the given keys and writes N.root.json and root.json.
func (r *Repo) writeRoot(keys ...*signingKey) error {
	r.root.ClearSignatures()
	for _, k := range keys {
		s, err := k.signer()
		if err != nil {
			return err
		}
		if _, err := r.root.Sign(s); err != nil {
			return fmt.Errorf("sign root: %w", err)
		}
	}
	data, err := r.root.ToBytes(true)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(r.metaDir(), fmt.Sprintf("%d.root.json", r.root.Signed.Version)), data, 0o644); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(r.metaDir(), "root.json"), data, 0o644)
}

func sign[T metadata.Roles](m *metadata.Metadata[T], k *signingKey) error {
	m.ClearSignatures()
	s, err := k.signer()
	if err != nil {
		return err
	}
	_, err = m.Sign(s)
	return err
}

// publishTargets signs targets (bumping its version when bump) with the
// offline targets key, then a new snapshot and timestamp with the online
// keys, and writes them in the order a client reads them backwards:
// targets, snapshot, timestamp.
func (r *Repo) publishTargets(targetsKey *signingKey, bump bool) error {
	if !contains(r.root.Signed.Roles[metadata.TARGETS].KeyIDs, targetsKey.id) {
		return fmt.Errorf("targets key %s is not the one root v%d trusts", targetsKey.id, r.root.Signed.Version)
	}
	now := r.opt.Now().UTC()
	if bump {
		r.targets.Signed.Version++
	}
	r.targets.Signed.Expires = now.Add(r.opt.Expiry.Targets)
	if err := sign(r.targets, targetsKey); err != nil {
		return fmt.Errorf("sign targets: %w", err)
	}
	data, err := r.targets.ToBytes(true)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(r.metaDir(), fmt.Sprintf("%d.targets.json", r.targets.Signed.Version)), data, 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(r.metaDir(), "targets.json"), data, 0o644); err != nil {
		return err
	}
	return r.publishSnapshot(now, bump)
}

func (r *Repo) publishSnapshot(now time.Time, bump bool) error {
	if bump {
		r.snapshot.Signed.Version++
	}
	r.snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(r.targets.Signed.Version)
	r.snapshot.Signed.Expires = now.Add(r.opt.Expiry.Snapshot)
	if err := sign(r.snapshot, r.online[metadata.SNAPSHOT]); err != nil {
		return fmt.Errorf("sign snapshot: %w", err)
	}
	data, err := r.snapshot.ToBytes(true)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(r.metaDir(), fmt.Sprintf("%d.snapshot.json", r.snapshot.Signed.Version)), data, 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(r.metaDir(), "snapshot.json"), data, 0o644); err != nil {
		return err
	}
	return r.publishTimestamp(now, bump)
}

func (r *Repo) publishTimestamp(now time.Time, bump bool) error {
	if bump {
		r.timestamp.Signed.Version++
	}
	r.timestamp.Signed.Meta["snapshot.json"] = metadata.MetaFile(r.snapshot.Signed.Version)
	r.timestamp.Signed.Expires = now.Add(r.opt.Expiry.Timestamp)
	if err := sign(r.timestamp, r.online[metadata.TIMESTAMP]); err != nil {
		return fmt.Errorf("sign timestamp: %w", err)
	}
	data, err := r.timestamp.ToBytes(true)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(r.metaDir(), "timestamp.json"), data, 0o644)
}

// Refresh re-signs snapshot and timestamp with the online keys when less
// than half of their lifetime is left. The fleet calls it periodically; the
// Handler calls it too before serving timestamp.json.
func (r *Repo) Refresh() error {
	if !r.needsRefresh() {
		return nil
	}
	unlock, err := r.lock()
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	defer unlock()
	now := r.opt.Now().UTC()
	switch {
	case r.snapshot.Signed.Expires.Sub(now) < r.opt.Expiry.Snapshot/2:
		r.opt.Log.WithField("snapshot_version", r.snapshot.Signed.Version+1).Info("re-signing snapshot and timestamp before they expire")
		if err := r.publishSnapshot(now, true); err != nil {
			return fmt.Errorf("refresh snapshot: %w", err)
		}
	case r.timestamp.Signed.Expires.Sub(now) < r.opt.Expiry.Timestamp/2:
		r.opt.Log.WithField("timestamp_version", r.timestamp.Signed.Version+1).Info("re-signing timestamp before it expires")
		if err := r.publishTimestamp(now, true); err != nil {
			return fmt.Errorf("refresh timestamp: %w", err)
		}
	}
	return nil
}

func (r *Repo) needsRefresh() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opt.Now().UTC()
	return r.snapshot.Signed.Expires.Sub(now) < r.opt.Expiry.Snapshot/2 ||
		r.timestamp.Signed.Expires.Sub(now) < r.opt.Expiry.Timestamp/2
}

// lock takes the repository for a change: the in-process mutex and an
// exclusive flock on DIR/.lock, so `fleet release add` in one process and
// the serving fleet re-signing the timestamp in another never interleave.
// It then reloads the metadata and online keys from disk, which are the
// truth another process may have changed.
func (r *Repo) lock() (func(), error) {
	r.mu.Lock()
	f, err := os.OpenFile(filepath.Join(r.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		r.mu.Unlock()
		return nil, fmt.Errorf("lock %s: %w", r.dir, err)
	}
	unlock := func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		r.mu.Unlock()
	}
	if err := r.reload(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// reload reads the newest metadata and the online keys from disk.
func (r *Repo) reload() error {
	root, err := new(metadata.Metadata[metadata.RootType]).FromFile(filepath.Join(r.metaDir(), "root.json"))
	if err != nil {
		return fmt.Errorf("reload root: %w", err)
	}
	targets, err := new(metadata.Metadata[metadata.TargetsType]).FromFile(filepath.Join(r.metaDir(), "targets.json"))
	if err != nil {
		return fmt.Errorf("reload targets: %w", err)
	}
	snapshot, err := new(metadata.Metadata[metadata.SnapshotType]).FromFile(filepath.Join(r.metaDir(), "snapshot.json"))
	if err != nil {
		return fmt.Errorf("reload snapshot: %w", err)
	}
	timestamp, err := new(metadata.Metadata[metadata.TimestampType]).FromFile(filepath.Join(r.metaDir(), "timestamp.json"))
	if err != nil {
		return fmt.Errorf("reload timestamp: %w", err)
	}
	online := map[string]*signingKey{}
	for _, role := range OnlineRoles {
		k, err := loadKey(r.keysDir(), role)
		if err != nil {
			return err
		}
		online[role] = k
	}
	r.root, r.targets, r.snapshot, r.timestamp, r.online = root, targets, snapshot, timestamp, online
	return nil
}

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

// storeTarget copies src into the targets directory under its consistent
// snapshot name and returns its signed description.
func (r *Repo) storeTarget(name, src string, c target.Custom) (*metadata.TargetFiles, error) {
	in, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(r.targetsDir(), ".add-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	h256, h512 := sha256.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(tmp, h256, h512), in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("store target %s: %w", name, err)
	}
	sum := h256.Sum(nil)
	dst := filepath.Join(r.targetsDir(), filepath.FromSlash(target.TargetPath(name, hex.EncodeToString(sum))))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return nil, fmt.Errorf("store target %s: %w", name, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dst)); err != nil {
		return nil, err
	}
	cj, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	raw := json.RawMessage(cj)
	return &metadata.TargetFiles{Length: n, Hashes: metadata.Hashes{"sha256": sum, "sha512": h512.Sum(nil)}, Custom: &raw, Path: name}, nil
}

// targetFile returns the stored file of a target already in the metadata.
func (r *Repo) targetFile(name string) (string, error) {
	tf, ok := r.targets.Signed.Targets[name]
	if !ok {
		return "", fmt.Errorf("target %s not in the repository", name)
	}
	return filepath.Join(r.targetsDir(), filepath.FromSlash(target.TargetPath(name, hex.EncodeToString(tf.Hashes["sha256"])))), nil
}

// makeDelta writes a patch-from delta of the new bundle's tar against the
// previous release's tar. It returns nil (no delta) when the delta is not
// clearly smaller than the full bundle.
func (r *Repo) makeDelta(prev *Release, bundlePath, name string, c target.Custom) (*metadata.TargetFiles, error) {
	prevFile, err := r.targetFile(prev.Target)
	if err != nil {
		return nil, err
	}
	oldTar, err := readTar(prevFile, prev.TarLength)
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
	tmp, err := os.CreateTemp(r.targetsDir(), ".delta-*")
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
func readTar(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
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

// Rotate replaces the key of role (root, targets, snapshot or timestamp)
// with a new one. The new root version is signed by the old root key and,
// for a root rotation, also by the new one, so devices holding the old
// root accept it. Offline keys are rewritten in offlineDir (the old key is
// kept as ROLE.key.old), online keys in the repository. Targets, snapshot
// and timestamp are re-signed.
func (r *Repo) Rotate(offlineDir, role string) error {
	unlock, err := r.lock()
	if err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	defer unlock()
	oldRoot, err := loadKey(offlineDir, metadata.ROOT)
	if err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	targetsKey, err := loadKey(offlineDir, metadata.TARGETS)
	if err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	var dir string
	switch role {
	case metadata.ROOT, metadata.TARGETS:
		dir = offlineDir
	case metadata.SNAPSHOT, metadata.TIMESTAMP:
		dir = r.keysDir()
	default:
		return fmt.Errorf("rotate key: unknown role %q (root, targets, snapshot, timestamp)", role)
	}
	old, err := loadKey(dir, role)
	if err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	keyName := filepath.Join(dir, role+keyFileSuffix)
	if err := os.Rename(keyName, keyName+".old"); err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	nk, err := generateKey(dir, role)
	if err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	if err := r.root.Signed.RevokeKey(old.id, role); err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	if err := r.root.Signed.AddKey(nk.tuf, role); err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	r.root.Signed.Version++
	r.root.Signed.Expires = r.opt.Now().UTC().Add(r.opt.Expiry.Root)
	signers := []*signingKey{oldRoot}
	switch role {
	case metadata.ROOT:
		signers = append(signers, nk)
	case metadata.TARGETS:
		targetsKey = nk
	default:
		r.online[role] = nk
	}
	if err := r.writeRoot(signers...); err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	if err := r.publishTargets(targetsKey, true); err != nil {
		return fmt.Errorf("rotate %s key: %w", role, err)
	}
	r.opt.Log.WithFields(logrus.Fields{"role": role, "root_version": r.root.Signed.Version}).Info("key rotated")
	return nil
}

// Resign re-signs targets with a fresh expiry using the offline targets key
// (IT staff run it before the targets metadata expires).
func (r *Repo) Resign(offlineDir string) error {
	k, err := loadKey(offlineDir, metadata.TARGETS)
	if err != nil {
		return fmt.Errorf("re-sign targets: %w", err)
	}
	unlock, err := r.lock()
	if err != nil {
		return fmt.Errorf("re-sign targets: %w", err)
	}
	defer unlock()
	return r.publishTargets(k, true)
}

func validVersion(v string) bool { return bundle.ValidVersion(v) }

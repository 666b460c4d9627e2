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
// # Layout of the repository's files
//
// A Storage keeps them: a directory on one fleet server (DirStorage), or
// the shared PostgreSQL for several replicas (fleet/store.ReleaseFiles).
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
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/theupdateframework/go-tuf/v2/metadata"
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

// Repo is a TUF repository whose files a Storage keeps. It is safe for
// concurrent use, and several processes (or replicas, with a shared
// Storage) may use one repository: changes take the Storage's lock and
// start from the files as stored.
type Repo struct {
	st  Storage
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

// RepoDir is where the fleet keeps its release repository inside its data directory.
func RepoDir(dataDir string) string { return filepath.Join(dataDir, "release") }

// bg is the context of storage calls made by Repo methods that take none;
// every storage call is bounded.
func bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Minute)
}

func (r *Repo) readFile(name string) ([]byte, error) {
	ctx, cancel := bg()
	defer cancel()
	return r.st.ReadFile(ctx, name)
}

func (r *Repo) writeFile(name string, data []byte, private bool) error {
	ctx, cancel := bg()
	defer cancel()
	return r.st.WriteFile(ctx, name, data, private)
}

// readMeta reads metadata/NAME from the repository's storage.
func readMeta[T metadata.Roles](r *Repo, name string) (*metadata.Metadata[T], error) {
	data, err := r.readFile(metaPrefix + name)
	if err != nil {
		return nil, err
	}
	return new(metadata.Metadata[T]).FromBytes(data)
}

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
	return InitStorage(DirStorage(dir), offlineDir, opt)
}

// InitStorage creates a repository in st (which must hold none) trusting
// the offline keys in offlineDir, with new online keys, and returns it.
func InitStorage(st Storage, offlineDir string, opt Options) (*Repo, error) {
	opt.fill()
	r := &Repo{st: st, opt: opt, online: map[string]*signingKey{}}
	unlock, err := r.lockStorage()
	if err != nil {
		return nil, fmt.Errorf("init release repository %s: %w", st, err)
	}
	defer unlock()
	if _, err := r.readFile(metaPrefix + "root.json"); err == nil {
		return nil, fmt.Errorf("init release repository %s: already initialised", st)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("init release repository %s: %w", st, err)
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
		k, err := r.generateOnlineKey(role, false)
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
	return OpenStorage(DirStorage(dir), opt)
}

// ErrNoRepository is returned by Open and OpenStorage when the storage
// holds no repository (`fleet release init` makes one).
var ErrNoRepository = errors.New("no release repository")

// OpenStorage loads the repository kept in st with its online keys.
func OpenStorage(st Storage, opt Options) (*Repo, error) {
	opt.fill()
	r := &Repo{st: st, opt: opt, online: map[string]*signingKey{}}
	if _, err := r.readFile(metaPrefix + "root.json"); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open release repository %s (run `fleet release init` first): %w", st, ErrNoRepository)
	}
	if err := r.reload(); err != nil {
		return nil, fmt.Errorf("open release repository %s: %w", st, err)
	}
	for role, k := range r.online {
		if !contains(r.root.Signed.Roles[role].KeyIDs, k.id) {
			return nil, fmt.Errorf("open release repository %s: %s key %s is not trusted by root v%d", st, role, k.id, r.root.Signed.Version)
		}
	}
	return r, nil
}

// Dir is the repository directory ("" when its storage is not a directory).
func (r *Repo) Dir() string {
	if d, ok := r.st.(DirStorage); ok {
		return string(d)
	}
	return ""
}

// Storage is where the repository keeps its files.
func (r *Repo) Storage() Storage { return r.st }

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

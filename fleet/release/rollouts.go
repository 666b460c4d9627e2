package release

import (
	"accesskiosk/internal/atomicfile"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// RolloutFile keeps a fleet's rollouts in one JSON file (newest first)
// beside the repository, for fleets whose store does not hold them. It
// re-reads the file when it changes, so `fleet release rollout ...` run
// beside a serving fleet takes effect at the next report. Safe for
// concurrent use.
//
// Writers (the fleet server's console and the `fleet release rollout`
// command, in other processes) take an exclusive flock(2) on a lock file
// beside it (rollouts.json.lock) for the whole read-change-write, so no
// update is lost; a second writer waits up to LockWait, then gives up with
// ErrRolloutsBusy and changes nothing. Readers need no lock: the file is
// replaced by an atomic rename.
type RolloutFile struct {
	path string
	// LockWait bounds how long Update waits for another writer; 0 means
	// DefaultLockWait.
	LockWait time.Duration

	mu       sync.Mutex
	modTime  time.Time
	size     int64
	rollouts []Rollout
}

// DefaultLockWait is how long Update waits for another writer by default.
const DefaultLockWait = 10 * time.Second

// ErrRolloutsBusy is returned by Update when another writer held the lock
// for longer than LockWait.
var ErrRolloutsBusy = errors.New("another writer holds the rollouts file")

// OpenRollouts returns the rollouts kept in path (absent: none).
func OpenRollouts(path string) *RolloutFile { return &RolloutFile{path: path} }

// RolloutsPath is where a repository directory keeps its rollouts.
func RolloutsPath(repoDir string) string { return filepath.Join(repoDir, "rollouts.json") }

func (f *RolloutFile) load() error {
	st, err := os.Stat(f.path)
	if errors.Is(err, os.ErrNotExist) {
		f.rollouts, f.modTime, f.size = nil, time.Time{}, 0
		return nil
	}
	if err != nil {
		return fmt.Errorf("read rollouts: %w", err)
	}
	if st.ModTime().Equal(f.modTime) && st.Size() == f.size && f.rollouts != nil {
		return nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("read rollouts: %w", err)
	}
	var rs []Rollout
	if err := json.Unmarshal(data, &rs); err != nil {
		return fmt.Errorf("read rollouts %s: %w", f.path, err)
	}
	for i := range rs {
		if err := rs[i].Validate(); err != nil {
			return fmt.Errorf("read rollouts %s: %w", f.path, err)
		}
	}
	f.rollouts, f.modTime, f.size = rs, st.ModTime(), st.Size()
	if f.rollouts == nil {
		f.rollouts = []Rollout{}
	}
	return nil
}

// List returns the rollouts, newest first.
func (f *RolloutFile) List() ([]Rollout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.load(); err != nil {
		return nil, err
	}
	return append([]Rollout(nil), f.rollouts...), nil
}

// Desired is Desired over the file's rollouts. When the file cannot be
// read it answers "" (no change) and the error.
func (f *RolloutFile) Desired(d Device) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.load(); err != nil {
		return "", err
	}
	return Desired(f.rollouts, d), nil
}

// LockPath is the lock file beside a rollouts file.
func LockPath(rolloutsPath string) string { return rolloutsPath + ".lock" }

// Update takes the writers' lock, loads the rollouts afresh, lets change
// edit them and writes them back atomically. An error from change leaves
// the file as it was.
func (f *RolloutFile) Update(change func([]Rollout) ([]Rollout, error)) error {
	return f.UpdateContext(context.Background(), change)
}

// UpdateContext is Update, giving up waiting for the lock when ctx ends.
func (f *RolloutFile) UpdateContext(ctx context.Context, change func([]Rollout) ([]Rollout, error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	wait := f.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	unlock, err := lockFile(ctx, LockPath(f.path), wait)
	if errors.Is(err, errBusy) {
		return fmt.Errorf("update rollouts %s: %w for more than %s (the fleet console or another `fleet release rollout` is changing it); nothing was changed, try again", f.path, ErrRolloutsBusy, wait)
	}
	if err != nil {
		return fmt.Errorf("update rollouts %s: %w", f.path, err)
	}
	defer unlock()
	// Another process may have written since the last read, within the
	// modification time's granularity: read it whole under the lock.
	f.rollouts, f.modTime = nil, time.Time{}
	if err := f.load(); err != nil {
		return err
	}
	rs, err := change(append([]Rollout(nil), f.rollouts...))
	if err != nil {
		return err
	}
	for i := range rs {
		if err := rs[i].Validate(); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.path, data, 0o644); err != nil {
		return err
	}
	f.modTime = time.Time{} // re-read next time
	return nil
}

// Rollouts is where a fleet keeps its rollouts: a RolloutFile beside a
// repository in a directory (one fleet server), or a RolloutDoc in the
// fleet's database (several replicas).
type Rollouts interface {
	// List returns the rollouts, newest first.
	List() ([]Rollout, error)
	// Desired is Desired over the rollouts; when they cannot be read it
	// answers "" (no change) and the error.
	Desired(d Device) (string, error)
	// UpdateContext lets change edit the rollouts under the writers' lock
	// and stores the result; an error from change, or ErrRolloutsBusy
	// when another writer held the lock too long, changes nothing.
	UpdateContext(ctx context.Context, change func([]Rollout) ([]Rollout, error)) error
}

var _ Rollouts = (*RolloutFile)(nil)

// Docs keeps small shared documents, each with a version that grows with
// every change (fleet/store implements it in PostgreSQL).
type Docs interface {
	Doc(ctx context.Context, name string) (body []byte, version int64, err error)
	DocVersion(ctx context.Context, name string) (int64, error)
	UpdateDoc(ctx context.Context, name string, wait time.Duration, change func(old []byte) ([]byte, error)) (busy bool, err error)
}

// RolloutDoc keeps a fleet's rollouts as one shared document (JSON, newest
// first) in the fleet's database, so every replica serves the same
// rollouts and a writer on any replica (or `fleet release rollout --db`)
// locks out the others for its read-change-write. Desired, asked on every
// report, uses a copy it checks against the document's version at most
// every MaxAge; Invalidate (on hearing of a change) makes the next call
// read afresh. Safe for concurrent use.
type RolloutDoc struct {
	docs Docs
	name string
	// LockWait bounds how long an update waits for another writer; 0
	// means DefaultLockWait.
	LockWait time.Duration
	// MaxAge is how long Desired trusts its copy unchecked; 0 means 1 s.
	MaxAge time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	mu       sync.Mutex
	rollouts []Rollout
	version  int64
	checked  time.Time // zero: read afresh next time
}

// OpenRolloutDoc returns the rollouts kept in docs under name.
func OpenRolloutDoc(docs Docs, name string) *RolloutDoc {
	return &RolloutDoc{docs: docs, name: name}
}

func parseRollouts(data []byte) ([]Rollout, error) {
	rs := []Rollout{}
	if len(data) == 0 {
		return rs, nil
	}
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, err
	}
	for i := range rs {
		if err := rs[i].Validate(); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func (d *RolloutDoc) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// List implements Rollouts, always from the database.
func (d *RolloutDoc) List() ([]Rollout, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data, _, err := d.docs.Doc(ctx, d.name)
	if err != nil {
		return nil, fmt.Errorf("read rollouts: %w", err)
	}
	rs, err := parseRollouts(data)
	if err != nil {
		return nil, fmt.Errorf("read rollouts: %w", err)
	}
	return rs, nil
}

// Desired implements Rollouts.
func (d *RolloutDoc) Desired(dev Device) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	maxAge := d.MaxAge
	if maxAge <= 0 {
		maxAge = time.Second
	}
	now := d.now()
	if d.checked.IsZero() || now.Sub(d.checked) >= maxAge {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := d.docs.DocVersion(ctx, d.name)
		if err != nil {
			return "", fmt.Errorf("read rollouts: %w", err)
		}
		if v != d.version || d.checked.IsZero() {
			data, v2, err := d.docs.Doc(ctx, d.name)
			if err != nil {
				return "", fmt.Errorf("read rollouts: %w", err)
			}
			rs, err := parseRollouts(data)
			if err != nil {
				return "", fmt.Errorf("read rollouts: %w", err)
			}
			d.rollouts, v = rs, v2
		}
		d.version, d.checked = v, now
	}
	return Desired(d.rollouts, dev), nil
}

// Invalidate makes the next Desired read the rollouts afresh.
func (d *RolloutDoc) Invalidate() {
	d.mu.Lock()
	d.checked = time.Time{}
	d.mu.Unlock()
}

// UpdateContext implements Rollouts.
func (d *RolloutDoc) UpdateContext(ctx context.Context, change func([]Rollout) ([]Rollout, error)) error {
	wait := d.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	busy, err := d.docs.UpdateDoc(ctx, d.name, wait, func(old []byte) ([]byte, error) {
		rs, err := parseRollouts(old)
		if err != nil {
			return nil, fmt.Errorf("read rollouts: %w", err)
		}
		rs, err = change(rs)
		if err != nil {
			return nil, err
		}
		for i := range rs {
			if err := rs[i].Validate(); err != nil {
				return nil, err
			}
		}
		return json.MarshalIndent(rs, "", "  ")
	})
	if busy {
		return fmt.Errorf("update rollouts: %w for more than %s (the fleet console or another `fleet release rollout` is changing them); nothing was changed, try again", ErrRolloutsBusy, wait)
	}
	if err != nil {
		return err
	}
	d.Invalidate()
	return nil
}

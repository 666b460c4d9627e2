package release

import (
	"accesskiosk/atomicfile"

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
type RolloutFile struct {
	path string

	mu       sync.Mutex
	modTime  time.Time
	size     int64
	rollouts []Rollout
}

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

// Update loads the rollouts, lets change edit them and writes them back
// atomically. An error from change leaves the file as it was.
func (f *RolloutFile) Update(change func([]Rollout) ([]Rollout, error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
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

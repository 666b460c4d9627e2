package release

import (
	"fmt"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

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
	if err := r.writeFile(metaPrefix+fmt.Sprintf("%d.root.json", r.root.Signed.Version), data, false); err != nil {
		return err
	}
	return r.writeFile(metaPrefix+"root.json", data, false)
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
	if err := r.writeFile(metaPrefix+fmt.Sprintf("%d.targets.json", r.targets.Signed.Version), data, false); err != nil {
		return err
	}
	if err := r.writeFile(metaPrefix+"targets.json", data, false); err != nil {
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
	if err := r.writeFile(metaPrefix+fmt.Sprintf("%d.snapshot.json", r.snapshot.Signed.Version), data, false); err != nil {
		return err
	}
	if err := r.writeFile(metaPrefix+"snapshot.json", data, false); err != nil {
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
	return r.writeFile(metaPrefix+"timestamp.json", data, false)
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

// lock takes the repository for a change: the in-process mutex and the
// storage's lock, so `fleet release add` in one process and a serving
// fleet (or another replica) re-signing the timestamp never interleave.
// It then reloads the metadata and online keys from the storage, which
// are the truth another process may have changed.
func (r *Repo) lock() (func(), error) {
	r.mu.Lock()
	release, err := r.lockStorage()
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	unlock := func() {
		release()
		r.mu.Unlock()
	}
	if err := r.reload(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// lockStorage takes the storage's lock only.
func (r *Repo) lockStorage() (func(), error) {
	ctx, cancel := bg()
	defer cancel()
	return r.st.Lock(ctx)
}

// reload reads the newest metadata and the online keys from the storage.
func (r *Repo) reload() error {
	root, err := readMeta[metadata.RootType](r, "root.json")
	if err != nil {
		return fmt.Errorf("reload root: %w", err)
	}
	targets, err := readMeta[metadata.TargetsType](r, "targets.json")
	if err != nil {
		return fmt.Errorf("reload targets: %w", err)
	}
	snapshot, err := readMeta[metadata.SnapshotType](r, "snapshot.json")
	if err != nil {
		return fmt.Errorf("reload snapshot: %w", err)
	}
	timestamp, err := readMeta[metadata.TimestampType](r, "timestamp.json")
	if err != nil {
		return fmt.Errorf("reload timestamp: %w", err)
	}
	online := map[string]*signingKey{}
	for _, role := range OnlineRoles {
		k, err := r.loadOnlineKey(role)
		if err != nil {
			return err
		}
		online[role] = k
	}
	r.root, r.targets, r.snapshot, r.timestamp, r.online = root, targets, snapshot, timestamp, online
	return nil
}

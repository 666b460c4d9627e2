package release

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"accesskiosk/fleet/release/bundle"
)

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
	var old, nk *signingKey
	switch role {
	case metadata.ROOT, metadata.TARGETS:
		if old, err = loadKey(offlineDir, role); err != nil {
			return fmt.Errorf("rotate %s key: %w", role, err)
		}
		keyName := filepath.Join(offlineDir, role+keyFileSuffix)
		if err := os.Rename(keyName, keyName+".old"); err != nil {
			return fmt.Errorf("rotate %s key: %w", role, err)
		}
		if nk, err = generateKey(offlineDir, role); err != nil {
			return fmt.Errorf("rotate %s key: %w", role, err)
		}
	case metadata.SNAPSHOT, metadata.TIMESTAMP:
		if old, err = r.loadOnlineKey(role); err != nil {
			return fmt.Errorf("rotate %s key: %w", role, err)
		}
		name := keysPrefix + role + keyFileSuffix
		data, err := r.readFile(name)
		if err == nil {
			err = r.writeFile(name+".old", data, true)
		}
		if err != nil {
			return fmt.Errorf("rotate %s key: keep the old one: %w", role, err)
		}
		if nk, err = r.generateOnlineKey(role, true); err != nil {
			return fmt.Errorf("rotate %s key: %w", role, err)
		}
	default:
		return fmt.Errorf("rotate key: unknown role %q (root, targets, snapshot, timestamp)", role)
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

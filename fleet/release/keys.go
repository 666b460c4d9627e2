package release

import (
	"accesskiosk/internal/atomicfile"

	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Key files. The offline directory (kept on removable media, plugged in
// only to sign) holds root.key and targets.key; the fleet's data directory
// holds the online snapshot.key and timestamp.key. Each is an Ed25519
// private key in PKCS#8 PEM, mode 0600.
const (
	keyFileSuffix = ".key"
	pemType       = "PRIVATE KEY"
)

// OfflineRoles are the roles whose keys never live on the fleet server.
var OfflineRoles = []string{metadata.ROOT, metadata.TARGETS}

// OnlineRoles are the roles the fleet server signs by itself.
var OnlineRoles = []string{metadata.SNAPSHOT, metadata.TIMESTAMP}

// ErrKeyExists is returned when generating a key would overwrite one.
var ErrKeyExists = errors.New("key file already exists")

// signingKey is one role's private key with its TUF form.
type signingKey struct {
	priv ed25519.PrivateKey
	tuf  *metadata.Key
	id   string
}

func newSigningKey(priv ed25519.PrivateKey) (*signingKey, error) {
	k, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	id, err := k.ID()
	if err != nil {
		return nil, err
	}
	return &signingKey{priv: priv, tuf: k, id: id}, nil
}

func (k *signingKey) signer() (signature.Signer, error) {
	return signature.LoadSigner(k.priv, crypto.Hash(0))
}

// generateKey makes a new key and writes it to dir/ROLE.key, refusing to
// overwrite an existing file.
func generateKey(dir, role string) (*signingKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", role, err)
	}
	if err := writeKey(filepath.Join(dir, role+keyFileSuffix), priv, false); err != nil {
		return nil, err
	}
	return newSigningKey(priv)
}

func encodeKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

func writeKey(name string, priv ed25519.PrivateKey, replace bool) error {
	data, err := encodeKey(priv)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !replace {
		if _, err := os.Stat(name); err == nil {
			return fmt.Errorf("write key %s: %w", name, ErrKeyExists)
		}
	}
	return atomicfile.Write(name, data, 0o600)
}

// loadKey reads dir/ROLE.key.
func loadKey(dir, role string) (*signingKey, error) {
	name := filepath.Join(dir, role+keyFileSuffix)
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("load %s key: %w", role, err)
	}
	return parseKey(role, name, data)
}

func parseKey(role, name string, data []byte) (*signingKey, error) {
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != pemType {
		return nil, fmt.Errorf("load %s key %s: not a PEM %q block", role, name, pemType)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load %s key %s: %w", role, name, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("load %s key %s: not an Ed25519 key", role, name)
	}
	return newSigningKey(priv)
}

// generateOnlineKey makes a new key for an online role and keeps it in
// the repository's storage (keys/ROLE.key), refusing to overwrite one
// unless replace.
func (r *Repo) generateOnlineKey(role string, replace bool) (*signingKey, error) {
	name := keysPrefix + role + keyFileSuffix
	if !replace {
		if _, err := r.readFile(name); err == nil {
			return nil, fmt.Errorf("write key %s: %w", name, ErrKeyExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("write key %s: %w", name, err)
		}
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", role, err)
	}
	data, err := encodeKey(priv)
	if err != nil {
		return nil, err
	}
	if err := r.writeFile(name, data, true); err != nil {
		return nil, fmt.Errorf("write key %s: %w", name, err)
	}
	return newSigningKey(priv)
}

// loadOnlineKey reads an online role's key from the repository's storage.
func (r *Repo) loadOnlineKey(role string) (*signingKey, error) {
	name := keysPrefix + role + keyFileSuffix
	data, err := r.readFile(name)
	if err != nil {
		return nil, fmt.Errorf("load %s key: %w", role, err)
	}
	return parseKey(role, name, data)
}

package enrol

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"accesskiosk/internal/atomicfile"
)

// DeviceKeyFile is the name of the device's own Ed25519 key (PKCS#8 PEM,
// 0600) in the agent's state directory. Its public half goes with
// enrolment (api capability 4), which makes enrolment idempotent per
// device key; `agent firstboot` names the host after its hash.
const DeviceKeyFile = "device-key.pem"

// DeviceKey returns the device's key from dir, making and storing it
// (crash-safely) when there is none; made says it was just made.
func DeviceKey(dir string) (key ed25519.PrivateKey, made bool, err error) {
	p := filepath.Join(dir, DeviceKeyFile)
	data, err := os.ReadFile(p)
	if err == nil {
		if blk, _ := pem.Decode(data); blk != nil {
			if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
				if ek, ok := k.(ed25519.PrivateKey); ok {
					return ek, false, nil
				}
			}
		}
		return nil, false, fmt.Errorf("device key %s is not an Ed25519 PKCS#8 PEM key; move it away to make a new one", p)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("read device key: %w", err)
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("make device key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, false, fmt.Errorf("encode device key: %w", err)
	}
	if err := atomicfile.Write(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, false, fmt.Errorf("store device key: %w", err)
	}
	return k, true, nil
}

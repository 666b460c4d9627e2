package enrol

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"accesskiosk/internal/atomicfile"
)

// IdentityFile is the name of the device identity in the agent's state directory.
const IdentityFile = "identity.json"

// Identity is what enrolment gave the device. The file holding it is 0600:
// the credential is the device's only secret.
type Identity struct {
	DeviceID   string `json:"device_id"`
	Credential string `json:"credential"`
	Site       string `json:"site"`
	// FleetURL is where the device enrolled (so a discovered fleet is
	// remembered); "" when it came from the config.
	FleetURL string `json:"fleet_url,omitempty"`
	// FleetFingerprint is the pinned SHA-256 of the fleet's certificate
	// (64 hex digits) given at first boot; "" when the config gives it.
	FleetFingerprint string `json:"fleet_fingerprint,omitempty"`
	// Hostname is the host name first boot gave the device; "" when the
	// agent enrolled by itself. EnrolledUnixMs is when it enrolled.
	Hostname       string `json:"hostname,omitempty"`
	EnrolledUnixMs int64  `json:"enrolled_unix_ms,omitempty"`
}

// ErrNoIdentity means the device has not enrolled yet.
var ErrNoIdentity = errors.New("device not enrolled: no identity stored")

// ErrIdentityExposed means the identity file can be read by other users.
var ErrIdentityExposed = errors.New("identity file is readable by other users")

// LoadIdentity reads the identity from dir. It returns ErrNoIdentity when
// there is none, and refuses a file others can read.
func LoadIdentity(dir string) (Identity, error) {
	var id Identity
	p := filepath.Join(dir, IdentityFile)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return id, ErrNoIdentity
	}
	if err != nil {
		return id, fmt.Errorf("read identity: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		return id, fmt.Errorf("%w: %s has mode %v; want 0600", ErrIdentityExposed, p, st.Mode().Perm())
	}
	if err := json.NewDecoder(f).Decode(&id); err != nil {
		return id, fmt.Errorf("read identity %s: %w", p, err)
	}
	if id.DeviceID == "" || id.Credential == "" {
		return id, fmt.Errorf("identity %s lacks device_id or credential", p)
	}
	return id, nil
}

// SaveIdentity writes id into dir crash-safely with mode 0600.
func SaveIdentity(dir string, id Identity) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save identity: %w", err)
	}
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, IdentityFile), b, 0o600); err != nil {
		return fmt.Errorf("save identity: %w", err)
	}
	return nil
}

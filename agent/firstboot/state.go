package firstboot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"accesskiosk/agent/enrol"
	"accesskiosk/internal/atomicfile"
	"accesskiosk/provisioning/bootfile"
)

// state is first boot's progress, in StateFile.
type state struct {
	Step string `json:"step"`
	// EnrolStartedUnixMs is set just before the first enrolment request:
	// when a later run finds it set and no credential stored, an earlier
	// run was cut off while enrolling.
	EnrolStartedUnixMs int64  `json:"enrol_started_unix_ms,omitempty"`
	Hostname           string `json:"hostname,omitempty"`
	DeviceID           string `json:"device_id,omitempty"`
	UpdatedUnixMs      int64  `json:"updated_unix_ms"`
}

func (r *runner) statePath(name string) string { return filepath.Join(r.StateDir, name) }

// newFile reports whether the boot partition holds a valid first-boot
// file that still has its token (not yet used by this device).
func (r *runner) newFile() bool {
	data, err := r.Boot.ReadFile(bootfile.FileName)
	if err != nil {
		return false
	}
	f, err := bootfile.Parse(bootfile.FileName, data)
	return err == nil && !f.SecretsErased
}

// retireIdentity moves identity.json aside to identity.json.previous.
func (r *runner) retireIdentity() error {
	p := r.statePath(IdentityFile)
	if err := os.Rename(p, p+".previous"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("set the old identity aside: %w", err)
	}
	return nil
}

func (r *runner) step(st *state, s string) error {
	st.Step = s
	if err := r.saveState(*st); err != nil {
		return err
	}
	if r.afterStep != nil {
		return r.afterStep(s)
	}
	return nil
}

func (r *runner) loadState() (*state, error) {
	var st state
	data, err := os.ReadFile(r.statePath(StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read first-boot state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		// Written atomically, so this is not a torn write: start over; every
		// step is safe to repeat.
		r.log.WithError(err).Warn("first-boot state unreadable; starting from the beginning")
		return &state{}, nil
	}
	return &st, nil
}

func (r *runner) saveState(st state) error {
	st.UpdatedUnixMs = time.Now().UnixMilli()
	b, _ := json.Marshal(st)
	if err := atomicfile.Write(r.statePath(StateFile), b, 0o600); err != nil {
		return fmt.Errorf("save first-boot state: %w", err)
	}
	return nil
}

// LoadIdentity reads identity.json from dir; ok is false when there is none.
func LoadIdentity(dir string) (idn enrol.Identity, ok bool, err error) {
	idn, err = enrol.LoadIdentity(dir)
	if errors.Is(err, enrol.ErrNoIdentity) {
		return enrol.Identity{}, false, nil
	}
	if err != nil {
		return enrol.Identity{}, false, fmt.Errorf("%w; move it away and give the device a new token", err)
	}
	return idn, true, nil
}

func (r *runner) loadIdentity() (enrol.Identity, bool, error) { return LoadIdentity(r.StateDir) }

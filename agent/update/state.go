package update

import (
	"accesskiosk/internal/atomicfile"

	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Phases recorded in the state file around the switch. Everything before
// the switch needs no record: downloads resume from their part files and an
// unpacked release is complete once it is renamed into releases/.
const (
	phaseIdle        = ""
	phaseSwitching   = "switching"    // about to point current at To
	phaseSwitched    = "switched"     // current points at To; health gate pending
	phaseRollingBack = "rolling_back" // about to point current back at From
)

// state is the crash-safe record of an update in progress and of the last
// outcome, in DIR/state.json.
type state struct {
	Phase string `json:"phase,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	// SwitchedUnixMs is when current was pointed at To (start of the health gate).
	SwitchedUnixMs int64 `json:"switched_unix_ms,omitempty"`
	// Restarted is true once the units were restarted on To.
	Restarted bool `json:"restarted,omitempty"`
	// RestartIndex counts the units whose restart has begun (a unit is
	// never restarted twice for one switch or rollback, even when the
	// agent restarting its own unit ends the process mid-call).
	RestartIndex int `json:"restart_index,omitempty"`
	// RollbackReason and RollbackDetail say why a rollback is under way.
	RollbackReason Reason `json:"rollback_reason,omitempty"`
	RollbackDetail string `json:"rollback_detail,omitempty"`
	// Failed lists versions that failed their health gate here, with why:
	// they are not installed again.
	Failed map[string]Reason `json:"failed,omitempty"`
	Last   *Result           `json:"last,omitempty"`
}

func (u *Updater) statePath() string { return filepath.Join(u.cfg.Dir, "state.json") }

func (u *Updater) loadState() error {
	data, err := os.ReadFile(u.statePath())
	if errors.Is(err, os.ErrNotExist) {
		u.st = state{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("load update state: %w", err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		// The file is written atomically; a corrupt one means outside
		// damage. Start clean rather than never updating again.
		u.log.WithError(err).Warn("update state unreadable; starting from a clean state")
		st = state{}
	}
	u.st = st
	u.publish()
	return nil
}

func (u *Updater) publish() {
	u.pub.Lock()
	defer u.pub.Unlock()
	u.pubLast = nil
	if u.st.Last != nil {
		r := *u.st.Last
		u.pubLast = &r
	}
	u.pubFailed = make(map[string]Reason, len(u.st.Failed))
	for k, v := range u.st.Failed {
		u.pubFailed[k] = v
	}
}

func (u *Updater) saveState() error {
	data, err := json.MarshalIndent(u.st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(u.statePath(), data, 0o644); err != nil {
		return fmt.Errorf("save update state: %w", err)
	}
	u.publish()
	return nil
}

// pointLink atomically makes DIR/name a symlink to releases/version: a new
// link beside it, renamed over the old one, then the directory synced. At
// every instant name is either the old link or the new one.
func (u *Updater) pointLink(name, version string) error {
	link := filepath.Join(u.cfg.Dir, name)
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(filepath.Join(releasesDir, version), tmp); err != nil {
		return fmt.Errorf("point %s at %s: %w", name, version, err)
	}
	u.hook("switch:link-created")
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("point %s at %s: %w", name, version, err)
	}
	u.hook("switch:link-renamed")
	if err := atomicfile.SyncDir(u.cfg.Dir); err != nil {
		return fmt.Errorf("point %s at %s: %w", name, version, err)
	}
	return nil
}

// linkVersion returns the version DIR/name points at, "" if there is no link.
func (u *Updater) linkVersion(name string) (string, error) {
	target, err := os.Readlink(filepath.Join(u.cfg.Dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	dir, v := filepath.Split(filepath.Clean(target))
	if filepath.Clean(dir) != releasesDir || strings.ContainsAny(v, `/\`) {
		return "", fmt.Errorf("%s points at %q, outside %s/", name, target, releasesDir)
	}
	return v, nil
}

package release

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Rollout states.
const (
	RolloutRunning = "running" // devices in rings up to Stage get the release
	RolloutPaused  = "paused"  // no new device starts; devices already on it stay
	RolloutAborted = "aborted" // finished early; no new device starts, none is sent back
	RolloutDone    = "done"    // reached every ring
)

// Ring is one step of a rollout. A device is in a ring when its ID is in
// Devices, its site in Sites, or (Percent > 0) it falls in the first
// Percent of a stable per-rollout hash of its ID, or All is set.
type Ring struct {
	Name    string   `json:"name"`
	Devices []string `json:"devices,omitempty"`
	Sites   []string `json:"sites,omitempty"`
	Percent int      `json:"percent,omitempty"` // 1..100
	All     bool     `json:"all,omitempty"`
}

// Rollout assigns one release to devices ring by ring. It is plain data:
// the fleet stores it as it likes and calls its methods to decide each
// device's desired release. Rings usually go canary (a kiosk or a site),
// then a percentage, then all.
type Rollout struct {
	ID      string `json:"id"`
	Release string `json:"release"` // version
	Rings   []Ring `json:"rings"`
	// Stage is the index of the last ring that has been opened.
	Stage int    `json:"stage"`
	State string `json:"state"`
}

// Device is what the engine needs to know about a device.
type Device struct {
	ID   string
	Site string
	// Running is the release the device last reported running.
	Running string
}

// Validate checks a rollout before it is stored.
func (r *Rollout) Validate() error {
	if r.ID == "" {
		return errors.New("rollout: id is empty")
	}
	if !validVersion(r.Release) {
		return fmt.Errorf("rollout %s: release %q is not a valid version", r.ID, r.Release)
	}
	if len(r.Rings) == 0 {
		return fmt.Errorf("rollout %s: no rings", r.ID)
	}
	for i, g := range r.Rings {
		if g.Percent < 0 || g.Percent > 100 {
			return fmt.Errorf("rollout %s: rings[%d] %q: percent %d (0..100)", r.ID, i, g.Name, g.Percent)
		}
		if len(g.Devices) == 0 && len(g.Sites) == 0 && g.Percent == 0 && !g.All {
			return fmt.Errorf("rollout %s: rings[%d] %q selects no device", r.ID, i, g.Name)
		}
	}
	if r.Stage < 0 || r.Stage >= len(r.Rings) {
		return fmt.Errorf("rollout %s: stage %d outside 0..%d", r.ID, r.Stage, len(r.Rings)-1)
	}
	switch r.State {
	case RolloutRunning, RolloutPaused, RolloutAborted, RolloutDone:
	default:
		return fmt.Errorf("rollout %s: state %q (running, paused, aborted, done)", r.ID, r.State)
	}
	return nil
}

// NewRollout starts a rollout of release through rings at the first ring.
func NewRollout(id, release string, rings ...Ring) (Rollout, error) {
	r := Rollout{ID: id, Release: release, Rings: rings, State: RolloutRunning}
	return r, r.Validate()
}

// Ring returns the index of the first ring d belongs to, or -1.
func (r *Rollout) Ring(d Device) int {
	for i, g := range r.Rings {
		if g.All || slices.Contains(g.Devices, d.ID) || (d.Site != "" && slices.Contains(g.Sites, d.Site)) ||
			(g.Percent > 0 && bucket(r.ID, d.ID) < g.Percent) {
			return i
		}
	}
	return -1
}

// bucket maps a device into 0..99, stably per rollout, so a percentage ring
// keeps the same devices as it grows and different rollouts pick different
// devices first.
func bucket(rollout, device string) int {
	h := sha256.Sum256([]byte(rollout + "\x00" + device))
	return int(binary.BigEndian.Uint64(h[:8]) % 100)
}

// Desired returns the release d should run under this rollout, and whether
// the rollout has an opinion at all (false: leave the device as it is).
func (r *Rollout) Desired(d Device) (string, bool) {
	ring := r.Ring(d)
	if ring < 0 || ring > r.Stage {
		return "", false
	}
	switch r.State {
	case RolloutRunning, RolloutDone:
		return r.Release, true
	case RolloutPaused, RolloutAborted:
		// Devices that already run it keep it; nobody new starts.
		if d.Running == r.Release {
			return r.Release, true
		}
	}
	return "", false
}

// ErrRolloutState is returned by a transition not allowed from the current state.
var ErrRolloutState = errors.New("not allowed in this rollout state")

// Advance opens the next ring (done once the last ring is open).
func (r *Rollout) Advance() error {
	if r.State != RolloutRunning {
		return fmt.Errorf("advance rollout %s (%s): %w", r.ID, r.State, ErrRolloutState)
	}
	if r.Stage < len(r.Rings)-1 {
		r.Stage++
	}
	if r.Stage == len(r.Rings)-1 {
		r.State = RolloutDone
	}
	return nil
}

// Pause stops new devices from starting the release.
func (r *Rollout) Pause() error {
	if r.State != RolloutRunning {
		return fmt.Errorf("pause rollout %s (%s): %w", r.ID, r.State, ErrRolloutState)
	}
	r.State = RolloutPaused
	return nil
}

// Resume lets a paused rollout continue.
func (r *Rollout) Resume() error {
	if r.State != RolloutPaused {
		return fmt.Errorf("resume rollout %s (%s): %w", r.ID, r.State, ErrRolloutState)
	}
	r.State = RolloutRunning
	if r.Stage == len(r.Rings)-1 {
		r.State = RolloutDone
	}
	return nil
}

// Abort ends the rollout: no new device starts it. Devices already on the
// release stay there (devices refuse to go back to an older release; to
// undo a release, add a fixed one and roll that out).
func (r *Rollout) Abort() error {
	if r.State == RolloutAborted {
		return fmt.Errorf("abort rollout %s: %w", r.ID, ErrRolloutState)
	}
	r.State = RolloutAborted
	return nil
}

// Desired decides a device's release from every rollout, newest first:
// the first rollout with an opinion wins; "" means no change.
func Desired(rollouts []Rollout, d Device) string {
	for i := range rollouts {
		if v, ok := rollouts[i].Desired(d); ok {
			return v
		}
	}
	return ""
}

// Progress counts, per ring, the devices in it and how many run the release.
type Progress struct {
	Ring    string
	Open    bool
	Devices int
	Updated int
}

// Progress summarises a rollout over the fleet's devices, for the console
// and for deciding when to Advance.
func (r *Rollout) Progress(devices []Device) []Progress {
	out := make([]Progress, len(r.Rings))
	for i, g := range r.Rings {
		out[i] = Progress{Ring: g.Name, Open: i <= r.Stage}
	}
	for _, d := range devices {
		i := r.Ring(d)
		if i < 0 {
			continue
		}
		out[i].Devices++
		if d.Running == r.Release {
			out[i].Updated++
		}
	}
	return out
}

// ParseRing reads a ring as `fleet release rollout start --ring` takes it:
// NAME=SPEC with SPEC "all", "N%" or a list of device:ID and site:ID.
func ParseRing(s string) (Ring, error) {
	name, spec, ok := strings.Cut(s, "=")
	if !ok || name == "" || spec == "" {
		return Ring{}, fmt.Errorf("ring %q: want NAME=SPEC", s)
	}
	g := Ring{Name: name}
	switch {
	case spec == "all":
		g.All = true
	case strings.HasSuffix(spec, "%"):
		n, err := strconv.Atoi(strings.TrimSuffix(spec, "%"))
		if err != nil || n < 1 || n > 100 {
			return Ring{}, fmt.Errorf("ring %q: percentage must be 1%%..100%%", s)
		}
		g.Percent = n
	default:
		for _, item := range strings.Split(spec, ",") {
			kind, v, ok := strings.Cut(item, ":")
			switch {
			case ok && kind == "device" && v != "":
				if !slices.Contains(g.Devices, v) {
					g.Devices = append(g.Devices, v)
				}
			case ok && kind == "site" && v != "":
				if !slices.Contains(g.Sites, v) {
					g.Sites = append(g.Sites, v)
				}
			default:
				return Ring{}, fmt.Errorf("ring %q: %q is not device:ID or site:NAME", s, item)
			}
		}
	}
	return g, nil
}

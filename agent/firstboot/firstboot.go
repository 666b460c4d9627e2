// Package firstboot is what `agent firstboot` does once, on a kiosk's first
// boot: read the first-boot file (provisioning/bootfile) from the boot
// partition, set the host name, join the Wi-Fi network through
// NetworkManager when one is given, make the device's own key, enrol with the
// fleet (pinned by certificate fingerprint) using the enrolment token, store
// the device credential on the persistent partition, and erase the token and
// the Wi-Fi passphrase from the boot partition.
//
// It is safe to interrupt (power cut, kill) and rerun at any point. Every
// step is idempotent or skipped when done: the device key and the credential
// are written crash-safely (temporary file, fsync, rename) and, once
// present, reused; the Wi-Fi connection has a UUID derived from its SSID, so
// a rerun updates it; the boot file is rewritten without its secrets only
// after the credential is on disk; a state file records completion. Once
// done, later boots do nothing, unless IT has written a new first-boot file
// with a fresh token: then the kiosk enrols again (the old identity.json is
// kept as identity.json.previous; the device key and host name stay).
//
// Enrolment is idempotent per device key (fleet/api capability 4): the
// request carries the device key's public half and a signature by it over
// the token. When a power cut or a dropped link lost the fleet's answer
// (the fleet took the token, the kiosk never stored its credential), the
// rerun presents the same token with the same key while the token is
// valid, and the fleet gives this device back: the same device id, a fresh
// credential, the lost one revoked. A used token from any other device is
// still refused. Against a fleet server older than capability 4, which
// refuses the two fields as unknown, first boot enrols without them.
//
// When the fleet refuses the token (used, expired, unknown) or the server's
// certificate does not match the pin, first boot stops with a clear log line
// and a message on the kiosk's screen (kiosk/bus ShowMessage) saying what a
// person has to do, and exits with ExitNeedsPerson (2, like a bad file) so
// its unit does not retry in a loop. When the fleet cannot be reached it
// retries a few times with backoff, says so on screen, and exits 1 for its
// unit to try again later.
//
// Files in the agent's state directory (state_dir of the agent's config, on
// the persistent partition):
//
//	identity.json   the agent's identity (agent/fleetclient: device id, credential, site, fleet URL
//	                and fingerprint) plus hostname and enrolled_unix_ms; 0600
//	device-key.pem  the device's Ed25519 key (0600); its hash names the host (PREFIX-XXXXXX)
//	firstboot.json  first boot's progress: the last completed step
//
// The host name is also written to Config.HostnameFile (the image applies it
// on every boot, since its root file system is a RAM overlay). SSH keys stay
// in the rewritten first-boot file, where the image's boot-config unit reads
// them on every boot.
package firstboot

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/sirupsen/logrus"

	"accesskiosk/internal/atomicfile"
	"accesskiosk/internal/backoff"
	"accesskiosk/internal/clock"

	agentfleet "accesskiosk/agent/fleetclient"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/version"
	"accesskiosk/kiosk/bus"
	"accesskiosk/provisioning/bootfile"
)

// Files in the state directory.
const (
	IdentityFile  = agentfleet.IdentityFile
	DeviceKeyFile = agentfleet.DeviceKeyFile
	StateFile     = "firstboot.json"
)

// Steps, in order, as recorded in the state file.
const (
	StepStarted  = "started"
	StepIdentity = "identity"
	StepHostname = "hostname"
	StepWiFi     = "wifi"
	StepEnrolled = "enrolled"
	StepErased   = "erased"
	StepDone     = "done"
)

// Exit statuses of `agent firstboot`.
const (
	ExitOK      = 0
	ExitRetry   = 1 // temporary (fleet unreachable): the unit may try again later
	ExitBadFile = 2 // the first-boot file or a flag is wrong (confile.ExitCode)
	// ExitNeedsPerson: a person must act (new token, right fingerprint).
	// The same as ExitBadFile, so a unit's RestartPreventExitStatus=2
	// covers both.
	ExitNeedsPerson = 2
)

// Errors to test with errors.Is.
var (
	// ErrNoFile: no first-boot file on the boot partition and not enrolled.
	ErrNoFile = errors.New("no first-boot file on the boot partition and this device is not enrolled")
	// ErrNeedsPerson marks errors that retrying cannot fix.
	ErrNeedsPerson = errors.New("needs a person")
)

// Config is what Run needs. Boot and StateDir are required.
type Config struct {
	Boot     Boot
	StateDir string
	// System is the system bus (hostnamed, NetworkManager); nil skips the
	// host name and Wi-Fi steps with a warning.
	System *dbus.Conn
	// HostnameFile, when not "", receives the host name (one line, 0644).
	HostnameFile string
	// Kiosk shows messages on screen; nil means log only.
	Kiosk *bus.Client
	// KioskWait is how long to keep trying to show a message while the
	// kiosk is not up yet; 0 means 30 s.
	KioskWait time.Duration
	// Version strings sent at enrolment; Arch "" means the running GOARCH,
	// AgentVersion "" means version.Version.
	Arch, AgentVersion, KioskVersion string
	// EnrolAttempts bounds tries against an unreachable fleet; 0 means 5.
	EnrolAttempts int
	// Backoff is the first wait between tries (doubling, with jitter, at
	// most 1 min); 0 means 5 s.
	Backoff time.Duration
	// Timeout bounds each request to the fleet; 0 means 30 s.
	Timeout time.Duration
	Log     logrus.FieldLogger

	// afterStep, in tests, runs after each completed step; an error stops
	// Run there as a power cut would.
	afterStep func(step string) error
}

// Result says what first boot did.
type Result struct {
	AlreadyDone bool // an earlier run had finished: nothing to do
	Hostname    string
	DeviceID    string
	Site        string
}

// Identity is what first boot stores as identity.json: the agent's
// identity (read by agent/fleetclient.LoadIdentity, with the fleet's URL and
// pinned fingerprint) plus when and under which host name it enrolled.
type Identity struct {
	agentfleet.Identity
	Hostname       string `json:"hostname,omitempty"`
	EnrolledUnixMs int64  `json:"enrolled_unix_ms,omitempty"`
}

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

type runner struct {
	Config
	log logrus.FieldLogger
}

// Run carries out first boot; see the package doc. ExitStatus maps its
// error to the program's exit status.
func Run(ctx context.Context, c Config) (Result, error) {
	if c.Boot == nil || c.StateDir == "" {
		return Result{}, errors.New("firstboot: Boot and StateDir are required")
	}
	if c.Log == nil {
		l := logrus.New()
		l.SetOutput(os.Stderr)
		c.Log = l
	}
	if c.KioskWait == 0 {
		c.KioskWait = 30 * time.Second
	}
	if c.EnrolAttempts == 0 {
		c.EnrolAttempts = 5
	}
	if c.Backoff == 0 {
		c.Backoff = 5 * time.Second
	}
	if c.AgentVersion == "" {
		c.AgentVersion = version.Version
	}
	r := &runner{Config: c, log: c.Log.WithField("component", "firstboot")}
	return r.run(ctx)
}

// ExitStatus is the exit status for Run's error.
func ExitStatus(err error) int {
	var ce *confile.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ce):
		return ExitBadFile
	case errors.Is(err, ErrNeedsPerson), errors.Is(err, ErrNoFile):
		return ExitNeedsPerson
	}
	return ExitRetry
}

func (r *runner) statePath(name string) string { return filepath.Join(r.StateDir, name) }

func (r *runner) run(ctx context.Context) (Result, error) {
	if err := os.MkdirAll(r.StateDir, 0o700); err != nil {
		return Result{}, fmt.Errorf("make state directory: %w", err)
	}
	st, err := r.loadState()
	if err != nil {
		return Result{}, err
	}
	if st.Step == StepDone {
		if !r.newFile() {
			r.log.WithFields(logrus.Fields{"hostname": st.Hostname, "device_id": st.DeviceID}).Info("first boot already done; nothing to do")
			return Result{AlreadyDone: true, Hostname: st.Hostname, DeviceID: st.DeviceID}, nil
		}
		// IT wrote a new first-boot file with a token onto an enrolled
		// kiosk: enrol again (another site or fleet). The old identity is
		// kept beside, the device key stays.
		r.log.WithField("device_id", st.DeviceID).Warn("a new first-boot file with a token is on the boot partition: enrolling again")
		if err := r.retireIdentity(); err != nil {
			return Result{}, err
		}
		st = &state{}
	}
	idn, enrolled, err := r.loadIdentity()
	if err != nil {
		return Result{}, err
	}

	name := r.Boot.String() + "/" + bootfile.FileName
	data, err := r.Boot.ReadFile(bootfile.FileName)
	if errors.Is(err, fs.ErrNotExist) {
		if enrolled {
			r.log.WithField("device_id", idn.DeviceID).Info("no first-boot file, but this device is enrolled; first boot done")
			return Result{Hostname: idn.Hostname, DeviceID: idn.DeviceID, Site: idn.Site}, r.saveState(state{Step: StepDone, Hostname: idn.Hostname, DeviceID: idn.DeviceID})
		}
		r.fail(ctx, fmt.Errorf("%w (%s)", ErrNoFile, name),
			"This kiosk has not been set up: there is no first-boot file on its card. Ask IT to write one with \"provision config\" and \"provision write\".")
		return Result{}, fmt.Errorf("%w (%s)", ErrNoFile, name)
	}
	if err != nil {
		return Result{}, fmt.Errorf("read first-boot file %s: %w", name, err)
	}
	f, err := bootfile.Parse(name, data)
	if err != nil {
		r.fail(ctx, err, "This kiosk's first-boot file is not valid, so it cannot enrol: "+err.Error()+". Ask IT to write a new one with \"provision config\" and \"provision write\".")
		return Result{}, err
	}
	if st.Step == "" {
		if err := r.step(st, StepStarted); err != nil {
			return Result{}, err
		}
	}

	key, err := r.deviceKey()
	if err != nil {
		return Result{}, err
	}
	if err := r.step(st, StepIdentity); err != nil {
		return Result{}, err
	}
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	st.Hostname = f.Prefix() + "-" + hex.EncodeToString(sum[:])[:6]
	log := r.log.WithField("hostname", st.Hostname)

	if r.System == nil {
		log.Warn("no system bus: host name not set")
	} else if err := setHostname(ctx, r.System, st.Hostname); err != nil {
		return Result{}, err
	}
	if r.HostnameFile != "" {
		if err := atomicfile.Write(r.HostnameFile, []byte(st.Hostname+"\n"), 0o644); err != nil {
			return Result{}, fmt.Errorf("store host name: %w", err)
		}
	}
	log.Info("host name set")
	if err := r.step(st, StepHostname); err != nil {
		return Result{}, err
	}

	switch {
	case f.WiFi == nil:
	case f.SecretsErased:
		log.WithField("ssid", f.WiFi.SSID).Info("Wi-Fi configured by an earlier run")
	case r.System == nil:
		log.Warn("no system bus: Wi-Fi not configured")
	default:
		activateErr, err := configureWiFi(ctx, r.System, f.WiFi)
		if err != nil {
			return Result{}, err
		}
		if activateErr != nil {
			log.WithError(activateErr).Warn("Wi-Fi stored but not connected yet")
		} else {
			log.WithField("ssid", f.WiFi.SSID).Info("Wi-Fi configured and activated")
		}
	}
	if err := r.step(st, StepWiFi); err != nil {
		return Result{}, err
	}

	if enrolled {
		log.WithField("device_id", idn.DeviceID).Info("credential already stored; not enrolling again")
	} else {
		if f.SecretsErased {
			err := fmt.Errorf("%w: the first-boot file's token was erased but no credential is stored in %s", ErrNeedsPerson, r.StateDir)
			r.fail(ctx, err, "This kiosk cannot enrol: its enrolment token is gone and it holds no credential. Ask IT to create a new token and write the card again.")
			return Result{}, err
		}
		idn, err = r.enrol(ctx, f, st, key)
		if err != nil {
			return Result{}, err
		}
	}
	st.DeviceID = idn.DeviceID
	if err := r.step(st, StepEnrolled); err != nil {
		return Result{}, err
	}

	if !f.SecretsErased {
		if err := r.erase(f, idn.DeviceID); err != nil {
			return Result{}, err
		}
		log.Info("enrolment token and Wi-Fi passphrase erased from the boot partition")
	}
	if err := r.step(st, StepErased); err != nil {
		return Result{}, err
	}
	if err := r.step(st, StepDone); err != nil {
		return Result{}, err
	}
	log.WithFields(logrus.Fields{"device_id": idn.DeviceID, "site": idn.Site, "fleet": f.Fleet.URL}).Info("first boot done: enrolled")
	r.show(ctx, fmt.Sprintf("This kiosk is set up: it is %s at site %s, managed by %s.", st.Hostname, idn.Site, f.Fleet.URL), time.Minute)
	return Result{Hostname: st.Hostname, DeviceID: idn.DeviceID, Site: idn.Site}, nil
}

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

// deviceKey returns the device's Ed25519 key, making and storing it on the
// first run.
func (r *runner) deviceKey() (ed25519.PrivateKey, error) {
	k, made, err := agentfleet.DeviceKey(r.StateDir)
	if made {
		r.log.Info("device key made")
	}
	return k, err
}

// LoadIdentity reads identity.json from dir; ok is false when there is none.
func LoadIdentity(dir string) (idn Identity, ok bool, err error) {
	if _, err := agentfleet.LoadIdentity(dir); errors.Is(err, agentfleet.ErrNoIdentity) {
		return Identity{}, false, nil
	} else if err != nil {
		return Identity{}, false, fmt.Errorf("%w; move it away and give the device a new token", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, IdentityFile))
	if err != nil {
		return Identity{}, false, fmt.Errorf("read identity: %w", err)
	}
	if err := json.Unmarshal(data, &idn); err != nil {
		return Identity{}, false, fmt.Errorf("read identity: %w", err)
	}
	return idn, true, nil
}

func (r *runner) loadIdentity() (Identity, bool, error) { return LoadIdentity(r.StateDir) }

func (r *runner) enrol(ctx context.Context, f *bootfile.File, st *state, key ed25519.PrivateKey) (Identity, error) {
	hostname := st.Hostname
	log := r.log.WithField("fleet", f.Fleet.URL)
	// cutOff: a request may have reached the fleet without its answer
	// reaching us (an earlier run was cut off, or an attempt of this run
	// failed without an answer).
	cutOff := st.EnrolStartedUnixMs != 0
	st.EnrolStartedUnixMs = time.Now().UnixMilli()
	if err := r.saveState(*st); err != nil {
		return Identity{}, err
	}
	pin, _ := hex.DecodeString(f.Fleet.Fingerprint) // 64 hex digits: bootfile.Parse checked
	// Retries 0: this loop retries, so that each try is logged and bounded.
	c, err := agentfleet.New(agentfleet.Options{BaseURL: f.Fleet.URL, Fingerprint: pin, Timeout: r.Timeout, Log: r.log})
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrNeedsPerson, err)
	}
	arch := r.Arch
	if arch == "" {
		arch = runtime.GOARCH
	}
	req := api.EnrolRequest{Token: f.Token, Hostname: hostname, Arch: arch, AgentVersion: r.AgentVersion, KioskVersion: r.KioskVersion, Capability: api.CapabilityVersion}
	req.SignEnrol(key)
	retry := backoff.Backoff{Min: r.Backoff, Max: time.Minute}
	var resp api.EnrolResponse
	for attempt := 1; ; attempt++ {
		log.WithField("attempt", attempt).Info("enrolling")
		resp, err = c.Enrol(ctx, req)
		if err == nil {
			break
		}
		if req.DeviceKey != "" && agentfleet.OlderFleet(err) {
			// A fleet server before capability 4 knows no device key:
			// enrol as its agents did (a lost answer then needs a new token).
			log.WithError(err).Warn("the fleet server is older than this agent and does not take the device key; enrolling without it (an interrupted enrolment will need a new token)")
			req.DeviceKey, req.KeyProof = "", ""
			attempt--
			continue
		}
		if msg, permanent := refusal(err, f); permanent {
			var se *agentfleet.StatusError
			if cutOff && errors.As(err, &se) && se.Body.Code == api.CodeTokenUsed {
				if req.DeviceKey != "" {
					msg += " (This kiosk may have lost the fleet's answer while it was enrolling. It asked again with its own device key, which gets a kiosk its enrolment back while the token is valid, so the token was used by another kiosk.)"
				} else {
					msg += " (This kiosk probably lost the fleet's answer while it was enrolling, switched off or disconnected at that moment: the fleet took the token but the kiosk never received its credential, and this fleet server is too old to give it back. The half-enrolled entry can be removed on the fleet.)"
				}
			}
			err = fmt.Errorf("%w: %w", ErrNeedsPerson, err)
			r.fail(ctx, err, msg)
			return Identity{}, err
		}
		var se *agentfleet.StatusError
		if !errors.As(err, &se) {
			cutOff = true
		}
		if attempt >= r.EnrolAttempts || ctx.Err() != nil {
			r.fail(ctx, err, fmt.Sprintf("This kiosk cannot reach its fleet server at %s to enrol. Check the network cable or Wi-Fi; it will try again.", f.Fleet.URL))
			return Identity{}, fmt.Errorf("enrol with %s: fleet server unreachable or not answering after %d attempts: %w", f.Fleet.URL, attempt, err)
		}
		d := retry.Next()
		log.WithError(err).WithField("retry_in", d.Round(time.Millisecond).String()).Warn("enrolment failed; retrying")
		if err := clock.Sleep(ctx, nil, d); err != nil {
			return Identity{}, err
		}
	}
	idn := Identity{
		Identity: agentfleet.Identity{
			DeviceID: resp.DeviceID, Credential: resp.Credential, Site: resp.Site,
			FleetURL: f.Fleet.URL, FleetFingerprint: f.Fleet.Fingerprint,
		},
		Hostname: hostname, EnrolledUnixMs: time.Now().UnixMilli(),
	}
	b, _ := json.MarshalIndent(idn, "", "  ")
	if err := atomicfile.Write(r.statePath(IdentityFile), b, 0o600); err != nil {
		return Identity{}, fmt.Errorf("store credential (the fleet has enrolled this device: once this is fixed, first boot gets the enrolment back with the same token and device key while the token is valid): %w", err)
	}
	if resp.Reenrolled {
		log.WithFields(logrus.Fields{"device_id": idn.DeviceID, "site": idn.Site}).Warn("enrolled again: an earlier first boot was cut off after the fleet took the token; the fleet gave this device back with a new credential")
	}
	log.WithFields(logrus.Fields{"device_id": idn.DeviceID, "site": idn.Site}).Info("enrolled; credential stored")
	return idn, nil
}

// refusal says whether err is one that retrying cannot fix, and what to
// show on screen.
func refusal(err error, f *bootfile.File) (string, bool) {
	const again = " Ask IT to create a new token (provision token create) and write the card again (provision config, provision write)."
	if errors.Is(err, agentfleet.ErrFingerprint) {
		return fmt.Sprintf("This kiosk will not enrol: the server at %s is not the one it was set up for (its certificate fingerprint differs). Ask IT to check the fingerprint given to provision config.", f.Fleet.URL), true
	}
	var se *agentfleet.StatusError
	if !errors.As(err, &se) {
		return "", false
	}
	switch se.Body.Code {
	case api.CodeTokenUsed:
		return "This kiosk cannot enrol: its enrolment token has already been used." + again, true
	case api.CodeTokenExpired:
		return "This kiosk cannot enrol: its enrolment token has expired." + again, true
	case api.CodeTokenRevoked:
		return "This kiosk cannot enrol: its enrolment token has been revoked." + again, true
	case api.CodeDeviceRevoked:
		return "This kiosk cannot enrol: IT has withdrawn it from the fleet." + again, true
	case api.CodeTokenUnknown:
		return "This kiosk cannot enrol: the fleet server does not know its enrolment token (revoked, mistyped or for another server)." + again, true
	}
	if !se.Temporary() && se.Status != http.StatusRequestTimeout {
		return "This kiosk cannot enrol: the fleet server refused it (" + se.Error() + ")." + again, true
	}
	return "", false
}

// erase rewrites the boot file without secrets and checks the result.
func (r *runner) erase(f *bootfile.File, deviceID string) error {
	out, err := f.Erased(deviceID).Marshal()
	if err != nil {
		return fmt.Errorf("erase secrets: %w", err)
	}
	if err := r.Boot.WriteFile(bootfile.FileName, out); err != nil {
		return fmt.Errorf("erase secrets from %s: %w", r.Boot, err)
	}
	back, err := r.Boot.ReadFile(bootfile.FileName)
	if err != nil {
		return fmt.Errorf("check erased first-boot file: %w", err)
	}
	if strings.Contains(string(back), f.Token) || (f.WiFi != nil && f.WiFi.PSK != "" && strings.Contains(string(back), f.WiFi.PSK)) {
		return fmt.Errorf("erase secrets from %s: the secrets are still there after rewriting", r.Boot)
	}
	return nil
}

// fail logs err and shows msg on the kiosk's screen.
func (r *runner) fail(ctx context.Context, err error, msg string) {
	r.log.WithError(err).Error("first boot stopped: " + msg)
	r.show(ctx, msg, 10*time.Minute)
}

// show puts msg on the kiosk's screen, waiting up to KioskWait for the
// kiosk to come up.
func (r *runner) show(ctx context.Context, msg string, d time.Duration) {
	if r.Kiosk == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.KioskWait)
	defer cancel()
	for {
		err := r.Kiosk.ShowMessage(ctx, msg, d)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			r.log.WithError(err).Warn("could not show the message on the kiosk's screen")
			return
		case <-time.After(time.Second):
		}
	}
}

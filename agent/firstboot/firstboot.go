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
//	identity.json   the agent's identity (agent/enrol: device id, credential, site, fleet URL
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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/sirupsen/logrus"

	"accesskiosk/agent/enrol"
	"accesskiosk/internal/atomicfile"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/version"
	"accesskiosk/kiosk/bus"
	"accesskiosk/provisioning/bootfile"
)

// Files in the state directory.
const (
	IdentityFile  = enrol.IdentityFile
	DeviceKeyFile = enrol.DeviceKeyFile
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
	// ErrNotKiosk: asked to run on a computer that is not a kiosk image.
	ErrNotKiosk = errors.New("not a kiosk")
)

// personError is a sentence for a person; it is ErrNeedsPerson and, when
// set, kind.
type personError struct {
	msg  string
	kind error
}

func needsPerson(kind error, format string, args ...any) error {
	return &personError{msg: fmt.Sprintf(format, args...), kind: kind}
}

func (e *personError) Error() string { return e.msg }

func (e *personError) Is(target error) bool {
	return target == ErrNeedsPerson || e.kind != nil && target == e.kind
}

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
	case errors.Is(err, ErrNeedsPerson), errors.Is(err, ErrNoFile), errors.Is(err, ErrNotKiosk):
		return ExitNeedsPerson
	}
	return ExitRetry
}

func (r *runner) run(ctx context.Context) (Result, error) {
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
	f, err := r.readFile(ctx, enrolled)
	if errors.Is(err, ErrNoFile) && enrolled {
		r.log.WithField("device_id", idn.DeviceID).Info("no first-boot file, but this device is enrolled; first boot done")
		return Result{Hostname: idn.Hostname, DeviceID: idn.DeviceID, Site: idn.Site}, r.saveState(state{Step: StepDone, Hostname: idn.Hostname, DeviceID: idn.DeviceID})
	}
	if err != nil {
		return Result{}, err
	}
	// Nothing has changed yet: say what is missing before anything does.
	if err := r.checkServices(ctx, f); err != nil {
		r.fail(ctx, err, "This kiosk cannot be set up: "+err.Error()+".")
		return Result{}, err
	}
	if err := os.MkdirAll(r.StateDir, 0o700); err != nil {
		return Result{}, fmt.Errorf("make state directory: %w", err)
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
	if err := r.setHostname(ctx, st, f, key); err != nil {
		return Result{}, err
	}
	log := r.log.WithField("hostname", st.Hostname)
	if err := r.joinWiFi(ctx, log, f); err != nil {
		return Result{}, err
	}
	if err := r.step(st, StepWiFi); err != nil {
		return Result{}, err
	}
	if enrolled {
		log.WithField("device_id", idn.DeviceID).Info("credential already stored; not enrolling again")
	} else if idn, err = r.enrol(ctx, f, st, key); err != nil {
		return Result{}, err
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

// readFile reads and checks the first-boot file. Without one it returns
// ErrNoFile, and says on screen what IT must do unless the device is
// enrolled already.
func (r *runner) readFile(ctx context.Context, enrolled bool) (*bootfile.File, error) {
	name := fileOn(r.Boot)
	data, err := r.Boot.ReadFile(bootfile.FileName)
	if errors.Is(err, fs.ErrNotExist) {
		err := fmt.Errorf("%w (%s)", ErrNoFile, name)
		if !enrolled {
			r.fail(ctx, err, "This kiosk has not been set up: there is no first-boot file on its card. Ask IT to write one with \"provision config\" and \"provision write\".")
		}
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read first-boot file %s: %w", name, err)
	}
	f, err := bootfile.Parse(name, data)
	if err != nil {
		r.fail(ctx, err, "This kiosk's first-boot file is not valid, so it cannot enrol: "+err.Error()+". Ask IT to write a new one with \"provision config\" and \"provision write\".")
		return nil, err
	}
	return f, nil
}

// setHostname names the device PREFIX-XXXXXX after its key, through
// hostnamed and in HostnameFile.
func (r *runner) setHostname(ctx context.Context, st *state, f *bootfile.File, key ed25519.PrivateKey) error {
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	st.Hostname = f.Prefix() + "-" + hex.EncodeToString(sum[:])[:6]
	log := r.log.WithField("hostname", st.Hostname)
	if r.System == nil {
		log.Warn("no system bus: host name not set")
	} else if err := setHostname(ctx, r.System, st.Hostname); err != nil {
		return err
	}
	if r.HostnameFile != "" {
		if err := atomicfile.Write(r.HostnameFile, []byte(st.Hostname+"\n"), 0o644); err != nil {
			return fmt.Errorf("store host name: %w", err)
		}
	}
	log.Info("host name set")
	return r.step(st, StepHostname)
}

// joinWiFi adds the file's Wi-Fi network to NetworkManager, if any.
func (r *runner) joinWiFi(ctx context.Context, log logrus.FieldLogger, f *bootfile.File) error {
	switch {
	case f.WiFi == nil:
	case f.SecretsErased:
		log.WithField("ssid", f.WiFi.SSID).Info("Wi-Fi configured by an earlier run")
	case r.System == nil:
		log.Warn("no system bus: Wi-Fi not configured")
	default:
		activateErr, err := configureWiFi(ctx, r.System, f.WiFi)
		if err != nil {
			return err
		}
		if activateErr != nil {
			log.WithError(activateErr).Warn("Wi-Fi stored but not connected yet")
		} else {
			log.WithField("ssid", f.WiFi.SSID).Info("Wi-Fi configured and activated")
		}
	}
	return nil
}

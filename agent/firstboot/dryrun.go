package firstboot

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent/enrol"
	"accesskiosk/internal/pin"
	"accesskiosk/provisioning/bootfile"
)

// DryRun writes to w what Run would do with c here, and changes nothing:
// no state directory or device key is made, no service is called but to
// ask the system bus whether it is there, nothing is sent to the fleet and
// the boot partition is only read. A first-boot file that is not valid is
// its error.
func DryRun(ctx context.Context, c Config, w io.Writer) error {
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	r := &runner{Config: c, log: quiet}
	fmt.Fprintln(w, "What first boot would do here (--dry-run changes nothing):")
	st, err := r.loadState()
	if err != nil {
		return err
	}
	if st.Step == StepDone && !r.newFile() {
		fmt.Fprintf(w, "  - nothing: first boot is done here (device %s, host name %s)\n", st.DeviceID, st.Hostname)
		return nil
	}
	idn, enrolled, err := r.loadIdentity()
	if err != nil {
		return err
	}
	name := fileOn(r.Boot)
	data, err := r.Boot.ReadFile(bootfile.FileName)
	switch {
	case errors.Is(err, fs.ErrNotExist) && enrolled:
		fmt.Fprintf(w, "  - would only record that first boot is done: there is no first-boot file at %s and this device is enrolled (device %s)\n", name, idn.DeviceID)
		return nil
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(w, "  - would stop and ask IT, on the kiosk's screen, to write a first-boot file: there is none at %s\n", name)
		return nil
	case err != nil:
		return fmt.Errorf("read first-boot file %s: %w", name, err)
	}
	f, err := bootfile.Parse(name, data)
	if err != nil {
		fmt.Fprintf(w, "  - would stop: the first-boot file is not valid (below)\n")
		return err
	}
	r.planSteps(ctx, w, f, name, idn, enrolled)
	return nil
}

// planSteps writes the steps a run would take with f.
func (r *runner) planSteps(ctx context.Context, w io.Writer, f *bootfile.File, name string, idn enrolIdentity, enrolled bool) {
	where := func(s service) string {
		if r.System == nil {
			return "there is no system bus: a real run would stop"
		}
		if ok, err := onBus(ctx, r.System, s.name); err != nil || !ok {
			return "NOT on the system bus: a real run would stop here"
		}
		return "found on the system bus"
	}
	svc := map[string]service{}
	for _, s := range needed(f) {
		svc[s.name] = s
	}
	host := f.Prefix() + "-XXXXXX (XXXXXX from the device key it would make in " + filepath.Join(r.StateDir, DeviceKeyFile) + ")"
	if _, err := os.Stat(filepath.Join(r.StateDir, DeviceKeyFile)); err == nil {
		if k, _, err := enrol.DeviceKey(r.StateDir); err == nil {
			sum := sha256.Sum256(k.Public().(ed25519.PublicKey))
			host = f.Prefix() + "-" + hex.EncodeToString(sum[:])[:6]
		}
	}
	fmt.Fprintf(w, "  - would name this computer %s through systemd-hostnamed (%s)\n", host, where(svc[HostnameName]))
	if r.HostnameFile != "" {
		fmt.Fprintf(w, "  - would write the host name to %s\n", r.HostnameFile)
	}
	switch {
	case f.WiFi == nil:
		fmt.Fprintln(w, "  - would leave the network as it is (no Wi-Fi network in the file)")
	case f.SecretsErased:
		fmt.Fprintf(w, "  - would leave the Wi-Fi network %q as an earlier run set it up\n", f.WiFi.SSID)
	default:
		fmt.Fprintf(w, "  - would add the Wi-Fi network %q to NetworkManager (%s)\n", f.WiFi.SSID, where(svc[NMName]))
	}
	if enrolled {
		fmt.Fprintf(w, "  - would keep this device's enrolment (device %s at site %s), not enrol again\n", idn.DeviceID, idn.Site)
	} else {
		fp, _ := pin.Parse(f.Fleet.Fingerprint)
		fmt.Fprintf(w, "  - would enrol with %s (certificate %v) using the enrolment token\n", f.Fleet.URL, fp)
		fmt.Fprintf(w, "  - would store the device's credential in %s\n", filepath.Join(r.StateDir, IdentityFile))
	}
	if !f.SecretsErased {
		what := "the enrolment token"
		if f.WiFi != nil && f.WiFi.PSK != "" {
			what += " and the Wi-Fi passphrase"
		}
		fmt.Fprintf(w, "  - would erase %s from %s\n", what, name)
	}
	fmt.Fprintln(w, "  - would show on the kiosk's screen what it did, or what IT must do")
}

type enrolIdentity = enrol.Identity

package firstboot

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"time"

	"accesskiosk/agent/enrol"
	"accesskiosk/fleet/api"
	"accesskiosk/internal/backoff"
	"accesskiosk/internal/clock"
	"accesskiosk/internal/fleetclient"
	"accesskiosk/internal/pin"
	"accesskiosk/provisioning/bootfile"
)

// enrol enrols with the file's token (agent/enrol), trying an unreachable
// fleet EnrolAttempts times, and stores the identity.
func (r *runner) enrol(ctx context.Context, f *bootfile.File, st *state, key ed25519.PrivateKey) (enrol.Identity, error) {
	if f.SecretsErased {
		err := fmt.Errorf("%w: the first-boot file's token was erased but no credential is stored in %s", ErrNeedsPerson, r.StateDir)
		r.fail(ctx, err, "This kiosk cannot enrol: its enrolment token is gone and it holds no credential. Ask IT to create a new token and write the card again.")
		return enrol.Identity{}, err
	}
	log := r.log.WithField("fleet", f.Fleet.URL)
	// cutOff: a request may have reached the fleet without its answer
	// reaching us (an earlier run was cut off, or an attempt of this run
	// failed without an answer).
	cutOff := st.EnrolStartedUnixMs != 0
	st.EnrolStartedUnixMs = time.Now().UnixMilli()
	if err := r.saveState(*st); err != nil {
		return enrol.Identity{}, err
	}
	fp, _ := pin.Parse(f.Fleet.Fingerprint) // bootfile.Parse checked it
	// Retries 0: this loop retries, so that each try is logged and bounded.
	c, err := fleetclient.New(fleetclient.Options{BaseURL: f.Fleet.URL, Pin: fp, Timeout: r.Timeout, Log: r.log})
	if err != nil {
		return enrol.Identity{}, fmt.Errorf("%w: %v", ErrNeedsPerson, err)
	}
	arch := r.Arch
	if arch == "" {
		arch = runtime.GOARCH
	}
	req := enrol.Request{Token: f.Token, Hostname: st.Hostname, Arch: arch, AgentVersion: r.AgentVersion, KioskVersion: r.KioskVersion, Key: key}
	like := enrol.Identity{FleetURL: f.Fleet.URL, FleetFingerprint: f.Fleet.Fingerprint, Hostname: st.Hostname}
	retry := backoff.Backoff{Min: r.Backoff, Max: time.Minute}
	for attempt := 1; ; attempt++ {
		log.WithField("attempt", attempt).Info("enrolling")
		res, err := enrol.Enrol(ctx, c, r.StateDir, req, like, log)
		if err == nil {
			log.WithFields(map[string]any{"device_id": res.Identity.DeviceID, "site": res.Identity.Site}).Info("enrolled; credential stored")
			return res.Identity, nil
		}
		p := enrol.Explain(err)
		var fe *fleetclient.Error
		if p.Permanent() {
			msg := refusal(p, f.Fleet.URL)
			if cutOff && errors.As(err, &fe) && fe.Code == api.CodeTokenUsed {
				msg += cutOffNote(res.Signed)
			}
			err = fmt.Errorf("%w: %w", ErrNeedsPerson, err)
			r.fail(ctx, err, msg)
			return enrol.Identity{}, err
		}
		if !errors.As(err, &fe) {
			cutOff = true
		}
		if attempt >= r.EnrolAttempts || ctx.Err() != nil {
			r.fail(ctx, err, fmt.Sprintf("This kiosk cannot reach its fleet server at %s to enrol. Check the network cable or Wi-Fi; it will try again.", f.Fleet.URL))
			return enrol.Identity{}, fmt.Errorf("enrol with %s: fleet server unreachable or not answering after %d attempts: %w", f.Fleet.URL, attempt, err)
		}
		d := retry.Next()
		log.WithError(err).WithField("retry_in", d.Round(time.Millisecond).String()).Warn("enrolment failed; retrying")
		if err := clock.Sleep(ctx, nil, d); err != nil {
			return enrol.Identity{}, err
		}
	}
}

// refusal is what the kiosk's screen says when the fleet refused for good.
func refusal(p enrol.Problem, fleetURL string) string {
	if p.Fix == enrol.FixFingerprint {
		return fmt.Sprintf("This kiosk will not enrol: the server at %s is not the one it was set up for (its certificate fingerprint differs). Ask IT to check the fingerprint given to provision config.", fleetURL)
	}
	return "This kiosk cannot enrol: " + p.Why + ". Ask IT to create a new token (provision token create) and write the card again (provision config, provision write)."
}

// cutOffNote explains a used token after an enrolment whose answer may
// have been lost.
func cutOffNote(signed bool) string {
	if signed {
		return " (This kiosk may have lost the fleet's answer while it was enrolling. It asked again with its own device key, which gets a kiosk its enrolment back while the token is valid, so the token was used by another kiosk.)"
	}
	return " (This kiosk probably lost the fleet's answer while it was enrolling, switched off or disconnected at that moment: the fleet took the token but the kiosk never received its credential, and this fleet server is too old to give it back. The half-enrolled entry can be removed on the fleet.)"
}

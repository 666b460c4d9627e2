// Package enrol is how a device joins the fleet, the one enrolment both the
// agent (with a token from its config) and `agent firstboot` (with the
// token on the card) use: the device's own Ed25519 key (DeviceKey), the
// enrolment request signed by it (fleet/api capability 4, which makes
// enrolment idempotent per device key), the fallback for a fleet server
// older than that, the identity file the credential is stored in (0600,
// crash-safe), and what to tell a person when the fleet refuses (Explain).
//
// Files in the agent's state directory:
//
//	identity.json   device id, credential, site, fleet URL and fingerprint, host name; 0600
//	device-key.pem  the device's Ed25519 key (PKCS#8 PEM, 0600)
package enrol

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/internal/fleetclient"

	"github.com/sirupsen/logrus"
)

// Request is what the device tells the fleet about itself.
type Request struct {
	Token                                      string
	Hostname, Arch, AgentVersion, KioskVersion string
	// Key, when not nil, is the device key the request is signed with
	// (DeviceKey); nil enrols without one (a lost answer then needs a new
	// token).
	Key ed25519.PrivateKey
}

// Result is what an enrolment attempt did.
type Result struct {
	// Identity is the stored identity (on success).
	Identity Identity
	// Reenrolled: the fleet gave this device back an enrolment whose
	// answer was lost (same device id, new credential).
	Reenrolled bool
	// Signed: the last request carried the device key (false after the
	// fallback for an older fleet, or without a key).
	Signed bool
}

// Enrol asks the fleet behind c for a credential with req and, once it has
// one, stores the identity in dir: like, with DeviceID, Credential, Site and
// EnrolledUnixMs filled in (like carries what the caller records beside:
// the fleet's URL and fingerprint, the host name). It makes one request
// (two against a fleet older than capability 4, which refuses the key
// fields: then it enrols without them); the caller's loop retries.
func Enrol(ctx context.Context, c *fleetclient.Client, dir string, req Request, like Identity, log logrus.FieldLogger) (Result, error) {
	r := api.EnrolRequest{
		Token: req.Token, Hostname: req.Hostname, Arch: req.Arch, AgentVersion: req.AgentVersion,
		KioskVersion: req.KioskVersion, Capability: api.CapabilityVersion,
	}
	if req.Key != nil {
		r.SignEnrol(req.Key)
	}
	resp, err := c.Enrol(ctx, r)
	if err != nil && r.DeviceKey != "" && OlderFleet(err) {
		log.WithError(err).Warn("the fleet server is older than this agent and does not take the device key; enrolling without it (an interrupted enrolment will need a new token)")
		r.DeviceKey, r.KeyProof = "", ""
		resp, err = c.Enrol(ctx, r)
	}
	res := Result{Signed: r.DeviceKey != "", Reenrolled: resp.Reenrolled}
	if err != nil {
		return res, err
	}
	id := like
	id.DeviceID, id.Credential, id.Site = resp.DeviceID, resp.Credential, resp.Site
	id.EnrolledUnixMs = time.Now().UnixMilli()
	if err := SaveIdentity(dir, id); err != nil {
		return res, fmt.Errorf("the fleet enrolled this device but its credential cannot be stored (enrolling again with the same token and device key gets the enrolment back while the token is valid): %w", err)
	}
	if resp.Reenrolled {
		log.WithFields(logrus.Fields{"device_id": id.DeviceID, "site": id.Site}).Warn("enrolled again with this device's key: an earlier enrolment's answer was lost; the same device, a new credential")
	}
	res.Identity = id
	return res, nil
}

// OlderFleet says whether err is a fleet server before api capability 4
// refusing an enrolment's device key fields as unknown.
func OlderFleet(err error) bool {
	var fe *fleetclient.Error
	return errors.As(err, &fe) && fe.Status == http.StatusBadRequest && fe.Code == api.CodeBadRequest &&
		(strings.Contains(fe.Message, `unknown field "device_key"`) || strings.Contains(fe.Message, `unknown field "key_proof"`))
}

// What a person must do about a refused enrolment.
const (
	FixNone        = ""            // retrying may help: nothing to do yet
	FixToken       = "token"       // a new enrolment token
	FixFingerprint = "fingerprint" // the fleet's fingerprint, as provisioned, is not this server's
)

// Problem is why an enrolment failed, in words for the kiosk's screen.
type Problem struct {
	// Why completes "This kiosk cannot enrol: ...", e.g. "its enrolment
	// token has already been used".
	Why string
	// Fix is what a person must do (FixToken, FixFingerprint); FixNone
	// when trying again later may succeed.
	Fix string
}

// Permanent reports whether retrying cannot fix it.
func (p Problem) Permanent() bool { return p.Fix != FixNone }

// Explain says why an Enrol error happened and whether a person must act.
func Explain(err error) Problem {
	if errors.Is(err, fleetclient.ErrFingerprint) {
		return Problem{Why: "the server is not the one it was set up for (its certificate fingerprint differs)", Fix: FixFingerprint}
	}
	var fe *fleetclient.Error
	if !errors.As(err, &fe) {
		return Problem{Why: "the fleet server cannot be reached"}
	}
	switch fe.Code {
	case api.CodeTokenUsed:
		return Problem{Why: "its enrolment token has already been used", Fix: FixToken}
	case api.CodeTokenExpired:
		return Problem{Why: "its enrolment token has expired", Fix: FixToken}
	case api.CodeTokenRevoked:
		return Problem{Why: "its enrolment token has been revoked", Fix: FixToken}
	case api.CodeDeviceRevoked:
		return Problem{Why: "IT has withdrawn it from the fleet", Fix: FixToken}
	case api.CodeTokenUnknown:
		return Problem{Why: "the fleet server does not know its enrolment token (revoked, mistyped or for another server)", Fix: FixToken}
	}
	if fe.Temporary() {
		return Problem{Why: "the fleet server is busy or failing (" + fe.Error() + ")"}
	}
	return Problem{Why: "the fleet server refused it (" + fe.Error() + ")", Fix: FixToken}
}

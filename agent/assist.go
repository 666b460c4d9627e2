package agent

import (
	"context"
	"errors"

	"accesskiosk/agent/assist"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/pin"
)

// Remote help (issue 17): with assist: enabled the agent listens on the
// kiosk's assist socket and relays shares to the fleet it reports to, over
// the same pinned TLS and device credential (agent/assist). It starts once
// the agent is enrolled with a fleet; assist_offer commands (staff pressed
// Offer help) reach it through offerHelp.

// errAssistNotReady: an offer came before the relay could start (the agent
// is not enrolled with a fleet yet, or its socket could not be made).
var errAssistNotReady = errors.New("remote help is not running yet: the agent is not connected to its fleet")

// startAssist starts the relay for the fleet at base (from connectFleet,
// once enrolled). A socket that cannot be made is logged and left: the
// rest of the agent runs on.
func (a *Agent) startAssist(ctx context.Context, base string, fp pin.Fingerprint) {
	if !a.cfg.Assist.Enabled {
		return
	}
	log := applog.Component(a.log, "assist")
	r, err := assist.New(assist.Options{
		Listen: a.cfg.Assist.ListenOptions(), FleetURL: base, Pin: fp,
		Credential: func() string { return a.Identity().Credential },
		Log:        log,
	})
	if err != nil {
		log.WithError(err).Error("remote help: cannot listen for the kiosk")
		return
	}
	a.mu.Lock()
	a.relay = r
	a.mu.Unlock()
	a.goRun(ctx, r.Run)
	log.WithField("socket", r.Socket()).Info("remote help relay running")
}

// offerHelp is the assist_offer command: the relay dials the fleet with
// the share id and the kiosk asks its resident.
func (a *Agent) offerHelp(ctx context.Context, shareID string) error {
	a.mu.Lock()
	r := a.relay
	a.mu.Unlock()
	if r == nil {
		return errAssistNotReady
	}
	return r.Offer(ctx, shareID)
}

// Relay is the remote-help relay, nil when remote help is off or not
// started yet (tests).
func (a *Agent) Relay() *assist.Relay {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.relay
}

package agent

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/agent/discovery"
	"accesskiosk/agent/enrol"
	"accesskiosk/agent/health"
	"accesskiosk/internal/applog"
	"accesskiosk/internal/backoff"
	"accesskiosk/internal/clock"
	"accesskiosk/internal/fleetclient"
	"accesskiosk/internal/pin"
	"accesskiosk/internal/version"
)

// rediscoverAfter is how long a fleet found by mDNS may fail before the
// agent looks for it again.
const rediscoverAfter = 10 * time.Minute

// connectFleet finds the fleet (configured or by mDNS), enrols if the
// device has no credential, and hands the client to the reporter.
func (a *Agent) connectFleet(ctx context.Context) error {
	log := applog.Component(a.log, "fleet")
	fp := a.pin(log)
	base := a.cfg.Fleet.URL
	if base == "" {
		base = a.Identity().FleetURL
	}
	if base == "" {
		var ok bool
		if base, ok = a.findFleet(ctx, fp, log); !ok {
			return nil
		}
	}
	c, err := a.client(base, fp, log)
	if err != nil {
		return err
	}
	id := a.Identity()
	retry := backoff.Backoff{Min: 5 * time.Second, Max: 5 * time.Minute}
	for id.Credential == "" {
		id, err = a.enrol(ctx, c, base)
		if err == nil {
			break
		}
		if retry.Wait(ctx) != nil {
			return nil
		}
	}
	c.SetCredential(id.Credential)
	a.setFleet(c, "")
	a.startAssist(ctx, base, fp)
	if a.cfg.Fleet.URL != "" || fp.IsZero() {
		return nil
	}
	a.followFleet(ctx, base, fp, id.Credential, log)
	return nil
}

// pin is the fleet's fingerprint: from the config, else the one first boot
// stored; zero when neither has one.
func (a *Agent) pin(log logrus.FieldLogger) pin.Fingerprint {
	if a.cfg.Fleet.Fingerprint != "" {
		fp, _ := pin.Parse(a.cfg.Fleet.Fingerprint) // validated at load
		return fp
	}
	if s := a.Identity().FleetFingerprint; s != "" {
		fp, err := pin.Parse(s)
		if err != nil {
			log.WithError(err).Error("the stored identity's fleet fingerprint is damaged")
		}
		return fp
	}
	return pin.Fingerprint{}
}

func (a *Agent) client(base string, fp pin.Fingerprint, log logrus.FieldLogger) (*fleetclient.Client, error) {
	return fleetclient.New(fleetclient.Options{
		BaseURL: base, Pin: fp, Timeout: a.cfg.Report.Timeout, Retries: a.cfg.Report.Retries,
		BackoffMin: a.cfg.Report.BackoffMin, BackoffMax: min(a.cfg.Report.BackoffMax, 30*time.Second), Log: log,
	})
}

// setFleet hands c to the reporter; movedTo, when not "", is the fleet's
// new address, remembered in the identity.
func (a *Agent) setFleet(c *fleetclient.Client, movedTo string) {
	a.mu.Lock()
	a.fleet = c
	if movedTo != "" {
		a.id.FleetURL = movedTo
	}
	a.mu.Unlock()
	a.kick()
}

// findFleet looks for the fleet on the local network until one with the
// pinned certificate answers; ok is false when ctx ended first.
func (a *Agent) findFleet(ctx context.Context, fp pin.Fingerprint, log logrus.FieldLogger) (url string, ok bool) {
	if fp.IsZero() {
		log.Error("no fleet.url and no fleet.fingerprint: cannot find a fleet to trust; reports stay queued")
		a.reg.Set(health.CodeFleetUnreachable, health.Warn, "no fleet configured (fleet.url or fleet.fingerprint)")
		<-ctx.Done()
		return "", false
	}
	look := backoff.Backoff{Min: 20 * time.Second, Max: 2 * time.Minute}
	for {
		fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		u, err := discovery.FindFleet(fctx, a.cfg.Discovery.Interfaces, fp, log)
		cancel()
		if err == nil {
			log.WithField("url", u).Info("found the fleet on the local network")
			return u, true
		}
		a.reg.Set(health.CodeFleetUnreachable, health.Warn, "looking for the fleet on the local network: %v", err)
		if look.Wait(ctx) != nil {
			return "", false
		}
	}
}

// followFleet looks for a fleet found by mDNS again when it stops
// answering for a while (a new DHCP lease, a moved server).
func (a *Agent) followFleet(ctx context.Context, base string, fp pin.Fingerprint, cred string, log logrus.FieldLogger) {
	for clock.Sleep(ctx, nil, time.Minute) == nil {
		since := a.rep.FailingSince()
		if since.IsZero() || time.Since(since) < rediscoverAfter {
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		u, err := discovery.FindFleet(fctx, a.cfg.Discovery.Interfaces, fp, log)
		cancel()
		if err != nil || u == base {
			continue
		}
		nc, err := a.client(u, fp, log)
		if err != nil {
			continue
		}
		nc.SetCredential(cred)
		log.WithFields(logrus.Fields{"old": base, "new": u}).Info("the fleet moved; following it")
		base = u
		a.setFleet(nc, u)
		if err := enrol.SaveIdentity(a.cfg.StateDir, a.Identity()); err != nil {
			log.WithError(err).Warn("remember the fleet's new address")
		}
	}
}

// enrolToken is the token from the config (or its file).
func (a *Agent) enrolToken() (string, error) {
	token := strings.TrimSpace(a.cfg.Fleet.EnrolToken)
	if token == "" && a.cfg.Fleet.EnrolTokenFile != "" {
		b, err := os.ReadFile(a.cfg.Fleet.EnrolTokenFile)
		if err != nil {
			return "", err
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return "", errors.New("not enrolled and no enrolment token configured")
	}
	return token, nil
}

// enrol enrols with the configured token (agent/enrol) and stores the
// identity; a refusal is shown on the kiosk's screen.
func (a *Agent) enrol(ctx context.Context, c *fleetclient.Client, base string) (enrol.Identity, error) {
	log := applog.Component(a.log, "enrol")
	token, err := a.enrolToken()
	if err != nil {
		a.reg.Set(health.CodeFleetUnreachable, health.Warn, "not enrolled: no enrolment token (%v)", err)
		log.WithError(err).Error("not enrolled and no enrolment token; reports stay queued")
		return enrol.Identity{}, err
	}
	host, _ := os.Hostname()
	req := enrol.Request{Token: token, Hostname: host, Arch: runtime.GOARCH, AgentVersion: version.Version, KioskVersion: a.link.Version()}
	// With the device's key, enrolling again with the same token after a
	// lost answer or an unstored credential gets this device back.
	if key, made, err := enrol.DeviceKey(a.cfg.StateDir); err != nil {
		log.WithError(err).Warn("no device key; enrolling without one (a lost answer would need a new token)")
	} else {
		if made {
			log.Info("device key made")
		}
		req.Key = key
	}
	var like enrol.Identity
	if a.cfg.Fleet.URL == "" {
		like.FleetURL = base // remember the discovered fleet
	}
	res, err := enrol.Enrol(ctx, c, a.cfg.StateDir, req, like, log)
	if err != nil {
		if p := enrol.Explain(err); p.Permanent() {
			msg := "This kiosk could not join the fleet: " + p.Why + ". Please ask IT staff for a new enrolment token."
			if p.Fix == enrol.FixFingerprint {
				msg = "This kiosk could not join the fleet: " + p.Why + ". Please ask IT staff to check its fleet settings."
			}
			mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if merr := a.link.ShowMessage(mctx, msg, 5*time.Minute); merr != nil {
				log.WithError(merr).Debug("could not show the enrolment problem on the kiosk")
			}
			cancel()
		}
		log.WithError(err).Error("enrolment failed")
		a.reg.Set(health.CodeFleetUnreachable, health.Warn, "enrolment failed: %v", err)
		return enrol.Identity{}, err
	}
	a.mu.Lock()
	a.id = res.Identity
	a.mu.Unlock()
	a.reg.Clear(health.CodeFleetUnreachable)
	log.WithFields(logrus.Fields{"device_id": res.Identity.DeviceID, "site": res.Identity.Site}).Info("enrolled with the fleet")
	return res.Identity, nil
}

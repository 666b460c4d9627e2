package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/credential"
	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/store"
)

// deviceRule is the request rate of one device, and of one address for
// enrolment and the admin API.
func (s *Server) deviceRule() throttle.Rule {
	return throttle.Rule{Rate: s.cfg.RatePerSecond, Burst: float64(s.cfg.RateBurst)}
}

func (s *Server) handleEnrol(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r, s.anon, keyEnrolAddr+throttle.ClientAddr(r), s.deviceRule(), 1, "too many enrolment attempts from this address; try again later") ||
		s.limited(w, r, s.anon, keyEnrolGlobal, s.cfg.Limits.EnrolGlobal, 1, "the fleet is getting too many enrolment attempts; try again later") {
		return
	}
	var req api.EnrolRequest
	if !decode(w, r, &req) {
		return
	}
	if err := req.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	e, err := s.store.Enrol(r.Context(), req.Token, &req)
	switch {
	case errors.Is(err, store.ErrTokenUnknown):
		writeError(w, http.StatusUnauthorized, api.CodeTokenUnknown, "this enrolment token is not known to the fleet server; check it was copied in full")
	case errors.Is(err, store.ErrTokenExpired):
		writeError(w, http.StatusForbidden, api.CodeTokenExpired, "this enrolment token has expired; ask IT for a new one")
	case errors.Is(err, store.ErrTokenUsed):
		msg := "this enrolment token has already been used; ask IT for a new one"
		if req.DeviceKey == "" {
			msg = "this enrolment token has already been used; ask IT for a new one (an agent that sends its device key can enrol again with the same token after an interrupted first boot)"
		}
		writeError(w, http.StatusForbidden, api.CodeTokenUsed, msg)
	case errors.Is(err, store.ErrDeviceRevoked):
		s.log.WithFields(map[string]any{"device": e.DeviceID, "token": e.TokenID}).Warn("a withdrawn device presented its key and token again; refused")
		writeError(w, http.StatusForbidden, api.CodeDeviceRevoked, "this kiosk was withdrawn from the fleet by IT; ask IT for a new enrolment token")
	case errors.Is(err, store.ErrTokenRevoked):
		writeError(w, http.StatusForbidden, api.CodeTokenRevoked, "this enrolment token was withdrawn; ask IT for a new one")
	case err != nil:
		s.log.WithError(err).Error("enrol failed")
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "the server could not enrol the device; try again")
	case e.Reenrolled:
		// The same device key with the same token: a kiosk that lost the
		// answer to its enrolment. Its old credential no longer matches;
		// drop it from the cache so it stops working at once.
		s.ForgetDevice(e.DeviceID)
		s.metrics.reenrolments.Inc()
		s.log.WithFields(map[string]any{"device": e.DeviceID, "site": e.Site, "hostname": req.Hostname, "token": e.TokenID}).
			Warn("device enrolled again with its own key and token: same device, new credential, the old one revoked")
		if err := s.store.Audit(r.Context(), "device:"+e.DeviceID, "device.reenrol", e.DeviceID,
			"enrolled again with the same device key and token "+e.TokenID+" (hostname "+req.Hostname+"): new credential issued, the old one revoked"); err != nil {
			s.log.WithError(err).Error("audit re-enrolment")
		}
		writeJSON(w, http.StatusOK, api.EnrolResponse{
			DeviceID: e.DeviceID, Credential: e.Credential, Site: e.Site, Reenrolled: true,
			ReportIntervalSeconds: int(s.cfg.ReportInterval / time.Second), Capability: api.CapabilityVersion,
		})
	default:
		s.metrics.enrolments.Inc()
		s.log.WithFields(map[string]any{"device": e.DeviceID, "site": e.Site, "hostname": req.Hostname}).Info("device enrolled")
		writeJSON(w, http.StatusOK, api.EnrolResponse{
			DeviceID: e.DeviceID, Credential: e.Credential, Site: e.Site,
			ReportIntervalSeconds: int(s.cfg.ReportInterval / time.Second), Capability: api.CapabilityVersion,
		})
	}
}

// deviceAuth checks "Authorization: Bearer DEVICEID.SECRET" and returns
// the device, or answers 401 and returns false.
func (s *Server) deviceAuth(w http.ResponseWriter, r *http.Request) (store.DeviceAuth, bool) {
	cred, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	id, _, ok2 := strings.Cut(cred, ".")
	if !ok || !ok2 || id == "" || len(cred) > 200 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fleet"`)
		writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "send the device credential as Authorization: Bearer DEVICEID.SECRET")
		return store.DeviceAuth{}, false
	}
	a, err := s.auth.get(r.Context(), id)
	if err == nil && !a.Revoked && !credential.Equal(a.CredHash, credential.Hash(cred)) {
		// The device may have enrolled again through another replica
		// since this one cached its credential: look once more (at most
		// once a second per device, so wrong credentials stay cheap).
		a, err = s.auth.refresh(r.Context(), id, time.Second)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.WithError(err).Error("device auth: store")
		writeError(w, http.StatusServiceUnavailable, api.CodeInternal, "the server cannot check credentials right now; try again")
		return store.DeviceAuth{}, false
	}
	if err != nil || a.Revoked || !credential.Equal(a.CredHash, credential.Hash(cred)) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fleet"`)
		writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "the device credential is wrong or was revoked; re-enrol the device")
		return store.DeviceAuth{}, false
	}
	return a, true
}

func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	dev, ok := s.deviceAuth(w, r)
	if !ok {
		return
	}
	if s.limited(w, r, s.devices, keyReport+dev.ID, s.deviceRule(), 1, "this device is reporting too often; slow down") {
		return
	}
	var b api.ReportBatch
	if !decode(w, r, &b) {
		return
	}
	if err := b.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	clampTimes(&b, s.cfg.Now())
	lim := s.cfg.Limits
	res, err := s.ingest.submit(r.Context(), store.IngestItem{
		DeviceID: dev.ID, SiteID: dev.Site, Batch: &b, CredHash: dev.CredHash,
		Reports:         store.Budget{PerSecond: lim.DeviceReports.Rate, Burst: lim.DeviceReports.Burst},
		Sessions:        store.Budget{PerSecond: float64(lim.SessionsPerHour) / 3600, Burst: float64(lim.SessionsPerHour)},
		SessionsPerHour: lim.SessionsPerHour,
		Usage:           usageBudget(lim),
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		s.log.WithError(err).WithField("device", dev.ID).Error("ingest failed")
		retryAfter(w, 5*time.Second)
		writeError(w, http.StatusServiceUnavailable, api.CodeInternal, "the server could not store the reports; they were not accepted, send them again")
		return
	}
	switch {
	case errors.Is(res.Refused, store.ErrCredentialWithdrawn):
		// Withdrawn or re-enrolled through this or another replica since
		// this one cached the credential.
		s.auth.forget(dev.ID)
		w.Header().Set("WWW-Authenticate", `Bearer realm="fleet"`)
		writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "the device credential is wrong or was revoked; re-enrol the device")
		return
	case errors.Is(res.Refused, store.ErrOverBudget):
		s.overBudget(w, r, dev.ID, &b, res.Wait)
		return
	case res.Refused != nil:
		s.log.WithError(res.Refused).WithField("device", dev.ID).Error("ingest refused a batch for an unknown reason")
		writeError(w, http.StatusServiceUnavailable, api.CodeInternal, "the server could not store the reports; they were not accepted, send them again")
		return
	}
	if res.Dropped > 0 {
		s.flooding(r.Context(), dev.ID, fmt.Sprintf("sent %d sessions for clock hours that already held %d of its sessions, more than one kiosk has; not stored",
			res.Dropped, s.cfg.Limits.SessionsPerHour))
	}
	if res.Clamped > 0 {
		s.flooding(r.Context(), dev.ID, fmt.Sprintf("sent %d sessions with more downloads, uploads, print jobs or remote help than one kiosk has time for; counted only up to it",
			res.Clamped))
	}
	s.metrics.uncounted.Add(float64(res.Uncounted))
	s.metrics.reports.Add(float64(res.New))
	s.metrics.duplicates.Add(float64(len(res.Accepted) - res.New))
	s.metrics.acks.Add(float64(len(b.Acks)))
	resp := api.ReportResponse{
		Capability: api.CapabilityVersion,
		Accepted:   res.Accepted,
		Commands:   res.Commands,
	}
	if s.cfg.DesiredRelease != nil && len(b.Reports) > 0 {
		resp.Desired.Release = s.cfg.DesiredRelease(dev.ID, dev.Site, b.Reports[len(b.Reports)-1].Health.AgentVersion)
	}
	writeJSON(w, http.StatusOK, resp)
}

// authCache keeps devices' credential hashes for a short while, so a report
// costs no read of the devices table.
type authCache struct {
	st  *store.Store
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]authEntry
}

type authEntry struct {
	a   store.DeviceAuth
	err error
	at  time.Time
}

func newAuthCache(st *store.Store, ttl time.Duration, now func() time.Time) *authCache {
	return &authCache{st: st, ttl: ttl, now: now, m: map[string]authEntry{}}
}

func (c *authCache) get(ctx context.Context, id string) (store.DeviceAuth, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.a, e.err
	}
	a, err := c.st.DeviceAuth(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return a, err // do not cache a failing store
	}
	c.mu.Lock()
	if len(c.m) > 200_000 { // bounded: unknown ids from a flood cannot grow it forever
		clear(c.m)
	}
	c.m[id] = authEntry{a: a, err: err, at: now}
	c.mu.Unlock()
	return a, err
}

// refresh reads id's credential from the store again when the cached one
// is older than minAge.
func (c *authCache) refresh(ctx context.Context, id string, minAge time.Duration) (store.DeviceAuth, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	if ok && c.now().Sub(e.at) >= minAge {
		delete(c.m, id)
	}
	c.mu.Unlock()
	return c.get(ctx, id)
}

func (c *authCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// clear drops every cached credential (the listener reconnected: it may
// have missed withdrawals).
func (c *authCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

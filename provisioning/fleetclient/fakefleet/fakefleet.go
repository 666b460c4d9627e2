// Package fakefleet is a FAKE of the fleet server's enrolment and admin
// endpoints, for provisioning tests only while the real fleet server is not
// on main. It keeps the documented semantics the tests rely on (single-use,
// expiring, site-scoped tokens; a staff API token for the admin API) and
// nothing else. The end-to-end test runs against the real fleet server
// (fleet/server) as soon as that lands; this fake then stays only for the
// unit tests of the client.
package fakefleet

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/provisioning/fleetclient"
)

// Fleet is a running fake fleet on a loopback TLS listener.
type Fleet struct {
	URL         string // https://127.0.0.1:PORT
	Fingerprint string // SHA-256 of its certificate, 64 hex digits
	APIToken    string // the staff API token it accepts

	mu      sync.Mutex
	now     func() time.Time
	sites   map[string]bool
	tokens  map[string]*token // by secret
	Devices []api.EnrolRequest
}

type token struct {
	fleetclient.Token
}

// Start runs a fake fleet until the test ends.
func Start(t testing.TB) *Fleet {
	t.Helper()
	f := &Fleet{
		APIToken: "akapi_" + random(16),
		now:      time.Now,
		sites:    map[string]bool{},
		tokens:   map[string]*token{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/admin/sites", f.admin(f.createSite))
	mux.HandleFunc("POST /api/v1/admin/tokens", f.admin(f.createToken))
	mux.HandleFunc("POST "+api.PathEnrol, f.enrol)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	f.Fingerprint = fleetclient.Fingerprint(srv.Certificate().Raw)
	return f
}

// SetNow replaces the fake's clock (to expire tokens).
func (f *Fleet) SetNow(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Error{Code: code, Message: msg})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *Fleet) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.APIToken {
			fail(w, http.StatusUnauthorized, api.CodeUnauthorized, "staff API token missing or wrong")
			return
		}
		h(w, r)
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, api.CodeBadRequest, "bad JSON: "+err.Error())
		return false
	}
	return true
}

func (f *Fleet) createSite(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if !decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.ID == "" || strings.ToLower(req.ID) != req.ID {
		fail(w, http.StatusBadRequest, api.CodeBadRequest, "site id: want lower-case letters, digits and '-'")
		return
	}
	if f.sites[req.ID] {
		fail(w, http.StatusConflict, "conflict", "a site with that id exists")
		return
	}
	f.sites[req.ID] = true
	if req.Name == "" {
		req.Name = req.ID
	}
	reply(w, http.StatusCreated, fleetclient.Site{ID: req.ID, Name: req.Name, CreatedUnixMs: f.now().UnixMilli()})
}

func (f *Fleet) createToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Site           string `json:"site"`
		ExpiresSeconds int64  `json:"expires_seconds"`
		MaxUses        int    `json:"max_uses"`
	}
	if !decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.sites[req.Site] {
		fail(w, http.StatusNotFound, "not_found", "no such site")
		return
	}
	if req.MaxUses == 0 {
		req.MaxUses = 1
	}
	if req.ExpiresSeconds == 0 {
		req.ExpiresSeconds = 7 * 24 * 3600
	}
	now := f.now()
	tok := &token{fleetclient.Token{
		ID: random(4), Site: req.Site, CreatedBy: "api", CreatedUnixMs: now.UnixMilli(),
		ExpiresUnixMs: now.Add(time.Duration(req.ExpiresSeconds) * time.Second).UnixMilli(), MaxUses: req.MaxUses,
	}}
	secret := "ake_" + random(20)
	f.tokens[secret] = tok
	reply(w, http.StatusCreated, fleetclient.CreatedToken{Token: tok.Token, Secret: secret})
}

func (f *Fleet) enrol(w http.ResponseWriter, r *http.Request) {
	var req api.EnrolRequest
	if !decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := f.tokens[req.Token]
	switch {
	case tok == nil || tok.Revoked:
		fail(w, http.StatusUnauthorized, api.CodeTokenUnknown, "this enrolment token is not known here")
		return
	case f.now().UnixMilli() >= tok.ExpiresUnixMs:
		fail(w, http.StatusUnauthorized, api.CodeTokenExpired, "this enrolment token has expired")
		return
	case tok.Uses >= tok.MaxUses:
		fail(w, http.StatusUnauthorized, api.CodeTokenUsed, "this enrolment token has been used")
		return
	}
	tok.Uses++
	f.Devices = append(f.Devices, req)
	id := "dev_" + random(6)
	reply(w, http.StatusOK, api.EnrolResponse{
		DeviceID: id, Credential: id + "." + random(16), Site: tok.Site,
		ReportIntervalSeconds: 30, Capability: api.CapabilityVersion,
	})
}

// Enrolled returns how many devices have enrolled.
func (f *Fleet) Enrolled() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.Devices)
}

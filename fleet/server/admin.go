package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/credential"
	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/ident"
)

type adminHandler func(w http.ResponseWriter, r *http.Request, u store.User)

// admin authenticates a staff API token; write says the role must be admin.
func (s *Server) admin(write bool, h adminHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !strings.HasPrefix(tok, credential.PrefixAPI) || len(tok) > 200 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fleet-admin"`)
			writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "send a staff API token as Authorization: Bearer akapi_...")
			return
		}
		if s.limited(w, r, s.anon, keyAdminAddr+throttle.ClientAddr(r), s.deviceRule(), 1, "too many admin requests; try again shortly") {
			return
		}
		u, err := s.store.APITokenUser(r.Context(), tok)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "the API token is wrong or was revoked")
			return
		}
		if err != nil {
			s.log.WithError(err).Error("admin auth: store")
			writeError(w, http.StatusServiceUnavailable, api.CodeInternal, "the server cannot check the token right now")
			return
		}
		if write && u.Role != store.RoleAdmin {
			writeError(w, http.StatusForbidden, api.CodeForbidden, "this token's user is a viewer; only admins may change things")
			return
		}
		h(w, r, u)
	}
}

func (s *Server) handleListSites(w http.ResponseWriter, r *http.Request, _ store.User) {
	sites, err := s.store.Sites(r.Context())
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.SiteList{Sites: nonNil(sites)})
}

// ValidateSite checks a new site's id (ident.SiteID) and name (at most
// api.MaxSiteNameLen bytes of ident.Text); the message is for people.
func ValidateSite(id, name string) error {
	if !ident.SiteID.Valid(id) {
		return errors.New("site id must be 1 to 63 lower-case letters, digits or '-', starting with a letter or digit (e.g. central-library)")
	}
	if len(name) > api.MaxSiteNameLen {
		return errors.New("site name must be at most 100 characters")
	}
	if err := CheckText(name); err != nil {
		return errors.New("site name " + err.Error())
	}
	return nil
}

func (s *Server) handleCreateSite(w http.ResponseWriter, r *http.Request, u store.User) {
	var req api.CreateSiteRequest
	if !decode(w, r, &req) {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		req.Name = req.ID
	}
	if err := ValidateSite(req.ID, req.Name); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	site, err := s.store.CreateSite(r.Context(), req.ID, req.Name)
	if errors.Is(err, store.ErrExists) {
		writeError(w, http.StatusConflict, api.CodeConflict, "a site with id "+req.ID+" already exists")
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	s.store.Audit(r.Context(), u.Name, "site.create", site.ID, "via API: "+site.Name)
	writeJSON(w, http.StatusCreated, site)
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request, _ store.User) {
	toks, err := s.store.Tokens(r.Context(), r.URL.Query().Get("site"))
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.TokenList{Tokens: nonNil(toks)})
}

// CheckTokenRequest validates a CreateTokenRequest and fills its defaults.
func CheckTokenRequest(req *api.CreateTokenRequest) error {
	if req.ExpiresSeconds == 0 {
		req.ExpiresSeconds = api.DefaultTokenTTLSeconds
	}
	if req.MaxUses == 0 {
		req.MaxUses = 1
	}
	if req.ExpiresSeconds < 60 || req.ExpiresSeconds > api.MaxTokenTTLSeconds {
		return errors.New("expires_seconds must be between 60 and 7776000 (90 days)")
	}
	if req.MaxUses < 1 || req.MaxUses > api.MaxTokenUses {
		return errors.New("max_uses must be between 1 and 10000")
	}
	return nil
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request, u store.User) {
	var req api.CreateTokenRequest
	if !decode(w, r, &req) {
		return
	}
	if err := CheckTokenRequest(&req); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	ok, err := s.store.SiteExists(r.Context(), req.Site)
	if err != nil {
		s.internal(w, err)
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no site with id "+req.Site+"; create it first")
		return
	}
	tok, err := s.store.CreateToken(r.Context(), req.Site, u.Name, time.Duration(req.ExpiresSeconds)*time.Second, req.MaxUses)
	if err != nil {
		s.internal(w, err)
		return
	}
	s.store.Audit(r.Context(), u.Name, "token.create", tok.ID, "via API for site "+req.Site)
	writeJSON(w, http.StatusCreated, tok)
}

// handleCheckToken tells a staff member (provision config, before writing
// a card) whether an enrolment token's secret is one this fleet made, and
// its state. Nothing is spent or logged beyond the token's id.
func (s *Server) handleCheckToken(w http.ResponseWriter, r *http.Request, _ store.User) {
	var req api.CheckTokenRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Token == "" || len(req.Token) > api.MaxTokenLen {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "token: want the enrolment token's secret")
		return
	}
	tok, err := s.store.TokenBySecret(r.Context(), req.Token)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, api.CodeTokenUnknown, "this fleet did not make that enrolment token")
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	tok.Expired = s.cfg.Now().UnixMilli() >= tok.ExpiresUnixMs
	writeJSON(w, http.StatusOK, tok)
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request, u store.User) {
	id := r.PathValue("id")
	err := s.store.RevokeToken(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no enrolment token with id "+id)
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	s.store.Audit(r.Context(), u.Name, "token.revoke", id, "via API")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListDevices(w http.ResponseWriter, r *http.Request, _ store.User) {
	ds, err := s.store.Devices(r.Context(), store.DeviceFilter{Site: r.URL.Query().Get("site")})
	if err != nil {
		s.internal(w, err)
		return
	}
	out := api.DeviceList{Devices: []api.Device{}}
	for _, d := range ds {
		out.Devices = append(out.Devices, d.Device)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) internal(w http.ResponseWriter, err error) {
	s.log.WithError(err).Error("request failed")
	writeError(w, http.StatusInternalServerError, api.CodeInternal, "the server failed; see its log")
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

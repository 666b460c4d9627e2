package fleetclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// PROVISIONAL: the fleet engineer is adding the staff admin API to fleet/api
// (admin.go, capability 2). Until it lands on main these mirror its paths and
// bodies; they are replaced by the fleet/api types as soon as it does, and
// never kept as a second copy.
const (
	pathAdminSites  = "/api/v1/admin/sites"
	pathAdminTokens = "/api/v1/admin/tokens"
)

// Site is a place where kiosks stand.
type Site struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	CreatedUnixMs int64  `json:"created_unix_ms"`
	Devices       int    `json:"devices"`
}

type createSiteRequest struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Token describes an enrolment token.
type Token struct {
	ID            string `json:"id"`
	Site          string `json:"site"`
	CreatedBy     string `json:"created_by"`
	CreatedUnixMs int64  `json:"created_unix_ms"`
	ExpiresUnixMs int64  `json:"expires_unix_ms"`
	MaxUses       int    `json:"max_uses"`
	Uses          int    `json:"uses"`
	Revoked       bool   `json:"revoked"`
}

type createTokenRequest struct {
	Site           string `json:"site"`
	ExpiresSeconds int64  `json:"expires_seconds"`
	MaxUses        int    `json:"max_uses"`
}

// CreatedToken is a new token with its secret, shown once.
type CreatedToken struct {
	Token
	Secret string `json:"secret"`
}

type tokenList struct {
	Tokens []Token `json:"tokens"`
}

// CreateSite creates a site with id (a slug) and a display name ("" means id).
func (c *Client) CreateSite(ctx context.Context, id, name string) (Site, error) {
	var s Site
	if err := c.do(ctx, http.MethodPost, pathAdminSites, createSiteRequest{ID: id, Name: name}, &s); err != nil {
		return Site{}, fmt.Errorf("create site %q: %w", id, err)
	}
	return s, nil
}

// CreateToken creates an enrolment token for site, valid for ttl and for
// uses enrolments.
func (c *Client) CreateToken(ctx context.Context, site string, ttl time.Duration, uses int) (CreatedToken, error) {
	var t CreatedToken
	req := createTokenRequest{Site: site, ExpiresSeconds: int64(ttl / time.Second), MaxUses: uses}
	if err := c.do(ctx, http.MethodPost, pathAdminTokens, req, &t); err != nil {
		return CreatedToken{}, fmt.Errorf("create token for site %q: %w", site, err)
	}
	if t.Secret == "" {
		return CreatedToken{}, fmt.Errorf("create token for site %q: the fleet's answer has no token", site)
	}
	return t, nil
}

// Tokens lists enrolment tokens, of one site when site is not "".
func (c *Client) Tokens(ctx context.Context, site string) ([]Token, error) {
	p := pathAdminTokens
	if site != "" {
		p += "?site=" + url.QueryEscape(site)
	}
	var l tokenList
	if err := c.do(ctx, http.MethodGet, p, nil, &l); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return l.Tokens, nil
}

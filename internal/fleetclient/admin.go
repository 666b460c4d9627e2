package fleetclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"accesskiosk/fleet/api"
)

// The admin methods: what `provision` calls with a staff API token
// (Options.APIToken).

// CreateSite creates a site with id (a slug) and a display name ("" means id).
func (c *Client) CreateSite(ctx context.Context, id, name string) (api.Site, error) {
	var s api.Site
	if err := c.do(ctx, http.MethodPost, api.PathAdminSites, c.apiToken, api.CreateSiteRequest{ID: id, Name: name}, &s); err != nil {
		return api.Site{}, fmt.Errorf("create site %q: %w", id, err)
	}
	return s, nil
}

// CreateToken creates an enrolment token for site, valid for ttl and for
// uses enrolments.
func (c *Client) CreateToken(ctx context.Context, site string, ttl time.Duration, uses int) (api.CreatedToken, error) {
	var t api.CreatedToken
	req := api.CreateTokenRequest{Site: site, ExpiresSeconds: int64(ttl / time.Second), MaxUses: uses}
	if err := c.do(ctx, http.MethodPost, api.PathAdminTokens, c.apiToken, req, &t); err != nil {
		return api.CreatedToken{}, fmt.Errorf("create token for site %q: %w", site, err)
	}
	if t.Secret == "" {
		return api.CreatedToken{}, fmt.Errorf("create token for site %q: the fleet's answer has no token", site)
	}
	return t, nil
}

func withSite(path, site string) string {
	if site == "" {
		return path
	}
	return path + "?site=" + url.QueryEscape(site)
}

// Tokens lists enrolment tokens, of one site when site is not "".
func (c *Client) Tokens(ctx context.Context, site string) ([]api.Token, error) {
	var l api.TokenList
	if err := c.do(ctx, http.MethodGet, withSite(api.PathAdminTokens, site), c.apiToken, nil, &l); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return l.Tokens, nil
}

// Devices lists enrolled kiosks, of one site when site is not "".
func (c *Client) Devices(ctx context.Context, site string) ([]api.Device, error) {
	var l api.DeviceList
	if err := c.do(ctx, http.MethodGet, withSite(api.PathAdminDevices, site), c.apiToken, nil, &l); err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return l.Devices, nil
}

// CheckToken asks the fleet about an enrolment token's secret without
// spending it: which token it is, for which site, its uses and whether it
// is revoked. A secret the fleet never made is an *Error with
// api.CodeTokenUnknown.
func (c *Client) CheckToken(ctx context.Context, secret string) (api.Token, error) {
	var t api.Token
	if err := c.do(ctx, http.MethodPost, api.PathAdminTokenCheck, c.apiToken, api.CheckTokenRequest{Token: secret}, &t); err != nil {
		return api.Token{}, fmt.Errorf("check enrolment token: %w", err)
	}
	return t, nil
}

// RevokeToken stops the enrolment token with this id from enrolling more
// kiosks.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, api.PathAdminToken+url.PathEscape(id), c.apiToken, nil, nil); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

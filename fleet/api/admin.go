package api

// The staff admin API (capability 2): what `provision` and other scripts call
// to manage sites and enrolment tokens. Every request carries a staff API
// token as "Authorization: Bearer akapi_..." (made with
// `fleet admin api-token --user NAME` or on the console's "API tokens"
// page). A token acts with its user's role: viewers may GET, only admins may
// POST or DELETE. Answers are JSON; errors are an Error body.

// Admin endpoint paths.
const (
	PathAdminSites  = "/api/v1/admin/sites"   // GET → SiteList; POST CreateSiteRequest → Site (201)
	PathAdminTokens = "/api/v1/admin/tokens"  // GET [?site=ID] → TokenList; POST CreateTokenRequest → CreatedToken (201)
	PathAdminToken  = "/api/v1/admin/tokens/" // + token ID: DELETE revokes it (204)
	// PathAdminTokenCheck: POST CheckTokenRequest → Token (200), or 404
	// CodeTokenUnknown when the fleet never made that secret. Viewers may
	// ask; nothing is spent.
	PathAdminTokenCheck = "/api/v1/admin/tokens/check"
	PathAdminDevices    = "/api/v1/admin/devices" // GET [?site=ID] → DeviceList
	// PathAdminInsights + FILE (capability 5): GET ?period=KEY[&site=ID]
	// → the Insights figures of a site (no site: all sites) for a month
	// ("2026-03"), a quarter ("fy2025-q1") or a financial year ("fy2025"),
	// with small numbers suppressed. FILE is "insights.json" (every chart:
	// the JSON schema "accesskiosk.insights" version 1 of fleet/insights)
	// or CHART.json / CHART.csv for one chart (CHART: summary, demand,
	// ranking-service, ranking-tile, ranking-guide, ranking-feature,
	// ranking-language, ranking-category, assisted, outcomes, sites).
	// Viewers may read it.
	PathAdminInsights = "/api/v1/admin/insights/"
)

// Admin limits.
const (
	MaxSiteIDLen       = 63
	MaxSiteNameLen     = 100
	MaxTokenUses       = 10000
	MaxTokenTTLSeconds = 90 * 24 * 3600
	// DefaultTokenTTLSeconds applies when CreateTokenRequest.ExpiresSeconds is 0.
	DefaultTokenTTLSeconds = 7 * 24 * 3600
)

// Site is a place where kiosks stand (a library, a hub).
type Site struct {
	// ID is a short slug: lower-case letters, digits and '-', starting with
	// a letter or digit, at most MaxSiteIDLen long. It is what EnrolResponse.Site
	// carries.
	ID            string `json:"id"`
	Name          string `json:"name"`
	CreatedUnixMs int64  `json:"created_unix_ms"`
	Devices       int    `json:"devices"`
}

// CreateSiteRequest is POSTed to PathAdminSites.
type CreateSiteRequest struct {
	ID   string `json:"id"`
	Name string `json:"name"` // "" means the same as ID
}

// SiteList answers GET PathAdminSites.
type SiteList struct {
	Sites []Site `json:"sites"`
}

// Token describes an enrolment token; the secret itself is shown only once,
// in CreatedToken.
type Token struct {
	ID            string `json:"id"`
	Site          string `json:"site"`
	CreatedBy     string `json:"created_by"`
	CreatedUnixMs int64  `json:"created_unix_ms"`
	ExpiresUnixMs int64  `json:"expires_unix_ms"`
	MaxUses       int    `json:"max_uses"`
	Uses          int    `json:"uses"`
	Revoked       bool   `json:"revoked"`
	// Expired is set in PathAdminTokenCheck's answer, by the fleet's clock.
	Expired bool `json:"expired,omitempty"`
}

// CreateTokenRequest is POSTed to PathAdminTokens.
type CreateTokenRequest struct {
	Site string `json:"site"` // site ID
	// ExpiresSeconds is how long the token is valid; 0 means
	// DefaultTokenTTLSeconds; at most MaxTokenTTLSeconds.
	ExpiresSeconds int64 `json:"expires_seconds"`
	// MaxUses is how many devices may enrol with it; 0 means 1.
	MaxUses int `json:"max_uses"`
}

// CreatedToken answers a good CreateTokenRequest. Secret is the value an
// agent sends as EnrolRequest.Token; the server keeps only its hash.
type CreatedToken struct {
	Token
	Secret string `json:"secret"`
}

// CheckTokenRequest is POSTed to PathAdminTokenCheck: is this secret an
// enrolment token of this fleet, and in what state? `provision config`
// asks before it writes a token onto a card.
type CheckTokenRequest struct {
	Token string `json:"token"`
}

// TokenList answers GET PathAdminTokens.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// Device is a kiosk as the admin API lists it.
type Device struct {
	ID             string `json:"id"`
	Site           string `json:"site"`
	Hostname       string `json:"hostname"`
	Arch           string `json:"arch"`
	AgentVersion   string `json:"agent_version"`
	KioskVersion   string `json:"kiosk_version,omitempty"`
	EnrolledUnixMs int64  `json:"enrolled_unix_ms"`
	LastSeenUnixMs int64  `json:"last_seen_unix_ms"` // 0: never reported
	KioskState     string `json:"kiosk_state,omitempty"`
	Revoked        bool   `json:"revoked"`
}

// DeviceList answers GET PathAdminDevices.
type DeviceList struct {
	Devices []Device `json:"devices"`
}

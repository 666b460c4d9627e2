// Package api holds every request and response the agent and the fleet
// server exchange: one wire package for both ends, never copied. Each type
// says which endpoint it belongs to.
//
// All bodies are JSON, decoded strictly (unknown fields are refused) and
// bounded in size. Device endpoints authenticate with the device credential
// from enrolment as "Authorization: Bearer DEVICEID.SECRET". Errors are an
// Error body with a 4xx or 5xx status.
//
// Capability: the agent sends its CapabilityVersion and the server answers
// with its own; each side uses only what both understand. Bump
// CapabilityVersion with every change to this package and note it below.
//
//	1  enrol, report batches with health, session counts, wipe receipts, commands and acks
//	2  compatible additions: command kind "identify"; an acks-only batch (no
//	   reports) is valid; error codes "forbidden", "not_found", "conflict",
//	   "token_revoked", "unsupported_media_type";
//	   the staff admin API (sites, enrolment tokens, devices) in admin.go.
//	   Nothing a version-1 agent sends or reads changed.
//	3  compatible addition: command kind "volunteer_code" (Text is a one-time
//	   volunteer code of VolunteerCodeLen digits, Seconds its lifetime,
//	   1..MaxVolunteerCodeSeconds). The server keeps the code only until the
//	   command is acknowledged; agents never log it. An agent older than 3
//	   refuses the kind as unknown.
//	4  compatible addition: idempotent enrolment per device key. An
//	   EnrolRequest may carry the device's Ed25519 public key (DeviceKey)
//	   and a signature by it over EnrolProof(token, key) (KeyProof). The
//	   same key presenting the same token again while the token is valid
//	   (not expired, not revoked), even once it is used up, gets its device
//	   back: the same device id, a fresh credential, the old one revoked;
//	   EnrolResponse.Reenrolled says so. Any other key with a used token is
//	   refused as before. Error code "device_revoked": the device IT
//	   withdrew presents its key again. A server older than 4 refuses the
//	   two request fields as unknown; agents then enrol without them.
//	5  compatible addition: Receipt.Counted, what the kiosk counted in the
//	   session for the fleet's Insights (counted.go): its start hour and
//	   length rounded, and identifiers from the kiosk's configuration only
//	   (tiles, guides, allowlist rule ids, accessibility features,
//	   languages) plus scan, print and remote-help counts. The fleet keeps
//	   only identifiers in its configured Vocabulary and drops the rest
//	   (counted, never stored), the receipt's Category included. A server
//	   older than 5 refuses the field as unknown; agents then send receipts
//	   without it.
//	6  compatible addition: command kind "assist_offer" (remote help, issue
//	   17): Text is the share id staff's Offer help made (fleet/assist/wire
//	   ShareIDLen hex digits), Seconds how long the offer waits for the
//	   agent to dial the fleet's assist WebSocket (1..MaxAssistOfferSeconds).
//	   An agent older than 6 refuses the kind as unknown.
//	7  compatible addition: four more counts in Receipt.Counted (counted.go):
//	   Downloads, Uploads, PrintJobs (files saved, files handed to a page,
//	   print jobs sent) and AssistMs (how long staff saw the screen through
//	   remote help). Counts and durations only. A server older than 7
//	   refuses the fields as unknown; agents then send Counted without them
//	   (and without Counted at all to a server older than 5).
package api

import "time"

// CapabilityVersion is the version of this wire contract.
const CapabilityVersion = 7

// Endpoint paths.
const (
	PathEnrol  = "/api/v1/enrol"  // POST EnrolRequest → EnrolResponse
	PathReport = "/api/v1/report" // POST ReportBatch → ReportResponse (device auth)
)

// Limits the server enforces and the agent respects.
const (
	MaxBodyBytes        = 1 << 20 // any request body
	MaxReportsPerBatch  = 100
	MaxReceiptsInReport = 50
	MaxAcksPerBatch     = 100
	MaxWarnings         = 32
)

// Error is the body of every non-2xx answer.
type Error struct {
	// Code is a stable identifier, e.g. "token_expired", "token_used",
	// "bad_request", "unauthorized", "too_large", "rate_limited".
	Code string `json:"code"`
	// Message is a sentence for a person; it never echoes secrets.
	Message string `json:"message"`
}

// Error codes.
const (
	CodeBadRequest   = "bad_request"
	CodeUnauthorized = "unauthorized"
	CodeTokenUnknown = "token_unknown"
	CodeTokenExpired = "token_expired"
	CodeTokenUsed    = "token_used"
	CodeTokenRevoked = "token_revoked" // capability 2
	// CodeDeviceRevoked: a device IT withdrew presents its key and token
	// again (capability 4).
	CodeDeviceRevoked = "device_revoked"
	CodeTooLarge      = "too_large"
	CodeRateLimited   = "rate_limited"
	CodeInternal      = "internal"
	CodeForbidden     = "forbidden" // authenticated, but the role may not do this
	CodeNotFound      = "not_found"
	CodeConflict      = "conflict"               // e.g. a site with that id exists
	CodeMediaType     = "unsupported_media_type" // Content-Type is set and is not application/json
)

// EnrolRequest is POSTed to PathEnrol once per device, with a single-use
// (or few-use), expiring, site-scoped enrolment token.
type EnrolRequest struct {
	Token        string `json:"token"`
	Hostname     string `json:"hostname"`
	Arch         string `json:"arch"` // GOARCH: amd64, arm64
	AgentVersion string `json:"agent_version"`
	KioskVersion string `json:"kiosk_version,omitempty"`
	Capability   int    `json:"capability"`
	// DeviceKey is the device's own Ed25519 public key, standard base64
	// (capability 4). With it enrolment is idempotent per device key: see
	// the capability notes above.
	DeviceKey string `json:"device_key,omitempty"`
	// KeyProof is the Ed25519 signature by DeviceKey over
	// EnrolProof(Token, DeviceKey), standard base64: the device holds the
	// key. Required with DeviceKey.
	KeyProof string `json:"key_proof,omitempty"`
}

// EnrolProof is the message a device signs with its key to enrol: it binds
// the key to the token, so a proof is good for that token only.
func EnrolProof(token, deviceKey string) []byte {
	return []byte("accesskiosk enrol v1\x00" + token + "\x00" + deviceKey)
}

// EnrolResponse answers a good EnrolRequest. The credential is shown once;
// the server keeps only its hash.
type EnrolResponse struct {
	DeviceID   string `json:"device_id"`
	Credential string `json:"credential"` // "DEVICEID.SECRET", sent as the Bearer token
	Site       string `json:"site"`
	// ReportIntervalSeconds is how often the agent should report.
	ReportIntervalSeconds int `json:"report_interval_seconds"`
	Capability            int `json:"capability"`
	// Reenrolled: the device key had enrolled with this token before, so
	// this is the same device with a fresh credential (capability 4).
	Reenrolled bool `json:"reenrolled,omitempty"`
}

// ReportBatch is POSTed to PathReport: the agent's queued reports, oldest
// first, and acknowledgements of commands it has acted on. Reports are
// idempotent by ID: a report the server already has is accepted again and
// not stored twice. A batch may carry acks only (no reports) to acknowledge a
// command at once; it may not be empty of both.
type ReportBatch struct {
	Capability int          `json:"capability"`
	Reports    []Report     `json:"reports"`
	Acks       []CommandAck `json:"acks,omitempty"`
}

// Report is one health snapshot. It carries counts and durations only:
// never a URL, text a resident typed or anything identifying a resident.
type Report struct {
	ID            string        `json:"id"`  // random, unique per report (idempotency key)
	Seq           uint64        `json:"seq"` // per-device, increasing; orders reports
	CreatedUnixMs int64         `json:"created_unix_ms"`
	Health        Health        `json:"health"`
	Sessions      SessionCounts `json:"sessions"`
	Receipts      []Receipt     `json:"receipts,omitempty"` // wipe receipts since the last report
	Warnings      []Warning     `json:"warnings,omitempty"` // the health registry's current warnings
}

// Health is the device's state at report time.
type Health struct {
	AgentVersion   string  `json:"agent_version"`
	KioskVersion   string  `json:"kiosk_version,omitempty"`
	OSRelease      string  `json:"os_release,omitempty"`
	UptimeSeconds  int64   `json:"uptime_seconds"`
	Load1          float64 `json:"load1"`
	TempCelsius    float64 `json:"temp_celsius,omitempty"` // 0: no sensor
	MemTotalBytes  uint64  `json:"mem_total_bytes"`
	MemAvailBytes  uint64  `json:"mem_avail_bytes"`
	DiskTotalBytes uint64  `json:"disk_total_bytes"`
	DiskFreeBytes  uint64  `json:"disk_free_bytes"`
	// KioskState is the kiosk's bus.Status state, or "gone" when the kiosk
	// is not on the bus.
	KioskState string `json:"kiosk_state"`
	// KioskUnit is the systemd ActiveState of the kiosk unit ("active", "failed", ...), "" if unknown.
	KioskUnit string `json:"kiosk_unit,omitempty"`
	// KioskRestarts counts kiosk restarts seen by the agent in the last hour (crash loops).
	KioskRestarts int `json:"kiosk_restarts,omitempty"`
	// Online is false when the report was made while the fleet was unreachable.
	NetworkUp bool `json:"network_up"`
	// QueueDepth is how many reports were waiting when this one was made.
	QueueDepth int `json:"queue_depth"`
}

// SessionCounts summarise sessions ended since the last report.
type SessionCounts struct {
	Ended         int   `json:"ended"`
	Assisted      int   `json:"assisted,omitempty"`
	TotalMs       int64 `json:"total_ms"`        // sum of session lengths
	MedianMs      int64 `json:"median_ms"`       // median session length
	ResetMedianMs int64 `json:"reset_median_ms"` // median reset_ms
	ResetMaxMs    int64 `json:"reset_max_ms"`
	WipeFailures  int   `json:"wipe_failures,omitempty"`
	WebCrashes    int   `json:"web_crashes,omitempty"`
}

// Receipt is a wipe receipt as the kiosk emitted it (kiosk/bus.Receipt),
// on the wire. Category and Outcome are identifiers from the kiosk config.
// Counted (capability 5; more counts in 7) is what the session used, for
// the fleet's Insights; nil from agents before 5.
type Receipt struct {
	Reason      string   `json:"reason"`
	Cleared     []string `json:"cleared"`
	Failed      []string `json:"failed,omitempty"`
	ResetMs     int64    `json:"reset_ms"`
	SessionMs   int64    `json:"session_ms"`
	EndedUnixMs int64    `json:"ended_unix_ms"`
	Assisted    bool     `json:"assisted,omitempty"`
	Category    string   `json:"category,omitempty"`
	Outcome     string   `json:"outcome,omitempty"`
	Counted     *Counted `json:"counted,omitempty"`
}

// Warning is one entry of the agent's health registry.
type Warning struct {
	Code     string `json:"code"`     // stable, e.g. "disk_low", "kiosk_gone"
	Severity string `json:"severity"` // "info", "warning", "critical"
	Text     string `json:"text"`     // for IT staff; never resident data
}

// ReportResponse answers a ReportBatch.
type ReportResponse struct {
	Capability int `json:"capability"`
	// Accepted lists the IDs of the batch's reports the server now holds
	// (including ones it already had). The agent drops exactly these.
	Accepted []string `json:"accepted"`
	// Commands the agent should carry out, oldest first. A command is sent
	// again until it is acknowledged.
	Commands []Command `json:"commands,omitempty"`
	// ReportIntervalSeconds, when not 0, changes how often the agent reports.
	ReportIntervalSeconds int `json:"report_interval_seconds,omitempty"`
	// Desired is the state the fleet wants the device in.
	Desired DesiredState `json:"desired"`
}

// Command kinds.
const (
	CommandEndSession   = "end_session"
	CommandRestartKiosk = "restart_kiosk"
	CommandReboot       = "reboot"
	CommandShowMessage  = "show_message"
	CommandIdentify     = "identify" // flash the screen / show the device id for a few seconds (capability 2)
	// CommandVolunteerCode hands the kiosk a one-time volunteer code
	// (capability 3): Text is the code, Seconds how long it stays valid.
	CommandVolunteerCode = "volunteer_code"
	// CommandAssistOffer tells the agent that staff offered remote help
	// (capability 5): Text is the share id, Seconds how long the offer
	// waits. The kiosk still asks its resident before anything is shared.
	CommandAssistOffer = "assist_offer"
)

// MaxAssistOfferSeconds bounds an assist_offer's wait (the fleet's offer
// gives up after two minutes).
const MaxAssistOfferSeconds = 300

// One-time volunteer codes (CommandVolunteerCode), as the kiosk accepts them.
const (
	VolunteerCodeLen        = 8
	MaxVolunteerCodeSeconds = 900
)

// Command is something IT staff asked the device to do.
type Command struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Text         string `json:"text,omitempty"`    // show_message text; volunteer_code code
	Seconds      int    `json:"seconds,omitempty"` // show_message and volunteer_code only
	IssuedUnixMs int64  `json:"issued_unix_ms"`
}

// Acknowledgement statuses.
const (
	AckDone    = "done"
	AckFailed  = "failed"
	AckRefused = "refused" // unknown kind or bad arguments
)

// CommandAck reports what became of a command.
type CommandAck struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"` // short, for IT staff
	UnixMs int64  `json:"unix_ms"`
}

// DesiredState is what the fleet wants the device to run.
type DesiredState struct {
	// Release is the version the device should run, "" for no change.
	Release string `json:"release,omitempty"`
}

// ReportInterval returns the interval in a response, or def when unset.
func (r ReportResponse) ReportInterval(def time.Duration) time.Duration {
	if r.ReportIntervalSeconds <= 0 {
		return def
	}
	return time.Duration(r.ReportIntervalSeconds) * time.Second
}

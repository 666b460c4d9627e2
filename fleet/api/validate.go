package api

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"unicode/utf8"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/internal/ident"
)

// Field limits checked by Validate. Both ends use them: the agent before it
// queues, the server before it stores.
const (
	MaxIDLen      = 64  // report, command and ack IDs
	MaxShortLen   = 64  // versions, states, codes, reasons, identifiers
	MaxTextLen    = 500 // warning text, ack detail, show_message text
	MaxHostLen    = 253
	MaxTokenLen   = 128
	MaxListLen    = 32 // cleared / failed lists in a receipt
	MaxSessionsIn = 100000
)

// ValidationError says which field of a request is wrong and why.
type ValidationError struct {
	Field string // JSON path, e.g. "reports[3].health.kiosk_state"
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

func bad(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func checkStr(field, s string, max int, required bool) error {
	if required && s == "" {
		return bad(field, "is required")
	}
	if len(s) > max {
		return bad(field, "is longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return bad(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return bad(field, "contains a control character")
		}
	}
	return nil
}

// checkIdent allows only ident.Label's characters, the alphabet of IDs and codes.
func checkIdent(field, s string, max int, required bool) error {
	if err := checkStr(field, s, max, required); err != nil {
		return err
	}
	if !ident.Label.Chars(s) {
		return bad(field, "may contain only %s", ident.Label)
	}
	return nil
}

// Validate checks an EnrolRequest's fields.
func (r *EnrolRequest) Validate() error {
	if err := checkIdent("token", r.Token, MaxTokenLen, true); err != nil {
		return err
	}
	if err := checkIdent("hostname", r.Hostname, MaxHostLen, true); err != nil {
		return err
	}
	if err := checkIdent("arch", r.Arch, MaxShortLen, true); err != nil {
		return err
	}
	if err := checkStr("agent_version", r.AgentVersion, MaxShortLen, true); err != nil {
		return err
	}
	if err := checkStr("kiosk_version", r.KioskVersion, MaxShortLen, false); err != nil {
		return err
	}
	if r.Capability < 1 {
		return bad("capability", "must be at least 1")
	}
	return r.checkKey()
}

// SignEnrol sets the request's DeviceKey and KeyProof from the device's
// key; call it after setting Token.
func (r *EnrolRequest) SignEnrol(key ed25519.PrivateKey) {
	r.DeviceKey = base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	r.KeyProof = base64.StdEncoding.EncodeToString(ed25519.Sign(key, EnrolProof(r.Token, r.DeviceKey)))
}

// checkKey checks DeviceKey and KeyProof: both or neither, a 32-byte
// Ed25519 key and a signature by it over EnrolProof.
func (r *EnrolRequest) checkKey() error {
	if r.DeviceKey == "" && r.KeyProof == "" {
		return nil
	}
	if r.DeviceKey == "" {
		return bad("device_key", "is required with key_proof")
	}
	if r.KeyProof == "" {
		return bad("key_proof", "is required with device_key")
	}
	key, err := base64.StdEncoding.DecodeString(r.DeviceKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return bad("device_key", "must be a %d-byte Ed25519 public key in standard base64", ed25519.PublicKeySize)
	}
	sig, err := base64.StdEncoding.DecodeString(r.KeyProof)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return bad("key_proof", "must be a %d-byte Ed25519 signature in standard base64", ed25519.SignatureSize)
	}
	if !ed25519.Verify(ed25519.PublicKey(key), EnrolProof(r.Token, r.DeviceKey), sig) {
		return bad("key_proof", "is not a signature by device_key over this token")
	}
	return nil
}

// Validate checks a ReportBatch: counts within limits, IDs present and
// well-formed, numbers not negative, strings bounded. Duplicate report IDs
// within one batch are refused.
func (b *ReportBatch) Validate() error {
	if b.Capability < 1 {
		return bad("capability", "must be at least 1")
	}
	if len(b.Reports) == 0 && len(b.Acks) == 0 {
		return bad("reports", "a batch needs at least one report or ack")
	}
	if len(b.Reports) > MaxReportsPerBatch {
		return bad("reports", "has %d reports; at most %d per batch", len(b.Reports), MaxReportsPerBatch)
	}
	if len(b.Acks) > MaxAcksPerBatch {
		return bad("acks", "has %d acks; at most %d per batch", len(b.Acks), MaxAcksPerBatch)
	}
	seen := make(map[string]bool, len(b.Reports))
	for i := range b.Reports {
		f := fmt.Sprintf("reports[%d]", i)
		if err := b.Reports[i].validate(f); err != nil {
			return err
		}
		if seen[b.Reports[i].ID] {
			return bad(f+".id", "repeats an earlier report's id in this batch")
		}
		seen[b.Reports[i].ID] = true
	}
	for i, a := range b.Acks {
		f := fmt.Sprintf("acks[%d]", i)
		if err := checkIdent(f+".id", a.ID, MaxIDLen, true); err != nil {
			return err
		}
		switch a.Status {
		case AckDone, AckFailed, AckRefused:
		default:
			return bad(f+".status", "must be %q, %q or %q", AckDone, AckFailed, AckRefused)
		}
		if err := checkStr(f+".detail", a.Detail, MaxTextLen, false); err != nil {
			return err
		}
		if a.UnixMs < 0 {
			return bad(f+".unix_ms", "must not be negative")
		}
	}
	return nil
}

func (r *Report) validate(f string) error {
	if err := checkIdent(f+".id", r.ID, MaxIDLen, true); err != nil {
		return err
	}
	if r.CreatedUnixMs <= 0 {
		return bad(f+".created_unix_ms", "must be a positive Unix time in milliseconds")
	}
	h := &r.Health
	hf := f + ".health."
	for _, c := range []struct {
		name, v string
		ident   bool
	}{
		{"agent_version", h.AgentVersion, false},
		{"kiosk_version", h.KioskVersion, false},
		{"os_release", h.OSRelease, false},
		{"kiosk_state", h.KioskState, true},
		{"kiosk_unit", h.KioskUnit, true},
	} {
		var err error
		if c.ident {
			err = checkIdent(hf+c.name, c.v, MaxShortLen, false)
		} else {
			err = checkStr(hf+c.name, c.v, MaxShortLen, false)
		}
		if err != nil {
			return err
		}
	}
	if h.UptimeSeconds < 0 || h.Load1 < 0 || h.KioskRestarts < 0 || h.QueueDepth < 0 {
		return bad(hf+"uptime_seconds", "counts and durations must not be negative")
	}
	if h.TempCelsius < -100 || h.TempCelsius > 200 {
		return bad(hf+"temp_celsius", "%.1f is not a plausible temperature", h.TempCelsius)
	}
	if h.MemAvailBytes > h.MemTotalBytes && h.MemTotalBytes != 0 {
		return bad(hf+"mem_avail_bytes", "is more than mem_total_bytes")
	}
	if h.DiskFreeBytes > h.DiskTotalBytes && h.DiskTotalBytes != 0 {
		return bad(hf+"disk_free_bytes", "is more than disk_total_bytes")
	}
	s := &r.Sessions
	if s.Ended < 0 || s.Assisted < 0 || s.TotalMs < 0 || s.MedianMs < 0 || s.ResetMedianMs < 0 ||
		s.ResetMaxMs < 0 || s.WipeFailures < 0 || s.WebCrashes < 0 {
		return bad(f+".sessions", "counts and durations must not be negative")
	}
	if s.Ended > MaxSessionsIn || s.Assisted > s.Ended {
		return bad(f+".sessions.ended", "implausible session counts")
	}
	if len(r.Receipts) > MaxReceiptsInReport {
		return bad(f+".receipts", "has %d receipts; at most %d", len(r.Receipts), MaxReceiptsInReport)
	}
	for i, rc := range r.Receipts {
		rf := fmt.Sprintf("%s.receipts[%d].", f, i)
		if err := checkIdent(rf+"reason", rc.Reason, MaxShortLen, true); err != nil {
			return err
		}
		if err := checkIdent(rf+"category", rc.Category, MaxShortLen, false); err != nil {
			return err
		}
		if err := checkIdent(rf+"outcome", rc.Outcome, MaxShortLen, false); err != nil {
			return err
		}
		if len(rc.Cleared) > MaxListLen || len(rc.Failed) > MaxListLen {
			return bad(rf+"cleared", "at most %d entries", MaxListLen)
		}
		for j, c := range append(append([]string(nil), rc.Cleared...), rc.Failed...) {
			if err := checkIdent(fmt.Sprintf("%scleared[%d]", rf, j), c, MaxShortLen, true); err != nil {
				return err
			}
		}
		if rc.ResetMs < 0 || rc.SessionMs < 0 || rc.EndedUnixMs < 0 {
			return bad(rf+"reset_ms", "durations and times must not be negative")
		}
		if rc.Counted != nil {
			if err := rc.Counted.validate(rf+"counted.", rc.EndedUnixMs); err != nil {
				return err
			}
		}
	}
	if len(r.Warnings) > MaxWarnings {
		return bad(f+".warnings", "has %d warnings; at most %d", len(r.Warnings), MaxWarnings)
	}
	for i, w := range r.Warnings {
		wf := fmt.Sprintf("%s.warnings[%d].", f, i)
		if err := checkIdent(wf+"code", w.Code, MaxShortLen, true); err != nil {
			return err
		}
		switch w.Severity {
		case "info", "warning", "critical":
		default:
			return bad(wf+"severity", "must be info, warning or critical")
		}
		if err := checkStr(wf+"text", w.Text, MaxTextLen, false); err != nil {
			return err
		}
	}
	return nil
}

// CheckVolunteerCode checks the Text and Seconds of a volunteer_code
// command: exactly VolunteerCodeLen ASCII digits, 1..MaxVolunteerCodeSeconds.
// The error names the field but never repeats the code.
func CheckVolunteerCode(code string, seconds int) error {
	if len(code) != VolunteerCodeLen || !ident.VolunteerCode.Valid(code) {
		return bad("text", "a volunteer code must be exactly %d digits", VolunteerCodeLen)
	}
	if seconds < 1 || seconds > MaxVolunteerCodeSeconds {
		return bad("seconds", "must be 1 to %d for a volunteer code", MaxVolunteerCodeSeconds)
	}
	return nil
}

// CheckAssistOffer checks the Text and Seconds of an assist_offer command:
// a share id (wire.ValidShareID), 1..MaxAssistOfferSeconds.
func CheckAssistOffer(shareID string, seconds int) error {
	if !wire.ValidShareID(shareID) {
		return bad("text", "an assist offer must name a share: %d lower-case hex digits", wire.ShareIDLen)
	}
	if seconds < 1 || seconds > MaxAssistOfferSeconds {
		return bad("seconds", "must be 1 to %d for an assist offer", MaxAssistOfferSeconds)
	}
	return nil
}

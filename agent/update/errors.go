package update

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Reason says why an update was refused, abandoned or rolled back. It is
// stable: the agent puts it in its report and the console shows it.
type Reason string

// Reasons.
const (
	ReasonBadSignature   Reason = "bad_signature"    // metadata signed, but not validly, by the role's keys
	ReasonUnknownKey     Reason = "unknown_key"      // metadata signed only by keys root does not trust
	ReasonExpired        Reason = "expired_metadata" // metadata past its expiry (freeze attack or stale mirror)
	ReasonRollback       Reason = "rollback"         // older than what is installed (release serial or metadata version)
	ReasonHashMismatch   Reason = "hash_mismatch"    // downloaded bytes differ from the signed hashes
	ReasonLengthMismatch Reason = "length_mismatch"  // downloaded length differs from the signed length
	ReasonDiskFull       Reason = "insufficient_disk"
	ReasonNotFound       Reason = "not_found"     // no such release for this architecture
	ReasonBadBundle      Reason = "bad_bundle"    // signed, but its contents are malformed
	ReasonFailedBefore   Reason = "failed_before" // this version already failed its health gate here
	ReasonUnhealthy      Reason = "unhealthy"     // the health gate did not pass in time: rolled back
	ReasonUnits          Reason = "units"         // restarting units failed: rolled back
	ReasonNetwork        Reason = "network"       // transient: repository unreachable
	ReasonMetadata       Reason = "metadata"      // other TUF verification failure
	ReasonLocal          Reason = "local"         // a local I/O error
	ReasonCancelled      Reason = "cancelled"     // the agent stopped; resumes later
	ReasonInterrupted    Reason = "interrupted"   // the process died mid-switch; recovered at start
)

// Transient reports whether an update that failed for r is worth trying
// again later without anything changing on the fleet.
func (r Reason) Transient() bool {
	switch r {
	case ReasonNetwork, ReasonCancelled, ReasonLocal, ReasonDiskFull, ReasonExpired:
		return true
	}
	return false
}

// Error is an update failure with its Reason. Every error Apply returns is
// one (check with errors.As or ReasonOf).
type Error struct {
	Reason  Reason
	Version string
	Err     error
}

func (e *Error) Error() string {
	if e.Version != "" {
		return fmt.Sprintf("update to %s: %s: %v", e.Version, e.Reason, e.Err)
	}
	return fmt.Sprintf("update: %s: %v", e.Reason, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of an update error, "" for nil.
func ReasonOf(err error) Reason {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ReasonCancelled
	}
	return ReasonLocal
}

func fail(r Reason, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Reason: r, Err: err}
}

func failf(r Reason, format string, args ...any) error {
	return &Error{Reason: r, Err: fmt.Errorf(format, args...)}
}

// classifyTUF maps an error from go-tuf's Refresh to a Reason. raw returns
// the last bytes fetched for a role (to tell an unknown key from a bad
// signature), trusted the key IDs root trusts for that role.
func classifyTUF(err error, raw func(role string) []byte, trusted func(role string) []string) Reason {
	var dl *metadata.ErrDownloadHTTP
	switch {
	case errors.Is(err, context.Canceled):
		return ReasonCancelled
	case errors.As(err, &dl):
		return ReasonNetwork
	case errors.Is(err, &metadata.ErrExpiredMetadata{}):
		return ReasonExpired
	case errors.Is(err, &metadata.ErrBadVersionNumber{}):
		return ReasonRollback
	case errors.Is(err, &metadata.ErrLengthOrHashMismatch{}):
		return ReasonHashMismatch
	case errors.Is(err, &metadata.ErrDownloadLengthMismatch{}):
		return ReasonLengthMismatch
	case errors.Is(err, &metadata.ErrUnsignedMetadata{}):
		role := roleInMessage(err.Error())
		if role == "" {
			return ReasonBadSignature
		}
		ids := signatureKeyIDs(raw(role))
		known := trusted(role)
		for _, id := range ids {
			for _, k := range known {
				if id == k {
					return ReasonBadSignature
				}
			}
		}
		return ReasonUnknownKey
	case errors.Is(err, &metadata.ErrRepository{}):
		return ReasonMetadata
	}
	var netErr interface{ Timeout() bool }
	if errors.As(err, &netErr) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "giving up after") {
		return ReasonNetwork
	}
	return ReasonMetadata
}

// roleInMessage finds which top-level role go-tuf's error names
// ("Verifying timestamp failed, not enough signatures ...").
func roleInMessage(msg string) string {
	for _, role := range []string{metadata.ROOT, metadata.TIMESTAMP, metadata.SNAPSHOT, metadata.TARGETS} {
		if strings.Contains(msg, "erifying "+role) || strings.Contains(msg, role+" failed") {
			return role
		}
	}
	return ""
}

func signatureKeyIDs(data []byte) []string {
	var m struct {
		Signatures []struct {
			KeyID string `json:"keyid"`
		} `json:"signatures"`
	}
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	var ids []string
	for _, s := range m.Signatures {
		ids = append(ids, s.KeyID)
	}
	return ids
}

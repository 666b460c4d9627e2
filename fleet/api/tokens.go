package api

import (
	"errors"
	"fmt"
	"strings"
)

// The fleet's secrets say what they are by their prefix (fleet/credential
// makes them): an enrolment token is written on a card and spent by a
// kiosk; a staff API token acts as a person and must never leave them.
const (
	// EnrolTokenPrefix starts every enrolment token.
	EnrolTokenPrefix = "ake_"
	// StaffTokenPrefix starts every staff API token.
	StaffTokenPrefix = "akapi_"
	// EnrolTokenLen is an enrolment token's length: the prefix and 52
	// characters of lower-case base32 (32 random bytes).
	EnrolTokenLen = len(EnrolTokenPrefix) + 52
)

// ErrStaffToken means a staff API token was given where an enrolment token
// belongs (on a card).
var ErrStaffToken = errors.New("this is a staff API token (akapi_...), which acts as you and must never go on a card; give the enrolment token from `provision token create` (ake_...)")

// CheckEnrolToken says what is wrong with t as an enrolment token (nil:
// nothing), without repeating it: a staff API token (ErrStaffToken),
// another prefix, a token cut short or too long, or characters a token
// never has.
func CheckEnrolToken(t string) error {
	switch {
	case strings.HasPrefix(t, StaffTokenPrefix):
		return ErrStaffToken
	case !strings.HasPrefix(t, EnrolTokenPrefix):
		return fmt.Errorf("an enrolment token starts with %s (from `provision token create`); this one does not", EnrolTokenPrefix)
	case len(t) < EnrolTokenLen:
		return fmt.Errorf("an enrolment token has %d characters, this one %d: was it cut short when copied?", EnrolTokenLen, len(t))
	case len(t) > EnrolTokenLen:
		return fmt.Errorf("an enrolment token has %d characters, this one %d: is something pasted after it?", EnrolTokenLen, len(t))
	}
	for _, c := range t[len(EnrolTokenPrefix):] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return fmt.Errorf("an enrolment token has only lower-case letters and the digits 2 to 7 after %s; this one has %q", EnrolTokenPrefix, c)
		}
	}
	return nil
}

// Package ident holds the character classes of the short strings that cross
// a boundary in Access Kiosk — ids, codes, labels, names, versions, tokens —
// one validator per class, so that the fleet, the agent and the kiosk agree
// on what each may contain.
//
// A Class checks characters and length only. What a field means (a site
// that exists, a token that is live) is for its owner to decide.
package ident

import "strings"

// Class is one character class with length bounds (in bytes).
type Class struct {
	// Min and Max bound the length of a valid string in bytes.
	Min, Max int
	// What describes the class for error messages, e.g. "letters, digits
	// and . _ : - +".
	What string
	// allowed says whether r may stand at byte offset i of a string of
	// length n.
	allowed func(r rune, i, n int) bool
}

// Valid reports whether s has Min..Max bytes and only allowed characters.
func (c Class) Valid(s string) bool {
	return len(s) >= c.Min && len(s) <= c.Max && c.Chars(s)
}

// Chars reports whether every character of s is allowed, whatever its
// length ("" too).
func (c Class) Chars(s string) bool {
	for i, r := range s {
		if !c.allowed(r, i, len(s)) {
			return false
		}
	}
	return true
}

// First returns the first character of s the class does not allow, and
// false when there is none (length is not checked).
func (c Class) First(s string) (rune, bool) {
	for i, r := range s {
		if !c.allowed(r, i, len(s)) {
			return r, true
		}
	}
	return 0, false
}

// String is What.
func (c Class) String() string { return c.What }

func lower(r rune) bool { return r >= 'a' && r <= 'z' }
func upper(r rune) bool { return r >= 'A' && r <= 'Z' }
func digit(r rune) bool { return r >= '0' && r <= '9' }
func alnum(r rune) bool { return lower(r) || upper(r) || digit(r) }

// The classes.
var (
	// Label is the alphabet of ids, codes, states and receipt labels in the
	// fleet API (fleet/api) and what the agent passes on from the kiosk
	// (agent/kiosklink): letters, digits and . _ : - +, at most 64 bytes.
	// Fields with another length limit check Chars and their own length.
	Label = Class{Min: 1, Max: 64, What: "letters, digits and . _ : - +",
		allowed: func(r rune, _, _ int) bool { return alnum(r) || strings.ContainsRune("._:-+", r) }}

	// UserName is a staff user name on the fleet (console and `fleet
	// admin`): letters, digits and . _ @ -, at most 64 bytes.
	UserName = Class{Min: 1, Max: 64, What: "letters, digits and . _ @ -",
		allowed: func(r rune, _, _ int) bool { return alnum(r) || strings.ContainsRune("._@-", r) }}

	// Reason is why a kiosk session ended (kiosk/bus): lower-case letters,
	// digits and _, at most 64 bytes.
	Reason = Class{Min: 1, Max: 64, What: "lower-case letters, digits and _",
		allowed: func(r rune, _, _ int) bool { return lower(r) || digit(r) || r == '_' }}

	// SiteID is a fleet site's id: 1 to 63 lower-case letters, digits or
	// -, starting with a letter or digit (central-library).
	SiteID = Class{Min: 1, Max: 63, What: "lower-case letters, digits and -, starting with a letter or digit",
		allowed: func(r rune, i, _ int) bool { return lower(r) || digit(r) || r == '-' && i > 0 }}

	// HostnamePrefix starts a kiosk's host name (PREFIX-XXXXXX): 1 to 50
	// lower-case letters, digits and -, starting with a letter, not ending
	// with -.
	HostnamePrefix = Class{Min: 1, Max: 50, What: "lower-case letters, digits and -, starting with a letter and not ending with -",
		allowed: func(r rune, i, n int) bool { return lower(r) || i > 0 && (digit(r) || r == '-' && i < n-1) }}

	// Version names a release (fleet/release/bundle): letters, digits and
	// . _ + -, starting with a letter or digit, at most 64 bytes; safe as
	// a file name.
	Version = Class{Min: 1, Max: 64, What: "letters, digits and . _ + -, starting with a letter or digit",
		allowed: func(r rune, i, _ int) bool { return alnum(r) || i > 0 && strings.ContainsRune("._+-", r) }}

	// Secret is a credential handed to people or written on a card
	// (enrolment tokens, staff API tokens): 8 to 256 printable ASCII
	// characters without spaces.
	Secret = Class{Min: 8, Max: 256, What: "printable ASCII characters without spaces",
		allowed: func(r rune, _, _ int) bool { return r > ' ' && r <= '~' }}

	// Printable is an opaque id from another program (a device id written
	// back onto a card): 1 to 128 printable ASCII characters without spaces.
	Printable = Class{Min: 1, Max: 128, What: "printable ASCII characters without spaces",
		allowed: func(r rune, _, _ int) bool { return r > ' ' && r <= '~' }}

	// VolunteerCode is a one-time volunteer code: exactly 8 digits.
	VolunteerCode = Class{Min: 8, Max: 8, What: "8 digits",
		allowed: func(r rune, _, _ int) bool { return digit(r) }}

	// Text is free text that people read (a site name, a warning, a
	// message for a kiosk's screen, a version string): any characters but
	// the C0 and C1 controls (tab is allowed), DEL, the Unicode controls
	// that reorder text (bidi embeddings, overrides, isolates and marks:
	// "invoice\u202Efdp.exe" shows as "invoiceexe.pdf") and the line and
	// paragraph separators; at most 500 bytes. Right-to-left letters are
	// fine. Fields with another length limit check Chars and their own
	// length.
	Text = Class{Min: 0, Max: 500, What: "text without control characters, bidirectional controls or line separators",
		allowed: func(r rune, _, _ int) bool { return !textControl(r) }}
)

// textControl is what Text refuses.
func textControl(r rune) bool {
	switch {
	case r < 0x20 && r != '\t', r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

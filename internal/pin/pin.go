// Package pin is certificate pinning, the one implementation every Access
// Kiosk program uses to trust a fleet server: the SHA-256 fingerprint of the
// server's certificate (what `fleet serve` prints at every start and
// provisioning writes onto each card) is compared, in constant time, with
// the certificate the server presents; nothing else is consulted, so a
// self-signed fleet is trusted exactly and no other server is.
package pin

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Fingerprint is the SHA-256 of a certificate's DER bytes. The zero value
// means "no pin".
type Fingerprint [sha256.Size]byte

// ErrMismatch means the server's certificate is not the pinned one: another
// server, or the fleet's certificate changed.
var ErrMismatch = errors.New("the fleet server's TLS certificate does not match the pinned fingerprint")

// Of returns the fingerprint of a DER certificate.
func Of(der []byte) Fingerprint { return sha256.Sum256(der) }

// Parse reads a fingerprint written as 64 hex digits, in any case, with
// colons or spaces between bytes or not, optionally prefixed "sha256:",
// "SHA256=" or "sha256 Fingerprint=" (as `openssl x509 -fingerprint
// -sha256` prints). All zeros is refused: the zero Fingerprint means "no
// pin".
func Parse(s string) (Fingerprint, error) {
	t := strings.TrimSpace(s)
	lower := strings.ToLower(t)
	for _, p := range []string{"sha256 fingerprint=", "sha256:", "sha256="} {
		if strings.HasPrefix(lower, p) {
			t = t[len(p):]
			break
		}
	}
	t = strings.NewReplacer(":", "", " ", "").Replace(t)
	var f Fingerprint
	if len(t) != 2*len(f) {
		return f, fmt.Errorf("want a SHA-256 fingerprint (64 hex digits, colons allowed), got %d hex digits", len(t))
	}
	if _, err := hex.Decode(f[:], []byte(t)); err != nil {
		return Fingerprint{}, fmt.Errorf("want a SHA-256 fingerprint (hex digits 0-9, A-F), got %q", s)
	}
	if f.IsZero() {
		// The zero value means "no pin": never let a typed one mean that.
		return f, errors.New("all zeros is not a certificate's fingerprint")
	}
	return f, nil
}

// IsZero reports whether f is the zero value (no pin).
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// String writes f as `fleet serve` prints it: colon-separated upper-case
// hex pairs (AB:CD:...), the form IT staff compare by eye.
func (f Fingerprint) String() string {
	h := strings.ToUpper(hex.EncodeToString(f[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// Hex writes f as 64 lower-case hex digits, the form stored in files.
func (f Fingerprint) Hex() string { return hex.EncodeToString(f[:]) }

// Equal compares f and g in constant time.
func (f Fingerprint) Equal(g Fingerprint) bool {
	return subtle.ConstantTimeCompare(f[:], g[:]) == 1
}

// TLSConfig returns a client TLS config that accepts exactly the server
// whose leaf certificate has fingerprint f, whatever signed it; any other
// certificate fails the handshake with an error wrapping ErrMismatch that
// names the fingerprint the server has (in String's form).
func (f Fingerprint) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is not checked against roots: the pin replaces it.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrMismatch
			}
			if got := Of(cs.PeerCertificates[0].Raw); !got.Equal(f) {
				return &MismatchError{Want: f, Got: got}
			}
			return nil
		},
	}
}

// MismatchError is a handshake refused by the pin: the server has Got, the
// pin is Want. It matches ErrMismatch with errors.Is.
type MismatchError struct {
	Want, Got Fingerprint
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%v: the server has %v, the pin is %v", ErrMismatch, e.Got, e.Want)
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

package assist

import (
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"

	"accesskiosk/fleet/assist/wire"
)

// HelpCode is the code a resident reads out to council support: 6 digits,
// valid for wire.CodeTTL, used once. Only its salted hash is held, here
// and at the fleet; the code itself exists on the kiosk's screen only.
type HelpCode struct {
	salt    []byte
	hash    []byte
	expires time.Time
	used    bool
}

// NewHelpCode makes a uniformly random code valid from now. The code is
// returned for the screen only and is not kept.
func NewHelpCode(now time.Time) (string, *HelpCode, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", nil, fmt.Errorf("make help code: %w", err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", nil, fmt.Errorf("make help code: %w", err)
	}
	return code, &HelpCode{salt: salt, hash: wire.CodeHash(salt, code), expires: now.Add(wire.CodeTTL)}, nil
}

// Expires is when the code stops working.
func (h *HelpCode) Expires() time.Time { return h.expires }

// Hello is the message that registers the code with the fleet (through
// the agent): its hash, salt and expiry, never the code.
func (h *HelpCode) Hello() *wire.Msg {
	return &wire.Msg{Type: wire.TypeHello, Via: wire.ViaCode, CodeHash: h.hash, CodeSalt: h.salt, CodeExpiresMs: h.expires.UnixMilli()}
}

// Errors of Use.
var (
	ErrCodeUsed    = errors.New("the help code was already used")
	ErrCodeExpired = errors.New("the help code has expired")
)

// Use spends the code (an offer arrived for it) at now.
func (h *HelpCode) Use(now time.Time) error {
	switch {
	case h.used:
		return ErrCodeUsed
	case !now.Before(h.expires):
		return ErrCodeExpired
	}
	h.used = true
	return nil
}

// Matches reports whether code is this code, in constant time, without
// spending it.
func (h *HelpCode) Matches(code string) bool {
	return hmac.Equal(wire.CodeHash(h.salt, code), h.hash)
}

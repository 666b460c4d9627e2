// Package credential makes and checks the fleet's random bearer secrets:
// device credentials, enrolment tokens, staff API tokens and console session
// ids. Each is 32 random bytes, written with a prefix that says what it is;
// the store keeps only its SHA-256 (the secret has full entropy, so a slow
// hash adds nothing).
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// Prefixes of the kinds of secret.
const (
	PrefixDevice  = "akd_"
	PrefixEnrol   = "ake_"
	PrefixAPI     = "akapi_"
	PrefixSession = "aks_"
)

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns a fresh secret with prefix and the hash to store for it.
func New(prefix string) (secret, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	secret = prefix + strings.ToLower(enc.EncodeToString(b))
	return secret, Hash(secret)
}

// ID returns a random identifier of n bytes in lower-case base32, for rows
// whose id is shown to people (device ids, token ids, command ids).
func ID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(enc.EncodeToString(b))
}

// Hash is the stored form of a secret: hex SHA-256.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Equal compares two hashes in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

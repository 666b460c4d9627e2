// Package password hashes staff passwords with argon2id and checks them.
// Hashes are stored in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so parameters can be raised
// later without breaking old hashes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Parameters: OWASP's argon2id recommendation (46 MiB, 1 pass, 1 lane).
const (
	memoryKiB = 46 * 1024
	passes    = 1
	lanes     = 1
	keyLen    = 32
	saltLen   = 16
)

// MinLength is the shortest password accepted.
const MinLength = 10

// ErrTooShort is returned by Hash for a password shorter than MinLength.
var ErrTooShort = fmt.Errorf("password must be at least %d characters", MinLength)

var b64 = base64.RawStdEncoding

// Hash returns the argon2id hash of pw in PHC format.
func Hash(pw string) (string, error) {
	if len([]rune(pw)) < MinLength {
		return "", ErrTooShort
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, passes, memoryKiB, lanes, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches encoded. An error means encoded is not a
// hash this package understands.
func Verify(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 100 {
		return false, errors.New("bad argon2 parameters")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errors.New("bad salt")
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errors.New("bad key")
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

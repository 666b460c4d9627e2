package volunteer

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PIN hash parameters. A Raspberry Pi 4 derives one in about a tenth of a
// second: slow for a guesser with the config file, unnoticeable for a
// volunteer. (RFC 9106's second recommended option is m=64 MiB, t=3; OWASP's
// minimum for argon2id is m=19 MiB, t=2, p=1, which we use so that an old Pi
// with 1 GiB is not starved.)
const (
	DefaultMemoryKiB = 19 * 1024
	DefaultTime      = 2
	DefaultThreads   = 1
	saltLen          = 16
	keyLen           = 32
	MinPINLen        = 4
	MaxPINLen        = 12
)

// Bounds on parameters accepted from a config file, so a bad hash cannot
// make the kiosk spend a gigabyte or a minute on every attempt.
const (
	maxMemoryKiB = 256 * 1024
	maxTime      = 10
	maxThreads   = 8
)

// ErrBadPIN says a new PIN does not meet the rules (HashPIN).
var ErrBadPIN = errors.New("bad PIN")

// PINHash is a parsed argon2id hash.
type PINHash struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
	Salt      []byte
	Key       []byte
}

// CheckNewPIN says whether pin may become the volunteers' PIN: MinPINLen to
// MaxPINLen digits (the unlock screen is a number pad), not one digit
// repeated and not a run such as 1234 or 9876.
func CheckNewPIN(pin string) error {
	if len(pin) < MinPINLen || len(pin) > MaxPINLen {
		return fmt.Errorf("%w: want %d to %d digits, got %d characters", ErrBadPIN, MinPINLen, MaxPINLen, len(pin))
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: digits only (the unlock screen is a number pad)", ErrBadPIN)
		}
	}
	same, up, down := true, true, true
	for i := 1; i < len(pin); i++ {
		d := int(pin[i]) - int(pin[i-1])
		same = same && d == 0
		up = up && (d == 1 || d == -9)
		down = down && (d == -1 || d == 9)
	}
	if same || up || down {
		return fmt.Errorf("%w: too easy to guess (one digit repeated, or a run like 1234)", ErrBadPIN)
	}
	return nil
}

// HashPIN checks pin with CheckNewPIN and returns its argon2id hash in PHC
// string form, for the config's volunteer.pin_hash. rnd supplies the salt
// (nil means crypto/rand).
func HashPIN(pin string, rnd io.Reader) (string, error) {
	if err := CheckNewPIN(pin); err != nil {
		return "", err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	h := PINHash{MemoryKiB: DefaultMemoryKiB, Time: DefaultTime, Threads: DefaultThreads, Salt: make([]byte, saltLen)}
	if _, err := io.ReadFull(rnd, h.Salt); err != nil {
		return "", fmt.Errorf("hash PIN: read salt: %w", err)
	}
	h.Key = h.derive(pin, keyLen)
	return h.String(), nil
}

func (h PINHash) derive(pin string, n int) []byte {
	return argon2.IDKey([]byte(pin), h.Salt, h.Time, h.MemoryKiB, h.Threads, uint32(n))
}

// String is h in PHC string form: $argon2id$v=19$m=M,t=T,p=P$SALT$KEY, with
// SALT and KEY in unpadded standard base64.
func (h PINHash) String() string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.MemoryKiB, h.Time, h.Threads,
		enc.EncodeToString(h.Salt), enc.EncodeToString(h.Key))
}

// ParsePINHash parses a PHC argon2id string as HashPIN makes it. It refuses
// other algorithms, other versions, and parameters beyond what a kiosk
// should spend on one attempt.
func ParsePINHash(s string) (PINHash, error) {
	var h PINHash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, errors.New("not an argon2id hash: want $argon2id$v=19$m=...,t=...,p=...$SALT$KEY")
	}
	if parts[1] != "argon2id" {
		return h, fmt.Errorf("algorithm %q: only argon2id is accepted", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, fmt.Errorf("version %q: want v=%d", parts[2], argon2.Version)
	}
	var m, t, p uint64
	seen := 0
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return h, fmt.Errorf("parameter %q: want name=number", kv)
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			p = n
		default:
			return h, fmt.Errorf("unknown parameter %q", k)
		}
		seen++
	}
	switch {
	case seen != 3 || m == 0 || t == 0 || p == 0:
		return h, errors.New("want the three parameters m, t and p")
	case p > maxThreads:
		return h, fmt.Errorf("p=%d: at most %d", p, maxThreads)
	case m < 8*p || m > maxMemoryKiB:
		return h, fmt.Errorf("m=%d KiB: between %d and %d", m, 8*p, maxMemoryKiB)
	case t > maxTime:
		return h, fmt.Errorf("t=%d: at most %d", t, maxTime)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return h, errors.New("salt: want 8 to 64 bytes in unpadded base64")
	}
	key, err := enc.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return h, errors.New("key: want 16 to 64 bytes in unpadded base64")
	}
	h = PINHash{MemoryKiB: uint32(m), Time: uint32(t), Threads: uint8(p), Salt: salt, Key: key}
	return h, nil
}

// Match reports whether pin is the PIN h was made from. It always derives
// the full key and compares it in constant time, whatever pin looks like
// (empty, too long, letters), so the time taken says nothing about how close
// a guess was.
func (h PINHash) Match(pin string) bool {
	if len(pin) > 4*MaxPINLen {
		pin = pin[:4*MaxPINLen] // bound the work; still derived and compared
	}
	got := h.derive(pin, len(h.Key))
	return subtle.ConstantTimeCompare(got, h.Key) == 1 && len(h.Key) > 0
}

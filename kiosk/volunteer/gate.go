package volunteer

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"
)

// Sentinel errors of Gate.Unlock, checked with errors.Is.
var (
	// ErrWrong: neither the PIN nor a live one-time code.
	ErrWrong = errors.New("volunteer: wrong PIN or code")
	// ErrLocked: too many wrong entries; Gate.State says for how long.
	ErrLocked = errors.New("volunteer: locked after too many wrong entries")
	// ErrNoUnlock: no PIN configured and no one-time code issued.
	ErrNoUnlock = errors.New("volunteer: no PIN configured and no code issued")
)

// One-time codes from the fleet console.
const (
	CodeLen    = 8                // digits, typed on the same number pad as the PIN
	MaxCodeTTL = 15 * time.Minute // a code is for the volunteer standing at the kiosk now
	maxCodes   = 4                // live codes kept; issuing a fifth forgets the oldest
	// quietReset: after this long without a wrong entry, lockouts stop doubling.
	quietReset = 24 * time.Hour
)

// Method says how a volunteer unlocked.
type Method string

// Unlock methods.
const (
	MethodPIN  Method = "pin"
	MethodCode Method = "code"
)

// Gate decides whether an entry on the unlock screen opens volunteer mode.
// It limits guessing: after Config.MaxFailures wrong entries in a row it
// locks for Config.Lockout, doubling with each further lockout up to
// Config.MaxLockout; while locked it does not even look at entries. A
// correct entry resets all of it. Safe for concurrent use.
type Gate struct {
	cfg Config
	pin *PINHash
	now func() time.Time

	mu          sync.Mutex
	failures    int // wrong entries since the last lockout or success
	lockouts    int // lockouts since the last success
	lockedUntil time.Time
	lastFailure time.Time
	codes       []oneTimeCode
}

type oneTimeCode struct {
	sum     [sha256.Size]byte
	expires time.Time
}

// NewGate makes a Gate for cfg (already validated). now is the clock (nil
// means time.Now): tests pass a fake one.
func NewGate(cfg Config, now func() time.Time) (*Gate, error) {
	if now == nil {
		now = time.Now
	}
	g := &Gate{cfg: cfg, now: now}
	if cfg.PINHash != "" {
		h, err := ParsePINHash(cfg.PINHash)
		if err != nil {
			return nil, fmt.Errorf("volunteer PIN hash: %w", err)
		}
		g.pin = &h
	}
	return g, nil
}

// State is what the unlock screen shows.
type State struct {
	// Locked is true while entries are refused; LockedFor is how much longer.
	Locked    bool
	LockedFor time.Duration
	// AttemptsLeft is how many wrong entries remain before the next lockout.
	AttemptsLeft int
	// PIN is true when a PIN is configured; Codes counts live one-time codes.
	PIN   bool
	Codes int
}

// Minutes is LockedFor rounded up to whole minutes, for "Locked for N
// minutes" (0 when not locked).
func (s State) Minutes() int {
	if !s.Locked || s.LockedFor <= 0 {
		return 0
	}
	return int((s.LockedFor + time.Minute - 1) / time.Minute)
}

// State returns the gate's state now.
func (g *Gate) State() State {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stateLocked(g.now())
}

func (g *Gate) stateLocked(now time.Time) State {
	g.expireLocked(now)
	s := State{PIN: g.pin != nil, Codes: len(g.codes), AttemptsLeft: g.cfg.maxFailures() - g.failures}
	if now.Before(g.lockedUntil) {
		s.Locked, s.LockedFor, s.AttemptsLeft = true, g.lockedUntil.Sub(now), 0
	}
	return s
}

func (g *Gate) expireLocked(now time.Time) {
	live := g.codes[:0]
	for _, c := range g.codes {
		if now.Before(c.expires) {
			live = append(live, c)
		}
	}
	clear(g.codes[len(live):])
	g.codes = live
}

// Unlock checks entry (digits from the number pad) against the PIN and
// every live one-time code. It returns how the volunteer unlocked, or
// ErrLocked (nothing was checked: see State), ErrNoUnlock, or ErrWrong
// (State().AttemptsLeft says how many remain; the entry that uses the last
// one returns ErrLocked). A code that matches is used up.
//
// The PIN is always derived and every code always compared, in constant
// time, whatever the entry, so the time taken says nothing about which part
// of a guess was right.
func (g *Gate) Unlock(entry string) (Method, error) {
	g.mu.Lock()
	now := g.now()
	st := g.stateLocked(now)
	pin := g.pin
	codes := append([]oneTimeCode(nil), g.codes...)
	g.mu.Unlock()
	if st.Locked {
		return "", ErrLocked
	}
	if pin == nil && len(codes) == 0 {
		return "", ErrNoUnlock
	}

	// The slow part runs without the lock, so State stays responsive.
	pinOK := pin != nil && pin.Match(entry)
	sum := sha256.Sum256([]byte(entry))
	codeAt := -1
	for i := range codes {
		if subtle.ConstantTimeCompare(sum[:], codes[i].sum[:]) == 1 {
			codeAt = i
		}
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	now = g.now()
	if now.Before(g.lockedUntil) { // another entry locked it meanwhile
		return "", ErrLocked
	}
	method := Method("")
	switch {
	case pinOK:
		method = MethodPIN
	case codeAt >= 0:
		// Used up or expired since the snapshot: the entry is wrong now.
		g.expireLocked(now)
		if g.useCodeLocked(codes[codeAt].sum) {
			method = MethodCode
		}
	}
	if method != "" {
		g.failures, g.lockouts, g.lockedUntil = 0, 0, time.Time{}
		return method, nil
	}
	if !g.lastFailure.IsZero() && now.Sub(g.lastFailure) > quietReset {
		g.lockouts = 0
	}
	g.lastFailure = now
	g.failures++
	if g.failures < g.cfg.maxFailures() {
		return "", ErrWrong
	}
	d := g.cfg.lockout()
	for i := 0; i < g.lockouts && d < g.cfg.maxLockout(); i++ {
		d *= 2
	}
	d = min(d, g.cfg.maxLockout())
	g.lockouts++
	g.failures = 0
	g.lockedUntil = now.Add(d)
	return "", ErrLocked
}

func (g *Gate) useCodeLocked(sum [sha256.Size]byte) bool {
	for i, c := range g.codes {
		if c.sum == sum {
			g.codes = append(g.codes[:i], g.codes[i+1:]...)
			return true
		}
	}
	return false
}

// AddCode accepts a one-time code issued from the fleet console (through
// the agent), valid for ttl (at most MaxCodeTTL) from now and for one
// unlock. Only its SHA-256 is kept. Issuing a code does not lift a lockout.
func (g *Gate) AddCode(code string, ttl time.Duration) error {
	if err := CheckCode(code); err != nil {
		return err
	}
	if ttl <= 0 || ttl > MaxCodeTTL {
		return fmt.Errorf("volunteer code: lifetime %v: want more than 0 and at most %v", ttl, MaxCodeTTL)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	g.expireLocked(now)
	if len(g.codes) >= maxCodes {
		g.codes = append(g.codes[:0], g.codes[len(g.codes)-maxCodes+1:]...)
	}
	g.codes = append(g.codes, oneTimeCode{sum: sha256.Sum256([]byte(code)), expires: now.Add(ttl)})
	return nil
}

// CheckCode says whether code has the form of a one-time code: CodeLen digits.
func CheckCode(code string) error {
	if len(code) != CodeLen {
		return fmt.Errorf("volunteer code: want %d digits, got %d characters", CodeLen, len(code))
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return fmt.Errorf("volunteer code: digits only")
		}
	}
	return nil
}

// NewCode returns a fresh one-time code: CodeLen uniformly random digits
// from rnd (nil means crypto/rand).
func NewCode(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	limit := big.NewInt(1)
	for range CodeLen {
		limit.Mul(limit, big.NewInt(10))
	}
	n, err := rand.Int(rnd, limit)
	if err != nil {
		return "", fmt.Errorf("volunteer code: %w", err)
	}
	return fmt.Sprintf("%0*d", CodeLen, n), nil
}

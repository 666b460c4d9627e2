package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"accesskiosk/fleet/password"
	"accesskiosk/fleet/server/throttle"
	"accesskiosk/fleet/store"
)

// SignInLimits bound the work an anonymous client can make the console do
// by signing in. Each attempt that reaches the password check derives
// argon2id (password.MemoryBytes for a moment), so attempts are limited
// per address and over all addresses before that, and the derivations
// themselves run in the Passwords gate.
type SignInLimits struct {
	// PerAddress bounds attempts from one client address (an IPv4 address
	// or an IPv6 /64). Default: 10 at once, then one every 6 s.
	PerAddress throttle.Rule
	// Global bounds attempts from every address together. Default: 20 at
	// once, then 5 a second.
	Global throttle.Rule
	// Backoff holds one user name at one address back after wrong
	// passwords: a name is never held at other addresses, so nobody can
	// lock a colleague out. Default: 5 free, then 30 s doubling to 15 min,
	// forgotten an hour after the last failure.
	Backoff throttle.Backoff
	// SlotWait is how long an attempt waits for a free derivation slot
	// before it is answered "busy, try again" (default 5 s).
	SlotWait time.Duration
}

// DefaultSignIn are the sign-in limits of a console whose Config leaves
// them zero.
var DefaultSignIn = SignInLimits{
	PerAddress: throttle.Rule{Rate: 1.0 / 6, Burst: 10},
	Global:     throttle.Rule{Rate: 5, Burst: 20},
	Backoff:    throttle.Backoff{Free: 5, First: 30 * time.Second, Max: 15 * time.Minute, Reset: time.Hour},
	SlotWait:   5 * time.Second,
}

func (l SignInLimits) withDefaults() SignInLimits {
	d := DefaultSignIn
	if l.PerAddress.Rate > 0 && l.PerAddress.Burst > 0 {
		d.PerAddress = l.PerAddress
	}
	if l.Global.Rate > 0 && l.Global.Burst > 0 {
		d.Global = l.Global
	}
	if l.Backoff.First > 0 {
		d.Backoff = l.Backoff
	}
	if l.SlotWait > 0 {
		d.SlotWait = l.SlotWait
	}
	return d
}

// Throttle keys.
const (
	keySignInAddr   = "signin:addr:"  // + client address
	keySignInGlobal = "signin:global" //
	keySignInUser   = "signin:user:"  // + client address + " " + user name
	maxKeyedName    = 64              // user names are at most 64 bytes; longer ones are cut in keys
)

// login checks a sign-in: the address's and the global rate, the backoff
// of this name at this address, then the password (in a derivation slot).
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("user"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	answer := func(status int, wait time.Duration, msg string) {
		if wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
		}
		c.render(w, r, status, "login", page{Title: "Sign in", Error: msg, ErrorField: "user", Data: loginData{Next: next, User: name}})
	}
	ctx := r.Context()
	addr := throttle.ClientAddr(r)
	lim := c.cfg.SignIn
	if ok, wait, err := c.cfg.Throttle.Take(ctx, keySignInAddr+addr, lim.PerAddress, 1); err != nil {
		c.fail(w, r, err)
		return
	} else if !ok {
		answer(http.StatusTooManyRequests, wait, fmt.Sprintf("Too many sign-in attempts from your address. Try again in %s.", inWords(wait)))
		return
	}
	if ok, wait, err := c.cfg.Throttle.Take(ctx, keySignInGlobal, lim.Global, 1); err != nil {
		c.fail(w, r, err)
		return
	} else if !ok {
		c.log.Warn("console sign-in: the global limit refused an attempt (many addresses are trying to sign in)")
		answer(http.StatusTooManyRequests, wait, fmt.Sprintf("The console is getting too many sign-in attempts. Try again in %s.", inWords(wait)))
		return
	}
	userKey := keySignInUser + addr + " " + name[:min(len(name), maxKeyedName)]
	if until, err := c.cfg.Throttle.Held(ctx, userKey); err != nil {
		c.fail(w, r, err)
		return
	} else if !until.IsZero() {
		wait := until.Sub(c.cfg.Now())
		answer(http.StatusTooManyRequests, wait, fmt.Sprintf("Too many wrong passwords for this user from your address. Try again in %s.", inWords(wait)))
		return
	}
	u, ok, err := c.checkPassword(ctx, name, pw)
	if errors.Is(err, password.ErrBusy) {
		answer(http.StatusServiceUnavailable, 5*time.Second, "The console is busy checking other sign-ins. Try again in a few seconds.")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !ok {
		c.log.WithFields(map[string]any{"user": name, "address": addr}).Warn("console sign-in failed")
		if until, n, err := c.cfg.Throttle.Fail(ctx, userKey, lim.Backoff); err != nil {
			c.log.WithError(err).Error("record a sign-in failure")
		} else if !until.IsZero() {
			c.held(ctx, name, addr, n, until)
		}
		answer(http.StatusUnauthorized, 0, "The user name or password is wrong.")
		return
	}
	c.cfg.Throttle.Forget(ctx, userKey)
	secret, err := c.st.CreateWebSession(ctx, u.Name, c.cfg.SessionTTL)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(ctx, u.Name, "login", u.Name, "from "+addr)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: secret, Path: "/", HttpOnly: true, Secure: c.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(c.cfg.SessionTTL.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// checkPassword derives pw in a slot of the gate (waiting at most
// SignIn.SlotWait) and says whether it is name's password. Unknown and
// disabled users cost the same derivation, so timing does not tell which
// names exist. err is password.ErrBusy when no slot came free, or a store
// failure.
func (c *Console) checkPassword(ctx context.Context, name, pw string) (store.User, bool, error) {
	u, err := c.st.User(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return u, false, err
	}
	hash := dummyHash()
	known := err == nil && !u.Disabled
	if known {
		hash = u.PasswordHash
	}
	wctx, cancel := context.WithTimeout(ctx, c.cfg.SignIn.SlotWait)
	defer cancel()
	ok, err := c.cfg.Passwords.Verify(wctx, pw, hash)
	if errors.Is(err, password.ErrBusy) {
		return u, false, err
	}
	if err != nil {
		c.log.WithError(err).WithField("user", name).Error("stored password hash unreadable")
		return u, false, nil
	}
	return u, ok && known, nil
}

// held logs and audits that name is held back at addr until until.
func (c *Console) held(ctx context.Context, name, addr string, failures int, until time.Time) {
	d := until.Sub(c.cfg.Now()).Round(time.Second)
	detail := fmt.Sprintf("%d wrong passwords in a row from %s: signing in as %s from that address is held for %s (other addresses are not affected)",
		failures, addr, name, d)
	c.log.WithFields(map[string]any{"user": name, "address": addr, "hold": d.String()}).Warn("console sign-in held back")
	if err := c.st.Audit(ctx, "address:"+addr, "login.held", name, detail); err != nil {
		c.log.WithError(err).Error("audit a sign-in hold")
	}
}

// dummyHash is checked for unknown users, made once on first use.
var dummyHash = sync.OnceValue(func() string {
	h, _ := password.Hash("not a real password at all")
	return h
})

// seconds is d in whole seconds, rounded up, at least 1 (for Retry-After).
func seconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// inWords is a wait for people: "20 seconds", "3 minutes".
func inWords(d time.Duration) string {
	s := seconds(d)
	if s < 120 {
		return plural(s, "second")
	}
	return plural((s+59)/60, "minute")
}

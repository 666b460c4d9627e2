package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"accesskiosk/fleet/console"
	"accesskiosk/fleet/password"
	"accesskiosk/fleet/server/throttle"
)

// signInFrom posts the sign-in form to the fleet's handler as if from
// addr and returns the answer.
func (f *fleet) signInFrom(addr, user, pw string) *httptest.ResponseRecorder {
	form := url.Values{"user": {user}, "password": {pw}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = addr + ":40000"
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	return w
}

// TestLockoutCannotBeAimed: someone at another address failing alice's
// password over and over is held back at their address, while alice, at
// her own, signs in at once; the hold is in the audit log. (Before, five
// wrong passwords from anywhere locked the name alice for everyone.)
func TestLockoutCannotBeAimed(t *testing.T) {
	f := startFleet(t)
	const attacker, alice = "198.51.100.66", "192.0.2.10"
	held := 0
	for i := range 9 {
		w := f.signInFrom(attacker, "alice", fmt.Sprint("guess number ", i))
		switch w.Code {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			held++
			if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("attempt %d: 429 with Retry-After %q", i+1, w.Header().Get("Retry-After"))
			}
		default:
			t.Fatalf("attempt %d from the attacker: %d", i+1, w.Code)
		}
	}
	if held == 0 {
		t.Error("nine wrong passwords from one address were never held back")
	}
	if w := f.signInFrom(alice, "alice", adminPassword); w.Code != http.StatusSeeOther {
		t.Errorf("alice from her own address after someone else's failures: %d %s", w.Code, excerpt(w.Body.String()))
	}
	// The attacker stays held even with the right password.
	if w := f.signInFrom(attacker, "alice", adminPassword); w.Code != http.StatusTooManyRequests {
		t.Errorf("the held address signing in with the right password: %d, want 429", w.Code)
	}
	holds := auditActions(t, f, "login.held")
	if len(holds) == 0 || !strings.Contains(holds[len(holds)-1], attacker) {
		t.Errorf("audit log of holds = %q, want one naming %s", holds, attacker)
	}
}

// TestSignInRateLimits: one address gets a clear 429 with Retry-After
// after its burst, whatever names it tries; ever new addresses together
// meet the global limit.
func TestSignInRateLimits(t *testing.T) {
	f := startFleet(t)
	limited := -1
	for i := range 30 {
		w := f.signInFrom("198.51.100.7", fmt.Sprint("user", i), "not a password at all")
		if w.Code == http.StatusTooManyRequests {
			limited = i
			if w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "Too many sign-in attempts from your address") {
				t.Errorf("429 without Retry-After or without saying why: %q %s", w.Header().Get("Retry-After"), excerpt(w.Body.String()))
			}
			break
		}
	}
	if limited < 0 {
		t.Fatal("30 sign-ins with 30 names from one address: none was refused")
	}
	// Many addresses at once, one attempt each: the global limit refuses
	// some before any password is checked.
	var wg sync.WaitGroup
	codes := make(chan *httptest.ResponseRecorder, 60)
	for i := range 60 {
		wg.Go(func() { codes <- f.signInFrom(fmt.Sprintf("10.1.0.%d", i+1), "nobody", "not a password at all") })
	}
	wg.Wait()
	close(codes)
	global := 0
	for w := range codes {
		if w.Code == http.StatusTooManyRequests {
			global++
			if !strings.Contains(w.Body.String(), "too many sign-in attempts") || w.Header().Get("Retry-After") == "" {
				t.Errorf("global 429: %q %s", w.Header().Get("Retry-After"), excerpt(w.Body.String()))
			}
		}
	}
	if global == 0 {
		t.Error("60 sign-ins from 60 addresses at once: none was refused by a global limit")
	}
	// The sign-in page itself stays cheap and open.
	req := httptest.NewRequest(http.MethodGet, "/login", nil)
	req.RemoteAddr = "198.51.100.7:1"
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Errorf("GET /login from a limited address: %d", w.Code)
	}
}

// TestPasswordDerivationsBounded: 16 sign-ins at once from 16 addresses
// (limits raised so they all reach the password check) never run more
// derivations at once than the gate allows.
func TestPasswordDerivationsBounded(t *testing.T) {
	gate := password.NewGate(2)
	f := startFleetWith(t, "", func(c *console.Config) {
		c.Passwords = gate
		c.SignIn.Global = throttle.Rule{Rate: 1000, Burst: 1000}
	})
	var wg sync.WaitGroup
	codes := make(chan int, 16)
	for i := range 16 {
		wg.Go(func() {
			codes <- f.signInFrom(fmt.Sprintf("10.2.0.%d", i+1), "alice", "wrong password here").Code
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusUnauthorized && c != http.StatusServiceUnavailable {
			t.Errorf("a sign-in got %d, want 401 or 503 (busy)", c)
		}
	}
	if p := gate.Peak(); p > 2 || p < 1 {
		t.Errorf("%d derivations ran at once through a gate of 2", p)
	}
}

func excerpt(s string) string {
	if i := strings.Index(s, "govuk-error-summary__list"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"accesskiosk/fleet/password"
	"accesskiosk/fleet/store"
)

type userKey struct{}

// Sign-in throttling: after maxFailures wrong passwords for one user name,
// sign-in for that name waits lockout.
const (
	maxFailures = 5
	lockout     = time.Minute
)

// auth requires a signed-in user; admin says the role must be admin.
func (c *Console) auth(admin bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(cookieName)
		var u store.User
		if err == nil {
			u, err = c.st.WebSession(r.Context(), ck.Value)
		}
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, http.ErrNoCookie) {
				c.fail(w, r, err)
				return
			}
			if r.Method != http.MethodGet {
				http.Error(w, "Your sign-in has expired. Sign in again and repeat what you were doing.", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
		if admin && u.Role != store.RoleAdmin {
			c.render(w, r, http.StatusForbidden, "error", page{Title: "You cannot do that", Data: "Your role is viewer: you can see everything but change nothing. Ask an admin."})
			return
		}
		h(w, r)
	}
}

func user(r *http.Request) store.User {
	u, _ := r.Context().Value(userKey{}).(store.User)
	return u
}

type loginData struct{ Next, User string }

func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", page{Title: "Sign in", Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("user"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	bad := func(msg string) {
		c.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Error: msg, ErrorField: "user", Data: loginData{Next: next, User: name}})
	}
	now := c.cfg.Now()
	c.mu.Lock()
	f := c.failures[name]
	locked := f != nil && now.Before(f.until)
	c.mu.Unlock()
	if locked {
		bad("Too many wrong passwords for this user. Wait a minute and try again.")
		return
	}
	u, err := c.st.User(r.Context(), name)
	ok := false
	if err == nil && !u.Disabled {
		ok, err = password.Verify(pw, u.PasswordHash)
		if err != nil {
			c.log.WithError(err).WithField("user", name).Error("stored password hash unreadable")
		}
	} else {
		// Spend the same time for unknown users, so timing does not tell which names exist.
		password.Verify(pw, dummyHash)
	}
	if !ok {
		c.mu.Lock()
		if len(c.failures) > 10000 {
			clear(c.failures)
		}
		if f = c.failures[name]; f == nil {
			f = &failure{}
			c.failures[name] = f
		}
		f.n++
		if f.n >= maxFailures {
			f.until, f.n = now.Add(lockout), 0
		}
		c.mu.Unlock()
		c.log.WithField("user", name).Warn("console sign-in failed")
		bad("The user name or password is wrong.")
		return
	}
	c.mu.Lock()
	delete(c.failures, name)
	c.mu.Unlock()
	secret, err := c.st.CreateWebSession(r.Context(), u.Name, c.cfg.SessionTTL)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), u.Name, "login", u.Name, "")
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: secret, Path: "/", HttpOnly: true, Secure: c.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(c.cfg.SessionTTL.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(cookieName); err == nil {
		if u, err := c.st.WebSession(r.Context(), ck.Value); err == nil {
			c.st.Audit(r.Context(), u.Name, "logout", u.Name, "")
		}
		c.st.DeleteWebSession(r.Context(), ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, Secure: c.cfg.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

var dummyHash = func() string {
	h, _ := password.Hash("not a real password at all")
	return h
}()

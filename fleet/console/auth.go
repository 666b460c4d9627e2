package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"accesskiosk/fleet/store"
)

type userKey struct{}

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

// safeNext is next if it is a path on this console, else "/". Browsers
// drop tabs and newlines from a URL and read a backslash as a slash, so
// "/\t/evil.example" would be "//evil.example", another site: any control
// character, space or backslash, and anything with a scheme or host, gives "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	for _, r := range next {
		if r <= ' ' || r == '\\' || r >= 0x7f && r <= 0x9f || r == utf8.RuneError || unicode.IsSpace(r) {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", page{Title: "Sign in", Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
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

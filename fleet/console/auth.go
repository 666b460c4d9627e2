package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"accesskiosk/fleet/store"
)

type userKey struct{}

// endsKey holds when the request's sign-in ends (Unix ms).
type endsKey struct{}

// auth requires a signed-in user; admin says the role must be admin.
// Without one, a page asked for is sent to sign-in and back (?next=); a
// form sent after the sign-in ended is not acted on, and the sign-in page
// says so and leads back to the page the form was on.
func (c *Console) auth(admin bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(cookieName)
		var u store.User
		var ends int64
		if err == nil {
			u, ends, err = c.st.WebSessionEnds(r.Context(), ck.Value)
		}
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, http.ErrNoCookie) {
				c.fail(w, r, err)
				return
			}
			if r.Method != http.MethodGet {
				c.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in again", Data: loginData{Next: refererPath(r), Notice: noticeExpiredPost}})
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		ctx := context.WithValue(r.Context(), userKey{}, u)
		r = r.WithContext(context.WithValue(ctx, endsKey{}, ends))
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

type loginData struct{ Next, User, Notice string }

// Sign-in notices: fixed sentences, chosen by a code (?expired=1), never
// text from the address.
const (
	noticeExpired     = "Your sign-in ended. Sign in again to go back to the page you were on."
	noticeExpiredPost = "Your sign-in ended before you sent that form, so nothing was changed. Sign in again, then do it again."
)

// refererPath is the path of the console page a form was sent from (the
// Referer, when it is this console: the browser sends it to the same
// origin only), or "/".
func refererPath(r *http.Request) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host {
		return "/"
	}
	return withoutCodes(ref)
}

// withoutCodes is u's path and query, less the codes that belong to one
// showing of a page (?done=, ?expired=), if it is a path on the console.
func withoutCodes(u *url.URL) string {
	q := u.Query()
	q.Del("done")
	q.Del("expired")
	return safeNext((&url.URL{Path: u.Path, RawQuery: q.Encode()}).RequestURI())
}

// here is the page's own address to come back to, without the codes
// that belong to one showing of it (?done=, ?expired=).
func here(r *http.Request) string { return withoutCodes(r.URL) }

// maxSession bounds how long "Stay signed in" can keep a sign-in going:
// a day after signing in (or SessionTTL, if that is longer).
func (c *Console) maxSession() time.Duration { return max(24*time.Hour, c.cfg.SessionTTL) }

// extendSession is "Stay signed in": the sign-in lasts another SessionTTL
// (up to maxSession after signing in). A script asking (Accept:
// application/json) gets {"left_seconds": N}; a plain form goes back to
// next.
func (c *Console) extendSession(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	ck, err := r.Cookie(cookieName)
	if err != nil {
		http.Error(w, "Not signed in.", http.StatusUnauthorized)
		return
	}
	ends, err := c.st.ExtendWebSession(r.Context(), ck.Value, c.cfg.SessionTTL, c.maxSession())
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "Your sign-in has ended.", http.StatusUnauthorized)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	left := time.UnixMilli(ends).Sub(c.cfg.Now())
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: ck.Value, Path: "/", HttpOnly: true, Secure: c.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(left / time.Second)})
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `{"left_seconds":%d,"ends":%q}`, int64(left/time.Second), time.UnixMilli(ends).In(c.cfg.Insights.Zone).Format("15:04 on 2 January"))
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

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
	d := loginData{Next: safeNext(r.URL.Query().Get("next"))}
	title := "Sign in"
	if r.URL.Query().Get("expired") == "1" {
		d.Notice, title = noticeExpired, "Sign in again"
	}
	c.render(w, r, http.StatusOK, "login", page{Title: title, Data: d})
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

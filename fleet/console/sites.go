package console

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/ident"
)

type sitesData struct {
	Sites            []store.Site
	Hours            map[string]string // site id → its opening hours in words
	Tokens           []store.Token
	Created          *api.CreatedToken
	QR               template.URL
	FormID, FormName string
	// The token form's values, shown again after an error.
	TokenSite, TokenUses, TokenDays string
}

// sitesPage renders the sites and enrolment tokens page with d's form state.
func (c *Console) sitesPage(w http.ResponseWriter, r *http.Request, status int, p page, d sitesData) {
	var err error
	if d.Sites, err = c.st.Sites(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Tokens, err = c.st.Tokens(r.Context(), ""); err != nil {
		c.fail(w, r, err)
		return
	}
	hours, err := c.st.InsightSites(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Hours = map[string]string{}
	for _, h := range hours {
		d.Hours[h.ID] = hoursText(h.Hours)
	}
	if d.TokenUses == "" {
		d.TokenUses, d.TokenDays = "1", "7"
	}
	p.Title, p.Data = "Sites and enrolment", d
	if d.Created != nil {
		p.Title = "New enrolment token for " + d.Created.Site
	}
	c.render(w, r, status, "sites", p)
}

// hoursText is a week of opening hours in words, days with the same
// hours together: "Mon–Fri 09:00–17:00; Sat 10:00–13:00" (open days
// only), or "Not set".
func hoursText(w insights.Week) string {
	if !w.Set() {
		return "Not set"
	}
	day := func(i int) string { return strings.ToUpper(insights.DayKeys[i][:1]) + insights.DayKeys[i][1:] }
	var parts []string
	for i := 0; i < 7; {
		j := i
		for j+1 < 7 && w.Day(j+1) == w.Day(i) {
			j++
		}
		if len(w[i]) > 0 {
			days := day(i)
			if j > i {
				days += "–" + day(j)
			}
			parts = append(parts, days+" "+strings.ReplaceAll(w.Day(i), "-", "–"))
		}
		i = j + 1
	}
	return strings.Join(parts, "; ")
}

func (c *Console) sites(w http.ResponseWriter, r *http.Request) {
	c.sitesPage(w, r, http.StatusOK, page{}, sitesData{})
}

func (c *Console) createSite(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	id := strings.TrimSpace(r.PostFormValue("id"))
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = id
	}
	d := sitesData{FormID: id, FormName: name}
	if !ident.SiteID.Valid(id) {
		c.sitesPage(w, r, http.StatusBadRequest, page{Error: "Enter a site id of lower-case letters, digits and hyphens, like central-library", ErrorField: "site-id"}, d)
		return
	}
	if len(name) > api.MaxSiteNameLen || !ident.Text.Chars(name) {
		c.sitesPage(w, r, http.StatusBadRequest, page{Error: "Enter a site name of at most 100 characters, without control characters", ErrorField: "site-name"}, d)
		return
	}
	if _, err := c.st.CreateSite(r.Context(), id, name); errors.Is(err, store.ErrExists) {
		c.sitesPage(w, r, http.StatusConflict, page{Error: "A site with id " + id + " already exists", ErrorField: "site-id"}, d)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), user(r).Name, "site.create", id, name)
	http.Redirect(w, r, doneURL("/sites", doneSiteAdded), http.StatusSeeOther)
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	site := r.PostFormValue("site")
	usesText, daysText := strings.TrimSpace(r.PostFormValue("uses")), strings.TrimSpace(r.PostFormValue("days"))
	form := sitesData{TokenSite: site, TokenUses: clip(usesText, 20), TokenDays: clip(daysText, 20)}
	uses, err1 := strconv.Atoi(usesText)
	days, err2 := strconv.Atoi(daysText)
	var errs []fieldError
	if ok, err := c.st.SiteExists(r.Context(), site); err != nil || !ok {
		errs = append(errs, fieldError{"token-site", "Choose a site"})
	}
	if err1 != nil || uses < 1 || uses > api.MaxTokenUses {
		errs = append(errs, fieldError{"token-uses", "Enter how many kiosks may use it, a whole number from 1 to 10000"})
	}
	if err2 != nil || days < 1 || days > 90 {
		errs = append(errs, fieldError{"token-days", "Enter how many days it stays valid, a whole number from 1 to 90"})
	}
	if len(errs) > 0 {
		c.sitesPage(w, r, http.StatusBadRequest, page{Errors: errs}, form)
		return
	}
	u := user(r)
	tok, err := c.st.CreateToken(r.Context(), site, u.Name, time.Duration(days)*24*time.Hour, uses)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), u.Name, "token.create", tok.ID, fmt.Sprintf("for site %s, %d uses, %d days", site, uses, days))
	d := sitesData{Created: &tok}
	if png, err := qrcode.Encode(tok.Secret, qrcode.Medium, 256); err == nil {
		d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	// Shown once, in this answer only; never in a URL or a redirect.
	c.sitesPage(w, r, http.StatusOK, page{}, d)
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := c.st.RevokeToken(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Token not found", Data: "There is no enrolment token with that id."})
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), user(r).Name, "token.revoke", id, "")
	http.Redirect(w, r, doneURL("/sites", doneTokenWithdrawn), http.StatusSeeOther)
}

// clip keeps at most n bytes of s (a form value shown again).
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

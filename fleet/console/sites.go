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
	"accesskiosk/fleet/store"
	"accesskiosk/internal/ident"
)

type sitesData struct {
	Sites            []store.Site
	Tokens           []store.Token
	Created          *api.CreatedToken
	QR               template.URL
	FormID, FormName string
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
	p.Title, p.Data = "Sites and enrolment", d
	c.render(w, r, status, "sites", p)
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
	uses, err1 := strconv.Atoi(strings.TrimSpace(r.PostFormValue("uses")))
	days, err2 := strconv.Atoi(strings.TrimSpace(r.PostFormValue("days")))
	if err1 != nil || err2 != nil || uses < 1 || uses > api.MaxTokenUses || days < 1 || days > 90 {
		c.sitesPage(w, r, http.StatusBadRequest, page{Error: "Enter between 1 and 10000 kiosks and between 1 and 90 days", ErrorField: "token-uses"}, sitesData{})
		return
	}
	if ok, err := c.st.SiteExists(r.Context(), site); err != nil || !ok {
		c.sitesPage(w, r, http.StatusBadRequest, page{Error: "Choose a site", ErrorField: "token-site"}, sitesData{})
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

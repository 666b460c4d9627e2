package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"accesskiosk/fleet/password"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/ident"
)

type usersData struct {
	Users    []store.User
	Tokens   []store.APIToken
	NewToken string
	// The new member's user name and role, shown again after an error
	// (never the password).
	FormUser, FormRole string
}

// usersPage renders the staff and API tokens page with d's form state.
func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, status int, p page, d usersData) {
	var err error
	if d.Users, err = c.st.Users(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Tokens, err = c.st.APITokens(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.FormRole == "" {
		d.FormRole = store.RoleViewer
	}
	p.Title, p.Data = "Staff", d
	if d.NewToken != "" {
		p.Title = "New API token"
	}
	c.render(w, r, status, "users", p)
}

func (c *Console) users(w http.ResponseWriter, r *http.Request) {
	c.usersPage(w, r, http.StatusOK, page{}, usersData{})
}

func (c *Console) createUser(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("user"))
	role := r.PostFormValue("role")
	if role != store.RoleAdmin && role != store.RoleViewer {
		role = store.RoleViewer
	}
	form := usersData{FormUser: clip(name, 64), FormRole: role}
	if !ident.UserName.Valid(name) {
		c.usersPage(w, r, http.StatusBadRequest, page{Error: "Enter a user name of up to 64 letters, digits and . _ @ -", ErrorField: "new-user"}, form)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), c.cfg.SignIn.SlotWait)
	defer cancel()
	hash, err := c.cfg.Passwords.Hash(ctx, r.PostFormValue("password"))
	if errors.Is(err, password.ErrBusy) {
		c.usersPage(w, r, http.StatusServiceUnavailable, page{Error: "The console is busy checking sign-ins. Try again in a few seconds.", ErrorField: "new-password"}, form)
		return
	}
	if err != nil {
		c.usersPage(w, r, http.StatusBadRequest, page{Error: "Enter a password of at least 10 characters", ErrorField: "new-password"}, form)
		return
	}
	if err := c.st.CreateUser(r.Context(), name, role, hash); errors.Is(err, store.ErrExists) {
		c.usersPage(w, r, http.StatusConflict, page{Error: "There is already a user called " + name + ": choose another name", ErrorField: "new-user"}, form)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), user(r).Name, "user.create", name, "role "+role)
	http.Redirect(w, r, doneURL("/users", doneUserAdded), http.StatusSeeOther)
}

func (c *Console) createAPIToken(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	tok, secret, err := c.st.CreateAPIToken(r.Context(), u.Name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), u.Name, "api_token.create", tok.ID, "")
	c.usersPage(w, r, http.StatusOK, page{}, usersData{NewToken: secret})
}

func (c *Console) revokeAPIToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := c.st.RevokeAPIToken(r.Context(), id); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), user(r).Name, "api_token.revoke", id, "")
	http.Redirect(w, r, doneURL("/users", doneAPITokenWithdrawn), http.StatusSeeOther)
}

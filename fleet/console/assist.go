package console

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"accesskiosk/fleet/store"
)

// Remote help (issue 17, fleet/assist): staff with the assist permission
// help a resident at a kiosk by seeing its screen and pointing, only while
// the resident allows it. The console gives the sign-in and the permission
// (AssistStaff, MayAssist, for fleet/assist's Hub), the page where staff
// type the resident's help code (GET /remote-help), and the Offer help button
// on a kiosk's page; the hub serves the commands (POST /assist/code,
// POST /assist/offer) and the viewer under /assist/.

// DefaultAssistRoles have the assist permission when Config.AssistRoles is
// empty: admins.
var DefaultAssistRoles = []string{store.RoleAdmin}

// errNoSession: the request carries no valid console session.
var errNoSession = errors.New("not signed in to the console")

// AssistStaff is the signed-in staff user's name for a console request
// (the session cookie), for fleet/assist's Config.StaffAuth.
func (c *Console) AssistStaff(r *http.Request) (string, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return "", errNoSession
	}
	u, err := c.st.WebSession(r.Context(), ck.Value)
	if err != nil {
		return "", errNoSession
	}
	return u.Name, nil
}

// MayAssist says whether a staff user has the assist permission: enabled,
// with a role in Config.AssistRoles (admins by default). For fleet/assist's
// Config.MayAssist; it looks the user up each time, so a role taken away
// or a user disabled stops the next request.
func (c *Console) MayAssist(ctx context.Context, name string) bool {
	if !c.cfg.Assist {
		return false
	}
	u, err := c.st.User(ctx, name)
	if err != nil || u.Disabled {
		return false
	}
	return c.roleMayAssist(u.Role)
}

func (c *Console) roleMayAssist(role string) bool {
	roles := c.cfg.AssistRoles
	if len(roles) == 0 {
		roles = DefaultAssistRoles
	}
	return slices.Contains(roles, role)
}

// canAssist: the request's user may give remote help (the page shows the
// buttons).
func (c *Console) canAssist(r *http.Request) bool {
	u := user(r)
	return c.cfg.Assist && u.Name != "" && !u.Disabled && c.roleMayAssist(u.Role)
}

// assistPage is where staff type the help code a resident reads out.
func (c *Console) assistPage(w http.ResponseWriter, r *http.Request) {
	if !c.cfg.Assist {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Remote help is off", Data: "Remote help is not enabled on this fleet server."})
		return
	}
	if !c.canAssist(r) {
		c.render(w, r, http.StatusForbidden, "error", page{Title: "You cannot give remote help", Data: "Your role does not include remote help (the assist permission). Ask an admin."})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, http.StatusOK, "assist", page{Title: "Remote help"})
}

package console

import (
	"errors"
	"net/http"
	"strings"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/ident"
)

type confirmData struct {
	Device            store.Device
	Kind, Text        string
	Question, Explain string
	Button            string
	Warning           bool
}

// command sends a command to a kiosk after a confirmation page.
func (c *Console) command(w http.ResponseWriter, r *http.Request) {
	dev, ok := c.device(w, r)
	if !ok {
		return
	}
	if !readForm(w, r) {
		return
	}
	kind := r.PostFormValue("kind")
	text := strings.TrimSpace(r.PostFormValue("text"))
	d := confirmData{Device: dev, Kind: kind, Text: text}
	switch kind {
	case api.CommandEndSession:
		d.Question, d.Button, d.Warning = "End the session on "+dev.Hostname+"?", "End session", true
		d.Explain = "Whoever is using the kiosk loses what they are doing: pages, forms and downloads are wiped and the kiosk goes back to its home page."
	case api.CommandRestartKiosk:
		d.Question, d.Button, d.Warning = "Restart the kiosk on "+dev.Hostname+"?", "Restart kiosk", true
		d.Explain = "The kiosk program restarts; any session is ended and wiped. The device stays on."
	case api.CommandReboot:
		d.Question, d.Button, d.Warning = "Reboot "+dev.Hostname+"?", "Reboot", true
		d.Explain = "The whole device restarts and is out of use for a minute or two; any session is ended and wiped."
	case api.CommandIdentify:
		d.Question, d.Button = "Identify "+dev.Hostname+"?", "Identify"
		d.Explain = "The kiosk shows its name on screen for a few seconds, so you can tell which one it is."
	case api.CommandShowMessage:
		if text == "" || len(text) > 200 || !ident.Text.Chars(text) {
			c.kioskPage(w, r, http.StatusBadRequest, page{Error: "Enter a message of 1 to 200 characters, without control characters, to show on the kiosk", ErrorField: "text"}, dev, clip(text, 200))
			return
		}
		d.Question, d.Button = "Show this message on "+dev.Hostname+"?", "Show message"
		d.Explain = "It appears on the screen for 30 seconds, over whatever is showing."
	case api.CommandVolunteerCode:
		text, d.Text = "", "" // the code is made here, never taken from the form
		d.Question, d.Button = "Create a volunteer code for "+dev.Hostname+"?", "Create code"
		d.Explain = volunteerCodeExplain
	default:
		c.render(w, r, http.StatusBadRequest, "error", page{Title: "Unknown command", Data: "The console does not know that command."})
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		c.render(w, r, http.StatusOK, "confirm", page{Title: d.Question, Data: d})
		return
	}
	cmd := api.Command{Kind: kind}
	if kind == api.CommandShowMessage {
		cmd.Text, cmd.Seconds = text, 30
	}
	if kind == api.CommandVolunteerCode {
		c.volunteerCode(w, r, dev)
		return
	}
	u := user(r)
	issued, err := c.st.IssueCommand(r.Context(), dev.ID, u.Name, cmd)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	detail := commandLabels[kind]
	if text != "" {
		detail += ": " + text
	}
	c.st.Audit(r.Context(), u.Name, "command."+kind, dev.ID, detail+" (command "+issued.ID+", "+dev.Hostname+")")
	http.Redirect(w, r, doneURL("/kiosks/"+dev.ID, doneCommandSent+kind), http.StatusSeeOther)
}

// revokeDevice withdraws a kiosk's credential: its next report is refused.
func (c *Console) revokeDevice(w http.ResponseWriter, r *http.Request) {
	dev, ok := c.device(w, r)
	if !ok {
		return
	}
	if err := c.st.RevokeDevice(r.Context(), dev.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, err)
		return
	}
	c.cfg.ForgetDevice(dev.ID)
	c.st.Audit(r.Context(), user(r).Name, "device.revoke", dev.ID, dev.Hostname)
	http.Redirect(w, r, doneURL("/kiosks/"+dev.ID, doneCredentialWithdrawn), http.StatusSeeOther)
}

package ui

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// Remote help from the council (issue 17): the page a resident sees after
// "Get help from the council" (on the home page and the toolbar, when the
// kiosk config has assist:): the support phone number and hours, and the
// 6-digit help code to read out. The code is made by the shell (kiosk/assist
// HelpCode) and reaches this page only through the request's context
// (WithHelp): it is never in a URL, a log or a file.

// Help is what the remote-help page shows.
type Help struct {
	// Phone and Hours are the support line ("" Phone: the council's phone).
	Phone, Hours string
	// Available: the kiosk can reach the council's support now. When
	// false the page says so and shows only the phone number.
	Available bool
	// Code is the help code, 6 digits; Expires when it stops working.
	Code    string
	Expires time.Time
}

type helpKey struct{}

// WithHelp returns ctx carrying what kiosk://assist shows (the shell wraps
// the page's request with it).
func WithHelp(ctx context.Context, h Help) context.Context {
	return context.WithValue(ctx, helpKey{}, h)
}

// SetAssist says remote help is configured: the home page offers "Get help
// from the council" (a button the shell answers through the bridge).
func (p *Pages) SetAssist(on bool) { p.assistOn = on }

// Assist reports whether remote help is configured (SetAssist).
func (p *Pages) Assist() bool { return p.assistOn }

type helpData struct {
	Help
	CodeGroups string // "123 456": easier to read out
	Until      string // the expiry, "15:04"
}

func (p *Pages) assistRoutes(m *http.ServeMux) error {
	t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/assist.html")
	if err != nil {
		return fmt.Errorf("parse template assist: %w", err)
	}
	p.pages["assist"] = t
	m.HandleFunc("GET /assist", p.assistPage)
	return nil
}

func (p *Pages) assistPage(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "assist", "assist.title")
	h, _ := r.Context().Value(helpKey{}).(Help)
	if h.Phone == "" {
		h.Phone = p.cfg.Council.Phone
	}
	d := helpData{Help: h}
	if len(h.Code) == 6 {
		d.CodeGroups = h.Code[:3] + " " + h.Code[3:]
		d.Until = h.Expires.Local().Format("15:04")
	} else {
		d.Available = false
	}
	d.Hours = strings.TrimSpace(d.Hours)
	v.Data = d
	p.render(w, http.StatusOK, v)
}

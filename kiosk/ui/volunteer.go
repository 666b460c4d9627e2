package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"accesskiosk/kiosk/volunteer"
)

// Volunteer screens (package volunteer has the rules; these are the pages):
//
//	/volunteer                 the PIN pad; ?state=wrong&left=N, ?state=locked&minutes=N
//	                           or ?state=unavailable show the last attempt's result
//	/volunteer/services        the service picker and "helper present" indicator, for the guide panel
//	/volunteer/outcome         hand-over: what was helped with, how it went (two taps, or Skip);
//	                           ?category=ID preselects the service picked earlier
//	/assets/volunteer.js|.css  their script and styles
//
// The screens post the messages volunteer.ParseMessage decodes to the "kiosk"
// script message handler; the shell answers with volunteer.Assist.Handle.
// Every link also works as a plain link, so the pages can be shown and
// tested over HTTP.

var volunteerPages = []string{"volunteer", "volunteer-services", "volunteer-outcome"}

// SetVolunteer sets the volunteer config (categories) the screens show.
// Call it before serving; without it they show volunteer.DefaultConfig.
func (p *Pages) SetVolunteer(cfg volunteer.Config) { p.vol = &cfg }

func (p *Pages) volunteerConfig() *volunteer.Config {
	if p.vol == nil {
		c := volunteer.DefaultConfig()
		return &c
	}
	return p.vol
}

func (p *Pages) volunteerRoutes(m *http.ServeMux) error {
	for _, name := range volunteerPages {
		t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("parse template %s: %w", name, err)
		}
		p.pages[name] = t
	}
	m.HandleFunc("GET /volunteer", p.volunteerUnlock)
	m.HandleFunc("GET /volunteer/services", p.volunteerServices)
	m.HandleFunc("GET /volunteer/outcome", p.volunteerOutcome)
	for _, a := range []struct{ name, ct string }{{"volunteer.js", "text/javascript; charset=utf-8"}, {"volunteer.css", "text/css; charset=utf-8"}} {
		m.HandleFunc("GET /assets/"+a.name, p.asset(func() ([]byte, string) {
			b, _ := webFS.ReadFile("web/" + a.name)
			return b, a.ct
		}))
	}
	return nil
}

type unlockData struct {
	State   string // "", wrong, locked, unavailable
	Left    int
	Minutes int
	Digits  []string
}

func (p *Pages) volunteerUnlock(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "volunteer", "vol.unlock.title")
	q := r.URL.Query()
	d := unlockData{Digits: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	switch q.Get("state") {
	case "wrong":
		d.State = "wrong"
		d.Left, _ = strconv.Atoi(q.Get("left"))
		d.Left = min(max(d.Left, 0), 20)
	case "locked":
		d.State = "locked"
		d.Minutes, _ = strconv.Atoi(q.Get("minutes"))
		d.Minutes = min(max(d.Minutes, 1), 24*60)
	case "unavailable":
		d.State = "unavailable"
	}
	v.Data = d
	p.render(w, http.StatusOK, v)
}

type volChoice struct {
	ID, Label, Lang string
	Guide           string
	Selected        bool
}

func (p *Pages) categories(v *view, selected string) []volChoice {
	var out []volChoice
	for _, c := range p.volunteerConfig().CategoryList() {
		l := c.LabelIn(v.lang)
		lang := v.lang
		if l == c.Label && v.lang != "en" {
			if _, ok := c.Translations[v.lang]; !ok {
				lang = "en"
			}
		}
		out = append(out, volChoice{ID: c.ID, Label: l, Lang: lang, Guide: c.Guide, Selected: c.ID == selected})
	}
	return out
}

type servicesData struct {
	Categories []volChoice
}

func (p *Pages) volunteerServices(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "volunteer-services", "vol.services.title")
	v.Data = servicesData{Categories: p.categories(v, "")}
	p.render(w, http.StatusOK, v)
}

type outcomeData struct {
	Category   string // selected category ID, "" for none
	Categories []volChoice
	Outcomes   []volChoice
}

func (p *Pages) volunteerOutcome(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "volunteer-outcome", "vol.outcome.title")
	sel := r.URL.Query().Get("category")
	if _, ok := p.volunteerConfig().Category(sel); !ok {
		sel = ""
	}
	d := outcomeData{Category: sel, Categories: p.categories(v, sel)}
	for _, o := range volunteer.Outcomes() {
		d.Outcomes = append(d.Outcomes, volChoice{ID: o.ID, Label: o.LabelIn(v.lang), Lang: v.lang})
	}
	v.Data = d
	p.render(w, http.StatusOK, v)
}

package console

import (
	"errors"
	"net/http"
	"strings"

	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/store"
)

// dayField is one day of the opening-hours form.
type dayField struct {
	Key, Name, Value string
}

type hoursData struct {
	Site insights.Site
	Days []dayField
}

// siteByID finds a site with its opening hours; ok false when there is none.
func (c *Console) siteByID(r *http.Request, id string) (insights.Site, bool, error) {
	sites, err := c.st.InsightSites(r.Context())
	if err != nil {
		return insights.Site{}, false, err
	}
	for _, s := range sites {
		if s.ID == id {
			return s, true, nil
		}
	}
	return insights.Site{}, false, nil
}

func (c *Console) hoursPage(w http.ResponseWriter, r *http.Request) {
	s, ok, err := c.siteByID(r, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !ok {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Site not found", Data: "There is no site with that id."})
		return
	}
	d := hoursData{Site: s}
	for i, k := range insights.DayKeys {
		v := ""
		if len(s.Hours[i]) > 0 {
			v = s.Hours.Day(i)
		}
		d.Days = append(d.Days, dayField{Key: k, Name: insights.DayNames[i], Value: v})
	}
	c.render(w, r, http.StatusOK, "hours", page{Title: "Opening hours of " + s.Name, Data: d})
}

// setHours saves a site's opening hours from the form: one field per day,
// "09:30-13:00, 14:00-17:00", or empty (or "closed") for closed. Every
// day's problem is shown beside its field.
func (c *Console) setHours(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	s, ok, err := c.siteByID(r, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !ok {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Site not found", Data: "There is no site with that id."})
		return
	}
	d := hoursData{Site: s}
	var week insights.Week
	var errs []fieldError
	for i, k := range insights.DayKeys {
		v := strings.TrimSpace(r.PostFormValue(k))
		if len(v) > 200 {
			v = v[:200]
		}
		d.Days = append(d.Days, dayField{Key: k, Name: insights.DayNames[i], Value: v})
		spans, err := insights.ParseDay(v)
		if err != nil {
			errs = append(errs, fieldError{Field: "hours-" + k, Msg: "Enter " + insights.DayNames[i] + "’s hours like 09:30-13:00, 14:00-17:00, or leave it empty if closed: " + err.Error()})
			continue
		}
		week[i] = spans
	}
	if len(errs) > 0 {
		c.render(w, r, http.StatusBadRequest, "hours", page{Title: "Opening hours of " + s.Name, Errors: errs, Data: d})
		return
	}
	if err := c.st.SetSiteHours(r.Context(), s.ID, week); errors.Is(err, store.ErrNotFound) {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Site not found", Data: "There is no site with that id."})
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	text, _ := week.MarshalText()
	c.st.Audit(r.Context(), user(r).Name, "site.hours", s.ID, string(text))
	http.Redirect(w, r, doneURL("/sites", doneHoursSaved), http.StatusSeeOther)
}

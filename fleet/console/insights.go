package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/insights"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/version"
)

// InsightsConfig configures the Insights page, its exports and reports.
// Zero fields take the defaults noted.
type InsightsConfig struct {
	// K is the small-number threshold (default 5).
	K int
	// YearStart is the month the financial year starts (default April).
	YearStart time.Month
	// Zone is the council's time zone: which months have ended, and the
	// report's date (default time.Local; the store counts in the same).
	Zone *time.Location
}

func (c InsightsConfig) withDefaults() InsightsConfig {
	if c.K == 0 {
		c.K = 5
	}
	if c.YearStart == 0 {
		c.YearStart = time.April
	}
	if c.Zone == nil {
		c.Zone = time.Local
	}
	return c
}

// periodChoice is one option of the period menu.
type periodChoice struct{ Key, Label string }

type periodGroup struct {
	Label   string
	Choices []periodChoice
}

type insightsData struct {
	Sites      []insights.Site
	Site       string // "" = all sites
	SiteName   string
	Periods    []periodGroup
	Period     string
	Label      string // the period as headings say it
	Figures    template.HTML
	ReportURL  string
	JSONURL    string
	NoHours    []string // sites in scope without opening hours
	Dropped    []store.DroppedRow
	DroppedSum int64
}

// today is the council's current date.
func (c *Console) today() insights.Date {
	return insights.DateOf(c.cfg.Now().In(c.cfg.Insights.Zone))
}

// periodMenu offers the months of the last two years that have ended, the
// quarters and financial years that have at least one ended month, newest
// first.
func (c *Console) periodMenu() []periodGroup {
	today := c.today()
	ys := c.cfg.Insights.YearStart
	months := periodGroup{Label: "Months"}
	d := insights.Date{Year: today.Year, Month: today.Month, Day: 1}
	for range 24 {
		d = d.AddDays(-1)
		d.Day = 1
		p := insights.MonthOf(d.Year, d.Month)
		months.Choices = append(months.Choices, periodChoice{p.Key(), p.Label()})
	}
	quarters, years := periodGroup{Label: "Quarters of the financial year"}, periodGroup{Label: "Financial years"}
	fy := today.Year
	if today.Month < ys {
		fy--
	}
	for y := fy; y > fy-3; y-- {
		year := insights.FinancialYear(y, ys)
		if !today.Before(year.Months()[0].End()) {
			label := year.Label()
			if today.Before(year.End()) {
				label += " (so far)"
			}
			years.Choices = append(years.Choices, periodChoice{year.Key(), label})
		}
		for q := 4; q >= 1; q-- {
			p := insights.FinancialQuarter(y, q, ys)
			if today.Before(p.Months()[0].End()) {
				continue // not one month of it has ended
			}
			label := fmt.Sprintf("Q%d %s", q, p.Label())
			if today.Before(p.End()) {
				label += " (so far)"
			}
			quarters.Choices = append(quarters.Choices, periodChoice{p.Key(), label})
		}
	}
	return []periodGroup{months, quarters, years}
}

// insightsRequest reads ?site= and ?period= (default: the last month that
// has ended). field names what is wrong when err is not nil.
func (c *Console) insightsRequest(r *http.Request, sites []insights.Site) (site string, p insights.Period, field string, err error) {
	q := r.URL.Query()
	site = q.Get("site")
	if site != "" && !hasSite(sites, site) {
		return "", p, "site", fmt.Errorf("Choose a site from the list")
	}
	key := q.Get("period")
	if key == "" {
		last := c.today()
		last = insights.Date{Year: last.Year, Month: last.Month, Day: 1}.AddDays(-1)
		return site, insights.MonthOf(last.Year, last.Month), "", nil
	}
	p, err = insights.ParsePeriod(key, c.cfg.Insights.YearStart)
	if err != nil {
		return site, p, "period", fmt.Errorf("Choose a month, quarter or year from the list")
	}
	return site, p, "", nil
}

func hasSite(sites []insights.Site, id string) bool {
	for _, s := range sites {
		if s.ID == id {
			return true
		}
	}
	return false
}

// figures reads the store and builds the protected figures.
func (c *Console) figures(r *http.Request, site string, p insights.Period) (*insights.Figures, error) {
	in, err := c.st.InsightsInput(r.Context(), site, p.Start(), p.End())
	if err != nil {
		return nil, err
	}
	return insights.Build(in, insights.Options{Rule: insights.Rule{K: c.cfg.Insights.K}, Site: site, Period: p, Today: c.today()})
}

// insightsQuery is the query string of a site and period.
func insightsQuery(site string, p insights.Period) string {
	v := url.Values{}
	if site != "" {
		v.Set("site", site)
	}
	v.Set("period", p.Key())
	return v.Encode()
}

func (c *Console) insightsPage(w http.ResponseWriter, r *http.Request) {
	sites, err := c.st.InsightSites(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := insightsData{Sites: sites, Periods: c.periodMenu(), SiteName: "All sites"}
	site, p, field, err := c.insightsRequest(r, sites)
	d.Site = site
	if err != nil {
		d.Period = r.URL.Query().Get("period")
		c.render(w, r, http.StatusBadRequest, "insights", page{Title: "Insights", Error: err.Error(), ErrorField: field, Data: d})
		return
	}
	d.Period, d.Label = p.Key(), p.Label()
	for _, s := range sites {
		if s.ID == site {
			d.SiteName = s.Name
		}
		if (site == "" || s.ID == site) && !s.Hours.Set() {
			d.NoHours = append(d.NoHours, s.Name)
		}
	}
	f, err := c.figures(r, site, p)
	if errors.Is(err, insights.ErrNotEnded) {
		c.render(w, r, http.StatusBadRequest, "insights", page{Title: "Insights", Error: p.Label() + " has not ended yet: choose a month that has", ErrorField: "period", Data: d})
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Label = f.PeriodLabel()
	qs := insightsQuery(site, p)
	var buf bytes.Buffer
	if err := f.RenderHTML(&buf, insights.PageOptions{ExportURL: func(chart, format string) string {
		return "/insights/export/" + chart + "." + format + "?" + qs
	}}); err != nil {
		c.fail(w, r, err)
		return
	}
	d.Figures = template.HTML(buf.String())
	d.ReportURL, d.JSONURL = "/insights/report?"+qs, "/insights/export/insights.json?"+qs
	if d.Dropped, err = c.st.InsightsDropped(r.Context(), p.Start(), p.End()); err != nil {
		c.fail(w, r, err)
		return
	}
	for _, x := range d.Dropped {
		d.DroppedSum += x.N
	}
	c.render(w, r, http.StatusOK, "insights", page{Title: "Insights: " + d.SiteName + ", " + d.Label, Data: d})
}

// insightsReport serves the printable report: a standalone document with
// its own stylesheet inline, under insights.ReportCSP.
func (c *Console) insightsReport(w http.ResponseWriter, r *http.Request) {
	sites, err := c.st.InsightSites(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	site, p, _, err := c.insightsRequest(r, sites)
	if err != nil {
		c.render(w, r, http.StatusBadRequest, "error", page{Title: "No such report", Data: err.Error() + ": go back to Insights."})
		return
	}
	f, err := c.figures(r, site, p)
	if errors.Is(err, insights.ErrNotEnded) {
		c.render(w, r, http.StatusBadRequest, "error", page{Title: "No such report", Data: p.Label() + " has not ended yet."})
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	now := c.cfg.Now().In(c.cfg.Insights.Zone)
	if err := f.RenderReport(&buf, insights.ReportOptions{Council: c.cfg.CouncilName, Made: now.Format("2 January 2006"), Version: version.Version}); err != nil {
		c.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", insights.ReportCSP())
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// InsightsExports serves the Insights exports for the admin API
// (api.PathAdminInsights + FILE, after the server checked a staff API
// token): errors are api.Error bodies.
func (c *Console) InsightsExports() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.insightsExport(w, r, true) })
}

func (c *Console) insightsExportPage(w http.ResponseWriter, r *http.Request) {
	c.insightsExport(w, r, false)
}

// insightsExport writes FILE (r.PathValue("file")): "insights.json" (every
// chart), CHART.json or CHART.csv.
func (c *Console) insightsExport(w http.ResponseWriter, r *http.Request, apiErrors bool) {
	fail := func(status int, code, msg string) {
		if apiErrors {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(api.Error{Code: code, Message: msg})
			return
		}
		http.Error(w, msg, status)
	}
	file := r.PathValue("file")
	chart, format, ok := strings.Cut(file, ".")
	if !ok || format != "csv" && format != "json" || chart == "insights" && format != "json" {
		fail(http.StatusNotFound, api.CodeNotFound, "no such export: ask for insights.json, CHART.json or CHART.csv")
		return
	}
	sites, err := c.st.InsightSites(r.Context())
	if err != nil {
		c.log.WithError(err).Error("insights export")
		fail(http.StatusInternalServerError, api.CodeInternal, "the server failed; see its log")
		return
	}
	site, p, field, err := c.insightsRequest(r, sites)
	if err != nil {
		fail(http.StatusBadRequest, api.CodeBadRequest, field+": "+err.Error()+" (period: 2026-03, fy2025-q1 or fy2025; site: a site id, or none for all sites)")
		return
	}
	f, err := c.figures(r, site, p)
	if errors.Is(err, insights.ErrNotEnded) {
		fail(http.StatusBadRequest, api.CodeBadRequest, "period: "+p.Label()+" has not ended yet")
		return
	}
	if err != nil {
		c.log.WithError(err).Error("insights export")
		fail(http.StatusInternalServerError, api.CodeInternal, "the server failed; see its log")
		return
	}
	name := "all-sites"
	if site != "" {
		name = site
	}
	name = "insights-" + name + "-" + p.Key()
	var buf bytes.Buffer
	switch {
	case chart == "insights":
		err = f.WriteJSON(&buf)
	default:
		ch, ok := f.Chart(chart)
		if !ok {
			fail(http.StatusNotFound, api.CodeNotFound, "no chart "+chart+" in these figures")
			return
		}
		name += "-" + chart
		if format == "csv" {
			err = ch.Table.WriteCSV(&buf)
		} else {
			err = f.WriteJSON(&buf, chart)
		}
	}
	if err != nil {
		c.log.WithError(err).Error("insights export")
		fail(http.StatusInternalServerError, api.CodeInternal, "the server failed; see its log")
		return
	}
	ct := "application/json"
	if format == "csv" {
		ct = "text/csv; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
	w.Write(buf.Bytes())
}

// categoryText is a volunteer category's label from the fleet's
// vocabulary, or the identifier.
func (c *Console) categoryText(id string) string {
	if l := c.st.InsightsLabels()[insights.Categories][id]; l != "" {
		return l
	}
	return id
}

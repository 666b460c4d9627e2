package console

import (
	"net/http"

	"accesskiosk/fleet/store"
)

type overviewData struct {
	Total     store.SiteCounts
	Attention int
	Sites     []store.SiteCounts
	Alerts    []store.AlertRow
}

// overview is the console's home page: kiosks by state over the whole fleet
// and per site, and the open alerts.
func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	counts, err := c.st.DeviceStates(r.Context(), c.cfg.Now().Add(-store.OnlineWindow))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	alerted, alerts, err := c.alerted(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := overviewData{Sites: counts, Alerts: alerts, Attention: len(alerted)}
	for _, s := range counts {
		d.Total.Online += s.Online
		d.Total.Offline += s.Offline
		d.Total.InSession += s.InSession
		d.Total.Never += s.Never
	}
	c.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Data: d})
}

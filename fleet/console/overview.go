package console

import (
	"net/http"

	"accesskiosk/fleet/store"
)

type overviewData struct {
	Total     store.SiteCounts
	Attention int // kiosks with an open alert, or online with a critical warning
	Sites     []store.SiteCounts
	Problems  []problem
}

// overview is the console's home page: kiosks by state over the whole fleet
// and per site, and what needs attention (open alerts, and the critical
// warnings of online kiosks, such as the kiosk program not running).
func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	counts, err := c.st.DeviceStates(r.Context(), c.cfg.Now().Add(-store.OnlineWindow))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	need, problems, err := c.attention(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := overviewData{Sites: counts, Problems: problems, Attention: len(need)}
	for _, s := range counts {
		d.Total.Online += s.Online
		d.Total.Offline += s.Offline
		d.Total.InSession += s.InSession
		d.Total.Never += s.Never
	}
	c.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Data: d})
}

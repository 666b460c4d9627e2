package console

import (
	"net/http"

	"accesskiosk/fleet/store"
)

// overviewProblems is how many problems the overview lists; the rest are
// a link away (the kiosks needing attention).
const overviewProblems = 50

type overviewData struct {
	Total     store.SiteCounts
	Attention int // kiosks with an open alert, or online with a critical warning
	Sites     []store.SiteCounts
	Problems  []problem
	// More is true when there are more problems than listed.
	More bool
}

// overview is the console's home page: kiosks by state over the whole fleet
// and per site, counted by the database, and the first problems needing
// attention (open alerts, and the critical warnings of online kiosks, such
// as the kiosk program not running).
func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	counts, err := c.st.DeviceStates(r.Context(), c.cfg.Now().Add(-store.OnlineWindow))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	problems, more, err := c.problems(r, overviewProblems)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := overviewData{Sites: counts, Problems: problems, More: more}
	for _, s := range counts {
		d.Total.Online += s.Online
		d.Total.Offline += s.Offline
		d.Total.InSession += s.InSession
		d.Total.Never += s.Never
		d.Attention += s.Attention
	}
	c.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Data: d})
}

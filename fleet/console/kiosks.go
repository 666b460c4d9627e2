package console

import (
	"net/http"
	"strings"

	"accesskiosk/fleet/store"
)

type option struct{ Value, Text string }

type kiosksData struct {
	Sites       []store.Site
	States      []option
	Site, State string
	Q           string
	Rows        []kioskRow
}

// kiosks lists the kiosks, filtered by site, state and a search of names.
func (c *Console) kiosks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := kiosksData{Site: q.Get("site"), State: q.Get("state"), Q: strings.TrimSpace(q.Get("q"))}
	if len(d.Q) > 100 {
		d.Q = d.Q[:100]
	}
	d.States = []option{{"", "Any state"}, {stAttention, "Needs attention"}, {stOffline, "Offline"}, {stSession, "In session"},
		{stIdle, "Online, idle"}, {stNever, "Never reported"}}
	var err error
	if d.Sites, err = c.st.Sites(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	devs, err := c.st.Devices(r.Context(), store.DeviceFilter{Site: d.Site, Search: d.Q})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	alerted, _, err := c.alerted(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, dv := range devs {
		row := c.classify(dv, alerted)
		if d.State == "" || row.State == d.State || d.State == stAttention && alerted[dv.ID] {
			d.Rows = append(d.Rows, row)
		}
	}
	c.render(w, r, http.StatusOK, "kiosks", page{Title: kiosksTitle(d), Data: d})
}

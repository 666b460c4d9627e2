package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"accesskiosk/fleet/store"
)

type option struct{ Value, Text string }

// kiosksPerPage is how many kiosks a page of the list shows.
const kiosksPerPage = 50

type kiosksData struct {
	Sites          []store.Site
	States         []option
	Site, State, Q string
	Sort           string
	Desc           bool
	Rows           []kioskRow
	// Total kiosks match the filters; this page shows First to Last of them.
	Total, First, Last int
	Page, Pages        int
	Prev, Next         string // links; "" on the first and last page
	Links              []pageLink
	Heads              []sortHead
}

// pageLink is one item of the pagination: a page number, or a gap.
type pageLink struct {
	Number  int
	URL     string
	Current bool
	Gap     bool
}

// sortHead is a column heading that sorts the list by it.
type sortHead struct {
	Label, URL string
	AriaSort   string // "ascending", "descending" or "none"
}

// kiosks lists the kiosks a page at a time, filtered by site, state and a
// search of names, sorted by a column: the database does all of it, so the
// page costs the same at 10 kiosks and at 10,000.
func (c *Console) kiosks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := kiosksData{Site: q.Get("site"), State: q.Get("state"), Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Desc: q.Get("dir") == "desc"}
	if len(d.Q) > 100 {
		d.Q = d.Q[:100]
	}
	d.States = []option{{"", "Any state"}, {stAttention, "Needs attention"}, {stOffline, "Offline"}, {stSession, "In session"},
		{stIdle, "Online, idle"}, {stNever, "Never reported"}}
	if !slices.ContainsFunc(d.States, func(o option) bool { return o.Value == d.State }) {
		d.State = ""
	}
	if !slices.Contains(store.DeviceSorts, d.Sort) {
		d.Sort = store.DeviceSorts[0]
	}
	pageNo, _ := strconv.Atoi(q.Get("page"))
	var err error
	if d.Sites, err = c.st.Sites(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	p, err := c.st.DevicePage(r.Context(), store.DeviceQuery{
		Site: d.Site, Search: d.Q, State: d.State, Sort: d.Sort, Desc: d.Desc,
		Page: pageNo, PerPage: kiosksPerPage, Online: c.cfg.Now().Add(-store.OnlineWindow),
	})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ids := make([]string, 0, len(p.Rows))
	for _, row := range p.Rows {
		ids = append(ids, row.ID)
	}
	printers, err := c.st.LastWarnings(r.Context(), ids, "printer_")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, row := range p.Rows {
		d.Rows = append(d.Rows, kioskRow{Device: row.Device, State: row.State, Printer: printers[row.ID]})
	}
	d.Total, d.Page, d.Pages = p.Total, p.Page, p.Pages
	if len(d.Rows) > 0 {
		d.First = (p.Page-1)*p.PerPage + 1
		d.Last = d.First + len(d.Rows) - 1
	}
	link := func(page int, sort string, desc bool) string {
		v := url.Values{}
		for k, x := range map[string]string{"site": d.Site, "state": d.State, "q": d.Q} {
			if x != "" {
				v.Set(k, x)
			}
		}
		if sort != store.DeviceSorts[0] {
			v.Set("sort", sort)
		}
		if desc {
			v.Set("dir", "desc")
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		if len(v) == 0 {
			return "/kiosks"
		}
		return "/kiosks?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page-1, d.Sort, d.Desc)
	}
	if d.Page < d.Pages {
		d.Next = link(d.Page+1, d.Sort, d.Desc)
	}
	if d.Pages > 1 {
		for _, n := range pageNumbers(d.Page, d.Pages) {
			if n == 0 {
				d.Links = append(d.Links, pageLink{Gap: true})
				continue
			}
			d.Links = append(d.Links, pageLink{Number: n, URL: link(n, d.Sort, d.Desc), Current: n == d.Page})
		}
	}
	for _, h := range []struct{ label, sort string }{{"Kiosk", "name"}, {"Site", "site"}, {"State", "state"}, {"Last report", "seen"}} {
		sh := sortHead{Label: h.label, URL: link(1, h.sort, false), AriaSort: "none"}
		if d.Sort == h.sort {
			sh.AriaSort, sh.URL = "ascending", link(1, h.sort, !d.Desc)
			if d.Desc {
				sh.AriaSort = "descending"
			}
		}
		d.Heads = append(d.Heads, sh)
	}
	c.render(w, r, http.StatusOK, "kiosks", page{Title: kiosksTitle(d), Data: d})
}

// pageNumbers are the pages the pagination shows: the first, the last,
// and the current one with its neighbours; 0 marks a gap.
func pageNumbers(cur, pages int) []int {
	var out []int
	last := 0
	for n := 1; n <= pages; n++ {
		if n == 1 || n == pages || n >= cur-1 && n <= cur+1 {
			if last != 0 && n > last+1 {
				out = append(out, 0)
			}
			out = append(out, n)
			last = n
		}
	}
	return out
}

package console

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"accesskiosk/fleet/store"
)

type usageData struct {
	Period     string
	Days       int
	DayChoices []int
	Rows       []store.UsageRow
}

func (c *Console) usageRows(r *http.Request) (usageData, error) {
	q := r.URL.Query()
	d := usageData{Period: "day", Days: 7, DayChoices: []int{7, 14, 30, 90}}
	if q.Get("period") == "week" {
		d.Period = "week"
		d.Days = 30
	}
	if n, err := strconv.Atoi(q.Get("days")); err == nil {
		for _, c := range d.DayChoices {
			if n == c {
				d.Days = n
			}
		}
	}
	now := c.cfg.Now()
	var err error
	d.Rows, err = c.st.Usage(r.Context(), now.AddDate(0, 0, -d.Days), now.Add(time.Minute), d.Period == "week", time.Local)
	return d, err
}

// usage shows sessions per site per day or week; usageCSV downloads the same.
func (c *Console) usage(w http.ResponseWriter, r *http.Request) {
	d, err := c.usageRows(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	title := "Usage by day"
	if d.Period == "week" {
		title = "Usage by week"
	}
	c.render(w, r, http.StatusOK, "usage", page{Title: fmt.Sprintf("%s, last %d days", title, d.Days), Data: d})
}

func (c *Console) usageCSV(w http.ResponseWriter, r *http.Request) {
	d, err := c.usageRows(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="kiosk-usage-%s-%dd.csv"`, d.Period, d.Days))
	cw := csv.NewWriter(w)
	cw.Write([]string{"site_id", "site", d.Period + "_start", "sessions", "assisted", "median_session_seconds", "median_reset_ms", "max_reset_ms", "wipe_failures", "help_categories",
		"assisted_percent", "outcomes", "pages_printed"})
	for _, row := range d.Rows {
		cw.Write([]string{csvSafe(row.Site), csvSafe(row.SiteName), row.Start.Format("2006-01-02"), strconv.Itoa(row.Sessions), strconv.Itoa(row.Assisted),
			strconv.FormatInt(row.MedianSessionMs/1000, 10), strconv.FormatInt(row.MedianResetMs, 10), strconv.FormatInt(row.MaxResetMs, 10),
			strconv.Itoa(row.WipeFailures), csvSafe(row.Categories), strconv.Itoa(row.AssistedPercent()), csvSafe(row.Outcomes),
			strconv.Itoa(row.PagesPrinted)})
	}
	cw.Flush()
}

// csvSafe stops a spreadsheet from reading a cell as a formula: every text
// cell goes through it (identifiers from a kiosk's config may start with +
// or -).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

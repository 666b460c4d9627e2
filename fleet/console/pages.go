package console

import (
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"accesskiosk/fleet/alert"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/password"
	"accesskiosk/fleet/store"
)

// Kiosk states as the console shows them.
const (
	stNever     = "never"
	stOffline   = "offline"
	stAttention = "attention"
	stSession   = "in_session"
	stIdle      = "online"
	stRevoked   = "revoked"
)

type kioskRow struct {
	store.Device
	State string
}

func (c *Console) classify(d store.Device, alerted map[string]bool) kioskRow {
	now := c.cfg.Now()
	st := stIdle
	switch {
	case d.Revoked:
		st = stRevoked
	case d.LastSeenUnixMs == 0:
		st = stNever
	case now.Sub(time.UnixMilli(d.LastSeenUnixMs)) > store.OnlineWindow:
		st = stOffline
	case alerted[d.ID]:
		st = stAttention
	case d.KioskState == "in_session" || d.KioskState == "warning":
		st = stSession
	}
	return kioskRow{Device: d, State: st}
}

var stateLabels = map[string][2]string{
	stNever:     {"govuk-tag--grey", "Never reported"},
	stOffline:   {"govuk-tag--red", "Offline"},
	stAttention: {"govuk-tag--orange", "Needs attention"},
	stSession:   {"govuk-tag--blue", "In session"},
	stIdle:      {"govuk-tag--green", "Online"},
	stRevoked:   {"govuk-tag--grey", "Withdrawn"},
}

var commandLabels = map[string]string{
	api.CommandEndSession:    "End session",
	api.CommandRestartKiosk:  "Restart kiosk",
	api.CommandReboot:        "Reboot",
	api.CommandShowMessage:   "Show message",
	api.CommandIdentify:      "Identify",
	api.CommandVolunteerCode: "Volunteer code",
}

func funcs(now func() time.Time) template.FuncMap {
	return template.FuncMap{
		"stateClass": func(r kioskRow) string { return stateLabels[r.State][0] },
		"stateText":  func(r kioskRow) string { return stateLabels[r.State][1] },
		"alertTitle": alert.Title,
		"commandText": func(k string) string {
			if t, ok := commandLabels[k]; ok {
				return t
			}
			return k
		},
		"statusText": func(s string) string {
			switch s {
			case "":
				return "Waiting for the kiosk"
			case api.AckDone:
				return "Done"
			case api.AckFailed:
				return "Failed"
			case api.AckRefused:
				return "Refused"
			case "expired":
				return "Expired"
			}
			return s
		},
		"statusClass": func(s string) string {
			switch s {
			case "":
				return "govuk-tag--yellow"
			case api.AckDone:
				return "govuk-tag--green"
			case "expired":
				return "govuk-tag--grey"
			}
			return "govuk-tag--red"
		},
		"tokenState": func(t store.Token) string {
			switch {
			case t.Revoked:
				return "withdrawn"
			case t.Uses >= t.MaxUses:
				return "used up"
			case now().UnixMilli() >= t.ExpiresUnixMs:
				return "expired"
			}
			return "usable"
		},
		"ago": func(ms int64) string {
			if ms == 0 {
				return "never"
			}
			d := now().Sub(time.UnixMilli(ms))
			switch {
			case d < 0:
				return "just now"
			case d < time.Minute:
				return fmt.Sprintf("%d seconds ago", int(d.Seconds()))
			case d < time.Hour:
				return plural(int(d.Minutes()), "minute") + " ago"
			case d < 48*time.Hour:
				return plural(int(d.Hours()), "hour") + " ago"
			}
			return time.UnixMilli(ms).Format("2 Jan 2006 15:04")
		},
		"when": func(ms int64) string { return time.UnixMilli(ms).Format("2 Jan 2006 15:04 MST") },
		"secs": func(s int64) string { return human(time.Duration(s) * time.Second) },
		"ms":   func(ms int64) string { return human(time.Duration(ms) * time.Millisecond) },
		"bytes": func(n uint64) string {
			const unit = 1024
			if n < unit {
				return fmt.Sprintf("%d B", n)
			}
			div, exp := uint64(unit), 0
			for x := n / unit; x >= unit; x /= unit {
				div *= unit
				exp++
			}
			return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
		},
		"join": strings.Join,
		"has":  func(list []string, v string) bool { return slices.Contains(list, v) },
		"reasonText": func(r string) string {
			if t, ok := reasonLabels[r]; ok {
				return t
			}
			return r
		},
	}
}

// reasonLabels are kiosk/bus's session-end reasons in words.
var reasonLabels = map[string]string{
	"idle_timeout":        "Nobody used it",
	"toolbar":             "Resident pressed End session",
	"dbus":                "Ended by the system",
	"web_process_crashed": "Web page crashed",
	"fleet_command":       "Ended by IT",
	"handover":            "Volunteer handed it back",
	"shutdown":            "Kiosk stopped",
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func (c *Console) alerted(r *http.Request) (map[string]bool, []store.AlertRow, error) {
	alerts, err := c.st.OpenAlerts(r.Context())
	if err != nil {
		return nil, nil, err
	}
	m := map[string]bool{}
	for _, a := range alerts {
		m[a.DeviceID] = true
	}
	return m, alerts, nil
}

type overviewData struct {
	Total     store.SiteCounts
	Attention int
	Sites     []store.SiteCounts
	Alerts    []store.AlertRow
}

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

type option struct{ Value, Text string }

type kiosksData struct {
	Sites       []store.Site
	States      []option
	Site, State string
	Q           string
	Rows        []kioskRow
}

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
	c.render(w, r, http.StatusOK, "kiosks", page{Title: "Kiosks", Data: d})
}

type chart struct {
	Title, Now, Min, Max string
	Points               string
	W, H                 int
}

type action struct{ Kind, Text, Class string }

type kioskData struct {
	Device   store.Device
	Row      kioskRow
	Alerts   []store.AlertRow
	Commands []store.Command
	Receipts []store.ReceiptRow
	Charts   []chart
	Points   int
	Sessions int
	Actions  []action
}

func (c *Console) device(w http.ResponseWriter, r *http.Request) (store.Device, bool) {
	d, err := c.st.Device(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Kiosk not found", Data: "There is no kiosk with that id."})
		return d, false
	}
	if err != nil {
		c.fail(w, r, err)
		return d, false
	}
	return d, true
}

func (c *Console) kiosk(w http.ResponseWriter, r *http.Request) {
	dev, ok := c.device(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	alerted, alerts, err := c.alerted(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := kioskData{Device: dev, Row: c.classify(dev, alerted)}
	for _, a := range alerts {
		if a.DeviceID == dev.ID {
			d.Alerts = append(d.Alerts, a)
		}
	}
	if d.Commands, err = c.st.Commands(ctx, dev.ID, 20); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Receipts, err = c.st.Receipts(ctx, dev.ID, 20); err != nil {
		c.fail(w, r, err)
		return
	}
	hist, err := c.st.History(ctx, dev.ID, c.cfg.Now().Add(-24*time.Hour))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Points = len(hist)
	for _, p := range hist {
		d.Sessions += p.SessionsEnded
	}
	if len(hist) > 0 {
		d.Charts = []chart{
			makeChart("Temperature", hist, func(p store.Point) float64 { return p.TempC }, "%.0f °C"),
			makeChart("Load", hist, func(p store.Point) float64 { return p.Load1 }, "%.2f"),
			makeChart("Disk free", hist, func(p store.Point) float64 { return pct(p.DiskFree, p.DiskTotal) }, "%.0f%%"),
		}
	}
	d.Actions = []action{
		{api.CommandEndSession, "End session", ""},
		{api.CommandIdentify, "Identify", "govuk-button--secondary"},
		{api.CommandRestartKiosk, "Restart kiosk", "govuk-button--secondary"},
		{api.CommandReboot, "Reboot", "govuk-button--warning"},
		{api.CommandVolunteerCode, "Volunteer code", "govuk-button--secondary"},
	}
	c.render(w, r, http.StatusOK, "kiosk", page{Title: dev.Hostname, Data: d})
}

func pct(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b) * 100
}

// makeChart draws at most 288 points (one per 5 minutes over 24 h) as an
// SVG polyline; no JavaScript needed.
func makeChart(title string, hist []store.Point, f func(store.Point) float64, format string) chart {
	const w, h = 288, 60
	step := 1
	if len(hist) > w {
		step = (len(hist) + w - 1) / w
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var vals []float64
	for i := 0; i < len(hist); i += step {
		v := f(hist[i])
		vals = append(vals, v)
	}
	for _, p := range hist {
		v := f(p)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	span := hi - lo
	flat := span == 0
	if flat {
		span = 1
	}
	var b strings.Builder
	for i, v := range vals {
		x := 0.0
		if len(vals) > 1 {
			x = float64(i) * w / float64(len(vals)-1)
		}
		y := h - 2 - (v-lo)/span*(h-4)
		if flat {
			y = h / 2
		}
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	if len(vals) == 1 {
		fmt.Fprintf(&b, "%d,%.1f", w, h/2.0)
	}
	return chart{Title: title, Now: fmt.Sprintf(format, f(hist[len(hist)-1])), Min: fmt.Sprintf(format, lo), Max: fmt.Sprintf(format, hi),
		Points: strings.TrimSpace(b.String()), W: w, H: h}
}

type confirmData struct {
	Device            store.Device
	Kind, Text        string
	Question, Explain string
	Button            string
	Warning           bool
}

func (c *Console) command(w http.ResponseWriter, r *http.Request) {
	dev, ok := c.device(w, r)
	if !ok {
		return
	}
	if !readForm(w, r) {
		return
	}
	kind := r.PostFormValue("kind")
	text := strings.TrimSpace(r.PostFormValue("text"))
	d := confirmData{Device: dev, Kind: kind, Text: text}
	switch kind {
	case api.CommandEndSession:
		d.Question, d.Button, d.Warning = "End the session on "+dev.Hostname+"?", "End session", true
		d.Explain = "Whoever is using the kiosk loses what they are doing: pages, forms and downloads are wiped and the kiosk goes back to its home page."
	case api.CommandRestartKiosk:
		d.Question, d.Button, d.Warning = "Restart the kiosk on "+dev.Hostname+"?", "Restart kiosk", true
		d.Explain = "The kiosk program restarts; any session is ended and wiped. The device stays on."
	case api.CommandReboot:
		d.Question, d.Button, d.Warning = "Reboot "+dev.Hostname+"?", "Reboot", true
		d.Explain = "The whole device restarts and is out of use for a minute or two; any session is ended and wiped."
	case api.CommandIdentify:
		d.Question, d.Button = "Identify "+dev.Hostname+"?", "Identify"
		d.Explain = "The kiosk shows its name on screen for a few seconds, so you can tell which one it is."
	case api.CommandShowMessage:
		if text == "" || len(text) > 200 {
			c.render(w, r, http.StatusBadRequest, "error", page{Title: "Message needed", Data: "Write a message of 1 to 200 characters to show on the kiosk."})
			return
		}
		d.Question, d.Button = "Show this message on "+dev.Hostname+"?", "Show message"
		d.Explain = "It appears on the screen for 30 seconds, over whatever is showing."
	case api.CommandVolunteerCode:
		text, d.Text = "", "" // the code is made here, never taken from the form
		d.Question, d.Button = "Create a volunteer code for "+dev.Hostname+"?", "Create code"
		d.Explain = volunteerCodeExplain
	default:
		c.render(w, r, http.StatusBadRequest, "error", page{Title: "Unknown command", Data: "The console does not know that command."})
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		c.render(w, r, http.StatusOK, "confirm", page{Title: d.Question, Data: d})
		return
	}
	cmd := api.Command{Kind: kind}
	if kind == api.CommandShowMessage {
		cmd.Text, cmd.Seconds = text, 30
	}
	if kind == api.CommandVolunteerCode {
		c.volunteerCode(w, r, dev)
		return
	}
	u := user(r)
	issued, err := c.st.IssueCommand(r.Context(), dev.ID, u.Name, cmd)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	detail := commandLabels[kind]
	if text != "" {
		detail += ": " + text
	}
	c.st.Audit(r.Context(), u.Name, "command."+kind, dev.ID, detail+" (command "+issued.ID+", "+dev.Hostname+")")
	http.Redirect(w, r, "/kiosks/"+dev.ID+"?done="+url.QueryEscape(commandLabels[kind]+" sent; the kiosk picks it up at its next report."), http.StatusSeeOther)
}

func (c *Console) revokeDevice(w http.ResponseWriter, r *http.Request) {
	dev, ok := c.device(w, r)
	if !ok {
		return
	}
	if err := c.st.RevokeDevice(r.Context(), dev.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, err)
		return
	}
	c.cfg.ForgetDevice(dev.ID)
	c.st.Audit(r.Context(), user(r).Name, "device.revoke", dev.ID, dev.Hostname)
	http.Redirect(w, r, "/kiosks/"+dev.ID+"?done="+url.QueryEscape("Credential withdrawn."), http.StatusSeeOther)
}

type sitesData struct {
	Sites            []store.Site
	Tokens           []store.Token
	Created          *api.CreatedToken
	QR               template.URL
	FormID, FormName string
}

func (c *Console) sitesPage(w http.ResponseWriter, r *http.Request, status int, p page, d sitesData) {
	var err error
	if d.Sites, err = c.st.Sites(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Tokens, err = c.st.Tokens(r.Context(), ""); err != nil {
		c.fail(w, r, err)
		return
	}
	p.Title, p.Data = "Sites and enrolment", d
	c.render(w, r, status, "sites", p)
}

func (c *Console) sites(w http.ResponseWriter, r *http.Request) {
	c.sitesPage(w, r, http.StatusOK, page{}, sitesData{})
}

func (c *Console) createSite(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	id := strings.TrimSpace(r.PostFormValue("id"))
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = id
	}
	d := sitesData{FormID: id, FormName: name}
	if !siteID(id) || len(name) > api.MaxSiteNameLen {
		c.sitesPage(w, r, http.StatusBadRequest, page{Error: "Enter a site id of lower-case letters, digits and hyphens, like central-library", ErrorField: "site-id"}, d)
		return
	}
	if _, err := c.st.CreateSite(r.Context(), id, name); errors.Is(err, store.ErrExists) {
		c.sitesPage(w, r, http.StatusConflict, page{Error: "A site with id " + id + " already exists", ErrorField: "site-id"}, d)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), user(r).Name, "site.create", id, name)
	http.Redirect(w, r, "/sites?done="+url.QueryEscape("Site "+name+" added."), http.StatusSeeOther)
}

func siteID(s string) bool {
	if s == "" || len(s) > api.MaxSiteIDLen || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	site := r.PostFormValue("site")
	uses, err1 := strconv.Atoi(strings.TrimSpace(r.PostFormValue("uses")))
	days, err2 := strconv.Atoi(strings.TrimSpace(r.PostFormValue("days")))
	if err1 != nil || err2 != nil || uses < 1 || uses > api.MaxTokenUses || days < 1 || days > 90 {
		c.sitesPage(w, r, http.StatusBadRequest, page{Error: "Enter between 1 and 10000 kiosks and between 1 and 90 days", ErrorField: "token-uses"}, sitesData{})
		return
	}
	if ok, err := c.st.SiteExists(r.Context(), site); err != nil || !ok {
		c.sitesPage(w, r, http.StatusBadRequest, page{Error: "Choose a site", ErrorField: "token-site"}, sitesData{})
		return
	}
	u := user(r)
	tok, err := c.st.CreateToken(r.Context(), site, u.Name, time.Duration(days)*24*time.Hour, uses)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), u.Name, "token.create", tok.ID, fmt.Sprintf("for site %s, %d uses, %d days", site, uses, days))
	d := sitesData{Created: &tok}
	if png, err := qrcode.Encode(tok.Secret, qrcode.Medium, 256); err == nil {
		d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	// Shown once, in this answer only; never in a URL or a redirect.
	c.sitesPage(w, r, http.StatusOK, page{}, d)
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := c.st.RevokeToken(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Token not found", Data: "There is no enrolment token with that id."})
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), user(r).Name, "token.revoke", id, "")
	http.Redirect(w, r, "/sites?done="+url.QueryEscape("Token "+id+" withdrawn."), http.StatusSeeOther)
}

type auditData struct {
	Entries []store.AuditEntry
	Older   int64
}

func (c *Console) audit(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	const n = 100
	entries, err := c.st.AuditLog(r.Context(), before, n)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := auditData{Entries: entries}
	if len(entries) == n {
		d.Older = entries[n-1].ID
	}
	c.render(w, r, http.StatusOK, "audit", page{Title: "Audit log", Data: d})
}

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

func (c *Console) usage(w http.ResponseWriter, r *http.Request) {
	d, err := c.usageRows(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "usage", page{Title: "Usage", Data: d})
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
		"assisted_percent", "outcomes"})
	for _, row := range d.Rows {
		cw.Write([]string{row.Site, csvSafe(row.SiteName), row.Start.Format("2006-01-02"), strconv.Itoa(row.Sessions), strconv.Itoa(row.Assisted),
			strconv.FormatInt(row.MedianSessionMs/1000, 10), strconv.FormatInt(row.MedianResetMs, 10), strconv.FormatInt(row.MaxResetMs, 10),
			strconv.Itoa(row.WipeFailures), row.Categories, strconv.Itoa(row.AssistedPercent()), row.Outcomes})
	}
	cw.Flush()
}

// csvSafe stops a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type usersData struct {
	Users    []store.User
	Tokens   []store.APIToken
	NewToken string
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, status int, p page, d usersData) {
	var err error
	if d.Users, err = c.st.Users(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Tokens, err = c.st.APITokens(r.Context()); err != nil {
		c.fail(w, r, err)
		return
	}
	p.Title, p.Data = "Staff", d
	c.render(w, r, status, "users", p)
}

func (c *Console) users(w http.ResponseWriter, r *http.Request) {
	c.usersPage(w, r, http.StatusOK, page{}, usersData{})
}

func (c *Console) createUser(w http.ResponseWriter, r *http.Request) {
	if !readForm(w, r) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("user"))
	role := r.PostFormValue("role")
	if !validName(name) {
		c.usersPage(w, r, http.StatusBadRequest, page{Error: "Enter a user name of letters, digits and . _ @ -", ErrorField: "new-user"}, usersData{})
		return
	}
	if role != store.RoleAdmin && role != store.RoleViewer {
		role = store.RoleViewer
	}
	hash, err := password.Hash(r.PostFormValue("password"))
	if err != nil {
		c.usersPage(w, r, http.StatusBadRequest, page{Error: "The password must be at least 10 characters", ErrorField: "new-password"}, usersData{})
		return
	}
	if err := c.st.CreateUser(r.Context(), name, role, hash); errors.Is(err, store.ErrExists) {
		c.usersPage(w, r, http.StatusConflict, page{Error: "There is already a user called " + name, ErrorField: "new-user"}, usersData{})
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), user(r).Name, "user.create", name, "role "+role)
	http.Redirect(w, r, "/users?done="+url.QueryEscape(name+" added as "+role+"."), http.StatusSeeOther)
}

func validName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return false
		}
	}
	return true
}

func (c *Console) createAPIToken(w http.ResponseWriter, r *http.Request) {
	u := user(r)
	tok, secret, err := c.st.CreateAPIToken(r.Context(), u.Name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), u.Name, "api_token.create", tok.ID, "")
	c.usersPage(w, r, http.StatusOK, page{}, usersData{NewToken: secret})
}

func (c *Console) revokeAPIToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := c.st.RevokeAPIToken(r.Context(), id); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, err)
		return
	}
	c.st.Audit(r.Context(), user(r).Name, "api_token.revoke", id, "")
	http.Redirect(w, r, "/users?done="+url.QueryEscape("API token withdrawn."), http.StatusSeeOther)
}

package console

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
)

type chart struct {
	Title, Now, Min, Max string
	Points               string
	W, H                 int
	// Empty, when set, is shown instead of the chart: no report had a
	// reading ("no sensor").
	Empty string
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
	Message  string // the message form's text, after an error
}

// device loads the kiosk named by the path's {id}, or answers 404 or 500
// and returns false.
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

// kiosk is one kiosk's page: its health now and over 24 hours, alerts,
// commands with their results, wipe receipts and the command buttons.
func (c *Console) kiosk(w http.ResponseWriter, r *http.Request) {
	dev, ok := c.device(w, r)
	if !ok {
		return
	}
	c.kioskPage(w, r, http.StatusOK, page{}, dev, "")
}

// kioskPage renders dev's page with p's problems and the message form's
// text shown again.
func (c *Console) kioskPage(w http.ResponseWriter, r *http.Request, status int, p page, dev store.Device, message string) {
	ctx := r.Context()
	alerted, alerts, err := c.alerted(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := kioskData{Device: dev, Row: c.classify(dev, alerted), Message: message}
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
			// 0 °C is what a kiosk without a sensor reports (api.Health).
			sensorChart(makeChart("Temperature", withTemp(hist), func(p store.Point) float64 { return p.TempC }, "%.0f °C"), hist),
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
	p.Title, p.Data = "Kiosk "+dev.Hostname, d
	c.render(w, r, status, "kiosk", p)
}

func pct(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b) * 100
}

// withTemp is the points of hist that carry a temperature (0 means the
// kiosk has no sensor).
func withTemp(hist []store.Point) []store.Point {
	var out []store.Point
	for _, p := range hist {
		if p.TempC != 0 {
			out = append(out, p)
		}
	}
	return out
}

// sensorChart says "no sensor" for the temperature chart when no report
// had a reading, and "now: no sensor" when the latest had none.
func sensorChart(c chart, hist []store.Point) chart {
	if c.Points == "" {
		return chart{Title: c.Title, Empty: "No temperature: this kiosk has no sensor (or did not report one)."}
	}
	if hist[len(hist)-1].TempC == 0 {
		c.Now = "no sensor"
	}
	return c
}

// makeChart draws at most 288 points (one per 5 minutes over 24 h) as an
// SVG polyline; no JavaScript needed.
func makeChart(title string, hist []store.Point, f func(store.Point) float64, format string) chart {
	const w, h = 288, 60
	if len(hist) == 0 {
		return chart{Title: title, W: w, H: h}
	}
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

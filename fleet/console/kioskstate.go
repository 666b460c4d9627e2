package console

import (
	"net/http"
	"time"

	"accesskiosk/fleet/alert"
	"accesskiosk/fleet/api"
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
	// Printer are the printer's warnings (printer_*) of the kiosk's last
	// report, shown beside it in the kiosks list.
	Printer []api.Warning
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
	case alerted[d.ID] || len(criticalWarnings(d)) > 0:
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

// criticalWarnings are the critical warnings of a device's last report. A
// kiosk program the agent reports gone is one even if the agent did not
// say so in a warning (an agent older than the kiosk_gone warning).
func criticalWarnings(d store.Device) []api.Warning {
	if d.Last == nil {
		return nil
	}
	var out []api.Warning
	gone := false
	for _, w := range d.Last.Warnings {
		if w.Severity == "critical" {
			out = append(out, w)
			gone = gone || w.Code == warnKioskGone
		}
	}
	if !gone && d.Last.Health.KioskState == "gone" {
		out = append(out, api.Warning{Code: warnKioskGone, Severity: "critical", Text: "the agent reports the kiosk program is not running"})
	}
	return out
}

// warnKioskGone is the agent's warning that the kiosk program is not on
// its bus (agent/health.CodeKioskGone).
const warnKioskGone = "kiosk_gone"

// warningTitles name the agent's warning codes (agent/health) for people;
// other codes show as they are.
var warningTitles = map[string]string{
	warnKioskGone:          "Kiosk program not running",
	"kiosk_crash_loop":     "Kiosk keeps restarting",
	"wipe_failed":          "Session wipe failed",
	"identity":             "Kiosk identity unusable",
	"queue_write_failed":   "Cannot keep reports",
	"queue_corrupt":        "Report queue damaged",
	"system_bus":           "No system bus",
	"disk_low":             "Disk nearly full",
	"data_disk_low":        "Data disk nearly full",
	"hot":                  "Too hot",
	"memory_low":           "Memory low",
	"update":               "Update problem",
	"clock_unsynchronised": "Clock not synchronised",
	"software_renderer":    "Drawing without the GPU",
	// The kiosk's printer, as the agent finds it (internal/ipp's codes).
	"printer_offline":         "Printer not answering",
	"printer_stopped":         "Printer stopped",
	"printer_not_accepting":   "Printer not taking jobs",
	"printer_needs_paper":     "Printer needs paper",
	"printer_paper_low":       "Printer paper low",
	"printer_jammed":          "Printer jammed",
	"printer_toner_low":       "Printer toner low",
	"printer_toner_empty":     "Printer out of toner",
	"printer_door_open":       "Printer door open",
	"printer_tray_missing":    "Printer tray missing",
	"printer_waste_full":      "Printer waste container full",
	"printer_spool_full":      "Printer storage full",
	"printer_no_pdf":          "Printer cannot take PDF",
	"printer_bad_response":    "Printer answers wrongly",
	"printer_needs_attention": "Printer needs attention",
	"scanner_missing":         "Scanner missing",
	"scanner_failing":         "Scanner not working",
	"camera_missing":          "Camera missing",
	"camera_failing":          "Camera not working",
}

func warningTitle(code string) string {
	if t, ok := warningTitles[code]; ok {
		return t
	}
	return code
}

// problem is one line of the overview's "Needs attention": an open alert
// or a critical warning of an online kiosk.
type problem struct {
	DeviceID, Hostname, Site string
	Title, Detail            string
	Critical                 bool  // a warning the kiosk reports now, not an alert
	SinceUnixMs              int64 // the alert's opening, or the report's time
}

// problems returns at most limit problems, alerts (oldest first) before
// critical warnings of online kiosks, and whether there are more.
func (c *Console) problems(r *http.Request, limit int) ([]problem, bool, error) {
	alerts, total, err := c.st.OpenAlertsFirst(r.Context(), limit)
	if err != nil {
		return nil, false, err
	}
	var out []problem
	for _, a := range alerts {
		out = append(out, problem{DeviceID: a.DeviceID, Hostname: a.Hostname, Site: a.Site, Title: alert.Title(a.Kind), Detail: a.Detail, SinceUnixMs: a.OpenedUnixMs})
	}
	more := total > len(alerts)
	if left := limit - len(out); left > 0 {
		devs, err := c.st.Devices(r.Context(), store.DeviceFilter{Critical: true, SeenSince: c.cfg.Now().Add(-store.OnlineWindow), Limit: left + 1})
		if err != nil {
			return nil, false, err
		}
		for _, d := range devs {
			for _, w := range criticalWarnings(d) {
				if len(out) == limit {
					return out, true, nil
				}
				out = append(out, problem{DeviceID: d.ID, Hostname: d.Hostname, Site: d.Site, Title: warningTitle(w.Code), Detail: w.Text,
					Critical: true, SinceUnixMs: d.LastReportUnixMs})
			}
		}
	} else if !more {
		devs, err := c.st.Devices(r.Context(), store.DeviceFilter{Critical: true, SeenSince: c.cfg.Now().Add(-store.OnlineWindow), Limit: 1})
		if err != nil {
			return nil, false, err
		}
		more = len(devs) > 0
	}
	return out, more, nil
}

package console

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"accesskiosk/fleet/alert"
	"accesskiosk/fleet/api"
	"accesskiosk/fleet/store"
)

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
		"input":      input,
		"kindText":   kindText,
		"roleText": func(role string) string {
			if role == "" {
				return ""
			}
			return strings.ToUpper(role[:1]) + role[1:]
		},
		"describedBy": describedBy,
		"stateText":   func(r kioskRow) string { return stateLabels[r.State][1] },
		"alertTitle":  alert.Title,
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
		"join":           strings.Join,
		"has":            func(list []string, v string) bool { return slices.Contains(list, v) },
		"kioskStateText": kioskStateText,
		"unitText":       unitText,
		"severityText":   severityText,
		"warningTitle":   warningTitle,
		"clearedText":    clearedText,
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

// kindText names a kind of identifier the fleet counts (api.Dropped).
func kindText(k string) string {
	if t, ok := map[string]string{"tile": "Home-screen tile", "guide": "Guide", "service": "Service (allowlist rule)",
		"feature": "Accessibility feature", "language": "Language", "category": "Volunteer category", "outcome": "Volunteer outcome"}[k]; ok {
		return t
	}
	return k
}

// kioskStateText is a kiosk/bus state (or the agent's "gone") in words.
func kioskStateText(st string) string {
	if t, ok := map[string]string{"starting": "Starting up", "idle": "Waiting for a resident (home page showing)",
		"in_session": "In a session", "warning": "In a session, asking “Are you still there?”", "resetting": "Wiping a session",
		"gone": "Not running"}[st]; ok {
		return t
	}
	if st == "" {
		return "Not known"
	}
	return st
}

// unitText is the kiosk unit's systemd state in words, "" when unknown.
func unitText(st string) string {
	if t, ok := map[string]string{"active": "its service is running", "activating": "its service is starting",
		"deactivating": "its service is stopping", "inactive": "its service is stopped", "failed": "its service has failed",
		"reloading": "its service is reloading"}[st]; ok {
		return t
	}
	if st == "" {
		return ""
	}
	return "its service is " + st
}

// severityText is a warning's severity in words.
func severityText(s string) string {
	if t, ok := map[string]string{"critical": "Critical", "warning": "Warning", "info": "Information"}[s]; ok {
		return t
	}
	return s
}

// clearedText lists what a wipe cleared (kiosk/bus Cleared*) in words.
func clearedText(what []string) string {
	names := map[string]string{"web_view": "the page and its web process", "website_data": "cookies, storage and caches",
		"clipboard": "the clipboard", "downloads": "downloads", "settings": "text size, contrast and language", "history": "history"}
	out := make([]string, len(what))
	for i, w := range what {
		if t, ok := names[w]; ok {
			out[i] = t
		} else {
			out[i] = strings.ReplaceAll(w, "_", " ")
		}
	}
	return strings.Join(out, ", ")
}

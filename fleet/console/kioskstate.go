package console

import (
	"net/http"
	"time"

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

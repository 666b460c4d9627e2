package bus

import (
	"time"

	"github.com/godbus/dbus/v5"
)

// Counted is what the kiosk counted in one session for the fleet's
// Insights (issue 20), as the receipt's optional key "counted" (a{sv}):
//
//	started_hour_unix_ms  x   the session's start rounded down to the hour (ms since the epoch)
//	minutes               x   its length rounded to 5 minutes (0, 5, 10, ...)
//	tiles                 as  home-screen tiles opened, by their configured id
//	guides                as  guides opened, by guide id
//	services              as  allowlist rules whose pages the session reached, by the rule's configured id
//	features              as  Feature* identifiers: keyboard, high_contrast, large_text
//	languages             as  languages other than the kiosk's default chosen, by code
//	assists               x   remote-help sessions staff ran (0 where the kiosk has none)
//
// Identifiers come from the kiosk's configuration only, each at most once,
// at most MaxCountedIDs per list; never a URL, a host, a title or
// anything a resident typed. Scans and prints are the receipt's own
// counts. A receipt without the key is from a kiosk that does not count
// (older, or a session that never started); Receipt.Counted is then nil.
// Agents pass it on as fleet/api's Receipt.Counted (capability 5).
type Counted struct {
	StartedHourUnixMs int64
	Minutes           int64
	Tiles             []string
	Guides            []string
	Services          []string
	Features          []string
	Languages         []string
	Assists           int64
}

// Features a session can use (Counted.Features): the same identifiers as
// fleet/api's Feature* (the agent's tests check they stay so).
const (
	FeatureKeyboard     = "keyboard"      // the on-screen keyboard typed something
	FeatureHighContrast = "high_contrast" // high contrast was chosen
	FeatureLargeText    = "large_text"    // a larger text size was chosen
)

// MaxCountedIDs bounds each list of Counted.
const MaxCountedIDs = 32

const (
	rcCounted     = "counted"
	cntHour       = "started_hour_unix_ms"
	cntMinutes    = "minutes"
	cntTiles      = "tiles"
	cntGuides     = "guides"
	cntServices   = "services"
	cntFeatures   = "features"
	cntLanguages  = "languages"
	cntAssists    = "assists"
	hourMs        = int64(time.Hour / time.Millisecond)
	fiveMinutesMs = int64(5 * time.Minute / time.Millisecond)
)

// RoundCounted is a session's start rounded down to the hour (ms since
// the epoch) and its length rounded to the nearest 5 minutes, as Counted
// carries them.
func RoundCounted(startedUnixMs, sessionMs int64) (hourUnixMs, minutes int64) {
	hourUnixMs = startedUnixMs - startedUnixMs%hourMs
	if sessionMs < 0 {
		sessionMs = 0
	}
	minutes = (sessionMs + fiveMinutesMs/2) / fiveMinutesMs * 5
	return hourUnixMs, min(minutes, 24*60)
}

func (c *Counted) variant() dbus.Variant {
	return dbus.MakeVariant(map[string]dbus.Variant{
		cntHour:      dbus.MakeVariant(c.StartedHourUnixMs),
		cntMinutes:   dbus.MakeVariant(c.Minutes),
		cntTiles:     dbus.MakeVariant(nonNil(c.Tiles)),
		cntGuides:    dbus.MakeVariant(nonNil(c.Guides)),
		cntServices:  dbus.MakeVariant(nonNil(c.Services)),
		cntFeatures:  dbus.MakeVariant(nonNil(c.Features)),
		cntLanguages: dbus.MakeVariant(nonNil(c.Languages)),
		cntAssists:   dbus.MakeVariant(c.Assists),
	})
}

// parseCounted reads the receipt's "counted" key: nil when it is absent,
// not an a{sv}, or without its start hour. Lists of the wrong type read as
// empty, like any optional key.
func parseCounted(m map[string]dbus.Variant) *Counted {
	v, ok := m[rcCounted]
	if !ok {
		return nil
	}
	var cm map[string]dbus.Variant
	if v.Store(&cm) != nil {
		return nil
	}
	c := &Counted{}
	if need(cm, cntHour, &c.StartedHourUnixMs) != nil {
		return nil
	}
	opt(cm, cntMinutes, &c.Minutes)
	opt(cm, cntTiles, &c.Tiles)
	opt(cm, cntGuides, &c.Guides)
	opt(cm, cntServices, &c.Services)
	opt(cm, cntFeatures, &c.Features)
	opt(cm, cntLanguages, &c.Languages)
	opt(cm, cntAssists, &c.Assists)
	return c
}

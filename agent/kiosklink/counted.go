package kiosklink

import (
	"slices"
	"time"

	"accesskiosk/fleet/api"
	"accesskiosk/kiosk/bus"
)

// counted is the receipt's Counted as the fleet takes it (api.Counted,
// capability 5), or nil when the kiosk counted nothing (an older kiosk, or
// a start the fleet would refuse). Only what the wire allows passes: each
// identifier a label (ident.Label), once, at most api.MaxCountedIDs a
// list; the start on the hour, not after the session's end and at most a
// day before it; the length rounded to 5 minutes; the counts bounded. A
// receipt the fleet would refuse would cost the whole report its
// receipts, so anything doubtful is dropped here instead.
//
// Scans are the receipt's pages scanned plus photos taken; Prints its
// pages printed (pages × copies; jobs cancelled at the session's end are
// not counted). Capability 7's counts: Downloads, Uploads and PrintJobs
// as the receipt has them, AssistMs its remote help's length, at most the
// session's (rounded) length; the reporter takes them out again for a
// fleet older than 7.
func counted(r bus.Receipt) *api.Counted {
	c := r.Counted
	if c == nil {
		return nil
	}
	const hour = int64(time.Hour / time.Millisecond)
	switch {
	case c.StartedHourUnixMs <= 0 || c.StartedHourUnixMs%hour != 0:
		return nil
	case r.EndedUnixMs > 0 && (c.StartedHourUnixMs > r.EndedUnixMs || r.EndedUnixMs-c.StartedHourUnixMs > 25*hour):
		return nil
	}
	minutes := int(min(max(c.Minutes, 0), api.MaxCountedMinutes) / 5 * 5)
	assistMs := int64(0)
	if r.RemoteHelp || r.RemoteHelpMs > 0 {
		assistMs = min(max(r.RemoteHelpMs, 0), api.MaxAssistMs(minutes))
	}
	return &api.Counted{
		StartedHourUnixMs: c.StartedHourUnixMs,
		Minutes:           minutes,
		Tiles:             countedIDs(c.Tiles),
		Guides:            countedIDs(c.Guides),
		Services:          countedIDs(c.Services),
		Features:          countedIDs(c.Features),
		Languages:         countedIDs(c.Languages),
		Scans:             int(bounded(r.Scans+r.Photos, api.MaxCountedPages)),
		Prints:            int(bounded(r.PrintPages, api.MaxCountedPages)),
		Assists:           int(bounded(c.Assists, api.MaxCountedAssist)),
		Downloads:         int(bounded(r.Downloads, api.MaxCountedFiles)),
		Uploads:           int(bounded(r.Uploads, api.MaxCountedFiles)),
		PrintJobs:         int(bounded(r.PrintJobs, api.MaxCountedFiles)),
		AssistMs:          assistMs,
	}
}

// countedIDs keeps the labels of ids, each once, at most
// api.MaxCountedIDs; nil when none is left.
func countedIDs(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id = label(id, ""); id != "" && len(id) <= api.MaxShortLen && len(out) < api.MaxCountedIDs && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func bounded(n int64, most int) int64 { return min(max(n, 0), int64(most)) }

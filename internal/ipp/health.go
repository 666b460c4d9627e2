package ipp

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Severity of a printer warning; the same words as the agent's health
// registry (agent/health), so the agent can take them as they are.
type Severity string

// Severities.
const (
	Info     Severity = "info"
	Warn     Severity = "warning"
	Critical Severity = "critical"
)

// Warning is one thing about the printer IT staff should know. Text is
// plain English for them and names the printer's own keywords; it never
// carries anything about a job or a document.
type Warning struct {
	Code     string
	Severity Severity
	Text     string
}

// Printer warning codes: stable identifiers the fleet alerts on.
const (
	CodeOffline        = "printer_offline"         // does not answer, or reports itself offline
	CodeStopped        = "printer_stopped"         // printer-state stopped, or paused by staff
	CodeNotAccepting   = "printer_not_accepting"   // printer-is-accepting-jobs is false
	CodeNeedsPaper     = "printer_needs_paper"     // media-empty, media-needed
	CodePaperLow       = "printer_paper_low"       // media-low
	CodeJammed         = "printer_jammed"          // media-jam
	CodeTonerLow       = "printer_toner_low"       // toner-low, marker-supply-low
	CodeTonerEmpty     = "printer_toner_empty"     // toner-empty, marker-supply-empty
	CodeDoorOpen       = "printer_door_open"       // cover-open, door-open, interlock-open
	CodeTrayMissing    = "printer_tray_missing"    // input-tray-missing
	CodeWasteFull      = "printer_waste_full"      // marker-waste-full, marker-waste-almost-full
	CodeSpoolFull      = "printer_spool_full"      // spool-area-full
	CodeNoPDF          = "printer_no_pdf"          // document-format-supported lacks application/pdf
	CodeBadResponse    = "printer_bad_response"    // answered with something that is not IPP
	CodeNeedsAttention = "printer_needs_attention" // another reason with the -error suffix
)

// HealthCodes lists every code CheckHealth and HealthWarnings can give, so
// that the agent can clear the ones that are no longer reported.
var HealthCodes = []string{
	CodeOffline, CodeStopped, CodeNotAccepting, CodeNeedsPaper, CodePaperLow, CodeJammed,
	CodeTonerLow, CodeTonerEmpty, CodeDoorOpen, CodeTrayMissing, CodeWasteFull, CodeSpoolFull,
	CodeNoPDF, CodeBadResponse, CodeNeedsAttention,
}

// reasonWarning maps a printer-state-reasons keyword (without its -report,
// -warning or -error suffix) to a warning. Text is what IT staff read.
var reasonWarnings = map[string]Warning{
	"offline":                  {CodeOffline, Critical, "The printer reports itself offline (offline)."},
	"offline-report":           {CodeOffline, Critical, "The print queue cannot reach the printer (offline-report)."},
	"shutdown":                 {CodeOffline, Critical, "The printer is shutting down or off (shutdown)."},
	"connecting-to-device":     {CodeOffline, Warn, "The print queue is trying to reach the printer (connecting-to-device)."},
	"timed-out":                {CodeOffline, Critical, "The printer stopped answering its queue (timed-out)."},
	"paused":                   {CodeStopped, Critical, "Printing is paused on the printer or its queue (paused): resume it (CUPS: cupsenable QUEUE)."},
	"moving-to-paused":         {CodeStopped, Critical, "The printer is being paused (moving-to-paused)."},
	"stopped-partly":           {CodeStopped, Warn, "Part of the printer has stopped (stopped-partly)."},
	"media-empty":              {CodeNeedsPaper, Critical, "The printer is out of paper (media-empty): load paper."},
	"media-needed":             {CodeNeedsPaper, Critical, "The printer needs paper to go on (media-needed): load paper."},
	"media-low":                {CodePaperLow, Warn, "The printer's paper is low (media-low)."},
	"media-jam":                {CodeJammed, Critical, "Paper is jammed in the printer (media-jam): clear it."},
	"input-tray-missing":       {CodeTrayMissing, Critical, "A paper tray is missing (input-tray-missing)."},
	"toner-low":                {CodeTonerLow, Warn, "The printer's toner is low (toner-low): order toner."},
	"marker-supply-low":        {CodeTonerLow, Warn, "The printer's ink or toner is low (marker-supply-low): order more."},
	"toner-empty":              {CodeTonerEmpty, Critical, "The printer is out of toner (toner-empty): replace it."},
	"marker-supply-empty":      {CodeTonerEmpty, Critical, "The printer is out of ink or toner (marker-supply-empty): replace it."},
	"cover-open":               {CodeDoorOpen, Critical, "A cover of the printer is open (cover-open): close it."},
	"door-open":                {CodeDoorOpen, Critical, "A door of the printer is open (door-open): close it."},
	"interlock-open":           {CodeDoorOpen, Critical, "An interlock of the printer is open (interlock-open): close it."},
	"marker-waste-full":        {CodeWasteFull, Critical, "The printer's waste container is full (marker-waste-full): empty or replace it."},
	"marker-waste-almost-full": {CodeWasteFull, Warn, "The printer's waste container is almost full (marker-waste-almost-full)."},
	"spool-area-full":          {CodeSpoolFull, Warn, "The printer's storage for jobs is full (spool-area-full)."},
}

// reasonSuffixes are the severity suffixes of printer-state-reasons
// (RFC 8011 5.4.12); a printer may send "media-empty-error" or, as
// ippeveprinter does while idle, "media-empty-report".
var reasonSuffixes = []string{"-report", "-warning", "-error"}

func splitReason(r string) (base, suffix string) {
	for _, s := range reasonSuffixes {
		if strings.HasSuffix(r, s) {
			return strings.TrimSuffix(r, s), s
		}
	}
	return r, ""
}

// HealthWarnings maps what a printer says about itself (printer-state,
// printer-state-reasons, printer-is-accepting-jobs, formats) to warnings,
// one per code, the most severe first. A printer with nothing to report
// gives none.
func HealthWarnings(a *Attributes) []Warning {
	byCode := map[string]Warning{}
	add := func(w Warning) {
		old, ok := byCode[w.Code]
		if !ok {
			byCode[w.Code] = w
			return
		}
		if rank(w.Severity) < rank(old.Severity) {
			old.Severity = w.Severity
		}
		if !strings.Contains(old.Text, w.Text) {
			old.Text += " " + w.Text
		}
		byCode[w.Code] = old
	}
	for _, r := range a.StateReasons {
		if r == "" || r == "none" {
			continue
		}
		if w, ok := reasonWarnings[r]; ok { // such as CUPS's "offline-report"
			add(w)
			continue
		}
		base, suffix := splitReason(r)
		if w, ok := reasonWarnings[base]; ok {
			add(w)
			continue
		}
		if suffix == "-error" {
			add(Warning{CodeNeedsAttention, Warn, fmt.Sprintf("The printer reports %s.", Clip(r, 80))})
		}
	}
	if a.State == PrinterStopped {
		if _, ok := byCode[CodeStopped]; !ok {
			text := "The printer has stopped (printer-state stopped)."
			if a.StateMessage != "" {
				text += " It says: " + Clip(a.StateMessage, 120)
			}
			add(Warning{CodeStopped, Critical, text})
		}
	}
	if !a.AcceptingJobs {
		add(Warning{CodeNotAccepting, Critical, "The printer or its queue is not accepting jobs (printer-is-accepting-jobs false): enable it (CUPS: cupsaccept QUEUE)."})
	}
	if len(a.Formats) > 0 && !a.SupportsFormat("application/pdf") {
		add(Warning{CodeNoPDF, Critical, "The printer does not take PDF (document-format-supported): the kiosk needs an IPP Everywhere printer or a CUPS queue that takes PDF."})
	}
	out := make([]Warning, 0, len(byCode))
	for _, w := range byCode {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := rank(out[i].Severity), rank(out[j].Severity); a != b {
			return a < b
		}
		return out[i].Code < out[j].Code
	})
	return out
}

func rank(s Severity) int {
	switch s {
	case Critical:
		return 0
	case Warn:
		return 1
	}
	return 2
}

// CheckHealth asks the printer how it is and returns the warnings to raise
// (none when it is fine). A printer that does not answer gives
// printer_offline, one that answers with something other than IPP
// printer_bad_response: CheckHealth itself never fails, and returns by
// ctx's deadline or the printer's timeout, whichever is sooner.
func CheckHealth(ctx context.Context, p *Printer) []Warning {
	a, err := p.Attributes(ctx)
	switch {
	case err == nil:
		return HealthWarnings(a)
	case errors.Is(err, ErrBadResponse):
		return []Warning{{CodeBadResponse, Critical, fmt.Sprintf("The printer at %s answers, but not as an IPP printer: %v", p.Host(), errorTail(err))}}
	case errors.Is(err, ErrCertificate):
		return []Warning{{CodeOffline, Critical, fmt.Sprintf("The kiosk does not trust the printer's certificate: %v", errorTail(err))}}
	default:
		return []Warning{{CodeOffline, Critical, fmt.Sprintf("The printer at %s does not answer: %v", p.Host(), errorTail(err))}}
	}
}

// errorTail shortens an error for a warning's text.
func errorTail(err error) string { return Clip(err.Error(), 300) }

package printing

import (
	"strings"
	"testing"
)

func codes(ws []Warning) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code+"/"+string(w.Severity))
	}
	return strings.Join(out, " ")
}

func TestHealthWarnings(t *testing.T) {
	ok := func(a Attributes) *Attributes {
		if a.State == 0 {
			a.State = PrinterIdle
		}
		a.AcceptingJobs = true
		a.Formats = []string{"application/pdf"}
		return &a
	}
	for _, tc := range []struct {
		name string
		a    *Attributes
		want string
	}{
		{"fine", ok(Attributes{StateReasons: []string{"none"}}), ""},
		{"out of paper while idle (ippeveprinter)", ok(Attributes{StateReasons: []string{"media-empty-report"}}), "printer_needs_paper/critical"},
		{"paper and toner", ok(Attributes{StateReasons: []string{"media-empty-error", "media-needed-error", "toner-low-warning"}}), "printer_needs_paper/critical printer_toner_low/warning"},
		{"jam", ok(Attributes{State: PrinterStopped, StateReasons: []string{"media-jam-error"}}), "printer_jammed/critical printer_stopped/critical"},
		{"paused by staff (CUPS)", ok(Attributes{State: PrinterStopped, StateReasons: []string{"paused"}}), "printer_stopped/critical"},
		{"stopped without reason", ok(Attributes{State: PrinterStopped, StateMessage: "Filter failed"}), "printer_stopped/critical"},
		{"CUPS cannot reach it", ok(Attributes{State: PrinterProcessing, StateReasons: []string{"offline-report"}}), "printer_offline/critical"},
		{"door", ok(Attributes{StateReasons: []string{"cover-open-error"}}), "printer_door_open/critical"},
		{"toner empty", ok(Attributes{StateReasons: []string{"marker-supply-empty-error", "toner-empty-error"}}), "printer_toner_empty/critical"},
		{"waste", ok(Attributes{StateReasons: []string{"marker-waste-almost-full-warning"}}), "printer_waste_full/warning"},
		{"unknown error", ok(Attributes{StateReasons: []string{"com.example-fuser-error"}}), "printer_needs_attention/warning"},
		{"unknown report ignored", ok(Attributes{StateReasons: []string{"cups-waiting-for-job-completed", "other-report"}}), ""},
		{"not accepting", &Attributes{State: PrinterIdle, Formats: []string{"application/pdf"}}, "printer_not_accepting/critical"},
		{"no pdf", &Attributes{State: PrinterIdle, AcceptingJobs: true, Formats: []string{"image/pwg-raster"}}, "printer_no_pdf/critical"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := HealthWarnings(tc.a)
			if got := codes(ws); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, w := range ws {
				if w.Text == "" {
					t.Errorf("%s has no text", w.Code)
				}
				if !contains(HealthCodes, w.Code) {
					t.Errorf("%s is not in HealthCodes", w.Code)
				}
			}
		})
	}
	// The stopped warning names the printer's reason keyword for IT staff.
	ws := HealthWarnings(&Attributes{State: PrinterStopped, StateReasons: []string{"paused"}, AcceptingJobs: true})
	if len(ws) != 1 || !strings.Contains(ws[0].Text, "(paused)") {
		t.Errorf("paused: %+v", ws)
	}
}

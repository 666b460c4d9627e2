package ipp

import (
	"context"
	"strings"
	"testing"
	"time"

	"accesskiosk/internal/ipp/ipptest"
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

// TestHealthOfRealPrinters: an ippeveprinter out of paper and low on
// toner, a paused CUPS queue, a hung and a dead printer, each as the
// warnings IT staff see.
func TestHealthOfRealPrinters(t *testing.T) {
	pr := ipptest.StartPrinter(t, ipptest.PrinterOptions{})
	cups := ipptest.StartCUPS(t)
	queue := cups.AddQueue(t, "desk", pr.URI)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := NewPrinter(pr.URI, Options{Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if ws := CheckHealth(ctx, p); len(ws) != 0 {
		t.Errorf("a fresh printer: %+v", ws)
	}
	pr.SetPaper(t, 0)
	pr.SetToner(t, 5)
	if got := codes(CheckHealth(ctx, p)); got != "printer_needs_paper/critical printer_toner_low/warning" {
		t.Errorf("no paper, toner at 5%%: %q", got)
	}
	pr.SetPaper(t, 10)
	pr.SetToner(t, 60)
	if got := codes(CheckHealth(ctx, p)); got != "printer_paper_low/warning" {
		t.Errorf("10 sheets: %q", got)
	}

	q, _ := NewPrinter(queue, Options{Timeout: 3 * time.Second})
	if ws := CheckHealth(ctx, q); len(ws) != 0 {
		t.Errorf("a fresh CUPS queue: %+v", ws)
	}
	cups.Pause(t, "desk")
	ws := CheckHealth(ctx, q)
	if codes(ws) != "printer_stopped/critical" || !strings.Contains(ws[0].Text, "paused") {
		t.Errorf("paused queue: %+v", ws)
	}
	cups.Resume(t, "desk")
	if ws := CheckHealth(ctx, q); len(ws) != 0 {
		t.Errorf("resumed queue: %+v", ws)
	}

	// Hung, then switched off: offline, within the timeout.
	pr.Freeze(t)
	start := time.Now()
	ws = CheckHealth(ctx, p)
	if codes(ws) != "printer_offline/critical" || !strings.Contains(ws[0].Text, pr.Host) {
		t.Errorf("hung printer: %+v", ws)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("hung printer: %v to say so", d)
	}
	pr.Thaw(t)
	pr.Stop()
	if got := codes(CheckHealth(ctx, p)); got != "printer_offline/critical" {
		t.Errorf("printer switched off: %q", got)
	}
}

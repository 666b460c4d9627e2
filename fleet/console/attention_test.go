package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"accesskiosk/fleet/api"
)

// TestAttentionInChromium: a kiosk whose agent reports the kiosk program
// gone (critical kiosk_gone), and one with another critical warning, need
// attention on the overview, in real Chromium, before any alert has been
// evaluated; a warning that is not critical does not. A kiosk without a
// temperature sensor shows "no sensor" in its chart, never "0 °C".
// (Before, the overview said "1 online, 0 need attention" while the kiosk
// program was down, and the chart read "0 °C" beside "no sensor".)
func TestAttentionInChromium(t *testing.T) {
	f := startFleet(t)
	ctx := browser(t)
	now := time.Now()
	gone := f.device(t, "central", "central-gone")
	h := health("gone", 0, 60)
	for i := range 3 {
		f.reportAt(t, gone, "central", now.Add(time.Duration(i-2)*time.Minute), api.Report{Health: h,
			Warnings: []api.Warning{{Code: "kiosk_gone", Severity: "critical", Text: "the kiosk is not on the bus (org.accesskiosk.Kiosk1 has no owner)"}}})
	}
	ident := f.device(t, "central", "central-ident")
	f.reportAt(t, ident, "central", now, api.Report{Health: health("idle", 50, 60),
		Warnings: []api.Warning{{Code: "identity", Severity: "critical", Text: "stored identity unusable"}}})
	fine := f.device(t, "north", "north-fine")
	f.reportAt(t, fine, "north", now, api.Report{Health: health("idle", 50, 60),
		Warnings: []api.Warning{{Code: "disk_low", Severity: "warning", Text: "12% of the disk free"}}})

	signIn(t, ctx, f.url, "alice", adminPassword)
	if got := text(t, ctx, "#count-online"); got != "3" {
		t.Errorf("online = %q, want 3", got)
	}
	if got := text(t, ctx, "#count-attention"); got != "2" {
		t.Errorf("need attention = %q, want 2 (kiosk_gone and another critical warning)", got)
	}
	problems := text(t, ctx, "#alerts")
	for _, want := range []string{"central-gone", "Kiosk program not running", "central-ident", "stored identity unusable"} {
		if !strings.Contains(problems, want) {
			t.Errorf("needs attention list lacks %q: %q", want, problems)
		}
	}
	if strings.Contains(problems, "north-fine") {
		t.Errorf("a kiosk with only a warning is listed as needing attention: %q", problems)
	}
	do(t, ctx, "kiosks needing attention", chromedp.Navigate(f.url+"/kiosks?state=attention"), chromedp.WaitVisible(chromedp.ID("kiosks")))
	if got := text(t, ctx, "#kiosks"); !strings.Contains(got, "central-gone") || !strings.Contains(got, "Needs attention") || strings.Contains(got, "north-fine") {
		t.Errorf("kiosks needing attention = %q", got)
	}

	do(t, ctx, "kiosk without a sensor", chromedp.Navigate(f.url+"/kiosks/"+gone), chromedp.WaitVisible(chromedp.ID("charts")))
	charts := text(t, ctx, "#charts")
	if strings.Contains(charts, "0 °C") || !strings.Contains(charts, "no sensor") {
		t.Errorf("temperature chart of a kiosk without a sensor: %q", charts)
	}
}

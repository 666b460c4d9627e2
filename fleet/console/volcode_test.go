package console_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"accesskiosk/fleet/api"
)

// TestVolunteerCodeInChromium: an admin creates a volunteer code for a
// kiosk (button, confirmation, code shown once with its expiry); the device
// is sent it; the kiosk page and the audit log never show it; a viewer has
// no button and is refused if she posts anyway.
func TestVolunteerCodeInChromium(t *testing.T) {
	f := startFleet(t)
	ctx := browser(t)
	dev := f.device(t, "central", "central-kiosk-1")
	f.reportAt(t, dev, "central", time.Now(), api.Report{Health: health("idle", 50, 60)})

	signIn(t, ctx, f.url, "alice", adminPassword)
	do(t, ctx, "volunteer code button",
		chromedp.Navigate(f.url+"/kiosks/"+dev),
		chromedp.WaitVisible(chromedp.ID("cmd-volunteer_code")),
		chromedp.Click(chromedp.ID("cmd-volunteer_code")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
	)
	if got := text(t, ctx, "h1"); !strings.Contains(got, "volunteer code for central-kiosk-1") {
		t.Errorf("confirmation heading = %q", got)
	}
	if cmds, _ := f.st.Commands(context.Background(), dev, 10); len(cmds) != 0 {
		t.Fatalf("the confirmation step already queued %d commands", len(cmds))
	}
	do(t, ctx, "confirm", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("volunteer-code")))
	code := text(t, ctx, "#volunteer-code")
	if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(code) {
		t.Fatalf("shown code = %q, want 8 digits", code)
	}
	if got := text(t, ctx, "#volunteer-code-expiry"); !strings.Contains(got, "15 minutes") || !regexp.MustCompile(`\d\d:\d\d`).MatchString(got) {
		t.Errorf("expiry line = %q", got)
	}

	pend, err := f.st.PendingCommands(context.Background(), dev)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 1 || pend[0].Kind != api.CommandVolunteerCode || pend[0].Text != code || pend[0].Seconds < 890 || pend[0].Seconds > api.MaxVolunteerCodeSeconds {
		t.Fatalf("pending = %+v, want one volunteer_code with the shown code and ~900 s", pend)
	}
	if err := api.CheckVolunteerCode(pend[0].Text, pend[0].Seconds); err != nil {
		t.Errorf("queued command fails the agent's check: %v", err)
	}

	do(t, ctx, "kiosk page", chromedp.Navigate(f.url+"/kiosks/"+dev), chromedp.WaitVisible(chromedp.ID("commands")))
	if got := text(t, ctx, "#commands"); !strings.Contains(got, "Volunteer code") || strings.Contains(got, code) {
		t.Errorf("commands list = %q: want the command, never the code", got)
	}
	if got := text(t, ctx, "body"); strings.Contains(got, code) {
		t.Errorf("kiosk page shows the code again")
	}
	do(t, ctx, "audit", chromedp.Navigate(f.url+"/audit"), chromedp.WaitVisible(chromedp.ID("audit")))
	if got := text(t, ctx, "#audit"); !strings.Contains(got, "command.volunteer_code") || strings.Contains(got, code) {
		t.Errorf("audit = %q: want the entry, never the code", got)
	}
	// The device takes it and acknowledges; nothing is pending any more.
	res := f.reportAt(t, dev, "central", time.Now(), api.Report{Health: health("idle", 50, 60)})
	if len(res.Commands) != 1 || res.Commands[0].Text != code {
		t.Fatalf("device was sent %+v", res.Commands)
	}
	f.reportAt(t, dev, "central", time.Now(), api.Report{Health: health("idle", 50, 60)}, api.CommandAck{ID: res.Commands[0].ID, Status: api.AckDone})
	if pend, _ := f.st.PendingCommands(context.Background(), dev); len(pend) != 0 {
		t.Errorf("still pending after the ack: %+v", pend)
	}

	// A viewer has no button and cannot post one.
	do(t, ctx, "sign out", chromedp.Navigate(f.url+"/"), chromedp.WaitVisible(chromedp.ID("count-online")),
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("user")))
	signIn(t, ctx, f.url, "victor", viewerPassword)
	do(t, ctx, "viewer opens kiosk", chromedp.Navigate(f.url+"/kiosks/"+dev), chromedp.WaitVisible(chromedp.ID("no-actions")))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#cmd-volunteer_code").length`)); err != nil || n != 0 {
		t.Errorf("viewer sees %d volunteer code buttons (%v)", n, err)
	}
	do(t, ctx, "viewer posts a volunteer code",
		chromedp.Evaluate[chromedp.Void](`(() => { const f = document.createElement("form"); f.method = "post";
			f.action = "/kiosks/`+dev+`/command"; f.innerHTML = '<input name="kind" value="volunteer_code"><input name="confirm" value="yes">';
			document.body.appendChild(f); f.submit(); })()`),
	)
	poll(t, ctx, `document.querySelector("h1") !== null && document.querySelector("h1").textContent.includes("cannot")`)
	if cmds, _ := f.st.Commands(context.Background(), dev, 10); len(cmds) != 1 {
		t.Errorf("after the viewer's POST the kiosk has %d commands, want 1", len(cmds))
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#volunteer-code").length`)); err != nil || n != 0 {
		t.Errorf("viewer was shown a code (%d, %v)", n, err)
	}
}

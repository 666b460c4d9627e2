package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/console"
)

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeAll runs axe-core with the WCAG 2.0, 2.1 and 2.2 A and AA rules and
// its best practices, and returns every violation, whatever its impact.
const axeAll = `axe.run(document, {resultTypes: ["violations"],
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}).then(r => r.violations
  .map(v => ({id: v.id, impact: v.impact || "", help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))`

// a11yBrowser is headless Chromium with axe-core (from node_modules) in
// every page, and a record of Content-Security-Policy violations.
func a11yBrowser(t *testing.T) context.Context {
	t.Helper()
	axePath := filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js")
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing: run make deps", axePath)
		}
		t.Skipf("%s missing: run make deps", axePath)
	}
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, src := range []string{string(axeSrc),
			`window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`} {
			if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
				return err
			}
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func evalJSON(t *testing.T, ctx context.Context, what, expr string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
	if err == nil {
		err = json.Unmarshal(raw, out)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// consolePage is one page of the console to check, reached by opening
// path (if any) and then doing steps.
type consolePage struct {
	name, path string
	steps      []chromedp.Action[chromedp.Void]
	h1         string
	// variant marks the page as the same page as another in another
	// state (errors shown, a change made): it may share that one's title.
	variant bool
	// focus, when set, is the id of the element that must have the focus
	// once the page has loaded (an error summary or a success banner).
	focus string
	// check, when set, is a script that must say true of the page.
	check string
}

// TestConsoleAccessibility opens every console page in real headless
// Chromium, at 1280 CSS px and at 320 CSS px (400 % zoom of a 1280 px
// screen), signed in as an admin (and the viewer's and signed-out
// pages), with forms in their error and success states, and checks:
// axe-core finds no violation of WCAG 2.2 A/AA or best practice, of any
// impact; at 320 px the page does not scroll sideways (WCAG 1.4.10: wide
// tables scroll in their own box) and the menu, folded behind its button,
// leaves the heading on the first screen; the Content-Security-Policy
// blocks nothing; every page has a title of its own (2.4.2); after a
// form is sent the focus is on the error summary or the success banner.
func TestConsoleAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	f, _, devs := richFleet(t)
	ctx := a11yBrowser(t)
	month := monthKey(insightsMonth())
	shots := os.Getenv("A11Y_SHOTS")

	// Controls: axe must fault a faulty page, and the width check must see
	// a page that scrolls sideways.
	evil := `data:text/html,<!DOCTYPE html><html><head><title>x</title></head><body><main><img src="x.png"><a href="/"></a><div style="width:900px">wide</div></main></body></html>`
	load(t, ctx, evil, 320)
	var control []axeViolation
	evalJSON(t, ctx, "control", axeAll, &control)
	ids := map[string]bool{}
	for _, v := range control {
		ids[v.ID] = true
	}
	if !ids["image-alt"] || !ids["link-name"] {
		t.Fatalf("axe missed the control page's faults: %+v", control)
	}
	if sw, w := widths(t, ctx); sw <= w {
		t.Fatalf("the control page is %d px wide in a %d px window: the reflow check sees nothing", sw, w)
	}

	type visit struct {
		consolePage
		signedIn string // "", "alice" or "victor"
	}
	var pages []visit
	add := func(who string, ps ...consolePage) {
		for _, p := range ps {
			pages = append(pages, visit{p, who})
		}
	}
	// sendForm fills fields by id, presses submit and waits for the answer
	// to show the element whose id is then.
	sendForm := func(then string, fields map[string]string, submit string) []chromedp.Action[chromedp.Void] {
		var steps []chromedp.Action[chromedp.Void]
		for id, v := range fields {
			steps = append(steps, chromedp.SetValue(chromedp.ID(id), v))
		}
		return append(steps, chromedp.Click(chromedp.ID(submit)), chromedp.WaitVisible(chromedp.ID(then)))
	}
	// resend sends the form on the page again: the page it leaves shows
	// `then` too, so the walk waits for a new document (the old one's
	// marker gone) before waiting for `then` (axe on the page it left
	// failed with "Inspected target navigated or closed" in a clean CI).
	resend := func(then, submit string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Evaluate[chromedp.Void](`document.body.appendChild(Object.assign(document.createElement("i"), {id: "ak-old-page"}))`),
			chromedp.Click(chromedp.ID(submit)), chromedp.WaitNotPresent(chromedp.ID("ak-old-page")), chromedp.WaitVisible(chromedp.ID(then))}
	}
	add("",
		consolePage{name: "sign-in", path: "/login", h1: "Sign in"},
		consolePage{name: "sign-in-error", variant: true, path: "/login", h1: "Sign in", focus: "error-summary",
			steps: sendForm("error-summary", map[string]string{"user": "alice", "password": "wrong"}, "sign-in")},
		consolePage{name: "sign-in-expired", path: "/login?expired=1&next=%2Fusage", h1: "Sign in"},
	)
	add("alice",
		consolePage{name: "overview", path: "/", h1: "Overview"},
		consolePage{name: "kiosks", path: "/kiosks", h1: "Kiosks"},
		consolePage{name: "kiosks-attention", path: "/kiosks?state=attention", h1: "Kiosks"},
		consolePage{name: "kiosk", path: "/kiosks/" + devs["north-1"], h1: "north-1"},
		consolePage{name: "kiosk-message-error", variant: true, path: "/kiosks/" + devs["central-1"], h1: "central-1", focus: "error-summary",
			steps: sendForm("error-summary", map[string]string{"text": "\u202eevil"}, "cmd-show_message")},
		consolePage{name: "confirm", path: "/kiosks/" + devs["central-1"], h1: "End the session",
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.ID("cmd-end_session")), chromedp.WaitVisible(chromedp.ID("confirm"))}},
		// Pressed from script: the page was just laid out again from 320 to
		// 1280 px, and a mouse click aimed at the button's old box missed it
		// (the walk then waited for the banner until its bound).
		consolePage{name: "command-sent", variant: true, path: "", h1: "central-1", focus: "flash",
			steps: []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.ID("confirm")),
				chromedp.Evaluate[chromedp.Void](`document.getElementById("confirm").click()`), chromedp.WaitVisible(chromedp.ID("flash"))}},
		consolePage{name: "volunteer-code", path: "/kiosks/" + devs["central-2"], h1: "Volunteer code",
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.ID("cmd-volunteer_code")), chromedp.WaitVisible(chromedp.ID("confirm")),
				chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("volunteer-code"))}},
		consolePage{name: "sites", path: "/sites", h1: "Sites and enrolment"},
		consolePage{name: "sites-errors", variant: true, path: "/sites", h1: "Sites and enrolment", focus: "error-summary",
			steps: sendForm("error-summary", map[string]string{"site-id": "Not An Id", "site-name": "Annex"}, "add-site")},
		consolePage{name: "token-errors", variant: true, path: "/sites", h1: "Sites and enrolment", focus: "error-summary",
			steps: sendForm("error-summary", map[string]string{"token-uses": "0", "token-days": "365"}, "make-token")},
		consolePage{name: "site-added", variant: true, path: "/sites", h1: "Sites and enrolment", focus: "flash",
			steps: sendForm("flash", map[string]string{"site-id": "annex", "site-name": "The Annex"}, "add-site")},
		consolePage{name: "new-token", path: "/sites", h1: "New enrolment token", focus: "new-token",
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.ID("make-token")), chromedp.WaitVisible(chromedp.ID("token-secret"))}},
		consolePage{name: "hours", path: "/sites/central/hours", h1: "Opening hours"},
		consolePage{name: "hours-errors", variant: true, path: "/sites/central/hours", h1: "Opening hours", focus: "error-summary",
			steps: sendForm("error-summary", map[string]string{"hours-mon": "9 till 5", "hours-sun": "10:00-09:00"}, "save-hours")},
		consolePage{name: "releases", path: "/releases", h1: "Releases"},
		consolePage{name: "rollout-error", variant: true, path: "/releases", h1: "Releases", focus: "error-summary",
			steps: sendForm("error-summary", map[string]string{"percent": "50, 10"}, "start-rollout")},
		consolePage{name: "rollout-confirm", path: "/releases", h1: "Start a rollout",
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`input[value="site:north"]`)), chromedp.Click(chromedp.ID("start-rollout")),
				chromedp.WaitVisible(chromedp.ID("confirm"))}},
		consolePage{name: "usage", path: "/usage", h1: "Usage by day"},
		consolePage{name: "usage-weekly", path: "/usage?period=week&days=30", h1: "Usage by week"},
		consolePage{name: "insights", path: "/insights?site=central&period=" + month, h1: "Insights: Central Library"},
		consolePage{name: "insights-all-sites", path: "/insights?period=" + month, h1: "Insights: All sites"},
		consolePage{name: "insights-error", variant: true, path: "/insights?period=1999-13", h1: "Insights", focus: "error-summary"},
		consolePage{name: "report", path: "/insights/report?site=central&period=" + month, h1: "Central Library"},
		consolePage{name: "audit", path: "/audit", h1: "Audit log"},
		consolePage{name: "staff", path: "/users", h1: "Staff"},
		consolePage{name: "staff-error", variant: true, path: "/users", h1: "Staff", focus: "error-summary",
			steps: sendForm("error-summary", map[string]string{"new-user": "dana", "new-password": "short"}, "add-user")},
		consolePage{name: "new-api-token", path: "/users", h1: "New API token", focus: "new-api-token",
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.ID("make-api-token")), chromedp.WaitVisible(chromedp.ID("api-token"))}},
		consolePage{name: "not-found", path: "/nothing-here", h1: "Page not found"},
	)
	add("alice", consolePage{name: "staff-error-keeps-name", variant: true, path: "/users", h1: "Staff", focus: "error-summary",
		check: `document.getElementById("new-user").value === "dana" && document.getElementById("role-admin").checked && document.getElementById("new-password").value === ""`,
		steps: append(sendForm("error-summary", map[string]string{"new-user": "dana", "new-password": "short"}, "add-user"),
			append([]chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.ID("role-admin"))}, resend("error-summary", "add-user")...)...)})
	add("victor",
		consolePage{name: "viewer-kiosk", path: "/kiosks/" + devs["central-1"], h1: "central-1"},
		consolePage{name: "viewer-hours", path: "/sites/north/hours", h1: "Opening hours"},
	)

	titles := map[string]string{}
	signedIn := ""
	only := os.Getenv("A11Y_ONLY") // a page's name, to look at one page while fixing it
	for _, p := range pages {
		if only != "" && p.name != only {
			continue
		}
		if p.signedIn != signedIn {
			do(t, ctx, "sign out", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
				return err
			}))
			if p.signedIn != "" {
				pw := map[string]string{"alice": adminPassword, "victor": viewerPassword}[p.signedIn]
				signIn(t, ctx, f.url, p.signedIn, pw)
			}
			signedIn = p.signedIn
		}
		for _, width := range []int64{1280, 320} {
			what := fmt.Sprintf("%s at %d px", p.name, width)
			// A page reached by sending a form is looked at again at 320 px
			// as it is (sending the form again would do something else).
			acted := width == 320 && len(p.steps) > 0
			switch {
			case acted || p.path == "":
				do(t, ctx, what, chromedp.EmulateViewport(width, 640))
			default:
				load(t, ctx, f.url+p.path, width)
			}
			if len(p.steps) > 0 && !acted {
				do(t, ctx, what, p.steps...)
			}
			do(t, ctx, what, chromedp.WaitVisible(chromedp.CSS("h1")))
			if got := text(t, ctx, "h1"); !strings.Contains(got, p.h1) {
				t.Errorf("%s: heading %q, want %q", what, got, p.h1)
			}
			var title string
			evalJSON(t, ctx, what, `document.title`, &title)
			if width == 1280 {
				if other, ok := titles[title]; ok && !p.variant && !strings.HasPrefix(p.name, "viewer-") {
					t.Errorf("%s and %s share the title %q", p.name, other, title)
				}
				titles[title] = p.name
			}
			var got []axeViolation
			evalJSON(t, ctx, what+": axe", axeAll, &got)
			for _, v := range got {
				t.Errorf("%s: %s %s: %s\n    %s", what, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
			}
			var csp []string
			evalJSON(t, ctx, what+": csp", `window.__csp || []`, &csp)
			if len(csp) > 0 {
				t.Errorf("%s: the Content-Security-Policy blocked %v", what, csp)
			}
			// Every problem in the error summary is beside its field too,
			// tied to it: the summary links to the field, the field is
			// aria-invalid and described by its error message.
			var unlinked []string
			evalJSON(t, ctx, what+": errors", `[...document.querySelectorAll(".govuk-error-summary__list a")].flatMap(a => {
				const id = decodeURIComponent(a.hash.slice(1)), f = document.getElementById(id);
				if (!f) return ["the summary links to #" + id + ", which is not on the page"];
				if (f.getAttribute("aria-invalid") !== "true") return ["#" + id + " is not aria-invalid"];
				const msgs = (f.getAttribute("aria-describedby") || "").split(" ").map(x => document.getElementById(x))
					.filter(m => m && m.classList.contains("govuk-error-message") && m.textContent.trim().length > 10);
				return msgs.length ? [] : ["#" + id + " is not described by an error message"];
			})`, &unlinked)
			for _, u := range unlinked {
				t.Errorf("%s: %s", what, u)
			}
			if p.check != "" && !acted {
				var ok bool
				evalJSON(t, ctx, what+": check", p.check, &ok)
				if !ok {
					t.Errorf("%s: %s is not so", what, p.check)
				}
			}
			if p.focus != "" && !acted {
				var focused string
				evalJSON(t, ctx, what+": focus", `document.activeElement ? document.activeElement.id : ""`, &focused)
				if focused != p.focus {
					t.Errorf("%s: the focus is on #%s, want #%s", what, focused, p.focus)
				}
			}
			if width == 320 {
				if sw, w := widths(t, ctx); sw > w {
					t.Errorf("%s: the page is %d px wide in a %d px window: it scrolls sideways", what, sw, w)
				}
				var tooWide []string
				evalJSON(t, ctx, what, `[...document.querySelectorAll("body *")].filter(e => {
					if (e.parentElement && e.parentElement.closest(".ak-table-scroll, svg, dialog")) return false;
					const r = e.getBoundingClientRect(); return r.width > 0 && r.right > window.innerWidth + 0.5;
				}).slice(0, 5).map(e => e.tagName + (e.id ? "#" + e.id : "") + "." + String(e.className).replace(/ /g, "."))`, &tooWide)
				if len(tooWide) > 0 {
					t.Errorf("%s: wider than the screen: %v", what, tooWide)
				}
				var top float64
				evalJSON(t, ctx, what, `document.querySelector("main").getBoundingClientRect().top`, &top)
				if top > 640/3 {
					t.Errorf("%s: the page's content starts %.0f px down: header and menu take more than a third of the first screen (640 px)", what, top)
				}
			}
			if shots != "" {
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err == nil {
					os.WriteFile(filepath.Join(shots, fmt.Sprintf("a11y-%s-%d.png", p.name, width)), png, 0o644)
				}
			}
		}
	}
}

func load(t *testing.T, ctx context.Context, url string, width int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 640), chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// widths opens every details element and returns the document's width
// and the window's.
func widths(t *testing.T, ctx context.Context) (int, int) {
	t.Helper()
	var w [2]int
	evalJSON(t, ctx, "widths", `(() => { document.querySelectorAll("details").forEach(d => d.open = true);
		return [document.documentElement.scrollWidth, window.innerWidth]; })()`, &w)
	return w[0], w[1]
}

// focusVisible says whether the focused element shows that it has the
// focus: GOV.UK Frontend's yellow, an outline or a box shadow.
const focusVisible = `(() => { const e = document.activeElement; if (!e || e === document.body) return false;
  const s = getComputedStyle(e);
  return s.backgroundColor === "rgb(255, 221, 0)" || (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 && s.outlineColor !== "rgba(0, 0, 0, 0)") ||
    (s.boxShadow !== "none" && s.boxShadow.includes("255, 221, 0")); })()`

// TestConsoleKeyboard goes the keyboard path: the skip link is the first
// Tab stop, visible, and leads into the page; every Tab stop on the way to
// End session shows its focus; End session, its confirmation and the
// success banner work from the keyboard alone, and the banner takes the
// focus.
func TestConsoleKeyboard(t *testing.T) {
	f := startFleet(t)
	dev := f.device(t, "central", "central-kiosk-1")
	f.reportAt(t, dev, "central", time.Now(), api.Report{Health: health("in_session", 55, 60)})
	ctx := browser(t)
	signIn(t, ctx, f.url, "alice", adminPassword)
	do(t, ctx, "open the kiosk", chromedp.Navigate(f.url+"/kiosks/"+dev), chromedp.WaitVisible(chromedp.ID("cmd-end_session")),
		chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	focused := func() (id, tag, text string, visible bool) {
		var got struct {
			ID, Tag, Text string
			Visible       bool
		}
		evalJSON(t, ctx, "focus", `(() => { const e = document.activeElement; return {ID: e.id, Tag: e.tagName, Text: (e.textContent || "").trim().slice(0, 40),
			Visible: `+focusVisible+`}; })()`, &got)
		return got.ID, got.Tag, got.Text, got.Visible
	}
	tab := func() { do(t, ctx, "Tab", chromedp.KeyEvent("\t")) }
	tab()
	if _, tag, text, visible := focused(); tag != "A" || text != "Skip to main content" || !visible {
		t.Fatalf("the first Tab stop is %s %q (focus visible %v), want the skip link", tag, text, visible)
	}
	var onScreen bool
	evalJSON(t, ctx, "skip link", `(() => { const r = document.activeElement.getBoundingClientRect(); return r.width > 20 && r.height > 10 && r.top >= 0; })()`, &onScreen)
	if !onScreen {
		t.Error("the focused skip link is not on the screen")
	}
	do(t, ctx, "Enter on the skip link", chromedp.KeyEvent("\r"))
	poll(t, ctx, `document.activeElement && document.activeElement.id === "main-content"`)
	for i := 0; ; i++ {
		if i == 60 {
			t.Fatal("60 Tabs did not reach End session")
		}
		tab()
		id, tag, text, visible := focused()
		if !visible {
			t.Errorf("Tab stop %d (%s #%s %q) does not show its focus", i+1, tag, id, text)
		}
		if id == "cmd-end_session" {
			break
		}
	}
	do(t, ctx, "Enter on End session", chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.ID("confirm")))
	for i := 0; ; i++ {
		if i == 60 {
			t.Fatal("60 Tabs did not reach the confirm button")
		}
		tab()
		id, tag, text, visible := focused()
		if !visible {
			t.Errorf("confirm page, Tab stop %d (%s #%s %q) does not show its focus", i+1, tag, id, text)
		}
		if id == "confirm" {
			break
		}
	}
	do(t, ctx, "Enter on the confirm button", chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.ID("flash")))
	poll(t, ctx, `document.activeElement && document.activeElement.id === "flash"`)
	if cmds, _ := f.st.Commands(context.Background(), dev, 10); len(cmds) != 1 || cmds[0].Kind != api.CommandEndSession {
		t.Errorf("after the keyboard path the kiosk has commands %+v, want one end_session", cmds)
	}
}

// TestSessionWarning: a page warns before the sign-in ends, in a dialog
// that takes the focus and passes axe; "Stay signed in" keeps the page
// and moves the end later; a sign-in left to end goes to sign-in, which
// leads back to the page; a form sent after the end changes nothing and
// leads back to its page after signing in again.
func TestSessionWarning(t *testing.T) {
	f := startFleetWith(t, "", func(c *console.Config) { c.SessionTTL, c.SessionWarning = 14*time.Second, 10*time.Second })
	ctx := a11yBrowser(t)
	signIn(t, ctx, f.url, "alice", adminPassword)
	do(t, ctx, "open usage", chromedp.Navigate(f.url+"/usage?period=week&days=30"), chromedp.WaitVisible(chromedp.CSS("h1")))
	ends := func() int64 {
		t.Helper()
		var cs []*network.Cookie
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
			cs = res.Cookies
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Name == "ak_session" {
				_, ends, err := f.st.WebSessionEnds(context.Background(), c.Value)
				if err != nil {
					t.Fatalf("the browser's sign-in: %v", err)
				}
				return ends
			}
		}
		t.Fatal("the browser has no sign-in cookie")
		return 0
	}
	before := ends()
	poll(t, ctx, `document.getElementById("session-warning").open`)
	var focusIn bool
	evalJSON(t, ctx, "focus", `document.getElementById("session-warning").contains(document.activeElement)`, &focusIn)
	if !focusIn {
		t.Error("the warning does not have the focus")
	}
	var got []axeViolation
	evalJSON(t, ctx, "axe with the warning open", axeAll, &got)
	for _, v := range got {
		t.Errorf("warning open: %s %s: %s\n    %s", v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
	}
	do(t, ctx, "stay signed in", chromedp.Click(chromedp.ID("session-stay")))
	poll(t, ctx, `!document.getElementById("session-warning").open`)
	if after := ends(); after <= before {
		t.Errorf("Stay signed in: the sign-in still ends at %d (before %d)", after, before)
	}
	if got := text(t, ctx, "h1"); !strings.Contains(got, "Usage by week") {
		t.Errorf("after Stay signed in the page is %q", got)
	}
	// Left alone, the sign-in ends: the page goes to sign-in, and back.
	poll2(t, ctx, 40*time.Second, `location.pathname === "/login" && location.search.includes("expired=1")`)
	if got := text(t, ctx, "#notice"); !strings.Contains(got, "go back to the page you were on") {
		t.Errorf("sign-in after the end says %q", got)
	}
	do(t, ctx, "sign in again", chromedp.SendKeys(chromedp.ID("user"), "alice"), chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		chromedp.Click(chromedp.ID("sign-in")))
	poll(t, ctx, `location.pathname === "/usage" && new URLSearchParams(location.search).get("period") === "week" && new URLSearchParams(location.search).get("days") === "30"`)

}

// TestFormAfterSignInEnded: a form sent after the sign-in ended (a page
// left open without its script) changes nothing; the answer says so and
// signing in again leads back to the page the form was on.
func TestFormAfterSignInEnded(t *testing.T) {
	f := startFleetWith(t, "", func(c *console.Config) { c.SessionTTL = 2 * time.Second })
	c := signInHTTP(t, f.url, "alice", adminPassword)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := c.get("/sites"); code == http.StatusSeeOther {
			break // the sign-in has ended
		}
		if time.Now().After(deadline) {
			t.Fatal("the 2 s sign-in did not end")
		}
		time.Sleep(200 * time.Millisecond)
	}
	req, _ := http.NewRequest(http.MethodPost, f.url+"/sites", strings.NewReader(url.Values{"id": {"late"}, "name": {"Late"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", f.url+"/sites?done=site-added")
	code, body := c.do(req)
	if code != http.StatusUnauthorized || !strings.Contains(body, "nothing was changed") || !strings.Contains(body, `name="next" value="/sites"`) {
		t.Errorf("a form after the end: %d\n%s", code, body)
	}
	if ok, _ := f.st.SiteExists(context.Background(), "late"); ok {
		t.Error("a form sent after the sign-in ended made a site")
	}
	// Another site's page as the Referer leads to the overview, never there.
	req.Header.Set("Referer", "https://evil.example/sites")
	req.Body = io.NopCloser(strings.NewReader("id=late"))
	if _, body := c.do(req); !strings.Contains(body, `name="next" value="/"`) {
		t.Errorf("a foreign Referer: %s", body)
	}
	if code, loc := c.post("/login", url.Values{"user": {"alice"}, "password": {adminPassword}, "next": {"/sites"}}); code != http.StatusSeeOther || loc != "/sites" {
		t.Errorf("signing in again: %d to %q", code, loc)
	}
}

// poll2 is poll with its own deadline.
func poll2(t *testing.T, ctx context.Context, within time.Duration, expr string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %s for %s: last result %v, %v", within, expr, ok, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"accesskiosk/kiosk/volunteer"
)

var volunteerPaths = []string{
	"/volunteer", "/volunteer?state=wrong&left=2", "/volunteer?state=wrong&left=1",
	"/volunteer?state=locked&minutes=5", "/volunteer?state=unavailable",
	"/volunteer/services", "/volunteer/services?panel=1",
	"/volunteer/outcome", "/volunteer/outcome?category=council_tax",
}

// axeVolunteerPaths covers every template and state once (axe is slow).
var axeVolunteerPaths = []string{
	"/volunteer?state=wrong&left=2", "/volunteer?state=locked&minutes=5", "/volunteer?state=unavailable",
	"/volunteer/services", "/volunteer/services?panel=1", "/volunteer/outcome?category=council_tax",
}

func TestVolunteerPages(t *testing.T) {
	p := newTestPages(t, defaultConfig(t))
	for _, lang := range Languages() {
		for _, path := range volunteerPaths {
			w := get(t, p, withQuery(path, "lang="+lang))
			body := w.Body.String()
			if w.Code != http.StatusOK {
				t.Errorf("%s (%s): status %d", path, lang, w.Code)
			}
			if strings.Contains(body, "⟦") {
				t.Errorf("%s (%s): a message key has no text", path, lang)
			}
		}
	}
	for _, tc := range []struct{ path, want, notWant string }{
		{"/volunteer?state=wrong&left=2", "You can try 2 more times", "locked for"},
		{"/volunteer?state=wrong&left=1", "You can try once more", ""},
		{"/volunteer?state=locked&minutes=5", "locked for 5 minutes", ""},
		{"/volunteer?state=locked&minutes=5", `data-ak-digit="1" disabled`, ""},
		{"/volunteer?state=locked&minutes=1&lang=cy", "wedi cloi am 1 munud", ""},
		{"/volunteer", `data-ak-volunteer-form`, "not right"},
		{"/volunteer/services", `data-category="council_tax"`, ""},
		{"/volunteer/services", `href="/guides/pay-council-tax?panel=1"`, ""},
		{"/volunteer/services", "Volunteer helping", ""},
		{"/volunteer/outcome?category=council_tax", `data-category="council_tax" data-outcome="needs_follow_up"`, ""},
		{"/volunteer/outcome?category=council_tax", `aria-current="true"`, ""},
		// A category not in the vocabulary is not carried into the page.
		{"/volunteer/outcome?category=Mrs+Smith", `data-category="" data-outcome="done"`, "Mrs Smith"},
		{"/volunteer/outcome?category=%3Cscript%3E", `data-outcome="done"`, "<script>"},
	} {
		w := get(t, p, tc.path)
		body := w.Body.String()
		if !strings.Contains(body, tc.want) {
			t.Errorf("%s: missing %q", tc.path, tc.want)
		}
		if tc.notWant != "" && strings.Contains(body, tc.notWant) {
			t.Errorf("%s: has %q", tc.path, tc.notWant)
		}
	}
	// Categories come from the volunteer config once set.
	cfg := volunteer.Config{Categories: []volunteer.Category{{ID: "blue_badge", Label: "Blue Badge", Translations: map[string]string{"cy": "Bathodyn Glas"}}}}
	p.SetVolunteer(cfg)
	if body := get(t, p, "/volunteer/outcome?lang=cy").Body.String(); !strings.Contains(body, "Bathodyn Glas") || strings.Contains(body, "council_tax") {
		t.Errorf("configured categories not shown")
	}
}

// settled waits until the page in ctx has loaded with its deferred scripts
// run (readyState complete) and the script cond is true.
func settled(tb testing.TB, ctx context.Context, cond string) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+cond+`)`))
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("the page did not settle (%s)", cond)
}

// installFakeHandler stands in for the shell's bridge (web/bridge.js): it
// takes what the page posts (the accesskiosk-message events on its
// document) and records it in window.__posted, as the shell would receive it.
func installFakeHandler(tb testing.TB, ctx context.Context) {
	tb.Helper()
	const src = `window.__posted = []; document.addEventListener("accesskiosk-message", function (ev) { ev.preventDefault(); window.__posted.push(ev.detail); }, true);`
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	})); err != nil {
		tb.Fatal(err)
	}
}

func posted(tb testing.TB, ctx context.Context) []volunteer.Message {
	tb.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__posted`))
	if err != nil {
		tb.Fatal(err)
	}
	var out []volunteer.Message
	for _, s := range raw {
		m, err := volunteer.ParseMessage([]byte(s))
		if err != nil {
			tb.Fatalf("page posted %s: %v", s, err)
		}
		out = append(out, m)
	}
	return out
}

// TestVolunteerScreensPost drives the real pages in headless Chromium: the
// PIN pad types (taps and keys), Unlock posts the entry once and clears the
// field; the picker and the outcome screen post the messages the shell's
// volunteer.Assist understands.
func TestVolunteerScreensPost(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	base := serve(t, newTestPages(t, defaultConfig(t)))
	ctx := browser(t, 1280, 800)
	installFakeHandler(t, ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	// open loads a page and waits until its deferred script runs: a tap
	// before that is a plain link's (seen under load).
	open := func(path, cond string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path)); err != nil {
			t.Fatal(err)
		}
		settled(t, ctx, cond)
	}
	open("/volunteer", "true")
	err := chromedp.Do(ctx,
		click(`[data-ak-digit="2"]`), click(`[data-ak-digit="5"]`), click(`[data-ak-digit="9"]`),
		click(`[data-ak-digit="del"]`), chromedp.KeyEvent("8"), click(`[data-ak-digit="0"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	val, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("vol-entry").value`))
	if val != "2580" {
		t.Fatalf("entry = %q, want 2580", val)
	}
	if err := chromedp.Do(ctx, click(`button[type=submit]`)); err != nil {
		t.Fatal(err)
	}
	got := posted(t, ctx)
	if len(got) != 1 || got[0] != (volunteer.Message{Action: volunteer.ActionUnlock, Entry: "2580"}) {
		t.Errorf("posted %+v, want one unlock with 2580", got)
	}
	if val, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("vol-entry").value`)); val != "" {
		t.Errorf("entry kept after Unlock: %q", val)
	}

	open("/volunteer/services?panel=1", "true")
	err = chromedp.Do(ctx, click(`[data-category="benefits"]`), click(`.ak-vol-handover`))
	if err != nil {
		t.Fatal(err)
	}
	want := []volunteer.Message{{Action: volunteer.ActionService, Category: "benefits"}, {Action: volunteer.ActionHandover}}
	if got := posted(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("picker posted %+v, want %+v", got, want)
	}

	// Outcome: tap a service (a page load), then an outcome: two taps.
	open("/volunteer/outcome", "true")
	if err := chromedp.Do(ctx, click(`a[href*="category=housing"]`)); err != nil {
		t.Fatal(err)
	}
	settled(t, ctx, `location.search.indexOf("category=housing") >= 0 && !!document.querySelector('a[aria-current="true"]')`)
	if err := chromedp.Do(ctx, click(`[data-outcome="referred_elsewhere"]`)); err != nil {
		t.Fatal(err)
	}
	want = []volunteer.Message{{Action: volunteer.ActionOutcome, Category: "housing", Outcome: volunteer.OutcomeReferred}}
	if got := posted(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcome posted %+v, want %+v", got, want)
	}
	// Skip posts an outcome message with nothing in it.
	open("/volunteer/outcome?category=housing", "true")
	err = chromedp.Do(ctx, click(`.ak-actions [data-ak-volunteer="volunteer_outcome"]`))
	if err != nil {
		t.Fatal(err)
	}
	want = []volunteer.Message{{Action: volunteer.ActionOutcome}}
	if got := posted(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("skip posted %+v, want %+v", got, want)
	}
}

// TestVolunteerAccessibility runs axe-core on the volunteer screens in every
// language and both contrast modes.
func TestVolunteerAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	axePath := filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js")
	need(t, exists(axePath), axePath)
	need(t, exists(filepath.Join("dist", "kiosk.css")), "kiosk/ui/dist/kiosk.css")
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, newTestPages(t, defaultConfig(t)))
	ctx := browser(t, 1280, 800)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: string(axeSrc)})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	runs := 0
	for _, lang := range Languages() {
		for _, variant := range []string{"lang=" + lang, "lang=" + lang + "&contrast=high"} {
			for _, p := range axeVolunteerPaths {
				target := base + withQuery(p, variant)
				ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				raw, err := []byte(nil), chromedp.Do(ctx, chromedp.Navigate(target), chromedp.WaitReady(chromedp.CSS("body")))
				if err == nil {
					raw, err = chromedp.Run(ctx, chromedp.Evaluate[[]byte](axeRun, chromedp.EvalAwaitPromise))
				}
				cancel()
				if err != nil {
					t.Fatalf("%s: %v", target, err)
				}
				var got []axeViolation
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("%s: %v", target, err)
				}
				runs++
				for _, v := range got {
					t.Errorf("%s: %s %s: %s\n    %s", withQuery(p, variant), v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
				}
			}
		}
	}
	t.Logf("axe-core ran on %d volunteer page loads", runs)
}

// TestVolunteerScreenshots saves the volunteer screens at 1280x800 and
// 800x1280 into $KIOSK_SCREENSHOTS (make screenshots-volunteer sets it).
func TestVolunteerScreenshots(t *testing.T) {
	dir := os.Getenv("KIOSK_SCREENSHOTS")
	if dir == "" {
		t.Skip("set KIOSK_SCREENSHOTS=DIR to save screenshots")
	}
	need(t, exists(filepath.Join("dist", "kiosk.css")), "kiosk/ui/dist/kiosk.css")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := serve(t, newTestPages(t, defaultConfig(t)))
	shots := []struct{ name, path string }{
		{"pin", "/volunteer"},
		{"pin-wrong", "/volunteer?state=wrong&left=2"},
		{"pin-locked", "/volunteer?state=locked&minutes=5"},
		{"pin-locked-cy", "/volunteer?state=locked&minutes=10&lang=cy"},
		{"services", "/volunteer/services"},
		{"services-panel", "/volunteer/services?panel=1"},
		{"services-panel-pl", "/volunteer/services?panel=1&lang=pl"},
		{"outcome", "/volunteer/outcome"},
		{"outcome-picked", "/volunteer/outcome?category=council_tax"},
		{"outcome-high-contrast", "/volunteer/outcome?category=benefits&contrast=high"},
	}
	n := 0
	for _, size := range [][2]int{{1280, 800}, {800, 1280}} {
		ctx := browser(t, size[0], size[1])
		for _, s := range shots {
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(int64(size[0]), int64(size[1])),
				chromedp.Navigate(base+s.path),
				chromedp.WaitReady(chromedp.CSS("body")),
			)
			var png []byte
			if err == nil {
				png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
			}
			if err != nil {
				t.Fatalf("%s: %v", s.path, err)
			}
			out := filepath.Join(dir, fmt.Sprintf("kiosk-volunteer-%s-%dx%d.png", s.name, size[0], size[1]))
			if err := os.WriteFile(out, png, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	t.Logf("saved %d screenshots in %s", n, dir)
}

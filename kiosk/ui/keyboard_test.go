package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// stubHandler stands in for the shell's "watch" script message handler: it
// records every message in window.__msgs for the test to collect.
const stubHandler = `window.__msgs = []; window.webkit = {messageHandlers: {watch: {postMessage: function (m) { window.__msgs.push(m); }}}};`

// formPage is a real page with the fields a council form has; the email
// field sits low on the screen, where the keyboard would cover it.
const formPage = `<!DOCTYPE html><html lang="en"><head><title>Form</title></head><body>
<form id="f" action="/submitted" method="get">
<label>Name <input id="name" name="name"></label>
<div style="height:600px"></div>
<label>Email <input id="email" type="email" name="email"></label>
<div style="height:1200px"></div>
</form>
</body></html>`

type kbMsg struct {
	Action string `json:"action"`
	Show   *bool  `json:"show"`
	Mode   string `json:"mode"`
}

func takeMsgs(t *testing.T, ctx context.Context) []kbMsg {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`(function(){var m = window.__msgs; window.__msgs = []; return m;})()`))
	if err != nil {
		t.Fatal(err)
	}
	var out []kbMsg
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("messages %s: %v", raw, err)
	}
	return out
}

func addScripts(t *testing.T, ctx context.Context, scripts ...string) {
	t.Helper()
	for _, s := range scripts {
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: s})
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestUserScriptAsksForKeyboard runs the user script on a real form in
// headless Chromium, as the shell injects it: tapping a field asks for
// the keyboard in that field's mode; when the page gets shorter (the
// shell's keyboard took the bottom of the screen) the field is kept in
// view; leaving the field asks to hide it. The script gives the page
// nothing to call: the shell types with key events, never through it.
func TestUserScriptAsksForKeyboard(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, formPage)
	})
	base := serve(t, mux)

	pageCtx := browser(t, 1280, 800)
	addScripts(t, pageCtx, stubHandler, UserScript())
	run := func(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	run(pageCtx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/form"), chromedp.WaitReady(chromedp.CSS("#email")))
	if exposed, err := chromedp.Run(pageCtx, chromedp.Evaluate[bool](`"__accessKiosk" in window`)); err != nil || exposed {
		t.Errorf("the user script put __accessKiosk on the page's window (err %v)", err)
	}

	// Tapping the email field asks for the keyboard in email mode.
	run(pageCtx, chromedp.Click(chromedp.CSS("#email")), chromedp.Sleep(100*time.Millisecond))
	msgs := takeMsgs(t, pageCtx)
	if len(msgs) != 1 || msgs[0].Action != "keyboard" || msgs[0].Show == nil || !*msgs[0].Show || msgs[0].Mode != "email" {
		t.Fatalf("after tapping the email field: got %+v, want one show message in email mode", msgs)
	}

	// The shell shows the keyboard below the page: the page gets shorter.
	run(pageCtx, chromedp.EmulateViewport(1280, 450), chromedp.Sleep(300*time.Millisecond))
	inView, err := chromedp.Run(pageCtx, chromedp.Evaluate[bool](`(function(){var r = document.getElementById("email").getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;})()`))
	if err != nil || !inView {
		t.Errorf("focused field not in view above the keyboard (err %v)", err)
	}

	// Leaving the fields hides the keyboard.
	run(pageCtx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/form"), chromedp.WaitReady(chromedp.CSS("#name")),
		chromedp.Sleep(300*time.Millisecond))
	takeMsgs(t, pageCtx)
	run(pageCtx, chromedp.Click(chromedp.CSS("#name")), chromedp.Click(chromedp.CSS("body")), chromedp.Sleep(400*time.Millisecond))
	msgs = takeMsgs(t, pageCtx)
	// The window getting the focus late (a loaded machine) may say "hide"
	// first, with nothing focused: harmless, and not what is tested here.
	for len(msgs) > 0 && msgs[0].Show != nil && !*msgs[0].Show {
		msgs = msgs[1:]
	}
	if len(msgs) != 2 || msgs[0].Show == nil || msgs[1].Show == nil || *msgs[0].Show != true || *msgs[1].Show != false || msgs[0].Mode != "text" {
		t.Errorf("focus then blur: got %+v, want show (text) then hide", msgs)
	}
}

// bridgeStub stands in for the shell's bridge (web/bridge.js): it takes
// what a page posts and records it in window.__msgs.
const bridgeStub = `window.__msgs = []; document.addEventListener("accesskiosk-message", function (ev) { ev.preventDefault(); window.__msgs.push(JSON.parse(ev.detail)); }, true);`

// TestPageMessages checks what the built-in pages' buttons tell the shell
// through the bridge, in real headless Chromium.
func TestPageMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	base := serve(t, newTestPages(t, defaultConfig(t)))
	ctx := browser(t, 1280, 800)
	addScripts(t, ctx, bridgeStub)
	tests := []struct {
		path, click string
		want        string // JSON of the one message
	}{
		{"/idle?seconds=30", `[data-ak-action="continue"]`, `[{"action":"continue"}]`},
		{"/idle?seconds=30", `[data-ak-action="end"]`, `[{"action":"end"}]`},
		{"/block?site=x.example", `[data-ak-action="back"]`, `[{"action":"back"}]`},
		{"/guides/pay-council-tax", `[data-ak-guide]`, `[{"action":"open","guide":"pay-council-tax","url":"https://www.camden.gov.uk/pay-council-tax"}]`},
		{"/guides/digital-skills-help?panel=1", `.ak-step [data-ak-open]`, `[{"action":"open","url":"https://www.learnmyway.com/"}]`},
		{"/guides/pay-council-tax?panel=1", `[data-ak-action="close-guide"]`, `[{"action":"close-guide"}]`},
	}
	for _, tt := range tests {
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := chromedp.Do(c, chromedp.Navigate(base+tt.path), chromedp.WaitReady(chromedp.CSS(tt.click)),
			chromedp.Click(chromedp.CSS(tt.click)), chromedp.Sleep(100*time.Millisecond))
		var raw []byte
		if err == nil {
			raw, err = chromedp.Run(c, chromedp.Evaluate[[]byte](`window.__msgs`))
		}
		var loc string
		if err == nil {
			loc, err = chromedp.Run(c, chromedp.Location())
		}
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		var got []map[string]string
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Errorf("%s: messages %s: %v", tt.path, raw, err)
		}
		gotJSON, _ := json.Marshal(got)
		if string(gotJSON) != tt.want {
			t.Errorf("%s, tap %s: got %s, want %s", tt.path, tt.click, gotJSON, tt.want)
		}
		if !strings.HasPrefix(loc, base+strings.SplitN(tt.path, "?", 2)[0]) {
			t.Errorf("%s: the page navigated to %s; the shell should decide", tt.path, loc)
		}
	}
}

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

func TestTypeScript(t *testing.T) {
	tests := []struct {
		action, arg, want string
		ok                bool
	}{
		{"type", "a", `window.__accessKiosk && window.__accessKiosk.type("a")`, true},
		{"type", `");alert(1);("`, `window.__accessKiosk && window.__accessKiosk.type("\");alert(1);(\"")`, true},
		{"type", "ł</script>\u2028", `window.__accessKiosk && window.__accessKiosk.type("\u0142\u003c/script\u003e\u2028")`, true},
		{"type", "😀", `window.__accessKiosk && window.__accessKiosk.type("\ud83d\ude00")`, true},
		{"type", "", "", false},
		{"type", strings.Repeat("a", 65), "", false},
		{"key", "Backspace", `window.__accessKiosk && window.__accessKiosk.key("Backspace")`, true},
		{"key", "Escape", "", false},
		{"navigate", "https://x.example/", "", false},
	}
	for _, tt := range tests {
		got, ok := TypeScript(tt.action, tt.arg)
		if got != tt.want || ok != tt.ok {
			t.Errorf("TypeScript(%q, %q): got %q %v, want %q %v", tt.action, tt.arg, got, ok, tt.want, tt.ok)
		}
	}
}

// stubHandler stands in for the shell's "kiosk" script message handler: it
// records every message in window.__msgs for the test to collect.
const stubHandler = `window.__msgs = []; window.webkit = {messageHandlers: {kiosk: {postMessage: function (m) { window.__msgs.push(m); }}}};`

// formPage is a real page with the fields a council form has; the email
// field sits low on the screen, where the keyboard will cover it.
const formPage = `<!DOCTYPE html><html lang="en"><head><title>Form</title></head><body>
<form id="f" action="/submitted" method="get">
<label>Name <input id="name" name="name"></label>
<div style="height:600px"></div>
<label>Email <input id="email" type="email" name="email"></label>
<div style="height:1200px"></div>
</form>
<script>var inputs = 0; document.getElementById("email").addEventListener("input", function () { inputs++; });</script>
</body></html>`

type kbMsg struct {
	Action string `json:"action"`
	Show   *bool  `json:"show"`
	Mode   string `json:"mode"`
	Text   string `json:"text"`
	Key    string `json:"key"`
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

// TestKeyboardTypesIntoField drives the real keyboard page and a real form
// in headless Chromium, doing what the shell does between them: tapping a
// field shows the keyboard in email mode, tapping keys types into the
// field (with input events), and shrinking the page for the keyboard keeps
// the field in view.
func TestKeyboardTypesIntoField(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	mux := http.NewServeMux()
	mux.Handle("/", newTestPages(t, DefaultConfig()))
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, formPage)
	})
	base := serve(t, mux)

	pageCtx := browser(t, 1280, 800)
	addScripts(t, pageCtx, stubHandler, UserScript())
	kbCtx, cancel := chromedp.NewContext(pageCtx) // a second tab: the keyboard's view
	t.Cleanup(cancel)
	addScripts(t, kbCtx, stubHandler)

	run := func(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	run(pageCtx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/form"), chromedp.WaitReady(chromedp.CSS("#email")))

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

	run(kbCtx, chromedp.EmulateViewport(1280, 350), chromedp.Navigate(base+"/keyboard?mode="+msgs[0].Mode), chromedp.WaitReady(chromedp.CSS(`[data-ak-key=".co.uk"]`)))
	press := func(sel string) {
		t.Helper()
		run(kbCtx, chromedp.Click(chromedp.CSS(sel)))
		for _, m := range takeMsgs(t, kbCtx) {
			arg := m.Text
			if m.Action == "key" {
				arg = m.Key
			}
			js, ok := TypeScript(m.Action, arg)
			if !ok {
				t.Fatalf("keyboard sent %+v, which the shell would drop", m)
			}
			if _, err := chromedp.Run(pageCtx, chromedp.Evaluate[bool](js)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, k := range []string{"j", "o", "@", "e", "x", "a", "m", "p", "l", "e", "x"} {
		press(fmt.Sprintf(`[data-ak-key=%q]`, k))
	}
	press(`[data-ak-kb-key="Backspace"]`)
	press(`[data-ak-key=".co.uk"]`)

	value, err := chromedp.Run(pageCtx, chromedp.Evaluate[string](`document.getElementById("email").value`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "jo@example.co.uk"; value != want {
		t.Errorf("email field: got %q, want %q", value, want)
	}
	inputs, _ := chromedp.Run(pageCtx, chromedp.Evaluate[int](`inputs`))
	if inputs < 13 {
		t.Errorf("page saw %d input events, want one per key (13)", inputs)
	}

	// Shift types one capital; Next moves on; Hide asks the shell to hide.
	run(pageCtx, chromedp.Click(chromedp.CSS("#name")))
	press(`[data-ak-kb="shift"]`)
	press(`[data-ak-key="j"]`)
	press(`[data-ak-key="o"]`)
	name, _ := chromedp.Run(pageCtx, chromedp.Evaluate[string](`document.getElementById("name").value`))
	if name != "Jo" {
		t.Errorf("name field after shift, j, o: got %q, want Jo", name)
	}
	press(`[data-ak-kb-key="Tab"]`)
	focused, _ := chromedp.Run(pageCtx, chromedp.Evaluate[string](`document.activeElement.id`))
	if focused != "email" {
		t.Errorf("Next moved focus to %q, want email", focused)
	}
	run(kbCtx, chromedp.Click(chromedp.CSS(`[data-ak-kb="hide"]`)))
	hide := takeMsgs(t, kbCtx)
	if len(hide) != 1 || hide[0].Action != "keyboard" || hide[0].Show == nil || *hide[0].Show {
		t.Errorf("Hide sent %+v", hide)
	}

	// Enter submits the form, as a real keyboard's would.
	press(`[data-ak-kb-key="Enter"]`)
	ctx, cancelWait := context.WithTimeout(pageCtx, 10*time.Second)
	defer cancelWait()
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("h1"))); err != nil {
		t.Fatalf("Enter did not submit the form: %v", err)
	}
	loc, _ := chromedp.Run(pageCtx, chromedp.Location())
	if !strings.Contains(loc, "/submitted?name=Jo&email=jo%40example.co.uk") {
		t.Errorf("after Enter: at %s", loc)
	}

	// Leaving the fields hides the keyboard.
	run(pageCtx, chromedp.Navigate(base+"/form"), chromedp.WaitReady(chromedp.CSS("#name")))
	takeMsgs(t, pageCtx)
	run(pageCtx, chromedp.Click(chromedp.CSS("#name")), chromedp.Click(chromedp.CSS("body")), chromedp.Sleep(400*time.Millisecond))
	msgs = takeMsgs(t, pageCtx)
	if len(msgs) != 2 || *msgs[0].Show != true || *msgs[1].Show != false {
		t.Errorf("focus then blur: got %+v, want show then hide", msgs)
	}
}

// TestPageMessages checks what the built-in pages' buttons tell the shell
// through the "kiosk" message handler, in real headless Chromium.
func TestPageMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	base := serve(t, newTestPages(t, DefaultConfig()))
	ctx := browser(t, 1280, 800)
	addScripts(t, ctx, stubHandler)
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

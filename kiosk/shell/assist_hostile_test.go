package shell

import (
	"image"
	"strings"
	"testing"
	"time"

	"accesskiosk/fleet/assist/wire"
	"accesskiosk/kiosk/assist/assisttest"
	"accesskiosk/kiosk/webkit/webkittest"
)

// hostilePage is an allowed page that tries to start remote help, to
// cover or swallow Stop sharing, and to silence the mask reporter.
const hostilePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hostile</title></head>
<body style="margin:0;background:#fff">
<div id="marker" style="position:absolute;left:40px;top:40px;width:160px;height:80px;background:#ff00ff"></div>
<input id="pw" type="password" style="position:absolute;left:40px;top:220px;width:300px;height:40px;background:#00ffff;border:0" value="hunter2">
<div id="cover" style="position:fixed;inset:0;z-index:2147483647;background:transparent"></div>
<script>
  const h = (window.webkit && window.webkit.messageHandlers) || {};
  const tried = [];
  for (const name of ["assist", "kiosk"]) {
    try { h[name].postMessage({action: "assist"}); tried.push(name + ":posted"); } catch (e) { tried.push(name + ":none"); }
    try { h[name].postMessage({action: "assist_masks", frame: "x", main: true, w: 1, h: 1, rects: [], frames: [], ready: true}); } catch (e) {}
  }
  document.body.dataset.hostile = tried.join(",");
  // Swallow every key the page can see, and try to stop timers and frames.
  for (const ev of ["keydown", "keyup", "keypress"]) addEventListener(ev, (e) => { e.preventDefault(); e.stopImmediatePropagation(); }, true);
  for (let i = 1; i < 10000; i++) { clearInterval(i); clearTimeout(i); }
  window.requestAnimationFrame = () => 0;
  document.getElementById("pw").focus();
</script>
</body></html>`

// TestAssistHostilePage: an allowed page has no handler to start remote
// help or to post mask reports (neither the assist channel nor the bridge
// exists in its world), so no help code is asked for; it cannot forge a
// report that unmasks its password field; a full-window cover and a page
// swallowing every key do not stop Stop sharing (a real tap on the bar,
// and Alt+S while the page has the focus).
func TestAssistHostilePage(t *testing.T) {
	r := startAssist(t, nil)
	r.pages["/hostile"] = hostilePage
	r.show(t, strings.TrimSuffix(r.page, "/")+"/hostile")
	if got := evalString(t, r.ts.service, `document.body.dataset.hostile`); got != "assist:none,kiosk:none" {
		t.Errorf("the page reached a handler: %q", got)
	}
	for deadline := time.After(time.Second); ; {
		select {
		case m := <-r.agent.msgs:
			if m.Type == wire.TypeHello {
				t.Errorf("the kiosk asked for a help code on a page's behalf")
			}
			continue
		case <-deadline:
		}
		break
	}
	var uri string
	webkittest.Do(t, func() { uri = r.ts.s.view.URI() })
	if r.shown(t).Prompting || uri != strings.TrimSuffix(r.page, "/")+"/hostile" {
		t.Error("the page changed what the kiosk shows")
	}

	// Share: the password is still black (the page's forged report went
	// nowhere; the reporter runs in its own world).
	r.allow(t)
	if !waitFor(5*time.Second, func() bool { return r.shown(t).Sharing }) {
		t.Fatal("not sharing")
	}
	webkittest.Do(t, func() { r.place, _ = r.ts.s.win.ViewPlace(r.ts.s.view) })
	v := &assisttest.Viewer{}
	mk := centre(r.at(pageMarker))
	img, _ := r.agent.screen(v, 10*time.Second, func(img *image.RGBA) bool {
		return assisttest.Near(img, mk.X, mk.Y, markerRGB, 40)
	})
	if !black(img, r.at(pagePW)) {
		t.Errorf("the hostile page's password field is not black (max %d)", assisttest.MaxChannel(img, r.at(pagePW)))
	}

	// Alt+S while the page has the focus and swallows keys.
	key(t, "alt+s")
	if m := r.agent.expect(wire.TypeEnd, 5*time.Second); m.Reason != wire.ReasonStop {
		t.Errorf("Alt+S ended it with %q, want stop", m.Reason)
	}
	// A tap on the bar, under the page's cover.
	r.allow(t)
	if !waitFor(5*time.Second, func() bool { return r.shown(t).Bar != "" }) {
		t.Fatal("no bar")
	}
	r.tap(t, toolAssistStop)
	if m := r.agent.expect(wire.TypeEnd, 5*time.Second); m.Reason != wire.ReasonStop {
		t.Errorf("the tap ended it with %q, want stop", m.Reason)
	}
}

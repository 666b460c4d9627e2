// Access Kiosk file watcher, injected by the shell into every frame of
// every page at document start, in the watcher's isolated script world (as
// userscript.js): no page script sees it or can post on its channel. When
// an <input type=file> is clicked in this frame (a tap on it or on its
// label, or the page's own input.click()), it tells the shell which
// document it is in (its own URL and origin, read in this world, where no
// page script can change them), what the input accepts and whether it
// takes several files. The shell pairs it with the file chooser request
// WebKit sends next (which does not say which frame asked); see
// kiosk/shell picker.go. It reads no file and no typed text.
(function () {
  "use strict";
  var h = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.watch;
  if (!h) return;
  window.addEventListener("click", function (ev) {
    var el = ev.composedPath ? ev.composedPath()[0] : ev.target;
    if (!el || el.tagName !== "INPUT" || String(el.type).toLowerCase() !== "file" || el.disabled) return;
    h.postMessage({
      action: "file",
      url: String(location.href).slice(0, 2048),
      origin: String(self.origin),
      top: window === window.top,
      accept: String(el.getAttribute("accept") || "").slice(0, 1024),
      multiple: !!el.multiple
    });
  }, true);
})();

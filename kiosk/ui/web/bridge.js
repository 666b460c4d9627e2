// Access Kiosk bridge: the kiosk's own pages' one way to the shell. The
// shell has WebKit inject this script at document start into top frames,
// in an isolated script world ("accesskiosk-bridge") where alone the
// "kiosk" message handler exists, and runs it only in kiosk:// documents
// (kiosk/webkit wraps it in that check); no page script, ours included,
// can see that world or the handler. A page posts by
// dispatching, on its own document, a cancelable CustomEvent named
// "accesskiosk-message" whose detail is the message as a JSON string (see
// post() in kiosk.js); this script relays the string and cancels the event,
// so the page knows a shell took it. Only the document's own scripts can
// dispatch events on it: no other origin can reach a kiosk:// document.
(function () {
  "use strict";
  var handler = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.kiosk;
  if (!handler || window !== window.top || location.protocol !== "kiosk:") return;
  document.addEventListener("accesskiosk-message", function (ev) {
    if (typeof ev.detail !== "string" || ev.detail.length > 4096) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    handler.postMessage(ev.detail);
  }, true);
})();

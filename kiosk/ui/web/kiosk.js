// Access Kiosk built-in pages: the little behaviour they have. Every page
// works without it; it only talks to the shell (through the bridge, see
// bridge.js) and counts down on the idle warning. Messages:
//   {action: "open", url, guide?}  a guide's "Open the service": open url in
//                                  the main view, guide (an ID) beside it
//   {action: "close-guide"}        the panel's Close button
//   {action: "back"}               the block page's Go back
//   {action: "continue"|"end"}     the idle warning's buttons
//   {action: "prefs", lang?, contrast?, text?}  a link to kiosk://settings on
//                                  the accessibility page: change the session's prefs
(function () {
  "use strict";

  // post hands msg to the shell; false when no shell took it (a browser,
  // the tests, screenshots), where links then work as links.
  function post(msg) {
    var ev = new CustomEvent("accesskiosk-message", { detail: JSON.stringify(msg), cancelable: true });
    return !document.dispatchEvent(ev);
  }

  document.addEventListener("click", function (ev) {
    if (!ev.target.closest) return;
    // A service link on a guide: the shell opens the service in the main
    // view with this guide beside it (or, from the panel, just the service).
    var open = ev.target.closest("[data-ak-open]");
    if (open) {
      var msg = { action: "open", url: open.getAttribute("data-ak-open") };
      var guide = open.getAttribute("data-ak-guide");
      if (guide) msg.guide = guide;
      if (post(msg)) ev.preventDefault();
      return;
    }
    // A prefs link (kiosk://settings?lang=cy&next=...): the shell changes
    // the session's prefs and shows this page again in them.
    var set = ev.target.closest('a[href^="kiosk://settings?"]');
    if (set) {
      var q = new URLSearchParams(set.getAttribute("href").split("?")[1] || "");
      var prefs = { action: "prefs" };
      ["lang", "contrast", "text"].forEach(function (k) {
        if (q.has(k)) prefs[k] = q.get(k);
      });
      if (post(prefs)) ev.preventDefault();
      return;
    }
    var el = ev.target.closest("[data-ak-action]");
    if (!el) return;
    ev.preventDefault();
    var action = el.getAttribute("data-ak-action");
    if (!post({ action: action }) && action === "back") {
      history.back();
    }
  });

  var counter = document.querySelector("[data-ak-countdown]");
  if (counter) {
    var left = parseInt(counter.getAttribute("data-ak-countdown"), 10) || 0;
    var timer = setInterval(function () {
      left = Math.max(0, left - 1);
      counter.textContent = String(left);
      if (left === 0) clearInterval(timer);
    }, 1000);
  }
})();

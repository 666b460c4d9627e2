// Access Kiosk built-in pages: the little behaviour they have. Every page
// works without it; it only talks to the shell (a WebKit script message
// handler named "kiosk") and counts down on the idle warning. Messages:
//   {action: "open", url, guide?}  a guide's "Open the service": open url in
//                                  the main view, guide (an ID) beside it
//   {action: "close-guide"}        the panel's Close button
//   {action: "back"}               the block page's Go back
//   {action: "continue"|"end"}     the idle warning's buttons
(function () {
  "use strict";

  function post(msg) {
    var h = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.kiosk;
    if (h) {
      h.postMessage(msg);
      return true;
    }
    return false;
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

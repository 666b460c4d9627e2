// Access Kiosk built-in pages: the little behaviour they have. Every page
// works without it; it only talks to the shell (a WebKit script message
// handler named "kiosk") and counts down on the idle warning.
(function () {
  "use strict";

  function post(action) {
    var h = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.kiosk;
    if (h) {
      h.postMessage({ action: action });
      return true;
    }
    return false;
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-ak-action]") : null;
    if (!el) return;
    ev.preventDefault();
    var action = el.getAttribute("data-ak-action");
    if (!post(action) && action === "back") {
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

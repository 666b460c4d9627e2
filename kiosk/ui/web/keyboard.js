// Access Kiosk on-screen keyboard (kiosk://keyboard), shown by the shell in
// its own view below the page. Each key press goes to the shell through
// the script message handler "kiosk":
//   {action: "type", text: "a"}             insert text at the caret
//   {action: "key", key: "Backspace"|"Enter"|"Tab"}
//   {action: "keyboard", show: false}       the resident tapped Hide
// The shell passes type/key on to the page (window.__accessKiosk, see
// userscript.js). Nothing is stored; nothing is logged.
(function () {
  "use strict";
  var kb = document.querySelector("[data-ak-keyboard]");
  if (!kb) return;
  var shift = false;

  function post(msg) {
    var h = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.kiosk;
    if (h) h.postMessage(msg);
  }

  function setShift(on) {
    shift = on;
    kb.classList.toggle("ak-kb--shift", on);
    var b = kb.querySelector('[data-ak-kb="shift"]');
    if (b) b.setAttribute("aria-pressed", on ? "true" : "false");
    Array.prototype.forEach.call(kb.querySelectorAll("[data-ak-key].ak-kb__layer-abc, .ak-kb__layer-abc [data-ak-key]"), function (k) {
      var t = k.getAttribute("data-ak-key");
      if (t.length === 1) k.textContent = on ? t.toUpperCase() : t;
    });
  }

  // Keys act on pointerdown-free click so a slip off a key does not type.
  kb.addEventListener("click", function (ev) {
    var b = ev.target.closest("button");
    if (!b) return;
    var text = b.getAttribute("data-ak-key");
    var key = b.getAttribute("data-ak-kb-key");
    var ctl = b.getAttribute("data-ak-kb");
    if (text !== null) {
      if (shift && text.length === 1) text = text.toUpperCase();
      post({ action: "type", text: text });
      if (shift) setShift(false);
    } else if (key) {
      post({ action: "key", key: key });
    } else if (ctl === "shift") {
      setShift(!shift);
    } else if (ctl === "num" || ctl === "abc") {
      kb.setAttribute("data-layer", ctl);
      setShift(false);
    } else if (ctl === "hide") {
      post({ action: "keyboard", show: false });
    }
  });
})();

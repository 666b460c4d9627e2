// Access Kiosk volunteer screens: the PIN pad, the service picker and the
// outcome screen post to the shell through the bridge (see bridge.js and
// package volunteer for the messages). The PIN is sent once, on Unlock, and
// kept nowhere else; the field is cleared as soon as it is sent.
(function () {
  "use strict";

  // post hands msg to the shell through the bridge (see bridge.js); false
  // when no shell took it.
  function post(msg) {
    var ev = new CustomEvent("accesskiosk-message", { detail: JSON.stringify(msg), cancelable: true });
    return !document.dispatchEvent(ev);
  }

  var form = document.querySelector("[data-ak-volunteer-form]");
  if (form) {
    var entry = form.querySelector("input");
    var add = function (d) {
      if (entry.disabled) return;
      if (d === "del") {
        entry.value = entry.value.slice(0, -1);
      } else if (entry.value.length < 12) {
        entry.value += d;
      }
    };
    form.addEventListener("click", function (ev) {
      var k = ev.target.closest ? ev.target.closest("[data-ak-digit]") : null;
      if (k) {
        ev.preventDefault();
        add(k.getAttribute("data-ak-digit"));
      }
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key >= "0" && ev.key <= "9") {
        add(ev.key);
        ev.preventDefault();
      } else if (ev.key === "Backspace") {
        add("del");
        ev.preventDefault();
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (entry.disabled || entry.value === "") return;
      var v = entry.value;
      entry.value = "";
      post({ action: "volunteer_unlock", entry: v });
    });
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-ak-volunteer]") : null;
    if (!el) return;
    var msg = { action: el.getAttribute("data-ak-volunteer") };
    var c = el.getAttribute("data-category");
    var o = el.getAttribute("data-outcome");
    if (c) msg.category = c;
    if (o) msg.outcome = o;
    // A link still works as a link when no shell is listening (tests, screenshots).
    if (post(msg)) ev.preventDefault();
  });
})();

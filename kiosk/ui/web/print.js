// Access Kiosk print panel (kiosk://print): keeps the page count up to date
// with the copies chosen, and posts the resident's choices to the shell
// through the bridge (see bridge.js and kiosk/ui/print.go for the
// messages). It keeps nothing: the shell holds the document and the panel's
// state, and shows the page again when the step changes.
(function () {
  "use strict";

  // post hands msg to the shell through the bridge; false when no shell
  // took it (a browser, the tests, the screenshots).
  function post(msg) {
    var ev = new CustomEvent("accesskiosk-message", { detail: JSON.stringify(msg), cancelable: true });
    return !document.dispatchEvent(ev);
  }

  var form = document.querySelector("[data-ak-print-form]");
  if (form) {
    var pages = parseInt(form.getAttribute("data-pages"), 10) || 0;
    var left = parseInt(form.getAttribute("data-left"), 10) || 0;
    var total = form.querySelector("[data-ak-print-total]");
    var tooMany = form.querySelector("[data-ak-print-toomany]");
    var go = form.querySelector("[data-ak-print-go]");
    var copies = function () {
      var c = form.querySelector('input[name="copies"]:checked');
      return c ? parseInt(c.value, 10) : 1;
    };
    var colour = function () {
      var c = form.querySelector('input[name="colour"]:checked');
      return !!c && c.value === "colour";
    };
    var update = function () {
      var n = pages * copies();
      total.textContent = total.getAttribute("data-text").replace("%d", String(n));
      var over = n > left;
      tooMany.hidden = !over;
      go.disabled = over;
    };
    form.addEventListener("change", update);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (go.disabled) return;
      go.disabled = true; // once: the shell shows the next step
      if (!post({ action: "print", copies: copies(), color: colour() })) go.disabled = false;
    });
    update();
  }

  document.addEventListener("click", function (ev) {
    if (!ev.target.closest) return;
    var el = ev.target.closest("[data-ak-print]");
    if (el) {
      ev.preventDefault();
      var msg = { action: el.getAttribute("data-ak-print") };
      var file = el.getAttribute("data-file");
      if (file) msg.file = file;
      post(msg);
      return;
    }
    // "Larger": the page at twice the width, in a box that scrolls (and
    // takes the keyboard focus, so arrow keys scroll it too).
    var zoom = ev.target.closest("[data-ak-zoom]");
    if (zoom) {
      var on = zoom.getAttribute("aria-pressed") !== "true";
      zoom.setAttribute("aria-pressed", on ? "true" : "false");
      var page = zoom.closest(".ak-print__page");
      var sheet = page.querySelector(".ak-print__sheet");
      page.classList.toggle("ak-print__page--large", on);
      if (on) {
        sheet.setAttribute("tabindex", "0");
        sheet.setAttribute("role", "region");
        sheet.setAttribute("aria-label", sheet.getAttribute("data-label"));
      } else {
        sheet.removeAttribute("tabindex");
        sheet.removeAttribute("role");
        sheet.removeAttribute("aria-label");
      }
    }
  });

  var focus = document.querySelector("[data-ak-print-focus]");
  if (focus) focus.focus();
})();

// Access Kiosk file picker: the pages post what the resident taps to the
// shell through the bridge (see bridge.js and kiosk/ui picker.go for the
// messages); the shell keeps the state and shows the next page. This script
// also refreshes the camera's live preview, counts down before a photo,
// and takes the scan's progress from the shell (window.akPicker.progress,
// which the shell calls while a page is being scanned).
(function () {
  "use strict";

  function post(msg) {
    msg.action = "picker";
    var ev = new CustomEvent("accesskiosk-message", { detail: JSON.stringify(msg), cancelable: true });
    return !document.dispatchEvent(ev);
  }

  var busy = false; // a tap was sent; the shell answers with a new page

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-ak-picker]") : null;
    if (!el || el.disabled || busy) return;
    ev.preventDefault();
    var what = el.getAttribute("data-ak-picker");
    if (what === "shoot") {
      countdown(el);
      return;
    }
    var msg = { do: what };
    var to = el.getAttribute("data-to");
    var page = el.getAttribute("data-page");
    var mode = el.getAttribute("data-mode");
    if (to) msg.to = to;
    if (page) msg.page = page;
    if (mode) msg.mode = mode;
    if (post(msg) && what !== "mode" && what !== "rotate") {
      busy = true;
      el.setAttribute("aria-busy", "true");
    }
  });

  var files = document.querySelector("[data-ak-picker-files]");
  if (files) {
    files.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (busy) return;
      var ids = [];
      files.querySelectorAll("input[name=file]:checked").forEach(function (i) { ids.push(i.value); });
      if (ids.length > 0 && post({ do: "use-files", files: ids })) busy = true;
    });
  }

  // The photo's countdown: 3, 2, 1, then the shell takes the photo.
  function countdown(btn) {
    var out = document.querySelector("[data-ak-count]");
    var n = parseInt(btn.getAttribute("data-ak-countdown-from"), 10) || 3;
    btn.disabled = true;
    busy = true;
    function tick() {
      if (n === 0) {
        if (out) out.textContent = "";
        post({ do: "shoot" });
        return;
      }
      if (out) {
        out.hidden = false;
        out.textContent = String(n);
      }
      n--;
      setTimeout(tick, 1000);
    }
    tick();
  }

  // The live preview: ask for the newest frame once the last one came, at
  // most fps times a second.
  var cam = document.querySelector("[data-ak-camera]");
  if (cam) {
    var base = cam.getAttribute("data-ak-camera");
    var every = 1000 / Math.max(1, Math.min(15, parseInt(cam.getAttribute("data-fps"), 10) || 5));
    var n = 0, last = 0;
    var next = function () {
      var wait = Math.max(0, last + every - Date.now());
      setTimeout(function () {
        last = Date.now();
        cam.src = base + "?n=" + (++n);
      }, wait);
    };
    cam.addEventListener("load", next);
    cam.addEventListener("error", function () { setTimeout(next, 1000); });
  }

  // The scan's progress, from the shell.
  var bar = document.querySelector("[data-ak-progress]");
  window.akPicker = {
    progress: function (pct) {
      if (bar) {
        bar.value = pct;
        bar.textContent = String(pct);
      }
    }
  };

  // A message is read out first; otherwise the autofocus element has it.
  var alert = document.querySelector("[data-ak-focus]");
  if (alert) alert.focus();
})();

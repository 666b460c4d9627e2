// Access Kiosk user script, injected by the shell into every page (service
// pages included) and every frame in it (iframes of any origin, each its
// own copy) at document start, for the on-screen keyboard. It runs in an
// isolated script world of its own: it sees the page's DOM, the page's
// scripts see neither it nor its handler. It never reads what is typed and
// gives the page nothing to call. It tells the shell when an editable field
// gains or loses focus, through the script message handler "watch" (which
// exists in its world only, and carries nothing privileged):
//     {action: "keyboard", show: true, mode: "text"|"email"|"number"|"tel"|"url"}
//     {action: "keyboard", show: false}
// and, when the page's viewport shrinks (the keyboard took the bottom of
// the screen), scrolls the focused field back into view, so the keyboard
// never covers it.
//
// The shell's native keyboard types with real key events sent to the
// view, which reach the focused field in any frame without passing
// through a script.
(function () {
  "use strict";

  var last = null; // the editable element that last had focus
  var hideTimer = 0;

  // post sends msg at once, unless this frame sent one in the last 100 ms:
  // then the latest message goes when they are up. A page that moves the
  // focus in a loop so sends the shell ten messages a second, not thousands.
  var pending = null, timer = 0, sentAt = 0;
  function send() {
    timer = 0;
    sentAt = Date.now();
    var m = pending;
    pending = null;
    var h = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.watch;
    if (h && m) h.postMessage(m);
  }
  function post(msg) {
    pending = msg;
    if (timer) return;
    var wait = sentAt + 100 - Date.now();
    if (wait <= 0) send();
    else timer = setTimeout(send, wait);
  }

  var textTypes = { text: 1, search: 1, email: 1, url: 1, tel: 1, password: 1, number: 1 };

  function editable(el) {
    if (!el || el.disabled || el.readOnly) return false;
    if (el.isContentEditable) return true;
    if (el.tagName === "TEXTAREA") return true;
    if (el.tagName === "INPUT") return !!textTypes[(el.type || "text").toLowerCase()];
    return false;
  }

  function mode(el) {
    var im = (el.getAttribute && el.getAttribute("inputmode")) || "";
    var t = (el.type || "").toLowerCase();
    if (im === "email" || t === "email") return "email";
    if (im === "numeric" || im === "decimal" || t === "number") return "number";
    if (im === "tel" || t === "tel") return "tel";
    if (im === "url" || t === "url") return "url";
    return "text";
  }

  function reveal(el) {
    if (!el || !el.getBoundingClientRect) return;
    var r = el.getBoundingClientRect();
    var h = window.visualViewport ? window.visualViewport.height : window.innerHeight;
    if (r.top < 0 || r.bottom > h) {
      el.scrollIntoView({ block: "center", inline: "nearest" });
    }
  }

  document.addEventListener("focusin", function (ev) {
    var el = ev.target;
    if (!editable(el)) return;
    clearTimeout(hideTimer);
    last = el;
    post({ action: "keyboard", show: true, mode: mode(el) });
    setTimeout(function () { reveal(el); }, 50);
  }, true);

  // Touching the field that already has focus (after the keyboard was
  // hidden with its Hide key) asks for the keyboard again.
  var focusedBeforeTouch = null;
  document.addEventListener("pointerdown", function (ev) {
    focusedBeforeTouch = document.activeElement;
  }, true);
  document.addEventListener("click", function (ev) {
    var el = ev.target;
    var again = focusedBeforeTouch === el;
    focusedBeforeTouch = null;
    if (!again || !editable(el) || document.activeElement !== el) return;
    clearTimeout(hideTimer);
    last = el;
    post({ action: "keyboard", show: true, mode: mode(el) });
  }, true);

  // hideSoon hides the keyboard when, a moment later, this frame has the
  // focus and no field in it does. Focus moving to another field, or the
  // window losing focus, is not a reason to hide; nor is focus moving into
  // a child frame (the parent then sees the <iframe> as its focused
  // element, and the child frame's own copy of this script takes over).
  function hideSoon() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(function () {
      if (!document.hasFocus()) return;
      var a = document.activeElement;
      if (editable(a)) return;
      if (a && (a.tagName === "IFRAME" || a.tagName === "FRAME")) return;
      last = null;
      post({ action: "keyboard", show: false });
    }, 150);
  }

  document.addEventListener("focusout", function (ev) {
    if (!editable(ev.target)) return;
    hideSoon();
  }, true);

  // This frame got the focus back from another frame (a tap outside the
  // iframe whose field had the keyboard): hide unless a field here has it.
  window.addEventListener("focus", function (ev) {
    if (ev.target === window) hideSoon();
  }, true);

  // A frame whose field had the keyboard goes away (an iframe's form was
  // sent): its field is gone. A new top page hides it in the shell itself.
  window.addEventListener("pagehide", function () {
    if (last && window !== window.top && document.activeElement === last) {
      last = null;
      post({ action: "keyboard", show: false });
    }
  });

  // The keyboard shrank the page: bring the focused field back into view.
  // A field in a child frame is that frame's to reveal, but a cross-origin
  // frame cannot scroll this page: here, bring its <iframe> into view.
  window.addEventListener("resize", function () {
    var a = document.activeElement;
    if (last && a === last) reveal(last);
    else if (a && (a.tagName === "IFRAME" || a.tagName === "FRAME") && a.getBoundingClientRect) {
      var r = a.getBoundingClientRect();
      var h = window.visualViewport ? window.visualViewport.height : window.innerHeight;
      if (r.top < 0 || r.bottom > h) a.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  });
})();

// Remote help's mask reporter (issue 17), injected by the shell into every
// frame of every page (iframes of any origin included) at document start,
// in the kiosk's "accesskiosk-assist" isolated script world (no page script
// can see this code, its handler or its objects), with the selectors
// placeholder replaced by the JSON array of assist.mask_selectors. It posts
// to the "assist" message handler whenever the page changes, scrolls or
// resizes or the focus moves, and at least every second:
//
//   {action: "assist_masks", frame: "…",                  // this document's id, made here
//    main: bool, w, h,             // this frame's viewport, CSS px
//    rects: [[x, y, w, h], ...],   // password fields and selector matches, this
//                                  // frame's viewport, same-origin iframes' fields included
//    frames: [[x, y, w, h], ...],  // cross-origin iframes' content boxes
//    focus: bool,                  // a masked field has the focus here
//    ready: bool,                  // the document has finished loading
//    error: bool}                  // a selector could not be used: mask this frame whole
//
// and {action: "assist_masks", frame, gone: true} when the document goes away.
//
// It reads geometry only: never a value, never text. The frame id is made
// here, per document, from crypto random bytes: no page can read it or post
// under it (it has no way to post at all). The shell treats a frame that
// has not reported for a while as unknown (black), so a page that silences
// this script (cancelling its timers) only makes more of the screen black.
(() => {
  "use strict";
  const handler = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.assist;
  if (!handler) return;
  const selectors = ['input[type="password" i]'].concat(__ASSIST_SELECTORS__);
  const box = (r, ox, oy) => [Math.floor(ox + r.left), Math.floor(oy + r.top), Math.ceil(r.width) + 1, Math.ceil(r.height) + 1];
  const newID = () => Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(16).padStart(8, "0")).join("");
  let frame = newID();
  let last = "";
  let pending = false;

  function collect() {
    const out = { action: "assist_masks", frame, main: window === window.top, w: innerWidth, h: innerHeight,
      rects: [], frames: [], focus: false, ready: document.readyState === "complete", error: false };
    const walk = (doc, ox, oy, depth) => {
      for (const s of selectors) {
        let list;
        try { list = doc.querySelectorAll(s); } catch (e) { out.error = true; continue; }
        for (const el of list) {
          const r = el.getBoundingClientRect();
          if (r.width > 0 && r.height > 0) out.rects.push(box(r, ox, oy));
          if (el === doc.activeElement) out.focus = true;
        }
      }
      for (const f of doc.querySelectorAll("iframe, frame")) {
        const r = f.getBoundingClientRect();
        if (r.width <= 0 || r.height <= 0) continue;
        const x = ox + r.left + f.clientLeft, y = oy + r.top + f.clientTop;
        let inner = null;
        try { inner = f.contentDocument; } catch (e) { inner = null; }
        if (inner && depth < 8) {
          walk(inner, x, y, depth + 1); // same origin: its fields, placed exactly
        } else {
          out.frames.push([Math.floor(x), Math.floor(y), f.clientWidth, f.clientHeight]);
        }
      }
    };
    try { walk(document, 0, 0, 0); } catch (e) { out.error = true; }
    if (out.rects.length > 256 || out.frames.length > 256) {
      out.rects = []; out.frames = []; out.error = true; // too many to say: the whole frame is masked
    }
    return out;
  }

  function post(m) {
    try { handler.postMessage(m); } catch (e) { /* the shell is gone */ }
  }
  function report(force) {
    pending = false;
    const m = collect();
    const key = JSON.stringify(m);
    if (key === last && !force) return;
    last = key;
    post(m);
  }
  function soon() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => report(false));
  }
  for (const ev of ["DOMContentLoaded", "load", "resize", "focusin", "focusout"]) addEventListener(ev, soon, true);
  addEventListener("scroll", soon, { capture: true, passive: true });
  addEventListener("pagehide", () => post({ action: "assist_masks", frame, gone: true }), true);
  addEventListener("pageshow", (e) => { if (e.persisted) { frame = newID(); last = ""; soon(); } }, true);
  new MutationObserver(soon).observe(document, { subtree: true, childList: true, attributes: true });
  setInterval(() => report(true), 1000);
  soon();
})();

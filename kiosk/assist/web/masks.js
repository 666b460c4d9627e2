// Remote help's mask reporter (issue 17), injected by the shell into every
// frame of every page (iframes of any origin included) at document start,
// with the selectors placeholder replaced by the JSON array of
// assist.mask_selectors. It posts to the "kiosk" message handler, whenever
// the page changes, scrolls or resizes or the focus moves:
//
//   {action: "assist_masks", main: bool, w, h,             // this frame's viewport, CSS px
//    rects: [[x, y, w, h], ...],   // password fields and selector matches, this
//                                  // frame's viewport, same-origin iframes' fields included
//    frames: [[x, y, w, h], ...],  // cross-origin iframes' content boxes
//    focus: bool,                  // a masked field has the focus here
//    ready: bool,                  // the document has finished loading
//    error: bool}                  // a selector could not be used: mask this frame whole
//
// It reads geometry only: never a value, never text.
(() => {
  "use strict";
  const handler = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.kiosk;
  if (!handler) return;
  const selectors = ['input[type="password" i]'].concat(__ASSIST_SELECTORS__);
  const box = (r, ox, oy) => [Math.floor(ox + r.left), Math.floor(oy + r.top), Math.ceil(r.width) + 1, Math.ceil(r.height) + 1];
  let last = "";
  let pending = false;

  function collect() {
    const out = { action: "assist_masks", main: window === window.top, w: innerWidth, h: innerHeight,
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
    return out;
  }

  function report() {
    pending = false;
    const m = collect();
    const key = JSON.stringify(m);
    if (key === last) return;
    last = key;
    try { handler.postMessage(m); } catch (e) { /* the shell is gone */ }
  }
  function soon() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(report);
  }
  for (const ev of ["DOMContentLoaded", "load", "resize", "focusin", "focusout"]) addEventListener(ev, soon, true);
  addEventListener("scroll", soon, { capture: true, passive: true });
  new MutationObserver(soon).observe(document, { subtree: true, childList: true, attributes: true });
  soon();
})();

// The console's only script. Every page works without it; with it:
//  - GOV.UK Frontend's components start: on a small screen the menu folds
//    behind a "Menu" button, and an error summary or a success banner
//    takes the focus when a page opens with one;
//  - a signed-in page warns before the sign-in ends (WCAG 2.2.1) and
//    offers to stay signed in; when it ends, the page goes to sign-in,
//    which leads back here.
import { initAll } from "/static/govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported");
initAll();

const leftMeta = document.querySelector('meta[name="ak-session-left"]');
const dialog = document.getElementById("session-warning");
if (leftMeta && dialog && typeof dialog.showModal === "function") {
  const warnMeta = document.querySelector('meta[name="ak-session-warn"]');
  const warnMs = Number(warnMeta ? warnMeta.content : 300) * 1000;
  let ends = Date.now() + Number(leftMeta.content) * 1000;
  let warnTimer, endTimer;

  const schedule = () => {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(warn, Math.max(0, ends - warnMs - Date.now()));
    endTimer = setTimeout(signIn, Math.max(0, ends - Date.now()));
  };
  const warn = () => {
    if (!dialog.open) {
      dialog.showModal();
    }
  };
  const signIn = () => {
    location.assign("/login?expired=1&next=" + encodeURIComponent(location.pathname + location.search));
  };

  const form = document.getElementById("session-extend");
  form.addEventListener("submit", async (event) => {
    if (event.submitter && event.submitter.id !== "session-stay") {
      return; // "Sign out now" posts the form to /logout
    }
    event.preventDefault();
    try {
      const res = await fetch("/session/extend", {
        method: "POST",
        headers: { Accept: "application/json" },
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
      });
      if (!res.ok) {
        signIn();
        return;
      }
      const body = await res.json();
      ends = Date.now() + body.left_seconds * 1000;
      document.getElementById("session-warning-at").textContent = body.ends;
      const footer = document.getElementById("session-ends");
      if (footer) {
        footer.textContent = "Your sign-in lasts until " + body.ends + ".";
      }
      dialog.close();
      schedule();
    } catch {
      form.submit();
    }
  });
  schedule();
}

// The sign-up page (templates/auth/register.html): the sign-up challenge's widget (ALTCHA, served from
// /vendor/) solves a challenge by itself as the page opens, speaking the page's language with our own
// words. Nobody has to do anything for it: a form sent before it has finished waits for it and then
// goes by itself, and a solution that expired before the form was sent is replaced by a fresh one.
import "/vendor/altcha/dist/external/altcha.js";

const WORKER = "/vendor/altcha/dist/workers/pbkdf2.js";

const widget = document.querySelector("altcha-widget");
const form = widget?.closest("form");
if (widget && form) mount(widget, form);

function mount(widget, form) {
  const altcha = globalThis.$altcha;
  // The build without bundled workers (the CSP allows no blob: worker): ours is a file of this site.
  altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(WORKER));
  const strings = JSON.parse(document.querySelector("script[data-altcha-strings]").textContent);
  altcha.i18n.set(widget.getAttribute("language") || "en", strings);

  let waiting = null; // the submit button of a form sent before the check had finished
  const state = () => (typeof widget.getState === "function" ? widget.getState() : "unverified");

  form.addEventListener("submit", (event) => {
    if (state() === "verified") return;
    event.preventDefault();
    waiting = event.submitter || form.querySelector("[type=submit]");
    if (["error", "expired", "unverified"].includes(state())) widget.verify();
  });
  widget.addEventListener("verified", () => {
    if (!waiting) return;
    const submitter = waiting;
    waiting = null;
    form.requestSubmit(submitter);
  });
  widget.addEventListener("expired", () => widget.verify());
}

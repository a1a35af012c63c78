// The sign-in page (templates/auth/login.html). For a suspended or banned person (the server renders
// templates/auth/_restricted.html: sign-in answered 403 restricted, or their own cookie brought them
// here) it shows until when in their own time zone, and sends their one appeal against that decision:
// POST /api/appeals {username, password, text}, with no session. The password goes in that request's
// body only; nothing keeps it.
import { createSignInActions } from "./actions.js";
import { formatDateTime, t } from "./i18n.js";
import { show } from "./views/dom.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const panel = $("restricted");
if (panel) mountRestricted(panel, panel.dataset);

function mountRestricted(section, { until, username }) {
  // The server wrote the end in UTC; the person reads it in their own time zone and language.
  if (until) $("restricted-until").textContent = t("restricted_until", { until: formatDateTime(until, { zone: true }) });
  if ($("appeal-form").hidden) {
    $("restricted-title").focus(); // appealed already: the page says where the appeal stands
  } else {
    (username ? $("appeal-password") : $("appeal-username")).focus();
  }
  $("restricted-sign-in").addEventListener("click", () => {
    show(section, false);
    show($("sign-in-part"), true);
    $("username").focus();
  });
  mountAppeal(createSignInActions({ urls: { appeals: section.dataset.appealsApi } }));
}

// --- the appeal ---------------------------------------------------------------------------------------
function mountAppeal(actions) {
  const form = $("appeal-form");
  const error = $("appeal-error");
  const sent = $("appeal-sent");
  const submit = $("appeal-submit");
  const password = $("appeal-password");
  const text = $("appeal-text");

  function fail(message, field) {
    error.textContent = message;
    show(error, true);
    field?.setAttribute("aria-invalid", "true");
    field?.focus();
  }

  function done(message) {
    sent.textContent = message;
    show(sent, true);
    show(form, false);
    password.value = "";
    sent.tabIndex = -1;
    sent.focus();
  }

  submit.disabled = false; // the form is ours now
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(error, false);
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    const body = { username: $("appeal-username").value.trim(), password: password.value, text: text.value };
    if (!body.password) return fail(t("appeal_password_missing"), password);
    if (!body.text.trim()) return fail(t("appeal_text_missing"), text);
    submit.disabled = true;
    try {
      await actions.appeal(body);
      done(t("appeal_sent", { when: formatDateTime(new Date().toISOString(), { zone: true }) }));
    } catch (refused) {
      if (refused.code === "conflict") {
        done(t("appeal_twice")); // one appeal per decision: the one sent stands
      } else if (refused.code === "unauthorized") {
        password.value = "";
        fail(refused.message, password);
      } else {
        fail(refused.message, refused.details?.field === "text" ? text : null);
      }
    } finally {
      submit.disabled = false;
    }
  });
}

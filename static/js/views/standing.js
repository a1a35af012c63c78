// What moderators decided about this person, in the app page (templates/partials/standing.html):
// a warning, shown as a dialog on every page load until acknowledged (here or in another tab); and a
// suspension or ban (account:restricted, or a connect refused as restricted), which says why and
// until when, and takes the person to the sign-in page, where the server (their cookie still says
// who they are) shows it again and offers the appeal.
import { formatDateTime, t } from "../i18n.js";
import { show } from "./dom.js";

export function mountStanding(store, actions) {
  const $ = (scope, id) => scope.querySelector(`[data-testid="${id}"]`);

  // --- a warning ---------------------------------------------------------------------------------
  const warningDialog = $(document, "warning-dialog");
  const acknowledge = $(warningDialog, "warning-acknowledge");
  const warningError = $(warningDialog, "warning-error");
  let shown = null; // the id of the warning on screen

  function renderWarning() {
    const [first] = store.state.warnings;
    if (!first || store.state.restriction) {
      shown = null;
      if (warningDialog.open) warningDialog.close();
      return;
    }
    if (shown === first.id && warningDialog.open) return;
    shown = first.id;
    $(warningDialog, "warning-reason").textContent = first.reason;
    const when = $(warningDialog, "warning-when");
    when.textContent = first.created_at ? t("warning_when", { when: formatDateTime(first.created_at) }) : "";
    show(when, Boolean(first.created_at));
    show(warningError, false);
    acknowledge.disabled = false;
    if (!warningDialog.open) warningDialog.showModal();
    acknowledge.focus();
  }

  // Read and acknowledged, not escaped: it would only come back on the next page load.
  warningDialog.addEventListener("cancel", (event) => event.preventDefault());
  $(warningDialog, "warning-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    acknowledge.disabled = true;
    try {
      await actions.acknowledgeWarning(shown);
    } catch (error) {
      warningError.textContent = error.message;
      show(warningError, true);
      acknowledge.disabled = false;
    }
  });

  // --- a suspension or a ban ------------------------------------------------------------------------
  const restrictedDialog = $(document, "restricted-dialog");

  function renderRestricted() {
    const restriction = store.state.restriction;
    if (!restriction) return;
    $(restrictedDialog, "restricted-dialog-title").textContent =
      t(restriction.standing === "banned" ? "restricted_banned" : "restricted_suspended");
    const until = $(restrictedDialog, "restricted-dialog-until");
    until.textContent = restriction.until ? t("restricted_until", { until: formatDateTime(restriction.until, { zone: true }) }) : "";
    show(until, Boolean(restriction.until));
    $(restrictedDialog, "restricted-dialog-reason").textContent = restriction.reason || "";
    show($(restrictedDialog, "restricted-dialog-why"), Boolean(restriction.reason));
    for (const open of document.querySelectorAll("dialog[open]")) if (open !== restrictedDialog) open.close();
    if (!restrictedDialog.open) restrictedDialog.showModal();
    $(restrictedDialog, "restricted-continue").focus();
  }
  // Nothing is left to do on this page: the one way on is the sign-in page.
  restrictedDialog.addEventListener("cancel", (event) => event.preventDefault());

  store.subscribe((topic) => {
    if (topic === "warnings") renderWarning();
    if (topic === "restricted") {
      renderWarning();
      renderRestricted();
    }
  });
}

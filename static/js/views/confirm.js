// A styled confirmation (templates/partials/confirm.html) instead of window.confirm():
// `await confirmDialog({title, text, confirm})` is true when the person confirmed.
// Escape or Cancel says no; focus starts on Cancel and goes back where it was.
export async function confirmDialog({ title, text, confirm }) {
  return (await choiceDialog({ title, text, confirm })) === "ok";
}

/** The same dialog with a second way to confirm (`alternative`, a label; none: hidden): resolves to
 * "ok", "alternative", or null for no ("Delete for me" / "Delete for everyone" / Cancel). */
export function choiceDialog({ title, text, confirm, alternative = null }) {
  const dialog = document.querySelector('[data-testid="confirm-dialog"]');
  if (!dialog) return Promise.resolve(null);
  const before = document.activeElement;
  dialog.querySelector('[data-testid="confirm-title"]').textContent = title;
  dialog.querySelector('[data-testid="confirm-text"]').textContent = text || "";
  dialog.querySelector('[data-testid="confirm-ok"]').textContent = confirm;
  const other = dialog.querySelector('[data-testid="confirm-alternative"]');
  other.textContent = alternative || "";
  other.hidden = !alternative;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(["ok", "alternative"].includes(dialog.returnValue) ? dialog.returnValue : null);
      if (before?.isConnected) before.focus();
    }, { once: true });
    dialog.showModal();
    dialog.querySelector('[data-testid="confirm-cancel"]').focus();
  });
}

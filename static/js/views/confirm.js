// A styled confirmation (templates/partials/confirm.html) instead of window.confirm():
// `await confirmDialog({title, text, confirm})` is true when the person confirmed.
// Escape or Cancel says no; focus starts on Cancel and goes back where it was.
export function confirmDialog({ title, text, confirm }) {
  const dialog = document.querySelector('[data-testid="confirm-dialog"]');
  if (!dialog) return Promise.resolve(false);
  const before = document.activeElement;
  dialog.querySelector('[data-testid="confirm-title"]').textContent = title;
  dialog.querySelector('[data-testid="confirm-text"]').textContent = text || "";
  dialog.querySelector('[data-testid="confirm-ok"]').textContent = confirm;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      if (before?.isConnected) before.focus();
    }, { once: true });
    dialog.showModal();
    dialog.querySelector('[data-testid="confirm-cancel"]').focus();
  });
}

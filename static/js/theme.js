// Runs in <head> before the page paints (a classic script, not a module): sets
// <html data-theme="light|dark"> from the choice in Settings ("heartlink:theme": light, dark or
// system) and, for "system", from prefers-color-scheme, following it when it changes.
(function applyTheme() {
  const root = document.documentElement;
  const query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function choice() {
    try {
      return window.localStorage.getItem("heartlink:theme") || "system";
    } catch {
      return "system";
    }
  }
  function apply() {
    const chosen = choice();
    const dark = chosen === "dark" || (chosen !== "light" && Boolean(query?.matches));
    root.dataset.theme = dark ? "dark" : "light";
    root.dataset.themeChoice = chosen;
  }
  apply();
  query?.addEventListener?.("change", apply);
  window.addEventListener("storage", (event) => {
    if (event.key === "heartlink:theme") apply();
  });
  window.heartlinkApplyTheme = apply;
})();

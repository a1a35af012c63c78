// The connection banner: connecting / reconnecting / offline, with how many sends wait and a
// "Try now" button.
import { t } from "../i18n.js";
import { h, show } from "../views/dom.js";

export function mountBanner(banner, store, actions) {
  let everOnline = false;
  let bannerState = null;
  const bannerText = h("span", { class: "connection__text", "data-testid": "connection-text" });
  const bannerQueue = h("span", { class: "connection__queue", "data-testid": "connection-queue" });
  const retryNow = h("button", { type: "button", class: "connection__retry", "data-testid": "connection-retry", text: t("reconnect_now") });
  retryNow.addEventListener("click", () => actions.reconnectNow());
  banner.replaceChildren(bannerText, bannerQueue, retryNow);

  function renderBanner() {
    const online = store.state.connection === "online";
    if (online) everOnline = true;
    const state = online ? "online" : !navigator.onLine ? "offline" : everOnline ? "reconnecting" : "connecting";
    if (state !== bannerState) {
      bannerState = state;
      banner.dataset.state = state;
      if (state !== "online") bannerText.textContent = t(`banner_${state}`);
      show(retryNow, state === "reconnecting");
      show(banner, state !== "online");
    }
    const waiting = store.outboxEntries().filter((entry) => entry.state === "pending").length;
    bannerQueue.textContent = waiting ? t("banner_waiting", { count: waiting }) : "";
    show(bannerQueue, Boolean(waiting) && state !== "online");
  }
  window.addEventListener("online", renderBanner);
  window.addEventListener("offline", renderBanner);
  store.subscribe((topic) => {
    if (topic === "connection" || topic === "chat") renderBanner();
  });
  renderBanner();
}

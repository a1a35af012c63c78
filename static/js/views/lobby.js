// The lobby: "Find a heart link", the waiting state with its countdown, and the
// choice offered when the person already has an active link.
import { t } from "../i18n.js";
import { displayName, show } from "./dom.js";

const CODE_RE = /^[A-Za-z0-9]{4,12}$/;

export function mountLobby(root, store, actions) {
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const panels = [...root.querySelectorAll("[data-panel]")];
  const form = $("find-form");
  const findButton = $("find-link");
  const codeInput = $("match-code");
  const countdown = $("countdown");
  const notice = $("lobby-notice");
  const activeLink = $("active-link");
  let ticking = null;

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = codeInput.value.trim();
    if (code && !CODE_RE.test(code)) {
      showNotice(t("code_invalid"), "error");
      codeInput.focus();
      return;
    }
    actions.findLink(code ? code.toUpperCase() : null);
  });
  codeInput.addEventListener("input", () => codeInput.setAttribute("aria-invalid", "false"));
  $("cancel-find").addEventListener("click", () => actions.cancelFind());
  $("conflict-return").addEventListener("click", () => actions.openRoom(store.state.match.room.id));
  $("conflict-restart").addEventListener("click", () => actions.endAndFindAgain(store.state.match.room.id));
  activeLink.addEventListener("click", (event) => {
    event.preventDefault();
    actions.openRoom(activeLink.dataset.roomId);
  });

  function showNotice(text, kind = "info") {
    notice.textContent = text || "";
    notice.dataset.kind = kind;
    show(notice, Boolean(text));
    if (kind === "error") codeInput.setAttribute("aria-invalid", "true");
  }

  function tick() {
    const left = Math.max(0, new Date(store.state.match.expiresAt).getTime() - Date.now());
    const seconds = Math.ceil(left / 1000);
    countdown.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    countdown.dataset.secondsLeft = String(seconds);
  }

  function render() {
    const { match, connection } = store.state;
    const phase = match.phase === "starting" ? "idle" : match.phase;
    for (const panel of panels) show(panel, panel.dataset.panel === phase);
    root.dataset.phase = match.phase;
    findButton.disabled = connection !== "online" || match.phase === "starting";
    findButton.setAttribute("aria-busy", String(match.phase === "starting"));

    clearInterval(ticking);
    ticking = null;
    if (phase === "waiting") {
      $("waiting-text").textContent = match.code ? t("waiting_code", { code: match.code }) : t("waiting_anyone");
      tick();
      ticking = setInterval(tick, 1000);
    }
    if (phase === "conflict") {
      const partner = store.partnerOf(match.room);
      $("conflict-text").textContent = partner ? t("conflict_text", { name: displayName(partner, t("someone")) }) : "";
    }
    const active = phase === "idle" ? store.activeRoom() : null;
    show(activeLink, Boolean(active));
    if (active) {
      activeLink.dataset.roomId = active.id;
      activeLink.href = actions.roomUrl(active.id);
      activeLink.textContent = t("continue_with", { name: displayName(store.partnerOf(active), t("someone")) });
    }
    showNotice(match.notice?.text, match.notice?.kind);
  }

  store.subscribe((topic) => {
    if (topic === "match" || topic === "connection" || topic === "rooms") render();
  });
  render();
}

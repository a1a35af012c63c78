// The lobby: "Find a heart link" with what to look for (interests, languages, only people who
// share one), the waiting state with what is looked for, the wait and its countdown, and the
// choice offered when the person already has an active link.
import { t } from "../i18n.js";
import { displayName, show } from "./dom.js";

const CODE_RE = /^[A-Za-z0-9]{4,12}$/;
const MAX_INTERESTS = 5;
const MAX_INTEREST_CHARS = 24;

/** Interests as the server keeps them (matching.clean_interest): split at commas (also "，" and "、"),
 * spaces squeezed, lower-cased, each once. */
export function parseInterests(text) {
  const tags = text.split(/[,，、]/).map((tag) => tag.trim().split(/\s+/).join(" ").toLowerCase()).filter(Boolean);
  return [...new Set(tags)];
}

export function mountLobby(root, store, actions) {
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const panels = [...root.querySelectorAll("[data-panel]")];
  const form = $("find-form");
  const findButton = $("find-link");
  const codeInput = $("match-code");
  const countdown = $("countdown");
  const notice = $("lobby-notice");
  const activeLink = $("active-link");
  const interestsInput = $("match-interests");
  const languageBoxes = [...root.querySelectorAll('[data-testid="match-languages"] input')];
  const onlyShared = $("only-shared");
  let ticking = null;

  /** What the form asks for, or null after saying what is wrong with it. */
  function looking() {
    const interests = parseInterests(interestsInput.value);
    const problem = interests.length > MAX_INTERESTS ? "interests_too_many"
      : interests.some((tag) => [...tag].length > MAX_INTEREST_CHARS) ? "interests_too_long" : null;
    if (problem) {
      showNotice(t(problem), "error", interestsInput);
      interestsInput.focus();
      return null;
    }
    const languages = languageBoxes.filter((box) => box.checked).map((box) => box.value);
    if (!languages.length) {
      showNotice(t("languages_none"), "error");
      languageBoxes[0]?.focus();
      return null;
    }
    return { interests, languages, only_shared: onlyShared.checked && interests.length > 0 };
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = codeInput.value.trim();
    if (code && !CODE_RE.test(code)) {
      showNotice(t("code_invalid"), "error", codeInput);
      codeInput.focus();
      return;
    }
    const asked = code ? null : looking();
    if (!code && !asked) return;
    actions.findLink(code ? code.toUpperCase() : null, asked);
  });
  interestsInput.addEventListener("input", () => interestsInput.setAttribute("aria-invalid", "false"));
  codeInput.addEventListener("input", () => codeInput.setAttribute("aria-invalid", "false"));
  $("cancel-find").addEventListener("click", () => actions.cancelFind());
  $("conflict-return").addEventListener("click", () => actions.openRoom(store.state.match.room.id));
  $("conflict-restart").addEventListener("click", () => actions.endAndFindAgain(store.state.match.room.id));
  activeLink.addEventListener("click", (event) => {
    event.preventDefault();
    actions.openRoom(activeLink.dataset.roomId);
  });

  function showNotice(text, kind = "info", field = null) {
    notice.textContent = text || "";
    notice.dataset.kind = kind;
    show(notice, Boolean(text));
    if (kind === "error" && field) field.setAttribute("aria-invalid", "true");
  }

  const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;

  function tick() {
    const { expiresAt, looking: asked } = store.state.match;
    const left = Math.max(0, new Date(expiresAt).getTime() - Date.now());
    const seconds = Math.ceil(left / 1000);
    countdown.textContent = clock(seconds);
    countdown.dataset.secondsLeft = String(seconds);
    const waited = asked?.since ? Math.max(0, Math.floor((Date.now() - new Date(asked.since).getTime()) / 1000)) : null;
    $("waited").textContent = waited === null ? "" : t("waited", { time: clock(waited) });
  }

  /** "Looking for people into hiking, jazz who speak English, 日本語": the languages by the names the form shows. */
  function lookingFor(asked) {
    if (!asked) return "";
    const names = new Map(languageBoxes.map((box) => [box.value, box.nextElementSibling?.textContent || box.value]));
    const list = (items) => items.join(t("list_separator"));
    const who = asked.interests.length ? t("looking_for", { interests: list(asked.interests) }) : t("looking_for_anyone");
    const parts = [who, t("looking_in", { languages: list(asked.languages.map((code) => names.get(code) || code)) })];
    if (asked.only_shared) parts.push(t("looking_only_shared"));
    return `${parts.join(" · ")}…`;
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
      $("looking-for").textContent = match.code ? "" : lookingFor(match.looking);
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

// Search in the chat: the panel opened by the header's search button (or Ctrl+Shift+F), results as
// one types (GET /api/rooms/<id>/search through actions.searchRoom), newest first, more on demand.
// Choosing a result asks the chat to show that message: the "heartlink:show-message" event
// ({roomId, seq}), which views/chat.js answers by loading its context, scrolling to it and flashing it.
// Matches are marked with <mark> around text nodes: what was written never becomes markup.
import { formatDateTime, t } from "../i18n.js";
import { displayName, h } from "./dom.js";

const TYPING_PAUSE_MS = 250; // a search goes when the typing pauses this long
const NARROW = window.matchMedia("(max-width: 760px)"); // the panel covers the chat: it closes on a choice

/** A result's snippet as nodes: its text, the ranges ([start, end) in code points) in <mark>. */
export function markedText(snippet) {
  const characters = Array.from(snippet?.text || "");
  const nodes = [];
  let at = 0;
  for (const [start, end] of snippet?.ranges || []) {
    if (start < at || end <= start) continue; // ranges come sorted and apart; anything else is skipped
    if (start > at) nodes.push(document.createTextNode(characters.slice(at, start).join("")));
    nodes.push(h("mark", { class: "search-result__match" }, characters.slice(start, end).join("")));
    at = end;
  }
  if (at < characters.length) nodes.push(document.createTextNode(characters.slice(at).join("")));
  return nodes;
}

export function mountSearch(panel, opener, store, actions) {
  const $ = (id) => panel.querySelector(`[data-testid="${id}"]`);
  const input = $("search-input");
  const status = $("search-status");
  const list = $("search-results");
  const more = $("search-more");
  const main = panel.parentElement;
  // What is shown: the room and query it is for, the page to go on from, and a number that tells a
  // late answer to a query since replaced from the current one.
  let shown = { roomId: null, query: "", nextBeforeSeq: null, count: 0 };
  let asked = 0;
  let loading = false;
  let typingTimer = null;

  const isOpen = () => !panel.hidden;

  function open() {
    if (!store.state.roomId) return;
    if (shown.roomId !== store.state.roomId) reset();
    panel.hidden = false;
    main.classList.add("main--searching");
    opener.setAttribute("aria-expanded", "true");
    input.focus();
    input.select();
  }

  function close({ returnFocus = true } = {}) {
    if (!isOpen()) return;
    panel.hidden = true;
    main.classList.remove("main--searching");
    opener.setAttribute("aria-expanded", "false");
    // Back to what opened it: the header's button, or on a phone the ⋮ menu's.
    if (returnFocus) (opener.getClientRects().length ? opener : document.querySelector('[data-testid="room-menu"]'))?.focus();
  }

  function reset() {
    clearTimeout(typingTimer);
    asked += 1;
    loading = false;
    shown = { roomId: store.state.roomId, query: "", nextBeforeSeq: null, count: 0 };
    input.value = "";
    list.replaceChildren();
    more.hidden = true;
    say(t("search_hint"));
  }

  function say(text, kind = "") {
    status.textContent = text;
    status.dataset.kind = kind;
  }

  function sayCount(hasMore) {
    if (!shown.count) say(t("search_none"));
    else if (hasMore) say(t("search_found_more", { count: shown.count }));
    else say(shown.count === 1 ? t("search_found_one") : t("search_found", { count: shown.count }));
  }

  async function run(query, beforeSeq = null) {
    const roomId = store.state.roomId;
    const ticket = ++asked;
    loading = true;
    more.disabled = true;
    if (beforeSeq === null) say(t("search_searching"));
    try {
      const page = await actions.searchRoom(roomId, query, beforeSeq);
      if (ticket !== asked) return;
      if (beforeSeq === null) {
        list.replaceChildren();
        shown = { roomId, query, nextBeforeSeq: null, count: 0 };
      }
      list.append(...page.results.map((result) => resultItem(roomId, result)));
      shown.count += page.results.length;
      shown.nextBeforeSeq = page.has_more ? page.next_before_seq : null;
      more.hidden = !page.has_more;
      sayCount(page.has_more);
    } catch (error) {
      if (ticket !== asked) return;
      const reason = error?.message || t("no_answer");
      say(t(beforeSeq === null ? "search_failed" : "search_more_failed", { reason }), "error");
      if (beforeSeq === null) {
        list.replaceChildren();
        more.hidden = true;
      }
    } finally {
      if (ticket === asked) {
        loading = false;
        more.disabled = false;
      }
    }
  }

  function resultItem(roomId, result) {
    const me = store.state.me;
    const sender = result.sender_id === me.id
      ? t("search_you")
      : displayName(store.partnerOf(store.room(roomId)), t("someone"));
    const when = formatDateTime(result.created_at);
    const button = h("button", {
      class: "search-result", type: "button", dataset: { seq: result.seq }, "data-testid": "search-result",
    },
    h("span", { class: "search-result__meta" },
      h("span", { class: "search-result__sender" }, sender),
      h("time", { class: "search-result__time", datetime: result.created_at }, when)),
    h("span", { class: "search-result__text", "data-testid": "search-result-text" }, markedText(result.snippet)));
    button.addEventListener("click", () => choose(roomId, result.seq));
    return h("li", { class: "search__result" }, button);
  }

  function choose(roomId, seq) {
    for (const chosen of list.querySelectorAll('[aria-current="true"]')) chosen.removeAttribute("aria-current");
    list.querySelector(`[data-seq="${CSS.escape(String(seq))}"]`)?.setAttribute("aria-current", "true");
    if (NARROW.matches) close({ returnFocus: false });
    document.dispatchEvent(new CustomEvent("heartlink:show-message", { detail: { roomId, seq } }));
  }

  /** A new search, unless what was typed has no word in it (the server would refuse it: say so here). */
  function search(query) {
    if (/[\p{L}\p{N}]/u.test(query)) {
      run(query);
      return;
    }
    asked += 1;
    loading = false;
    shown = { ...shown, query: "", nextBeforeSeq: null, count: 0 };
    list.replaceChildren();
    more.hidden = true;
    say(t("search_no_words"), "error");
  }

  function loadMore() {
    if (loading || shown.nextBeforeSeq === null || !shown.query) return;
    run(shown.query, shown.nextBeforeSeq);
  }

  input.addEventListener("input", () => {
    clearTimeout(typingTimer);
    const query = input.value.trim();
    if (!query) {
      asked += 1; // an answer on its way is for what was erased
      loading = false;
      shown = { ...shown, query: "", nextBeforeSeq: null, count: 0 };
      list.replaceChildren();
      more.hidden = true;
      say(t("search_hint"));
      return;
    }
    typingTimer = setTimeout(() => search(query), TYPING_PAUSE_MS);
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault(); // Enter searches at once
    clearTimeout(typingTimer);
    const query = input.value.trim();
    if (query) search(query);
  });
  more.addEventListener("click", loadMore);
  // Scrolling to the end of the results loads the next page, as the button would.
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && !more.hidden) loadMore();
    }, { root: $("search-scroll") }).observe(more);
  }

  opener.addEventListener("click", () => (isOpen() ? close() : open()));
  // On a phone the header's button gives way to an item of the ⋮ menu (views/safety.js sends this).
  const menuItem = document.querySelector('[data-testid="menu-search"]')?.parentElement;
  const placeOpener = () => { if (menuItem) menuItem.hidden = !NARROW.matches; };
  NARROW.addEventListener("change", placeOpener);
  placeOpener();
  document.addEventListener("heartlink:search", open);
  $("search-close").addEventListener("click", () => close());
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key.toLowerCase() === "f" && event.shiftKey && (event.ctrlKey || event.metaKey) && !event.altKey
        && store.state.roomId) {
      event.preventDefault();
      open();
    }
  });
  store.subscribe((topic) => {
    // Another room, or the lobby: the panel was about the room it was opened in.
    if (topic === "route" && shown.roomId !== store.state.roomId) {
      close({ returnFocus: false });
      reset();
    }
  });
  reset();
}

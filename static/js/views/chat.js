// The chat room: header with the partner, the history, the composer, the "link ended" state,
// the draft kept per room, the "↓ 2 new" jump button, the unread divider, and the live region
// that announces new messages to screen readers.
import { dayKey, formatDateTime, formatDay, formatLastSeen, formatTime, locale, t } from "../i18n.js";
import { loadDraft, saveDraft } from "../drafts.js";
import { confirmDialog } from "./confirm.js";
import { displayName, h, paintAvatar, show } from "./dom.js";
import { callLine } from "./call_line.js";
import { createMessageContent, snippet } from "./message_content.js";
import { buildItems, covers, createHeights, dividerSeqFor, messageKey, windowFor } from "./chat_window.js";

const NEAR_BOTTOM_PX = 120;
const PINNED_PX = 48; // this close to the bottom, the chat follows the newest message
const COUNT_FROM = 0.9; // the composer shows "3,612 / 4,000" from this share of the limit on
// A long history is drawn in a window (docs/decisions.md, "Long chats"): the items this far
// (at least; three quarters of the view if more) above and below the viewport are in the DOM,
// redrawn when the viewport comes within a third of that of the window's edge.
const OVERSCAN_PX = 360;
const ESTIMATE_PX = 52; // an item not drawn yet, before any was measured
const DRAW_ALL = 60; // a history this short (a page of 50 and its days) is drawn whole
const CACHE_SPARE = 200;
const KEEP_FOCUSED = 40; // the focused message stays drawn while this few items from the window // drawn bubbles kept for reuse beyond those in the window
const NAVIGABLE = new Set(["message"]);

export function mountChat(root, store, actions, { textMax }) {
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const scroller = $("messages-scroll");
  const list = $("messages");
  const olderButton = $("load-older");
  const intro = $("chat-intro");
  const ended = $("room-ended");
  const errorLine = $("chat-error");
  const composer = $("composer");
  const input = $("composer-input");
  const sendButton = $("composer-send");
  const countLine = $("composer-count");
  const endButton = $("end-link");
  const keepButton = $("keep-link");
  const nextButton = $("next-link");
  const shared = $("shared-interests");
  const revealLine = $("reveal-progress");
  const reopenButton = $("reopen-link");
  const keptText = $("kept-text");
  const keepBanner = $("keep-banner");
  const keepBannerText = $("keep-banner-text");
  const keepTooButton = $("keep-too");
  const jumpButton = $("jump-new");
  const announcer = $("announcer");
  const bubbles = new Map(); // key -> {element, signature}: drawn items, those in the window and a few more
  const heights = createHeights({ estimate: ESTIMATE_PX }); // items' heights by key, measured once drawn
  let items = []; // what the history shows, in order (chat_window.js buildItems)
  let itemsByKey = new Map(); // key -> item
  let indexOf = new Map(); // key -> its index in items
  let drawn = [0, 0]; // the window: items[start, end) are in the list, between two spacers
  const spacers = [0, 1].map(() => h("li", { class: "messages__spacer", "aria-hidden": "true", hidden: true }));
  let topSlack = 0; // px the view moved down, in this scroll up, as drawn items proved taller than estimated
  let pendingShow = null; // a heartlink:show-message for a room not open or not joined yet
  const days = new Map(); // created_at -> day key (the same few strings again and again)
  const dayOf = (iso) => {
    let day = days.get(iso);
    if (day === undefined) {
      if (days.size > 20000) days.clear();
      day = dayKey(iso);
      days.set(iso, day);
    }
    return day;
  };
  const content = createMessageContent(store); // what is inside a bubble, and under it
  const me = store.state.me;
  let shownRoomId = null;
  let wantFocus = false;
  let divider = null; // {count}: "3 unread messages" before the 3rd-last message from the partner
  let newBelow = 0; // live messages that came while scrolled up
  // Whether the view follows the newest message. Only the person moving up unpins it: content that
  // grows (a picture or clip loading, a message arriving) never does, whatever order events come in.
  let pinned = true;
  let lastTop = 0;
  // "Scroll to the newest" is under way: until it ends or the person moves again, no scroll event
  // unpins the view (a render's jump to the bottom can cross the smooth scroll's last steps).
  let jumping = false;

  // --- the person's actions ---------------------------------------------------------
  // Characters as the server counts them: code points of the trimmed text (an emoji is one).
  const textLength = (text) => [...text.trim()].length;
  const number = new Intl.NumberFormat(locale);

  function submit() {
    const roomId = store.state.roomId;
    const text = input.value;
    if (!roomId || !text.trim() || composer.dataset.disabled === "true") return;
    const length = textLength(text);
    if (length > textMax) { // refused, never cut: the person decides what goes (docs/decisions.md)
      showError(t("too_long", { count: number.format(length), max: number.format(textMax) }), "too_long");
      input.focus();
      return;
    }
    input.value = "";
    showCount();
    saveDraft(me.id, roomId, "");
    fitInput();
    showError(null);
    divider = null;
    actions.send(roomId, text);
    input.focus();
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === "ArrowUp" && !input.value && !event.isComposing && !event.shiftKey) {
      // Up in an empty box edits one's last message, as in WhatsApp Web and Slack.
      const last = lastOwnEditable();
      if (last) {
        event.preventDefault();
        actions.startEdit(last);
      }
    }
  });
  input.addEventListener("input", () => {
    fitInput();
    showCount();
    sendButton.disabled = !input.value.trim() || composer.dataset.disabled === "true";
    if (store.state.roomId && !actions.isEditing(store.state.roomId)) saveDraft(me.id, store.state.roomId, input.value);
  });
  olderButton.addEventListener("click", () => actions.loadOlder(store.state.roomId));
  endButton.addEventListener("click", () => confirmEnd());
  nextButton.addEventListener("click", () => goNext());
  // Alt+N: on to someone new, from anywhere in an active link (the key, not the character: macOS's Alt types one).
  document.addEventListener("keydown", (event) => {
    if (event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.code === "KeyN") {
      event.preventDefault();
      goNext();
    }
  });
  keepButton.addEventListener("click", () => toggleKeep());
  keepTooButton.addEventListener("click", () => toggleKeep());
  reopenButton.addEventListener("click", () => actions.reopenLink(store.state.roomId));
  list.addEventListener("click", (event) => {
    const retry = event.target.closest("[data-retry]");
    if (retry) actions.retry(store.state.roomId, retry.dataset.retry);
    const refused = event.target.closest("[data-edit-refused]");
    if (refused) takeBack(refused.dataset.editRefused);
  });
  jumpButton.addEventListener("click", () => {
    pinned = true;
    if (distanceFromBottom() > 3 * scroller.clientHeight) { // far up a long history: at once
      drawBottom();
    } else {
      jumping = true;
      scroller.scrollTo({ top: scroller.scrollHeight, behavior: "smooth" });
    }
    clearNewBelow();
  });
  scroller.addEventListener("scroll", () => {
    const up = scroller.scrollTop < lastTop;
    notePinned();
    ensureCovered(up);
    if (newBelow && distanceFromBottom() < NEAR_BOTTOM_PX) clearNewBelow();
    showJump();
  }, { passive: true });
  // Our smooth scroll to the newest may end short of a bottom that moved meanwhile: finish it. Only
  // ours: a person's small scroll up (within PINNED_PX) stays where it is, and a press on a picture it
  // just revealed is not moved away from under the pointer.
  scroller.addEventListener("scrollend", () => {
    if (jumping && pinned && distanceFromBottom() > 1) toBottom();
    else jumping = false;
    // A scroll up to the top stopped short only by estimates of heights made good on the way: the top.
    if (topSlack && drawn[0] === 0 && scroller.scrollTop <= topSlack + 1) {
      scroller.scrollTop = 0;
      lastTop = 0;
    }
    topSlack = 0;
  });
  for (const move of ["wheel", "touchstart", "keydown", "pointerdown"]) {
    scroller.addEventListener(move, () => { jumping = false; }, { passive: true });
  }
  // While pinned, whatever changes the height of the history or of the view (a medium loading, the
  // composer growing, the keyboard opening) keeps the newest message in view.
  // Scrolled up, content that grows above (a picture loading) leaves what is on screen in place:
  // the browser's scroll anchoring does that (app.css keeps it off the spacers).
  // A press holds the view still (content moved under it would make the release land elsewhere: a
  // quote's tap become its bubble's, as when the pointer's hover opens a message's actions in the flow
  // on a narrow screen, or a text being selected run on); what grew or came meanwhile is followed once
  // the press is over, after its click.
  let pressed = false;
  let followAfterPress = false;
  scroller.addEventListener("pointerdown", () => { pressed = true; }, { passive: true });
  for (const type of ["pointerup", "pointercancel"]) {
    window.addEventListener(type, () => {
      pressed = false;
      if (!followAfterPress) return;
      followAfterPress = false;
      setTimeout(() => { if (pinned) drawBottom(); });
    }, { passive: true });
  }
  const follow = new ResizeObserver(() => {
    if (pinned && pressed) followAfterPress = true;
    else if (pinned) toBottom();
    showJump();
  });
  follow.observe(list);
  follow.observe(scroller);
  document.addEventListener("heartlink:end-link", () => confirmEnd());
  document.addEventListener("heartlink:keep-link", () => toggleKeep());
  document.addEventListener("heartlink:next-link", () => goNext()); // the ⋮ menu (views/safety.js)

  async function confirmEnd() {
    const roomId = store.state.roomId;
    if (!roomId || store.room(roomId)?.status !== "active") return;
    const yes = await confirmDialog({ title: t("end_confirm_title"), text: t("end_confirm"), confirm: t("end_confirm_button") });
    if (yes) actions.endLink(roomId);
  }

  function goNext() {
    const roomId = store.state.roomId;
    if (roomId && store.room(roomId)?.status === "active") actions.nextLink(roomId);
  }

  function toggleKeep() {
    const room = store.state.roomId && store.room(store.state.roomId);
    if (room) actions.keepLink(room.id, !keptByMe(room));
  }

  // Scrolling up to the top loads the page before.
  new IntersectionObserver((entries) => {
    const chat = store.state.roomId && store.chat(store.state.roomId);
    if (entries.some((entry) => entry.isIntersecting) && chat?.hasMore && !chat.loadingOlder && chat.status === "ready") {
      actions.loadOlder(chat.roomId);
    }
  }, { root: scroller, rootMargin: "200px 0px 0px 0px" }).observe(olderButton);

  function fitInput() {
    input.style.height = "auto"; // CSSOM, not an inline style attribute: allowed by the CSP
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  /** "3,612 / 4,000" near the limit, marked when over it; an error about the length goes once it fits. */
  function showCount() {
    const length = textLength(input.value);
    const near = length >= Math.floor(textMax * COUNT_FROM);
    countLine.textContent = near ? t("text_count", { count: number.format(length), max: number.format(textMax) }) : "";
    countLine.dataset.over = String(length > textMax);
    show(countLine, near);
    if (length <= textMax && errorLine.dataset.kind === "too_long") showError(null);
  }

  /** A text the rules refused goes back into the text box (before anything typed since), to be changed. */
  function takeBack(clientId) {
    const roomId = store.state.roomId;
    const entry = store.takeBackSend(roomId, clientId);
    if (!entry) return;
    input.value = input.value.trim() ? `${entry.text}\n${input.value}` : entry.text;
    input.dispatchEvent(new Event("input", { bubbles: true })); // sized, counted, draft saved
    input.focus();
  }

  /** Why a send was not sent: a link refused says from when (in the person's own time), else the server's words. */
  function failureText(message) {
    if (message.refusal?.kind === "link" && message.refusal.allowed_at) {
      return t("filtered_link", { time: formatDateTime(message.refusal.allowed_at) });
    }
    return message.error || t("failed");
  }

  function showError(text, kind = "error") {
    errorLine.textContent = text || "";
    errorLine.dataset.kind = text ? kind : "";
    show(errorLine, Boolean(text));
  }

  function distanceFromBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  }

  /** Unpinned only by a move up, pinned again at the bottom (also before the scroll event comes). */
  function notePinned() {
    const top = scroller.scrollTop;
    if (distanceFromBottom() <= PINNED_PX) pinned = true;
    else if (top < lastTop - 1 && !jumping) pinned = false; // the person scrolled up
    lastTop = top;
  }

  function toBottom() {
    scroller.scrollTop = scroller.scrollHeight;
    lastTop = scroller.scrollTop;
  }

  function clearNewBelow() {
    newBelow = 0;
    showJump();
  }

  /** "↓" whenever the newest message is out of view (after a reload too), "↓ 2 new" with a count. */
  function showJump() {
    const away = !pinned && distanceFromBottom() >= NEAR_BOTTOM_PX;
    const label = newBelow ? t("jump_new", { count: newBelow }) : "";
    jumpButton.querySelector('[data-testid="jump-new-text"]').textContent = label;
    jumpButton.setAttribute("aria-label", label ? `${label}. ${t("jump_bottom")}` : t("jump_bottom"));
    show(jumpButton, away || Boolean(newBelow));
  }

  function lastOwnEditable() {
    const roomId = store.state.roomId;
    const room = roomId && store.room(roomId);
    if (!room || room.status !== "active") return null;
    const messages = store.chat(roomId).messages;
    for (let index = messages.length - 1; index >= 0; index -= 1) {
      const message = messages[index];
      if (message.sender_id === me.id && !message.deleted && message.kind === "text" && message.id) return message;
    }
    return null;
  }

  const keptByMe = (room) => (room.kept_by || []).some((id) => String(id) === String(me.id));

  // --- drawing --------------------------------------------------------------------------
  function bubble(message, state) {
    const mine = message.sender_id === me.id;
    const key = message.client_id || `seq:${message.seq}`;
    const receipt = mine ? store.receiptOf(message, state) : null; // pending | sent | delivered | read
    // The ticks are not in the signature: a receipt repaints them in place, so the bubble (and a
    // control in it someone is pressing) stays the same node while receipts come in.
    const signature = [state, message.text, message.deleted, message.edited_at, message.error, content.contentSignature(message)].join("|");
    const known = bubbles.get(key);
    if (known && known.signature === signature) {
      paintReceipt(known.element, receipt);
      return known.element;
    }

    if (message.kind === "call" && message.call) { // a finished call: views/call_line.js
      const element = callLine(message, me);
      bubbles.set(key, { element, signature });
      return element;
    }
    if (message.kind === "system") {
      const element = h("li", { class: "system-note", "data-testid": "system-message", dataset: { seq: message.seq } },
        h("span", { text: message.text || "" }));
      bubbles.set(key, { element, signature });
      return element;
    }
    const status = mine ? h("span", {
      class: "bubble__status", "data-testid": "message-status", role: "img", title: t(receipt), "aria-label": t(receipt),
    }) : null;
    const element = h("li", {
      class: `message ${mine ? "message--mine" : "message--theirs"}`,
      "data-testid": "message",
      tabindex: "-1",
      dataset: { seq: message.seq ?? "", clientId: message.client_id || "", state, mine: String(mine), ...(receipt && { receipt }) },
    },
    h("div", { class: "message__body" },
      h("div", { class: `bubble${message.deleted ? " bubble--deleted" : ""}` },
        content.renderContent(message), // text, links, emoji, picture, voice note, file, reply quote: message_content.js
        h("span", { class: "bubble__meta" },
          h("time", { datetime: message.created_at, text: formatTime(message.created_at), title: formatDateTime(message.created_at, { full: true }) }),
          status)),
      content.renderAround(message, state)), // reactions and the message's actions
    state === "failed" ? h("p", { class: "message__failure", "data-testid": "message-failure", dataset: { refusal: message.refusal?.kind || "" } },
      h("span", { text: failureText(message) }),
      message.retryable ? h("button", { type: "button", class: "link-button", "data-retry": message.client_id, "data-testid": "retry", text: t("retry") }) : null,
      message.refusal && message.kind === "text"
        ? h("button", { type: "button", class: "link-button", "data-edit-refused": message.client_id, "data-testid": "edit-refused", text: t("edit_refused") })
        : null)
      : null);
    bubbles.set(key, { element, signature });
    return element;
  }

  function paintReceipt(element, receipt) {
    if (!receipt || element.dataset.receipt === receipt) return;
    element.dataset.receipt = receipt;
    const status = element.querySelector('[data-testid="message-status"]');
    status?.setAttribute("title", t(receipt));
    status?.setAttribute("aria-label", t(receipt));
  }

  /** An item's node: a bubble, a day's separator or the unread divider (cached by key while unchanged). */
  function nodeFor(item) {
    let element;
    if (item.kind === "message") element = bubble(item.message, item.state);
    else {
      const text = item.kind === "day" ? formatDay(item.message.created_at)
        : divider.count === 1 ? t("unread_divider_one") : t("unread_divider", { count: divider.count });
      const known = bubbles.get(item.key);
      if (known && known.signature === text) return known.element;
      element = item.kind === "day"
        ? h("li", { class: "day-separator", "data-testid": "day" }, h("span", { text }))
        : h("li", { class: "unread-divider", "data-testid": "unread-divider" }, h("span", { text }));
      bubbles.set(item.key, { element, signature: text });
    }
    element.dataset.key = item.key;
    return element;
  }

  /** The derived list of items, from the chat (reusing unchanged items), and their keys' heights. */
  function rebuildItems(chat) {
    const dividerSeq = divider?.count ? dividerSeqFor(chat.messages, divider.count, me.id) : null;
    items = buildItems(chat, { dividerSeq, dayOf, previous: itemsByKey });
    itemsByKey = new Map();
    indexOf = new Map();
    const keys = new Array(items.length);
    items.forEach((item, index) => {
      itemsByKey.set(item.key, item);
      indexOf.set(item.key, index);
      keys[index] = item.key;
    });
    heights.setKeys(keys);
  }

  /** The list's top in the scroller's content, and the viewport's top in the history's coordinates. */
  function listTop() {
    return list.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
  }
  const viewTop = () => scroller.scrollTop - listTop();

  let gap = null; // the list's gap between items, px
  const gapOf = () => {
    if (gap === null) gap = parseFloat(getComputedStyle(list).rowGap) || 0;
    return gap;
  };

  /** Each drawn item's height as laid out: from its top to the next one's (gaps and margins included). */
  function measureDrawn() {
    for (const node of list.children) {
      if (!node.dataset.key) continue;
      const next = node.nextElementSibling;
      const shown = next && !next.hidden;
      heights.set(node.dataset.key, shown ? next.offsetTop - node.offsetTop : node.offsetHeight + gapOf());
    }
  }

  /** The room of the items not drawn, above and below the window (less the gap the spacer itself adds). */
  function sizeSpacers() {
    const above = heights.offset(drawn[0]);
    const below = heights.total() - heights.offset(drawn[1]);
    [[spacers[0], above], [spacers[1], below]].forEach(([spacer, room]) => {
      spacer.hidden = room < 1;
      spacer.style.height = `${Math.max(0, room - gapOf())}px`;
    });
  }

  /** The first drawn message reaching into the viewport, and how far below the viewport's top it starts
   * (a message: a day's separator moves up when older messages of its day come). */
  function captureAnchor() {
    const top = scroller.getBoundingClientRect().top;
    for (const node of list.children) {
      if (itemsByKey.get(node.dataset.key)?.kind !== "message") continue;
      const rect = node.getBoundingClientRect();
      if (rect.bottom > top + 1) return { key: node.dataset.key, offset: rect.top - top };
    }
    return null;
  }

  /** Scroll so that the anchor's item is where it was (when it is still drawn). */
  function restoreAnchor(anchor) {
    const node = bubbles.get(anchor.key)?.element;
    if (!node || node.parentNode !== list) return;
    const delta = node.getBoundingClientRect().top - scroller.getBoundingClientRect().top - anchor.offset;
    if (Math.abs(delta) >= 0.5) {
      scroller.scrollTop += delta;
      lastTop = scroller.scrollTop;
    }
  }

  /** Draw items[start, end) (nodes reused, the rest made), forget drawn nodes far from the window. */
  function draw([start, end]) {
    const nodes = [spacers[0]];
    for (let index = start; index < end; index += 1) nodes.push(nodeFor(items[index]));
    nodes.push(spacers[1]);
    place(nodes);
    drawn = [start, end];
    if (bubbles.size > nodes.length + CACHE_SPARE) {
      const keep = new Set(nodes);
      for (const [key, known] of bubbles) if (!keep.has(known.element)) bubbles.delete(key);
    }
  }

  /**
   * Draw the window around the viewport whose top (in the history's coordinates) `top()` says,
   * measuring what was drawn and drawing again while estimates left part of the view uncovered.
   */
  function drawAround(top) {
    const view = scroller.clientHeight;
    const overscan = Math.max(OVERSCAN_PX, view * 0.75);
    for (let pass = 0; pass < 3; pass += 1) {
      draw(items.length <= DRAW_ALL ? [0, items.length] : withFocused(windowFor(heights, top(), view, overscan)));
      measureDrawn();
      sizeSpacers();
      if (covers(heights, drawn, top(), view, 0)) break;
    }
  }

  /** The window stretched to keep the focused message drawn while it is near (it would lose the focus). */
  function withFocused([start, end]) {
    const key = list.contains(document.activeElement) ? document.activeElement.closest("li")?.dataset.key : null;
    const at = key ? indexOf.get(key) : undefined;
    if (at === undefined) return [start, end];
    if (at < start && start - at <= KEEP_FOCUSED) return [at, end];
    if (at >= end && at - end < KEEP_FOCUSED) return [start, at + 1];
    return [start, end];
  }

  /** The newest items, the view at the bottom. */
  function drawBottom() {
    drawAround(() => heights.total() - scroller.clientHeight);
    toBottom();
  }

  /** The window around the anchor's item, which stays where it was on screen. */
  function drawAtAnchor(anchor) {
    const top = () => (anchor && indexOf.has(anchor.key) ? heights.offset(indexOf.get(anchor.key)) - anchor.offset : viewTop());
    drawAround(top);
    if (anchor) restoreAnchor(anchor);
  }

  /** Scrolled near the window's edge: the window moves, what is on screen stays in place. */
  function ensureCovered(up = false) {
    if (!items.length || drawn[1] <= drawn[0]) return;
    const view = scroller.clientHeight;
    const margin = Math.max(OVERSCAN_PX, view * 0.75) / 3;
    if (covers(heights, drawn, viewTop(), view, margin)) return;
    const anchor = captureAnchor();
    measureDrawn();
    const before = scroller.scrollTop;
    if (pinned && distanceFromBottom() <= PINNED_PX) drawBottom();
    else drawAtAnchor(anchor);
    if (up && scroller.scrollTop > before) topSlack += scroller.scrollTop - before;
  }

  /** Item `index` drawn and scrolled to (`block` as scrollIntoView's); its node. */
  function showIndex(index, block = "center") {
    const key = items[index].key;
    if (index < drawn[0] || index >= drawn[1] || block !== "nearest") {
      drawAround(() => heights.offset(index) + heights.get(key) / 2 - scroller.clientHeight / 2);
    }
    const node = bubbles.get(key)?.element;
    if (!node) return null;
    node.scrollIntoView({ block });
    lastTop = scroller.scrollTop;
    pinned = distanceFromBottom() <= PINNED_PX; // taken up the history (or down to its end) on purpose
    ensureCovered();
    return node;
  }

  /** The message `step` from the one keyed `key` (up -1, down +1; "home"/"end": the first/last loaded). */
  function neighbour(key, step) {
    let index = indexOf.get(key);
    if (index === undefined) return null;
    const navigable = (at) => NAVIGABLE.has(items[at]?.kind) && items[at].message.kind !== "system";
    if (step === "home" || step === "end") {
      index = step === "home" ? -1 : items.length;
      step = step === "home" ? 1 : -1;
    }
    for (let at = index + step; at >= 0 && at < items.length; at += step) {
      if (navigable(at)) return showIndex(at, "nearest");
    }
    return null;
  }

  /** The history in the list: the window around what is on screen, or the newest while pinned. */
  function renderMessages(chat, { switched, pending }) {
    const anchor = switched || drawn[1] <= drawn[0] ? null : captureAnchor();
    if (!switched) measureDrawn();
    rebuildItems(chat);
    if (switched && divider && indexOf.has("divider")) {
      showIndex(indexOf.get("divider"), "start");
      pinned = distanceFromBottom() <= PINNED_PX;
    } else if (switched || pending || (pinned && !pressed) || !anchor) {
      pinned = true;
      drawBottom();
    } else {
      if (pinned) followAfterPress = true; // a message came during a press: followed once it is over
      drawAtAnchor(anchor);
    }
    return chat.messages.length + chat.outbox.size;
  }

  /** Put `nodes` in the list: what left the window goes, what stays is never moved (a focused message keeps the focus). */
  function place(nodes) {
    const focused = list.contains(document.activeElement) ? document.activeElement.closest("li") : null;
    const focusKey = focused?.dataset.key;
    const keep = new Set(nodes);
    for (const child of [...list.children]) if (!keep.has(child)) child.remove();
    let here = list.firstElementChild;
    for (const node of nodes) {
      if (node === here) here = here.nextElementSibling;
      else list.insertBefore(node, here);
    }
    if (focusKey && !list.contains(document.activeElement)) {
      const again = bubbles.get(focusKey)?.element;
      if (again?.parentNode === list) again.focus({ preventScroll: true });
    }
  }

  // Up/Down/Home/End between messages (message_keys.js) cross the window's edge: the next one is drawn.
  list.addEventListener("heartlink:message-step", (event) => {
    event.detail.element = neighbour(event.detail.key, event.detail.step);
  });

  /** heartlink:show-message {roomId, seq} (a reply's quote, a search result): the message loaded
   * if it is not yet (older pages down to it), drawn, centred, flashed and focused. */
  async function showMessage({ roomId, seq = null, id = null }) {
    if (!roomId) return;
    if (roomId !== store.state.roomId || store.chat(roomId).status !== "ready") { // once that room is open and joined
      pendingShow = { roomId, seq, id };
      return;
    }
    const chat = store.chat(roomId);
    const find = () => (seq !== null ? store.messageBySeq(roomId, seq) : store.messageById(roomId, id));
    const reached = () => Boolean(find()) || (seq !== null && chat.messages.length > 0 && chat.messages[0].seq <= seq);
    if (!reached()) await actions.loadBackTo(roomId, reached, seq);
    const message = find();
    if (!message || store.state.roomId !== roomId || !indexOf.has(messageKey(message))) return;
    pinned = false;
    jumping = false;
    const node = showIndex(indexOf.get(messageKey(message)), "center");
    if (!node) return;
    node.classList.remove("message--flash");
    void node.offsetWidth; // restart the animation
    node.classList.add("message--flash");
    node.focus({ preventScroll: true });
    showJump();
  }
  document.addEventListener("heartlink:show-message", (event) => {
    const { roomId, seq, id } = event.detail || {};
    showMessage({ roomId, seq: seq == null ? null : Number(seq), id: id ?? null });
  });

  function renderHeader(room) {
    const partner = store.partnerOf(room);
    paintAvatar($("partner-avatar"), partner);
    $("partner-avatar").dataset.veiled = String(Boolean(partner?.veiled));
    $("partner-name").textContent = displayName(partner, t("someone"));
    const tags = room.shared_interests || [];
    shared.textContent = tags.length ? t("shared_interests", { interests: tags.join(t("list_separator")) }) : "";
    shared.title = shared.textContent; // whole, where the line is too narrow for it
    show(shared, tags.length > 0);
    renderReveal(room);
    const presence = $("partner-presence");
    // Hidden presence (their privacy or mine, a block, an ended link) comes as offline with no
    // "last seen": show nothing rather than a false "offline", as WhatsApp does.
    if (!partner) presence.textContent = "";
    else if (partner.online) presence.textContent = t("online");
    else presence.textContent = partner.last_seen ? formatLastSeen(partner.last_seen) : "";
    presence.dataset.online = String(Boolean(partner?.online));
    presence.dataset.hidden = String(!presence.textContent);
  }

  /** "3 more messages each to see each other", until the two are revealed to each other. */
  function renderReveal(room) {
    const progress = room.status === "active" ? store.revealProgress(room.id) : null;
    show(revealLine, Boolean(progress));
    revealLine.dataset.revealed = String(Boolean(room.reveal?.revealed));
    if (!progress) return;
    const mine = Math.max(0, progress.after - progress.mine);
    const theirs = Math.max(0, progress.after - progress.theirs);
    if (mine && theirs && mine !== theirs) {
      revealLine.textContent = t("reveal_both", { mine, theirs });
    } else {
      const count = mine || theirs;
      const key = mine && theirs ? "reveal_each" : mine ? "reveal_mine" : "reveal_theirs";
      revealLine.textContent = t(count === 1 ? `${key}_one` : key, { count });
    }
    revealLine.dataset.mine = String(mine);
    revealLine.dataset.theirs = String(theirs);
  }

  function endedText(room) {
    if (room.end_reason === "idle") return t("ended_idle");
    // The blocker is told why; the person blocked only sees that the link ended, as in WhatsApp.
    if (room.end_reason === "blocked" && room.ended_by === me.id) { // strings: partials/safety.html
      return t("ended_blocked_by_me", { name: displayName(store.partnerOf(room), t("someone")) });
    }
    if (room.ended_by === me.id) return t("ended_by_me");
    if (room.ended_by) return t("ended_by_partner", { name: displayName(store.partnerOf(room), t("someone")) });
    return t("ended");
  }

  /** "Keep this link" between the two: the partner's invitation, or mine waiting for them. */
  function renderKeep(room) {
    const keepable = room.keepable !== false; // false once either has blocked the other
    const mine = keptByMe(room);
    const theirs = (room.kept_by || []).some((id) => String(id) !== String(me.id));
    const name = displayName(store.partnerOf(room), t("someone"));
    show(keepButton, keepable);
    keepButton.setAttribute("aria-pressed", String(mine));
    keepButton.textContent = mine ? t("kept_button") : t("keep_link");
    const invited = keepable && theirs && !mine;
    const waiting = keepable && mine && !theirs;
    keepBannerText.textContent = invited ? t("kept_by_partner", { name }) : waiting ? t("kept_waiting", { name }) : "";
    keepBanner.dataset.state = invited ? "invited" : waiting ? "waiting" : "";
    show(keepTooButton, invited);
    show(keepBanner, invited || waiting);
    // Once both keep it, an ended link says it can be opened again.
    keptText.textContent = room.kept ? t("kept_both") : "";
    show(keptText, Boolean(room.kept) && room.status === "ended");
  }

  function announce(message) {
    if (message.sender_id === me.id) return;
    const name = displayName(store.partnerOf(store.room(message.room_id)), t("someone"));
    announcer.textContent = t("announce_message", { name, text: snippet(message) || t("attachment") });
  }

  /** Another room is on screen: its draft in the box, no error, no "new" count or divider, focus to come. */
  function showRoom(roomId) {
    bubbles.clear();
    heights.clear();
    itemsByKey = new Map();
    drawn = [0, 0];
    shownRoomId = roomId;
    input.value = loadDraft(me.id, roomId);
    fitInput();
    showCount();
    showError(null);
    clearNewBelow();
    divider = null;
    wantFocus = true;
  }

  /** The room's state on the chat element (for the CSS and the tests), and the header. */
  function renderRoomState(room, chat) {
    root.dataset.roomStatus = room?.status || "";
    root.dataset.endReason = room?.end_reason || "";
    root.dataset.chatStatus = chat.status;
    root.dataset.kept = room?.kept ? "both" : room && keptByMe(room) ? "me" : "";
    if (room) renderHeader(room);
  }

  /** Around the history: "link ended", End, Keep and Reopen, "Load older", the start-of-link intro. */
  function renderLinkState(room, chat, count) {
    const isEnded = room?.status === "ended";
    const ready = chat.status === "ready";
    show(ended, isEnded);
    if (isEnded) $("room-ended-text").textContent = endedText(room);
    show(endButton, room?.status === "active");
    show(nextButton, room?.status === "active");
    if (room) {
      renderKeep(room);
      show(reopenButton, isEnded && Boolean(room.kept));
    } else {
      show(keepButton, false);
      show(keepBanner, false);
    }
    show(olderButton, ready && chat.hasMore);
    olderButton.disabled = chat.loadingOlder;
    olderButton.textContent = chat.loadingOlder ? t("loading") : t("load_older");
    show(intro, ready && !chat.hasMore && count === 0 && !isEnded);
    if (room) intro.textContent = t("start_of_link", { name: displayName(store.partnerOf(room), t("someone")) });
  }

  /** The composer is usable once the room is ready, while the link lasts; its error line. Returns whether usable. */
  function renderComposerState(room, chat, { switched, waiting }) {
    const isEnded = room?.status === "ended";
    const disabled = chat.status !== "ready" || isEnded;
    composer.dataset.disabled = String(disabled);
    show(composer, !isEnded); // an ended link offers "Find a new heart link" instead
    input.disabled = disabled;
    sendButton.disabled = disabled || !input.value.trim();
    if (chat.status === "error") showError(chat.error);
    else if (switched) showError(null);
    // Over the message rate: the sends wait in the outbox and go by themselves (live/outbox.js).
    if (waiting) showError(t("sending_paced", { seconds: waiting }), "paced");
    else if (errorLine.dataset.kind === "paced" && ![...chat.outbox.values()].some((entry) => entry.waiting)) showError(null);
    return !disabled;
  }

  function render(detail = {}) {
    const roomId = store.state.roomId;
    if (!roomId) return;
    const chat = store.chat(roomId);
    const room = store.room(roomId);
    const switched = shownRoomId !== roomId;
    if (switched) showRoom(roomId);
    if (chat.unreadAtOpen) {
      divider = { count: chat.unreadAtOpen };
      chat.unreadAtOpen = 0;
    }
    notePinned(); // before anything is drawn: a scroll up whose event is still to come counts
    const incoming = Boolean(detail.live && detail.message?.room_id === roomId && detail.incoming);
    // A partner's message while scrolled up counts as new below, after the unread divider.
    if (incoming && !switched && !detail.pending && !pinned) {
      newBelow += 1;
      if (!divider || divider.count < newBelow) divider = { count: newBelow };
    }

    renderRoomState(room, chat);
    const count = renderMessages(chat, { switched, pending: detail.pending });
    renderLinkState(room, chat, count);
    const usable = renderComposerState(room, chat, { switched, waiting: detail.waiting });
    showJump();
    if (incoming) announce(detail.message);
    if (wantFocus && chat.status === "ready") {
      wantFocus = false;
      if (usable && window.matchMedia("(pointer: fine)").matches) input.focus();
    }
    if (pendingShow?.roomId === roomId && chat.status === "ready") {
      const wanted = pendingShow;
      pendingShow = null;
      showMessage(wanted);
    }
  }

  store.subscribe((topic, detail) => {
    if (topic === "chat" && detail?.roomId && detail.roomId !== store.state.roomId) return;
    if (topic === "chat" || topic === "route" || topic === "presence") render(detail || {});
  });
  setInterval(() => {
    const room = store.state.roomId && store.room(store.state.roomId);
    if (room) renderHeader(room); // "last seen 3 minutes ago" moves on
  }, 30 * 1000);
  render();
}

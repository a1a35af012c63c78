// The chat room: header with the partner, the history, the composer, the "link ended" state,
// the draft kept per room, the "↓ 2 new" jump button, the unread divider, and the live region
// that announces new messages to screen readers.
import { dayKey, formatDateTime, formatDay, formatLastSeen, formatTime, locale, t } from "../i18n.js";
import { loadDraft, saveDraft } from "../drafts.js";
import { confirmDialog } from "./confirm.js";
import { displayName, h, paintAvatar, show } from "./dom.js";
import { callLine } from "./call_line.js";
import { createMessageContent, snippet } from "./message_content.js";

const NEAR_BOTTOM_PX = 120;
const PINNED_PX = 48; // this close to the bottom, the chat follows the newest message
const COUNT_FROM = 0.9; // the composer shows "3,612 / 4,000" from this share of the limit on

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
  const bubbles = new Map(); // key -> {element, signature}
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
    jumping = true;
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: "smooth" });
    clearNewBelow();
  });
  scroller.addEventListener("scroll", () => {
    notePinned();
    if (newBelow && distanceFromBottom() < NEAR_BOTTOM_PX) clearNewBelow();
    showJump();
  }, { passive: true });
  // A smooth scroll may end short of a bottom that moved meanwhile: finish it.
  scroller.addEventListener("scrollend", () => {
    if (pinned && distanceFromBottom() > 1) toBottom();
    else jumping = false;
  });
  for (const move of ["wheel", "touchstart", "keydown", "pointerdown"]) {
    scroller.addEventListener(move, () => { jumping = false; }, { passive: true });
  }
  // While pinned, whatever changes the height of the history or of the view (a medium loading, the
  // composer growing, the keyboard opening) keeps the newest message in view.
  const follow = new ResizeObserver(() => {
    if (pinned) toBottom();
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
    const signature = [state, receipt, message.text, message.deleted, message.edited_at, message.error, content.contentSignature(message)].join("|");
    const known = bubbles.get(key);
    if (known && known.signature === signature) return known.element;

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

  function renderMessages(chat) {
    const items = [
      ...chat.messages.map((message) => [message, "sent"]),
      ...[...chat.outbox.values()].map((entry) => [entry, entry.state]),
    ];
    // The unread divider goes before the count-th last message from the partner.
    let dividerBefore = null;
    if (divider?.count) {
      let left = divider.count;
      for (let index = chat.messages.length - 1; index >= 0 && left > 0; index -= 1) {
        if (chat.messages[index].sender_id !== me.id) {
          left -= 1;
          if (!left) dividerBefore = chat.messages[index].seq;
        }
      }
    }
    const nodes = [];
    let lastDay = null;
    for (const [message, state] of items) {
      const day = dayKey(message.created_at);
      if (day !== lastDay) {
        nodes.push(h("li", { class: "day-separator", "data-testid": "day" }, h("span", { text: formatDay(message.created_at) })));
        lastDay = day;
      }
      if (dividerBefore !== null && message.seq === dividerBefore && state === "sent") {
        nodes.push(h("li", { class: "unread-divider", "data-testid": "unread-divider" },
          h("span", { text: divider.count === 1 ? t("unread_divider_one") : t("unread_divider", { count: divider.count }) })));
      }
      nodes.push(bubble(message, state));
    }
    place(nodes);
    return items.length;
  }

  /** Put `nodes` in the list, moving only what changed: a focused message keeps the focus. */
  function place(nodes) {
    const focused = list.contains(document.activeElement) ? document.activeElement.closest("li") : null;
    const focusKey = focused && (focused.dataset.clientId || focused.dataset.seq);
    nodes.forEach((node, index) => {
      const here = list.children[index];
      if (here !== node) list.insertBefore(node, here || null);
    });
    while (list.children.length > nodes.length) list.lastElementChild.remove();
    if (focusKey && !list.contains(document.activeElement)) {
      const again = [...list.children].find((item) => (item.dataset.clientId || item.dataset.seq) === focusKey);
      again?.focus({ preventScroll: true });
    }
  }

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

  /**
   * Where the history stands once drawn: older messages above keep what was on screen in place; a
   * room just opened shows its unread divider, else its newest message, which a pinned view (or my
   * own send) follows; a partner's message arriving while scrolled up counts as new below.
   * `before`: the scroller's {height, top} before drawing.
   */
  function restoreScroll(chat, { switched, older, pending, incoming }, before) {
    if (older) {
      scroller.scrollTop = scroller.scrollHeight - before.height + before.top;
    } else if (switched && divider && list.querySelector('[data-testid="unread-divider"]')) {
      list.querySelector('[data-testid="unread-divider"]').scrollIntoView({ block: "start" });
      lastTop = scroller.scrollTop;
      pinned = distanceFromBottom() <= PINNED_PX;
    } else if (switched || pending || pinned) {
      pinned = true;
      toBottom();
    } else if (incoming) {
      newBelow += 1;
      if (!divider) divider = { count: newBelow };
      else if (divider.count < newBelow) divider = { count: newBelow };
      renderMessages(chat); // with the divider
    }
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
    const before = { height: scroller.scrollHeight, top: scroller.scrollTop };
    const incoming = Boolean(detail.live && detail.message?.room_id === roomId && detail.incoming);

    renderRoomState(room, chat);
    const count = renderMessages(chat);
    renderLinkState(room, chat, count);
    const usable = renderComposerState(room, chat, { switched, waiting: detail.waiting });
    restoreScroll(chat, { switched, older: detail.older, pending: detail.pending, incoming }, before);
    showJump();
    if (incoming) announce(detail.message);
    if (wantFocus && chat.status === "ready") {
      wantFocus = false;
      if (usable && window.matchMedia("(pointer: fine)").matches) input.focus();
    }
  }

  store.subscribe((topic, detail) => {
    if (topic === "chat" && detail?.roomId && detail.roomId !== store.state.roomId) return;
    if (topic === "chat" || topic === "route" || topic === "presence") render(detail || {});
  });
  // Search (views/search.js) asks to show a message: earlier pages load until it is in the list;
  // then it is scrolled to, flashed and focused.
  document.addEventListener("heartlink:show-message", async (event) => {
    const { roomId, seq } = event.detail || {};
    if (!roomId || roomId !== store.state.roomId) return;
    const find = () => list.querySelector(`[data-testid="message"][data-seq="${CSS.escape(String(seq))}"]`);
    for (let tries = 0; !find() && tries < 500 && store.state.roomId === roomId; tries += 1) {
      const chat = store.chat(roomId);
      if (chat.loadingOlder) await new Promise((resolve) => setTimeout(resolve, 50)); // a page is on its way
      else if (chat.hasMore) await actions.loadOlder(roomId);
      else break;
    }
    const target = find();
    if (!target) return;
    target.scrollIntoView({ block: "center" });
    target.classList.remove("message--flash");
    void target.offsetWidth; // restart the animation
    target.classList.add("message--flash");
    if (!target.hasAttribute("tabindex")) target.tabIndex = -1;
    target.focus({ preventScroll: true });
  });
  setInterval(() => {
    const room = store.state.roomId && store.room(store.state.roomId);
    if (room) renderHeader(room); // "last seen 3 minutes ago" moves on
  }, 30 * 1000);
  render();
}

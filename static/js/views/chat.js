// The chat room: header with the partner, the history, the composer, the "link ended" state.
import { dayKey, formatAgo, formatDay, formatTime, t } from "../i18n.js";
import { displayName, h, paintAvatar, show } from "./dom.js";
import { callLine } from "./call-line.js";
import { contentSignature, renderAround, renderContent } from "./message_content.js";

const NEAR_BOTTOM_PX = 120;

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
  const endButton = $("end-link");
  const bubbles = new Map(); // key -> {element, signature}
  let shownRoomId = null;
  let wantFocus = false;

  // --- the person's actions ---------------------------------------------------------
  function submit() {
    const roomId = store.state.roomId;
    const text = input.value;
    if (!roomId || !text.trim() || composer.dataset.disabled === "true") return;
    if (text.trim().length > textMax) {
      showError(t("too_long", { max: textMax }));
      return;
    }
    input.value = "";
    fitInput();
    showError(null);
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
    }
  });
  input.addEventListener("input", () => {
    fitInput();
    sendButton.disabled = !input.value.trim() || composer.dataset.disabled === "true";
  });
  olderButton.addEventListener("click", () => actions.loadOlder(store.state.roomId));
  endButton.addEventListener("click", () => {
    if (window.confirm(t("end_confirm"))) actions.endLink(store.state.roomId);
  });
  list.addEventListener("click", (event) => {
    const retry = event.target.closest("[data-retry]");
    if (retry) actions.retry(store.state.roomId, retry.dataset.retry);
  });
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

  function showError(text) {
    errorLine.textContent = text || "";
    show(errorLine, Boolean(text));
  }

  // --- drawing --------------------------------------------------------------------------
  function bubble(message, me, state) {
    const mine = message.sender_id === me.id;
    const key = message.client_id || `seq:${message.seq}`;
    const receipt = mine ? store.receiptOf(message, state) : null; // pending | sent | delivered | read
    const signature = [state, receipt, message.text, message.deleted, message.edited_at, message.error, contentSignature(message)].join("|");
    const known = bubbles.get(key);
    if (known && known.signature === signature) return known.element;

    if (message.kind === "call" && message.call) { // a finished call: views/call-line.js
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
      class: "bubble__status", "data-testid": "message-status", title: t(receipt), "aria-label": t(receipt),
    }) : null;
    const element = h("li", {
      class: `message ${mine ? "message--mine" : "message--theirs"}`,
      "data-testid": "message",
      dataset: { seq: message.seq ?? "", clientId: message.client_id || "", state, mine: String(mine), ...(receipt && { receipt }) },
    },
    h("div", { class: `bubble${message.deleted ? " bubble--deleted" : ""}` },
      renderContent(message), // text, emoji, picture, voice note, file, reply quote: message_content.js
      h("span", { class: "bubble__meta" },
        h("time", { datetime: message.created_at, text: formatTime(message.created_at) }),
        status)),
    renderAround(message, state), // reactions and the message's actions
    state === "failed" ? h("p", { class: "message__failure" },
      h("span", { text: message.error || t("failed") }),
      message.retryable ? h("button", { type: "button", class: "link-button", "data-retry": message.client_id, "data-testid": "retry", text: t("retry") }) : null)
      : null);
    bubbles.set(key, { element, signature });
    return element;
  }

  function renderMessages(chat) {
    const me = store.state.me;
    const items = [
      ...chat.messages.map((message) => [message, "sent"]),
      ...[...chat.outbox.values()].map((entry) => [entry, entry.state]),
    ];
    const nodes = [];
    let lastDay = null;
    for (const [message, state] of items) {
      const day = dayKey(message.created_at);
      if (day !== lastDay) {
        nodes.push(h("li", { class: "day-separator", "data-testid": "day" }, h("span", { text: formatDay(message.created_at) })));
        lastDay = day;
      }
      nodes.push(bubble(message, me, state));
    }
    list.replaceChildren(...nodes);
    return items.length;
  }

  function renderHeader(room) {
    const partner = store.partnerOf(room);
    paintAvatar($("partner-avatar"), partner);
    $("partner-name").textContent = displayName(partner, t("someone"));
    const presence = $("partner-presence");
    if (!partner) presence.textContent = "";
    else if (partner.online) presence.textContent = t("online");
    else presence.textContent = partner.last_seen ? t("last_seen", { when: formatAgo(partner.last_seen) }) : t("offline_presence");
    presence.dataset.online = String(Boolean(partner?.online));
  }

  function endedText(room) {
    if (room.end_reason === "idle") return t("ended_idle");
    // The blocker is told why; the person blocked only sees that the link ended, as in WhatsApp.
    if (room.end_reason === "blocked" && room.ended_by === store.state.me.id) { // strings: partials/safety.html
      return t("ended_blocked_by_me", { name: displayName(store.partnerOf(room), t("someone")) });
    }
    if (room.ended_by === store.state.me.id) return t("ended_by_me");
    if (room.ended_by) return t("ended_by_partner", { name: displayName(store.partnerOf(room), t("someone")) });
    return t("ended");
  }

  function render(detail = {}) {
    const roomId = store.state.roomId;
    if (!roomId) return;
    const chat = store.chat(roomId);
    const room = store.room(roomId);
    const switched = shownRoomId !== roomId;
    if (switched) {
      bubbles.clear();
      shownRoomId = roomId;
      input.value = "";
      fitInput();
      showError(null);
      wantFocus = true;
    }
    const fromBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    const heightBefore = scroller.scrollHeight;
    const topBefore = scroller.scrollTop;

    root.dataset.roomStatus = room?.status || "";
    root.dataset.endReason = room?.end_reason || "";
    root.dataset.chatStatus = chat.status;
    if (room) renderHeader(room);
    const count = renderMessages(chat);

    const isEnded = room?.status === "ended";
    const ready = chat.status === "ready";
    show(ended, isEnded);
    if (isEnded) $("room-ended-text").textContent = endedText(room);
    show(endButton, room?.status === "active");
    show(olderButton, ready && chat.hasMore);
    olderButton.disabled = chat.loadingOlder;
    olderButton.textContent = chat.loadingOlder ? t("loading") : t("load_older");
    show(intro, ready && !chat.hasMore && count === 0 && !isEnded);
    if (room) intro.textContent = t("start_of_link", { name: displayName(store.partnerOf(room), t("someone")) });

    const disabled = !ready || isEnded;
    composer.dataset.disabled = String(disabled);
    input.disabled = disabled;
    sendButton.disabled = disabled || !input.value.trim();
    if (chat.status === "error") showError(chat.error);
    else if (switched) showError(null);
    if (detail.failed?.code === "rate_limited") showError(detail.failed.message); // "Slow down …; try again in 5 s."

    if (detail.older) {
      scroller.scrollTop = scroller.scrollHeight - heightBefore + topBefore;
    } else if (switched || detail.pending || fromBottom < NEAR_BOTTOM_PX) {
      scroller.scrollTop = scroller.scrollHeight;
    }
    if (wantFocus && ready) {
      wantFocus = false;
      if (!disabled && window.matchMedia("(pointer: fine)").matches) input.focus();
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

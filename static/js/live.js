// Live signals on the page: delivery and read receipts, typing, the unread count in the tab
// title, the connection banner, and the outbox kept in localStorage so a reload loses nothing.
//
// - `message:delivered` goes out as soon as this tab holds a partner's message (any room);
//   `message:read` only for messages actually on screen (IntersectionObserver) while the tab
//   is visible, catching up when it becomes visible again.
// - Typing: at most one `typing: true` per TYPING_REFRESH_MS while keys are pressed, `false`
//   on send, blur, an emptied box or TYPING_IDLE_MS without a key. A partner's typing is over
//   after TYPING_EXPIRES_MS without a refresh (the server never expires it).
// - Unacked sends are saved per user under `heartlink:outbox:<user id>:<client_id>`; a new
//   page shows them pending and resends them with their original client_id on connect.
import { t } from "./i18n.js";
import { displayName, h, show } from "./views/dom.js";

const TYPING_REFRESH_MS = 2500;
const TYPING_IDLE_MS = 3000;
const TYPING_EXPIRES_MS = 6000;
const SEEN_RATIO = 0.5; // this much of a bubble in view (or SEEN_PX of it) counts as seen
const SEEN_PX = 48;

export function mountLive(root, store, socket, actions) {
  const me = store.state.me;
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);

  // --- marks: delivered (any tab that holds the message) and read (on screen) ---------------
  const asked = { "message:delivered": new Map(), "message:read": new Map() }; // event -> room -> seq

  async function mark(event, roomId, upTo) {
    const sent = asked[event];
    const own = store.state.chats.get(roomId)?.receipts[me.id];
    const known = Math.max(sent.get(roomId) || 0, (event === "message:read" ? own?.read_seq : own?.delivered_seq) || 0);
    if (!upTo || upTo <= known || !socket.connected) return;
    sent.set(roomId, upTo);
    try {
      const ack = await socket.request(event, { room_id: roomId, up_to_seq: upTo });
      if (ack.receipt) store.receipt(ack.receipt);
    } catch {
      if (sent.get(roomId) === upTo) sent.delete(roomId); // asked again on the next change or connect
    }
  }

  /** Every room whose newest message this tab holds but has not confirmed as delivered. */
  function deliverAll() {
    for (const room of store.state.rooms.values()) {
      const upTo = Math.max(room.last_seq || 0, store.lastSeq(room.id) || 0);
      const last = room.last_message;
      if (room.unread > 0 || (last && last.sender_id !== me.id)) mark("message:delivered", room.id, upTo);
    }
  }

  const scroller = $("messages-scroll");
  const list = $("messages");
  const onScreen = new Map(); // partner's bubble -> seq, while it is in view
  const observed = new Set();
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const seen = entry.isIntersecting
        && (entry.intersectionRatio >= SEEN_RATIO || entry.intersectionRect.height >= SEEN_PX);
      if (seen) onScreen.set(entry.target, Number(entry.target.dataset.seq));
      else onScreen.delete(entry.target);
    }
    readWhatIsSeen();
  }, { root: scroller, threshold: [0, 0.25, SEEN_RATIO, 1] });

  function observeBubbles() {
    for (const element of observed) {
      if (!element.isConnected) {
        observer.unobserve(element);
        observed.delete(element);
        onScreen.delete(element);
      }
    }
    for (const element of list.querySelectorAll('[data-testid="message"][data-mine="false"]')) {
      if (!observed.has(element) && element.dataset.seq) {
        observed.add(element);
        observer.observe(element);
      }
    }
  }

  function readWhatIsSeen() {
    const roomId = store.state.roomId;
    if (!roomId || document.visibilityState !== "visible" || store.chat(roomId).status !== "ready") return;
    let upTo = 0;
    for (const [element, seq] of onScreen) if (element.isConnected && seq > upTo) upTo = seq;
    mark("message:read", roomId, upTo);
  }

  document.addEventListener("visibilitychange", readWhatIsSeen);

  // --- typing: what this person types ---------------------------------------------------------
  const input = $("composer-input");
  let typingIn = null; // room id the last `typing: true` went to
  let lastTrueAt = 0;
  let idleTimer = null;

  function sendTyping(roomId, typing) {
    if (socket.connected) socket.request("typing", { room_id: roomId, typing }).catch(() => {});
  }

  function stopTyping() {
    clearTimeout(idleTimer);
    if (typingIn) sendTyping(typingIn, false);
    typingIn = null;
    lastTrueAt = 0;
  }

  input.addEventListener("input", () => {
    const roomId = store.state.roomId;
    if (!roomId || store.room(roomId)?.status !== "active" || !input.value.trim()) {
      stopTyping();
      return;
    }
    if (typingIn && typingIn !== roomId) stopTyping();
    if (typingIn !== roomId || Date.now() - lastTrueAt >= TYPING_REFRESH_MS) {
      typingIn = roomId;
      lastTrueAt = Date.now();
      sendTyping(roomId, true);
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  input.addEventListener("blur", stopTyping);

  // --- typing: what the partner types ----------------------------------------------------------
  const typingLine = $("partner-typing");
  const who = typingLine.closest(".chat__who");
  const typists = new Map(); // room id -> {userId, timer}

  function partnerStopped(roomId) {
    clearTimeout(typists.get(roomId)?.timer);
    if (typists.delete(roomId)) renderTyping();
  }

  function renderTyping() {
    const roomId = store.state.roomId;
    const typist = roomId && typists.get(roomId);
    const room = roomId && store.room(roomId);
    if (typist && room) typingLine.textContent = t("typing", { name: displayName(store.partnerOf(room), t("someone")) });
    show(typingLine, Boolean(typist && room));
    who.dataset.typing = String(Boolean(typist && room));
  }

  socket.on("typing", ({ room_id: roomId, user_id: userId, typing }) => {
    if (userId === me.id) return;
    clearTimeout(typists.get(roomId)?.timer);
    if (typing) {
      typists.set(roomId, { userId, timer: setTimeout(() => partnerStopped(roomId), TYPING_EXPIRES_MS) });
      renderTyping();
    } else {
      partnerStopped(roomId);
    }
  });
  socket.on("message:new", ({ message }) => {
    if (typists.get(message.room_id)?.userId === message.sender_id) partnerStopped(message.room_id);
    if (message.sender_id !== me.id) mark("message:delivered", message.room_id, message.seq);
  });
  socket.on("presence", ({ user_id: userId, online }) => {
    if (online) return;
    for (const [roomId, typist] of typists) if (typist.userId === userId) partnerStopped(roomId);
  });
  socket.on("receipt", (receipt) => store.receipt(receipt));

  // --- the outbox, kept across reloads -------------------------------------------------------
  const prefix = `heartlink:outbox:${me.id}:`;
  const saved = new Set(); // keys this page wrote or took over
  const storage = (() => {
    try {
      return window.localStorage;
    } catch {
      return null; // storage blocked: the outbox lives as long as the page
    }
  })();

  function saveOutbox() {
    if (!storage) return;
    const keep = new Set();
    for (const entry of store.outboxEntries()) {
      if ((entry.state !== "pending" && !entry.retryable) || (entry.kind !== "text" && !entry.attachment_id)) continue;
      const key = prefix + entry.client_id;
      keep.add(key);
      if (saved.has(key)) continue;
      // The wire fields, and the uploaded attachment's description to draw it (JSON, from the server).
      const { client_id, room_id, kind, text, attachment_id, attachment, reply_to, created_at } = entry;
      try {
        storage.setItem(key, JSON.stringify({ client_id, room_id, kind, text, attachment_id, attachment, reply_to, created_at }));
        saved.add(key);
      } catch {
        // Full or refused: it still goes out on reconnect while this page lives.
      }
    }
    for (const key of saved) {
      if (!keep.has(key)) {
        storage.removeItem(key);
        saved.delete(key);
      }
    }
  }

  function restoreOutbox() {
    if (!storage) return [];
    const found = [];
    for (let index = 0; index < storage.length; index += 1) {
      const key = storage.key(index);
      if (!key?.startsWith(prefix)) continue;
      try {
        const entry = JSON.parse(storage.getItem(key));
        if (typeof entry?.client_id === "string" && typeof entry.room_id === "string" && `${prefix}${entry.client_id}` === key) {
          found.push(entry);
          continue;
        }
      } catch {
        // unreadable: dropped below
      }
      found.push({ broken: key });
    }
    for (const entry of found.filter((item) => item.broken)) storage.removeItem(entry.broken);
    const restored = [];
    for (const entry of found.filter((item) => !item.broken).sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)))) {
      saved.add(prefix + entry.client_id);
      const queued = store.restoreSend(entry);
      if (queued) restored.push(queued);
    }
    return restored;
  }

  let toResend = restoreOutbox();
  socket.on("connect", () => {
    // The first connect of this page sends what an earlier page left; later ones go through
    // app.js's catch-up, which resends the whole outbox.
    for (const entry of toResend) actions.retry(entry.room_id, entry.client_id);
    toResend = [];
    deliverAll();
    readWhatIsSeen();
  });

  // --- the tab title: "(3) Heart Link" ----------------------------------------------------------
  const baseTitle = document.title;
  function renderTitle() {
    let unread = 0;
    for (const room of store.state.rooms.values()) unread += room.unread > 0 ? room.unread : 0;
    document.title = unread ? t("title_unread", { count: unread > 99 ? "99+" : unread, title: baseTitle }) : baseTitle;
  }

  // --- the connection banner: connecting / reconnecting / offline ------------------------------
  const banner = $("connection");
  let everOnline = false;
  let bannerState = null;
  const bannerText = h("span", { class: "connection__text", "data-testid": "connection-text" });
  const bannerQueue = h("span", { class: "connection__queue", "data-testid": "connection-queue" });
  const retryNow = h("button", { type: "button", class: "connection__retry", "data-testid": "connection-retry", text: t("reconnect_now") });
  retryNow.addEventListener("click", () => socket.reconnectNow());
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

  // --- following the store ---------------------------------------------------------------
  let shownRoomId = store.state.roomId;
  store.subscribe((topic, detail) => {
    if (topic === "connection") {
      renderBanner();
      if (store.state.connection !== "online") {
        for (const roomId of [...typists.keys()]) partnerStopped(roomId); // nobody tells us it ended
        typingIn = null;
      }
    }
    if (topic === "chat") {
      saveOutbox();
      renderBanner();
      if (detail?.pending) stopTyping();
    }
    if (topic === "route" && store.state.roomId !== shownRoomId) {
      shownRoomId = store.state.roomId;
      stopTyping();
      renderTyping();
    }
    if (topic === "rooms") {
      renderTitle();
      deliverAll();
      renderTyping();
    }
    if (topic === "chat" || topic === "route") {
      // chat.js has drawn (it subscribed first); bubbles it replaced are watched anew.
      queueMicrotask(() => {
        observeBubbles();
        readWhatIsSeen();
      });
    }
  });
  renderBanner();
  renderTitle();
}

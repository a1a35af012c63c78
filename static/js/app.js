// Heart Link's page: wires the socket, the store and the views together.
// Server data arrives through data- attributes on #app (no templated script, strict CSP).
// What the server says comes in through dispatcher.js only; views subscribe to the store.
import { getJSON } from "./api.js";
import { browserMedia, createCallSession } from "./call_session.js";
import { dispatchServerEvents } from "./dispatcher.js";
import { t } from "./i18n.js";
import { mountBanner } from "./live/banner.js";
import { createSender, mountOutbox } from "./live/outbox.js";
import { mountReceipts } from "./live/receipts.js";
import { mountTyping } from "./live/typing.js";
import { mountNotify } from "./notify.js";
import { connect } from "./socket.js";
import { createStore } from "./store.js";
import { paintAvatar } from "./views/dom.js";
import { mountCalls } from "./views/call.js";
import { mountChat } from "./views/chat.js";
import { composeIntent, isEditing, mountComposerMedia } from "./views/composer_media.js";
import { mountLobby } from "./views/lobby.js";
import { mountMessageContent } from "./views/message_content.js";
import { mountMessageKeys } from "./views/message_keys.js";
import { mountRooms } from "./views/rooms.js";
import { mountSafety } from "./views/safety.js";
import { mountSettings } from "./views/settings.js";

const root = document.getElementById("app");
const config = root.dataset;
const store = createStore(JSON.parse(config.me));
const roomUrl = (roomId) => config.roomUrl.replace("ROOM_ID", encodeURIComponent(roomId));
const historyUrl = (roomId) => config.historyApi.replace("ROOM_ID", encodeURIComponent(roomId));

const historyPageSize = Number(config.historyPageSize) || 50; // the server's HISTORY_PAGE_SIZE

// A form that leaves the page (sign-out, a new password) ends this tab's socket for good on the
// way; the form's own answer says where to go next, so that close must not send the page to
// sign-in first. (Forms the page handles itself prevent their default, and leave nothing.)
let leaving = false;
document.addEventListener("submit", (event) => { if (!event.defaultPrevented) leaving = true; });

const socket = connect({
  onStatus(status) {
    if (status === "unauthorized") {
      if (!leaving) window.location.assign(`${config.loginUrl}?next=${encodeURIComponent(window.location.pathname)}`);
      return;
    }
    store.setConnection(status);
  },
});
const calls = createCallSession({
  request: (event, payload) => socket.request(event, payload),
  rtcConfig: () => getJSON(root.querySelector('[data-testid="call-view"]').dataset.rtcConfigUrl).catch(() => ({ iceServers: [] })),
  localMedia: browserMedia,
  createPeer: (rtc) => new RTCPeerConnection(rtc),
});

// --- actions the views call -----------------------------------------------------------------
const actions = {
  roomUrl,

  openRoom(roomId) {
    navigate(roomId ? roomUrl(roomId) : config.lobbyUrl);
  },

  async findLink(code = store.state.match.code) {
    store.matchStarting(code);
    try {
      const ack = await socket.request("match:start", code ? { code } : {});
      if (ack.state === "matched") store.matched(ack.room);
      else store.matchWaiting(ack.code, ack.expires_at);
    } catch (error) {
      if (error.code === "conflict" && error.details.room) store.matchConflict(error.details.room, code);
      else store.matchIdle({ text: error.message, kind: "error" });
    }
  },

  async cancelFind() {
    try {
      await socket.request("match:cancel");
      store.matchIdle();
    } catch (error) {
      store.matchIdle({ text: error.message, kind: "error" });
    }
  },

  async endAndFindAgain(roomId) {
    try {
      const ack = await socket.request("room:leave", { room_id: roomId });
      store.upsertRoom(ack.room);
    } catch (error) {
      store.matchIdle({ text: error.message, kind: "error" });
      return;
    }
    await actions.findLink();
  },

  async endLink(roomId) {
    try {
      const ack = await socket.request("room:leave", { room_id: roomId });
      store.upsertRoom(ack.room);
    } catch (error) {
      store.joinFailed(roomId, error);
    }
  },

  send(roomId, text) {
    const { replyTo, editing } = composeIntent(roomId); // static/js/views/composer_media.js
    if (editing) actions.editMessage(editing, text);
    else deliver(store.queueSend(roomId, text, replyTo ? { reply_to: replyTo.id } : {}));
  },

  // --- rich messages: attachments, reactions, edit, delete (views/message_content.js) ---
  sendAttachment(roomId, attachment, replyTo = null) {
    deliver(store.queueSend(roomId, null, {
      kind: attachment.kind, attachment_id: attachment.id, attachment, ...(replyTo && { reply_to: replyTo }),
    }));
  },
  react(message, emoji) {
    changeMessage("message:react", { room_id: message.room_id, message_id: message.id, emoji });
  },
  editMessage(message, text) {
    changeMessage("message:edit", { room_id: message.room_id, message_id: message.id, text });
  },
  deleteMessage(message) {
    changeMessage("message:delete", { room_id: message.room_id, message_id: message.id });
  },

  isEditing,
  startEdit(message) {
    media.startEdit(message);
  },

  // --- "Keep this link" and reopening a kept one ---
  async keepLink(roomId, keep) {
    try {
      store.upsertRoom((await socket.request("link:keep", { room_id: roomId, keep })).room);
    } catch (error) {
      media.showError(error.message);
    }
  },
  async reopenLink(roomId) {
    try {
      store.upsertRoom((await socket.request("link:reopen", { room_id: roomId })).room);
      join(roomId);
    } catch (error) {
      media.showError(error.message || t("reopen_failed"));
    }
  },

  retry(roomId, clientId) {
    const entry = store.chat(roomId).outbox.get(clientId);
    if (entry) deliver(entry);
  },

  async loadOlder(roomId) {
    const chat = store.chat(roomId);
    if (chat.loadingOlder || !chat.hasMore) return;
    store.olderLoading(roomId, true);
    const params = new URLSearchParams({ limit: String(historyPageSize) });
    if (chat.messages.length) params.set("before_seq", String(chat.messages[0].seq));
    try {
      store.olderLoaded(roomId, await getJSON(`${historyUrl(roomId)}?${params}`));
    } catch (error) {
      store.olderLoading(roomId, false);
      store.joinFailed(roomId, error);
    }
  },
};

// Sends go one at a time per room, in order; rate-limited ones wait and go again (live/outbox.js).
const sender = createSender({ request: (event, payload) => socket.request(event, payload), store });

function deliver(entry) {
  sender.send(entry);
}

/** An edit, deletion or reaction: the ack's message replaces the stored one (as message:updated does). */
async function changeMessage(event, payload) {
  try {
    store.updated((await socket.request(event, payload)).message);
  } catch (error) {
    media.showError(error.message);
  }
}

const catchingUp = new Set(); // rooms with a catch-up in flight: a second one would fetch the same

async function join(roomId) {
  let sinceSeq = store.chat(roomId).status === "ready" ? store.lastSeq(roomId) : null;
  if (sinceSeq === null) store.joining(roomId);
  else if (catchingUp.has(roomId)) return;
  catchingUp.add(roomId);
  try {
    // A catch-up comes in pages of at most 200: ask again from the new position until none remain.
    for (;;) {
      const ack = await socket.request("room:join", sinceSeq === null ? { room_id: roomId } : { room_id: roomId, since_seq: sinceSeq });
      store.joined(roomId, ack, sinceSeq); // live/receipts.js marks delivered / read what is on screen
      const reached = store.lastSeq(roomId);
      if (sinceSeq === null || !ack.has_more || reached <= sinceSeq) break;
      sinceSeq = reached;
    }
  } catch (error) {
    if (error.code !== "offline") store.joinFailed(roomId, error); // offline: joined on connect
  } finally {
    catchingUp.delete(roomId);
  }
}

function needsJoin(roomId) {
  const { status } = store.chat(roomId);
  return status === "idle" || status === "error";
}

/** After a reconnect: catch up the open room from its last seq, send what was never acked. */
function catchUp() {
  if (store.state.roomId) join(store.state.roomId);
  refreshRooms();
  for (const entry of store.outboxEntries()) {
    if (entry.state === "pending" || entry.retryable) deliver(entry);
  }
}

async function refreshRooms() {
  try {
    store.setRooms((await getJSON(config.roomsApi)).rooms);
  } catch {
    // The list stays as it was; the next reconnect or match refreshes it.
  }
}

// --- routing: "/" is the lobby, "/rooms/<id>" the same page with that room open, "/settings" the lobby
// with Settings open. Opening Settings from the page adds a history entry on the same URL (state
// {settings: true}), so the browser's Back closes it and a reload keeps it open; the page never leaves.
const settingsPath = new URL(root.querySelector('[data-nav="settings"]').href).pathname;

function route() {
  const match = window.location.pathname.match(/\/rooms\/([^/]+)\/?$/);
  const roomId = match ? decodeURIComponent(match[1]) : null;
  root.dataset.view = roomId ? "room" : "lobby";
  store.openRoom(roomId);
  if (roomId && socket.connected && needsJoin(roomId)) join(roomId);
  settings.show(window.location.pathname === settingsPath || window.history.state?.settings === true);
}

function openSettings() {
  if (window.history.state?.settings || window.location.pathname === settingsPath) return;
  window.history.pushState({ settings: true }, "", window.location.pathname);
  route();
}

function closeSettings() {
  if (window.history.state?.settings) window.history.back(); // popstate routes
  else navigate(config.lobbyUrl); // opened at /settings
}

function navigate(url) {
  if (url !== window.location.pathname) window.history.pushState({}, "", url);
  route();
}

window.addEventListener("popstate", route);
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-nav]");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  if (link.dataset.nav === "settings") return openSettings();
  navigate(config.lobbyUrl);
  if (link.dataset.nav === "find") actions.findLink();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && store.state.roomId) {
    store.openRoom(store.state.roomId);
  }
});

// --- what the server tells: dispatcher.js; what follows from it here ----------------------------
dispatchServerEvents(socket, store, calls, { timeout: t("timeout"), cancelledElsewhere: t("cancelled_elsewhere") });
store.subscribe((topic, detail) => {
  if (topic === "matched") actions.openRoom(detail.room.id);
  if (topic === "chat" && detail?.live && !store.room(detail.message.room_id)) refreshRooms();
  if (topic === "chat" && detail?.gap && socket.connected) join(detail.roomId); // a push was lost: catch up
  if (topic === "connection" && detail?.first) {
    // The first connect: join the room in the URL (later ones catch up).
    if (store.state.roomId && needsJoin(store.state.roomId)) join(store.state.roomId);
  } else if (topic === "connection" && detail?.cameOnline) {
    catchUp();
  }
  if (topic === "connection") root.dataset.connection = store.state.connection; // the banner: live/banner.js
});

// --- start -------------------------------------------------------------------------------------------
function paintMe() {
  paintAvatar(root.querySelector("[data-avatar-of-me]"), store.state.me);
  root.querySelector('[data-testid="me-name"]').textContent = store.state.me.display_name || store.state.me.username;
}
store.subscribe((topic) => {
  if (topic === "me") paintMe(); // user:updated about me (another tab changed my name or picture)
});
paintMe();
mountLobby(root.querySelector('[data-testid="lobby"]'), store, actions);
mountRooms(root.querySelector('[data-testid="rooms-list"]'), root.querySelector('[data-testid="rooms-empty"]'), store, actions);
mountChat(root.querySelector('[data-testid="chat"]'), store, actions, { textMax: Number(config.textMax) });
const media = mountComposerMedia(root.querySelector('[data-testid="chat"]'), store, actions);
mountMessageContent(root.querySelector('[data-testid="messages"]'), store, actions, media);
mountMessageKeys(root.querySelector('[data-testid="messages"]'));
mountCalls(root, store, calls);
mountReceipts(root, store, socket);
mountTyping(root, store, socket);
mountOutbox(store, actions);
mountBanner(root.querySelector('[data-testid="connection"]'), store, socket);
mountNotify(store, calls, actions);
mountSafety(root, store);
const settings = mountSettings(root.querySelector('[data-testid="settings-panel"]'), { onClose: closeSettings });
route();
refreshRooms();

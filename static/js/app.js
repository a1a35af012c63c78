// Heart Link's page: wires the socket, the store and the views together.
// Server data arrives through data- attributes on #app (no templated script, strict CSP).
// What the server says comes in through dispatcher.js only; views subscribe to the store.
// What the page asks of the server goes out through actions.js only.
import { createActions } from "./actions.js";
import { browserMedia, createCallSession } from "./call_session.js";
import { dispatchServerEvents } from "./dispatcher.js";
import { t } from "./i18n.js";
import { mountBanner } from "./live/banner.js";
import { mountOutbox } from "./live/outbox.js";
import { mountReceipts } from "./live/receipts.js";
import { mountTyping } from "./live/typing.js";
import { mountNotify } from "./notify.js";
import { connect } from "./socket.js";
import { createStore } from "./store.js";
import { paintAvatar } from "./views/dom.js";
import { mountCalls } from "./views/call.js";
import { mountChat } from "./views/chat.js";
import { mountComposerMedia } from "./views/composer_media.js";
import { mountLobby } from "./views/lobby.js";
import { mountMessageContent } from "./views/message_content.js";
import { mountMediaViewer } from "./views/media_viewer.js";
import { mountMessageKeys } from "./views/message_keys.js";
import { mountPartnerPanel } from "./views/partner_panel.js";
import { mountRooms } from "./views/rooms.js";
import { mountSafety } from "./views/safety.js";
import { mountSearch } from "./views/search.js";
import { mountSettings } from "./views/settings.js";
import { mountStanding } from "./views/standing.js";

const root = document.getElementById("app");
const config = root.dataset;
const store = createStore(JSON.parse(config.me), { isVisible: () => document.visibilityState === "visible" });

// A form that leaves the page (sign-out, a new password) ends this tab's socket for good on the
// way; the form's own answer says where to go next, so that close must not send the page to
// sign-in first. (Forms the page handles itself prevent their default, and leave nothing.)
let leaving = false;
document.addEventListener("submit", (event) => { if (!event.defaultPrevented) leaving = true; });

const socket = connect({
  onStatus(status, detail) {
    if (status === "restricted") {
      store.restricted(detail); // suspended or banned: views/standing.js says why, and where to go
      return;
    }
    if (status === "unauthorized") {
      // After account:restricted the server closes the socket: the page stays on its explanation.
      if (!leaving && !store.state.restriction) {
        window.location.assign(`${config.loginUrl}?next=${encodeURIComponent(window.location.pathname)}`);
      }
      return;
    }
    store.setConnection(status);
  },
});

// --- what the page asks of the server: actions.js, the one way out ------------------------------
const withId = (template, marker) => (id) => template.replace(marker, encodeURIComponent(id));
const actions = createActions({
  socket,
  store,
  urls: {
    lobby: config.lobbyUrl,
    room: withId(config.roomUrl, "ROOM_ID"),
    rooms: config.roomsApi,
    history: withId(config.historyApi, "ROOM_ID"),
    search: withId(config.searchApi, "ROOM_ID"),
    attachments: withId(config.attachmentsApi, "ROOM_ID"),
    reports: config.reportsApi,
    blocks: config.blocksApi,
    block: withId(config.blockApi, "USER_ID"),
    me: config.meApi,
    avatar: config.avatarApi,
    rtcConfig: config.rtcConfigUrl,
    warning: withId(config.warningApi, "WARNING_ID"),
    birthDate: config.birthDateUrl, // the one question an account without a date of birth must answer first
  },
  historyPageSize: Number(config.historyPageSize) || 50, // the server's HISTORY_PAGE_SIZE
  page: { navigate, composer: () => media, leave: (url) => window.location.assign(url) },
});
const calls = createCallSession({
  request: actions.callRequest,
  rtcConfig: actions.rtcConfig,
  localMedia: browserMedia,
  createPeer: (rtc) => new RTCPeerConnection(rtc),
});

function needsJoin(roomId) {
  const { status } = store.chat(roomId);
  return status === "idle" || status === "error";
}

// --- routing: "/" is the lobby, "/rooms/<id>" the same page with that room open, "/settings" the lobby
// with Settings open. Opening Settings from the page adds a history entry on the same URL (state
// {settings: true}), so the browser's Back closes it and a reload keeps it open; the page never leaves.
const settingsPath = new URL(root.querySelector('[data-nav="settings"]').href).pathname;

// On a phone the lobby shows the finding card first and the links list below it: back from a chat,
// the list is scrolled to the link just left and that link has the focus, as in a messenger's list.
const stacked = window.matchMedia("(max-width: 760px)");

function backToList(roomId) {
  const item = root.querySelector(`[data-testid="room-item"][data-room-id="${CSS.escape(roomId)}"]`);
  if (!item) return;
  item.scrollIntoView({ block: "center" });
  item.focus({ preventScroll: true });
}

function route({ toList = true } = {}) {
  const match = window.location.pathname.match(/\/rooms\/([^/]+)\/?$/);
  const roomId = match ? decodeURIComponent(match[1]) : null;
  const left = store.state.roomId;
  root.dataset.view = roomId ? "room" : "lobby";
  store.openRoom(roomId);
  if (left && !roomId && toList && stacked.matches) backToList(left);
  if (roomId && actions.connected && needsJoin(roomId)) actions.join(roomId);
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

function navigate(url, options) {
  if (url !== window.location.pathname) window.history.pushState({}, "", url);
  route(options);
}

window.addEventListener("popstate", () => route());
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-nav]");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  if (link.dataset.nav === "settings") return openSettings();
  const find = link.dataset.nav === "find"; // "Find a new heart link": the finding card, not the list
  navigate(config.lobbyUrl, { toList: !find });
  if (find) actions.findLink();
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
  if (topic === "chat" && detail?.live && !store.room(detail.message.room_id)) actions.refreshRooms();
  if (topic === "chat" && detail?.gap && actions.connected) actions.join(detail.roomId); // a push was lost: catch up
  if (topic === "connection" && detail?.first) {
    // The first connect: join the room in the URL (later ones catch up).
    if (store.state.roomId && needsJoin(store.state.roomId)) actions.join(store.state.roomId);
  } else if (topic === "connection" && detail?.cameOnline) {
    actions.catchUp();
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
mountMediaViewer(store, actions);
mountPartnerPanel(root, store, actions);
mountCalls(root, store, calls);
mountReceipts(root, store, actions);
mountTyping(root, store, actions);
mountOutbox(store, actions);
mountBanner(root.querySelector('[data-testid="connection"]'), store, actions);
mountNotify(store, calls, actions);
mountSafety(root, store, actions);
mountSearch(root.querySelector('[data-testid="search-panel"]'), root.querySelector('[data-testid="search-open"]'), store, actions);
const settings = mountSettings(root.querySelector('[data-testid="settings-panel"]'), actions, { onClose: closeSettings });
mountStanding(store, actions);
store.warned(...JSON.parse(config.warnings || "[]")); // shown on every page load until acknowledged
route();
actions.refreshRooms();

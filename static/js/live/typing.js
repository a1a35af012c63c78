// Typing: what this person types goes out as `typing` (at most one `true` per TYPING_REFRESH_MS
// while keys are pressed; `false` on send, blur, an emptied box or TYPING_IDLE_MS without a key),
// and the partner's typing (store.state.typing, from dispatcher.js) is shown in the header,
// over after TYPING_EXPIRES_MS without a refresh (the server never expires it).
import { t } from "../i18n.js";
import { displayName, show } from "../views/dom.js";

const TYPING_REFRESH_MS = 2500;
const TYPING_IDLE_MS = 3000;
const TYPING_EXPIRES_MS = 6000;

export function mountTyping(root, store, actions) {
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const input = $("composer-input");
  let typingIn = null; // room id the last `typing: true` went to
  let lastTrueAt = 0;
  let idleTimer = null;

  function stopTyping() {
    clearTimeout(idleTimer);
    if (typingIn) actions.sendTyping(typingIn, false);
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
      actions.sendTyping(roomId, true);
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  input.addEventListener("blur", stopTyping);

  // --- the partner ---------------------------------------------------------------------------
  const typingLine = $("partner-typing");
  const who = typingLine.closest(".chat__who");
  const expiries = new Map(); // room id -> timer

  function renderTyping() {
    for (const [roomId, timer] of expiries) {
      if (!store.state.typing.has(roomId)) {
        clearTimeout(timer);
        expiries.delete(roomId);
      }
    }
    for (const [roomId, typist] of store.state.typing) {
      clearTimeout(expiries.get(roomId));
      const wait = Math.max(0, typist.at + TYPING_EXPIRES_MS - Date.now());
      expiries.set(roomId, setTimeout(() => store.typingExpired(roomId, typist.at), wait));
    }
    const roomId = store.state.roomId;
    const typist = roomId && store.state.typing.get(roomId);
    const room = roomId && store.room(roomId);
    if (typist && room) typingLine.textContent = t("typing", { name: displayName(store.partnerOf(room), t("someone")) });
    show(typingLine, Boolean(typist && room));
    who.dataset.typing = String(Boolean(typist && room));
  }

  let shownRoomId = store.state.roomId;
  store.subscribe((topic, detail) => {
    if (topic === "typing" || topic === "rooms") renderTyping();
    if (topic === "connection" && store.state.connection !== "online") typingIn = null;
    if (topic === "chat" && detail?.pending) stopTyping();
    if (topic === "route" && store.state.roomId !== shownRoomId) {
      shownRoomId = store.state.roomId;
      stopTyping();
      renderTyping();
    }
  });
}

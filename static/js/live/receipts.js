// Delivery and read receipts this tab sends.
// - `message:delivered` as soon as this tab holds a partner's message (any room): from the store's
//   "chat" change for a live message, and for every listed room on connect.
// - `message:read` only for messages actually on screen (IntersectionObserver) while the tab is
//   visible, catching up when it becomes visible again. New bubbles are found by watching the
//   list (MutationObserver), so nothing depends on the order of store subscribers.
const SEEN_RATIO = 0.5; // this much of a bubble in view (or SEEN_PX of it) counts as seen
const SEEN_PX = 48;

export function mountReceipts(root, store, actions) {
  const me = store.state.me;
  const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
  const asked = { "message:delivered": new Map(), "message:read": new Map() }; // event -> room -> seq

  async function mark(event, roomId, upTo) {
    const sent = asked[event];
    const own = store.state.chats.get(roomId)?.receipts[me.id];
    const known = Math.max(sent.get(roomId) || 0, (event === "message:read" ? own?.read_seq : own?.delivered_seq) || 0);
    if (!upTo || upTo <= known || !actions.connected) return;
    sent.set(roomId, upTo);
    try {
      await actions.markReceipt(event, roomId, upTo);
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

  new MutationObserver(() => {
    observeBubbles();
    readWhatIsSeen();
  }).observe(list, { childList: true });
  document.addEventListener("visibilitychange", readWhatIsSeen);

  store.subscribe((topic, detail) => {
    if (topic === "chat" && detail?.live && detail.incoming) mark("message:delivered", detail.message.room_id, detail.message.seq);
    if ((topic === "chat" || topic === "route") && store.state.roomId) readWhatIsSeen();
    if (topic === "rooms") deliverAll();
    if (topic === "connection" && detail?.cameOnline) {
      deliverAll();
      readWhatIsSeen();
    }
  });
}

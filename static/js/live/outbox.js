// The outbox: how sends go out, and keeping them across reloads.
// - createSender(): a room's sends go one at a time, in the order they were written. A send
//   refused with `rate_limited` stored nothing: it stays in the outbox (pending, `waiting`) and
//   goes again once the server's `retry_after` has passed, with everything written after it
//   behind it, so nobody has to press Retry and the order holds.
// - mountOutbox(): unacked sends are saved per user under `heartlink:outbox:<user id>:<client_id>`;
//   a new page shows them pending and resends them with their original client_id on its first
//   connect (later connects: app.js's catch-up resends all).
import { localStore } from "../storage.js";

/**
 * request(event, payload) -> Promise<ack>     the socket's request (throws a RequestError)
 * store                                       received(message), sendFailed(entry, error),
 *                                             resending(entry), sendWaiting(entry, seconds)
 * setTimer(fn, ms)                            replaceable in tests
 */
export function createSender({ request, store, setTimer = (fn, ms) => setTimeout(fn, ms) }) {
  const rooms = new Map(); // room id -> {queue: [entry], busy, waiting}

  function send(entry) {
    const room = rooms.get(entry.room_id) || { queue: [], busy: false, waiting: false };
    rooms.set(entry.room_id, room);
    if (!room.queue.some((queued) => queued.client_id === entry.client_id)) room.queue.push(entry);
    store.resending(entry);
    pump(room);
  }

  async function pump(room) {
    if (room.busy || room.waiting) return;
    room.busy = true;
    while (room.queue.length) {
      const entry = room.queue[0];
      try {
        const ack = await request("message:send", wireFields(entry));
        room.queue.shift();
        store.received(ack.message);
      } catch (error) {
        if (error.code === "rate_limited") {
          const seconds = Math.max(1, Number(error.details?.retry_after) || 1);
          store.sendWaiting(entry, seconds);
          room.waiting = true;
          setTimer(() => {
            room.waiting = false;
            pump(room);
          }, seconds * 1000);
          break;
        }
        if (error.code === "offline") {
          room.queue.length = 0; // all stay pending; the reconnect's catch-up sends them again, in order
          store.sendFailed(entry, error);
          break;
        }
        room.queue.shift();
        store.sendFailed(entry, error); // Retry, or a reconnect, sends it again
      }
    }
    room.busy = false;
  }

  return { send };
}

function wireFields(entry) {
  return {
    room_id: entry.room_id, client_id: entry.client_id, kind: entry.kind, text: entry.text,
    ...(entry.attachment_id && { attachment_id: entry.attachment_id }), ...(entry.reply_to && { reply_to: entry.reply_to }),
  };
}

export function mountOutbox(store, actions) {
  const me = store.state.me;
  const prefix = `heartlink:outbox:${me.id}:`;
  const saved = new Set(); // keys this page wrote or took over
  const storage = localStore();

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
  store.subscribe((topic, detail) => {
    if (topic === "chat") saveOutbox();
    if (topic === "connection" && detail?.first) {
      for (const entry of toResend) actions.retry(entry.room_id, entry.client_id);
      toResend = [];
    }
  });
}

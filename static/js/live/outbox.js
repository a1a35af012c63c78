// The outbox kept across reloads: unacked sends are saved per user under
// `heartlink:outbox:<user id>:<client_id>`; a new page shows them pending and resends them with
// their original client_id on its first connect (later connects: app.js's catch-up resends all).
import { localStore } from "../storage.js";

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

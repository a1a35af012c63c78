// The outbox's sender without a browser: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { createSender } from "../../static/js/live/outbox.js";
import { createStore } from "../../static/js/store.js";

const ME = { id: 1, username: "alice", display_name: "Alice" };
const settle = () => new Promise((resolve) => setImmediate(resolve));

class Refused extends Error {
  constructor(code, details = {}) {
    super(code);
    this.code = code;
    this.details = details;
  }
}

/** A server that stores at most `limit` messages until the test opens the next window. */
function harness({ limit = 3 } = {}) {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([{ id: "r1", status: "active", members: [ME, { id: 2 }], last_message: null }]);
  store.joined("r1", { room: { id: "r1", status: "active" }, messages: [], has_more: false, receipts: {} }, null);
  const stored = [];
  const timers = [];
  let allowed = limit;
  const sender = createSender({
    store,
    request: async (event, payload) => {
      assert.equal(event, "message:send");
      await settle(); // an ack takes a while
      if (allowed <= 0) throw new Refused("rate_limited", { retry_after: 2 });
      allowed -= 1;
      stored.push(payload.text);
      return { ok: true, message: { id: `m${stored.length}`, room_id: "r1", seq: stored.length, client_id: payload.client_id, sender_id: 1, kind: "text", text: payload.text, created_at: "2026-01-01T10:00:00Z" } };
    },
    setTimer: (fn, ms) => timers.push({ fn, ms }),
  });
  return {
    store, sender, stored, timers,
    write(text) {
      sender.send(store.queueSend("r1", text));
    },
    nextWindow() {
      allowed = limit;
      const due = timers.splice(0);
      for (const timer of due) timer.fn();
    },
  };
}

async function until(condition) {
  for (let turn = 0; turn < 1000 && !condition(); turn += 1) await settle();
  assert.ok(condition(), "never happened");
}

test("sends past the rate limit wait in the outbox and all go, in order, without a Retry", async () => {
  const h = harness({ limit: 3 });
  const texts = Array.from({ length: 8 }, (_, index) => `message ${index}`);
  for (const text of texts) h.write(text);
  await until(() => h.timers.length === 1);
  assert.deepEqual(h.stored, texts.slice(0, 3));
  assert.equal(h.timers[0].ms, 2000); // the server's retry_after
  const outbox = [...h.store.chat("r1").outbox.values()];
  assert.equal(outbox.length, 5);
  assert.ok(outbox.every((entry) => entry.state === "pending"), "none failed, none needs a Retry");
  assert.equal(outbox[0].waiting, 2);

  h.nextWindow();
  await until(() => h.timers.length === 1);
  assert.deepEqual(h.stored, texts.slice(0, 6));
  h.write("written while waiting"); // goes behind the ones already waiting
  h.nextWindow();
  await until(() => h.store.chat("r1").outbox.size === 0);
  assert.deepEqual(h.stored, [...texts, "written while waiting"]);
  assert.deepEqual(h.store.chat("r1").messages.map((message) => message.text), [...texts, "written while waiting"]);
});

test("a send refused for another reason fails on its own and the rest still go", async () => {
  const store = createStore(ME, { isVisible: () => true });
  store.joined("r1", { room: { id: "r1", status: "active" }, messages: [], has_more: false, receipts: {} }, null);
  const stored = [];
  const sender = createSender({
    store,
    request: async (event, payload) => {
      if (payload.text === "bad") throw new Refused("filtered");
      stored.push(payload.text);
      return { message: { id: payload.text, room_id: "r1", seq: stored.length, client_id: payload.client_id, sender_id: 1, kind: "text", text: payload.text } };
    },
    setTimer: () => assert.fail("nothing waits"),
  });
  for (const text of ["one", "bad", "two"]) sender.send(store.queueSend("r1", text));
  await until(() => stored.length === 2);
  assert.deepEqual(stored, ["one", "two"]);
  const [failed] = store.chat("r1").outbox.values();
  assert.equal(failed.text, "bad");
  assert.equal(failed.state, "failed");
});

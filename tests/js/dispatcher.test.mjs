// The one way in for server events: each event is heard once and lands in the store or the call session.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createConsoleStore } from "../../static/js/console_store.js";
import { dispatchConsoleEvents, dispatchServerEvents } from "../../static/js/dispatcher.js";
import { createStore } from "../../static/js/store.js";

function fakeSocket() {
  const handlers = new Map();
  return {
    handlers,
    on(event, handler) {
      assert.ok(!handlers.has(event), `${event} is heard twice`);
      handlers.set(event, handler);
    },
    emit(event, payload) {
      handlers.get(event)(payload);
    },
  };
}

test("every server event has one handler, and message:new reaches the store once", () => {
  const socket = fakeSocket();
  const store = createStore({ id: 1 }, { isVisible: () => true });
  const calls = { seen: [], incoming(e) { this.seen.push(["incoming", e]); }, state(e) { this.seen.push(["state", e]); }, signalled(e) { this.seen.push(["signal", e]); } };
  const events = dispatchServerEvents(socket, store, calls, { timeout: "timed out", cancelledElsewhere: "elsewhere" });
  assert.deepEqual(new Set(events), new Set([
    "match:found", "match:timeout", "match:cancelled", "room:ended", "room:updated", "presence", "user:updated",
    "message:new", "message:updated", "message:hidden", "receipt", "typing", "call:incoming", "call:state", "call:signal",
    "account:warning", "account:warning_acknowledged", "account:restricted",
  ]));

  const room = { id: "r1", status: "active", members: [{ id: 1 }, { id: 2, online: true }] };
  const seen = [];
  store.subscribe((topic, detail) => seen.push([topic, detail]));
  socket.emit("match:found", { room });
  assert.ok(seen.some(([topic]) => topic === "matched"));
  store.joined("r1", { room, messages: [], has_more: false, receipts: {} }, null);

  seen.length = 0;
  socket.emit("message:new", { message: { id: "m1", room_id: "r1", seq: 1, sender_id: 2, kind: "text", text: "hi", created_at: "2026-01-01T00:00:00Z" } });
  const live = seen.filter(([topic, detail]) => topic === "chat" && detail?.live);
  assert.equal(live.length, 1);
  assert.equal(store.chat("r1").messages.length, 1);

  socket.emit("typing", { room_id: "r1", user_id: 2, typing: true });
  assert.ok(store.state.typing.has("r1"));
  socket.emit("receipt", { room_id: "r1", user_id: 2, delivered_seq: 1, read_seq: 1 });
  assert.deepEqual(store.chat("r1").receipts[2], { delivered_seq: 1, read_seq: 1 });
  socket.emit("room:updated", { room: { id: "r1", kept_by: [2], kept: false } });
  assert.deepEqual(store.room("r1").kept_by, [2]);
  socket.emit("room:ended", { room_id: "r1", by: 2, reason: "left" });
  assert.equal(store.room("r1").status, "ended");
  socket.emit("match:timeout");
  assert.deepEqual(store.state.match.notice, { text: "timed out", kind: "info" });
  socket.emit("call:incoming", { call_id: "c1" });
  socket.emit("call:state", { call_id: "c1", state: "cancelled" });
  assert.deepEqual(calls.seen.map(([kind]) => kind), ["incoming", "state"]);

  // What moderators decided: a warning until acknowledged (here or in another tab), a suspension.
  socket.emit("account:warning", { id: 7, reason: "Please be kind." });
  socket.emit("account:warning", { id: 7, reason: "Please be kind." }); // the page's own copy, and the live one
  assert.deepEqual(store.state.warnings, [{ id: 7, reason: "Please be kind." }]);
  socket.emit("account:warning_acknowledged", { id: 7 });
  assert.deepEqual(store.state.warnings, []);
  socket.emit("account:restricted", { standing: "suspended", until: "2026-02-01T00:00:00.000Z", reason: "Insults." });
  assert.deepEqual(store.state.restriction, { standing: "suspended", until: "2026-02-01T00:00:00.000Z", reason: "Insults." });
});

test("the console's events reach the console's store, once each", () => {
  const socket = fakeSocket();
  const store = createConsoleStore();
  const topics = [];
  store.subscribe((topic) => topics.push(topic));
  const events = dispatchConsoleEvents(socket, store);
  assert.deepEqual(new Set(events), new Set(["moderation:report", "moderation:appeal", "moderation:decided"]));
  socket.emit("moderation:report", { report: { id: 1, reported: { id: 5 } } });
  socket.emit("moderation:appeal", { appeal: { id: 2, person: { id: 5 } } });
  socket.emit("moderation:decided", { action_id: 9, subject_id: 5, report_ids: [1], appeal_id: null, standing: null });
  assert.deepEqual(topics.filter((topic) => ["filed", "appeal-filed", "decided"].includes(topic)), ["filed", "appeal-filed", "decided"]);
});

// The page's store, without a browser: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { createStore } from "../../static/js/store.js";

const ME = { id: 1, username: "alice", display_name: "Alice" };
const BOB = { id: 2, username: "bob", display_name: "Bob", online: true, last_seen: null };
const room = (id = "r1", extra = {}) => ({ id, status: "active", members: [{ ...ME }, { ...BOB }], last_message: null, ...extra });
const message = (seq, extra = {}) => ({
  id: `m${seq}`, room_id: "r1", seq, sender_id: 2, kind: "text", text: `hi ${seq}`, created_at: "2026-01-01T10:00:00Z", ...extra,
});

function recording(store) {
  const seen = [];
  store.subscribe((topic, detail) => seen.push([topic, detail]));
  return seen;
}

test("stored messages are merged by seq, once each, in order", () => {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([room()]);
  store.joined("r1", { room: room(), messages: [message(2), message(1)], has_more: false, receipts: {} }, null);
  store.received(message(3));
  store.received(message(2, { text: "again" }));
  assert.deepEqual(store.chat("r1").messages.map((m) => m.seq), [1, 2, 3]);
  assert.equal(store.lastSeq("r1"), 3);
});

test("an acked send leaves the outbox; a live message from the partner says so", () => {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([room()]);
  store.joined("r1", { room: room(), messages: [], has_more: false, receipts: {} }, null);
  const entry = store.queueSend("r1", "hello");
  assert.equal(store.outboxEntries().length, 1);
  store.received(message(1, { sender_id: 1, client_id: entry.client_id }));
  assert.equal(store.outboxEntries().length, 0);
  const seen = recording(store);
  store.received(message(2), { live: true });
  const [, detail] = seen.find(([topic]) => topic === "chat");
  assert.equal(detail.live, true);
  assert.equal(detail.incoming, true);
});

test("unread counts only messages from others to a room not on screen", () => {
  let visible = true;
  const store = createStore(ME, { isVisible: () => visible });
  store.setRooms([room()]);
  store.openRoom("r1");
  store.received(message(1));
  assert.equal(store.room("r1").unread, 0);
  visible = false;
  store.received(message(2));
  store.received(message(3, { sender_id: 1 }));
  assert.equal(store.room("r1").unread, 1);
  store.openRoom("r1");
  assert.equal(store.room("r1").unread, 0);
});

test("receipts only move forward and make ticks", () => {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([room()]);
  store.joined("r1", { room: room(), messages: [message(1, { sender_id: 1 })], has_more: false, receipts: {} }, null);
  const mine = store.chat("r1").messages[0];
  assert.equal(store.receiptOf(mine, "sent"), "sent");
  store.receipt({ room_id: "r1", user_id: 2, delivered_seq: 1, read_seq: 0 });
  assert.equal(store.receiptOf(mine, "sent"), "delivered");
  store.receipt({ room_id: "r1", user_id: 2, delivered_seq: 1, read_seq: 1 });
  store.receipt({ room_id: "r1", user_id: 2, delivered_seq: 0, read_seq: 0 });
  assert.equal(store.receiptOf(mine, "sent"), "read");
  // read receipts turned off (read_seq null): delivered ticks stay
  store.receipt({ room_id: "r1", user_id: 2, delivered_seq: 1, read_seq: null });
  assert.equal(store.receiptOf(mine, "sent"), "read");
});

test("typing: set, refreshed, expired only by its own clock, ended by a message or going offline", () => {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([room()]);
  store.typing({ room_id: "r1", user_id: 2, typing: true }, 100);
  assert.equal(store.state.typing.get("r1").userId, 2);
  store.typing({ room_id: "r1", user_id: 2, typing: true }, 200);
  store.typingExpired("r1", 100); // an old timer: ignored
  assert.ok(store.state.typing.has("r1"));
  store.typingExpired("r1", 200);
  assert.ok(!store.state.typing.has("r1"));
  store.typing({ room_id: "r1", user_id: 1, typing: true }); // my own echo
  assert.ok(!store.state.typing.has("r1"));
  store.typing({ room_id: "r1", user_id: 2, typing: true });
  store.received(message(1));
  assert.ok(!store.state.typing.has("r1"));
  store.typing({ room_id: "r1", user_id: 2, typing: true });
  store.presence({ user_id: 2, online: false, last_seen: "2026-01-01T10:00:00Z" });
  assert.ok(!store.state.typing.has("r1"));
  assert.equal(store.room("r1").members[1].online, false);
});

test("connection: the first connect and later ones are told apart", () => {
  const store = createStore(ME);
  const seen = recording(store);
  store.setConnection("online");
  store.setConnection("offline");
  store.setConnection("online");
  const connects = seen.filter(([topic]) => topic === "connection").map(([, detail]) => detail);
  assert.deepEqual(connects, [
    { cameOnline: true, first: true }, { cameOnline: false, first: false }, { cameOnline: true, first: false },
  ]);
});

test("a match is listed and announced; room and user updates land in the list", () => {
  const store = createStore(ME);
  const seen = recording(store);
  store.matched(room("r2"));
  assert.ok(seen.some(([topic, detail]) => topic === "matched" && detail.room.id === "r2"));
  assert.equal(store.state.match.phase, "idle");
  store.upsertRoom({ id: "r2", kept_by: [1], kept: false });
  assert.deepEqual(store.room("r2").kept_by, [1]);
  store.userUpdated({ id: 2, display_name: "Bobby", avatar_url: "/api/users/2/avatar" });
  assert.equal(store.partnerOf(store.room("r2")).display_name, "Bobby");
  store.userUpdated({ id: 1, display_name: "Ally" });
  assert.equal(store.state.me.display_name, "Ally");
});

test("a failed send stays retryable when rate limited, and pending when offline", () => {
  const store = createStore(ME);
  const entry = store.queueSend("r1", "x");
  store.sendFailed(entry, { code: "offline", message: "off" });
  assert.equal(entry.state, "pending");
  store.sendFailed(entry, { code: "rate_limited", message: "slow", retryable: false });
  assert.equal(entry.state, "failed");
  assert.equal(entry.retryable, true);
});

test("the seq a reconnect rejoins with has no gap below it, and a live message past a gap says so", () => {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([room()]);
  store.joined("r1", { room: room(), messages: [message(4), message(5)], has_more: true, receipts: {} }, null);
  assert.equal(store.lastSeq("r1"), 5);
  const seen = recording(store);
  store.received(message(6), { live: true });
  store.received(message(8), { live: true }); // 7's push was lost
  const gaps = seen.filter(([topic]) => topic === "chat").map(([, detail]) => detail.gap);
  assert.deepEqual(gaps, [false, true]);
  assert.equal(store.lastSeq("r1"), 6);
  store.joined("r1", { room: room(), messages: [message(7), message(8)], has_more: false, receipts: {} }, 6);
  assert.equal(store.lastSeq("r1"), 8);
});

test("a joined chat with no messages rejoins as a catch-up from 0, and a first live message past a gap says so", () => {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([room()]);
  assert.equal(store.lastSeq("r1"), null); // never joined: a full join
  store.joined("r1", { room: room(), messages: [], has_more: false, receipts: {} }, null);
  assert.equal(store.lastSeq("r1"), 0);
  const seen = recording(store);
  store.received(message(2), { live: true }); // 1's push was lost
  assert.deepEqual(seen.filter(([topic]) => topic === "chat").map(([, detail]) => detail.gap), [true]);
});

test("the reveal's progress adds the messages that came after the room's counts, and ends when revealed", () => {
  const store = createStore(ME, { isVisible: () => true });
  const veiled = room("r1", { last_seq: 2, reveal: { revealed: false, after: 3, sent: { 1: 1, 2: 1 } } });
  store.setRooms([veiled]);
  store.joined("r1", { room: veiled, messages: [message(1, { sender_id: 1 }), message(2)], has_more: false, receipts: {} }, null);
  assert.deepEqual(store.revealProgress("r1"), { after: 3, mine: 1, theirs: 1 });
  store.received(message(3));
  store.received(message(4, { kind: "call" })); // a call's line is the server's, not a member's message
  store.received(message(5, { sender_id: 1, kind: "image" }));
  assert.deepEqual(store.revealProgress("r1"), { after: 3, mine: 2, theirs: 2 });
  store.upsertRoom(room("r1", { last_seq: 5, reveal: { revealed: true, after: 3, sent: null } }));
  assert.equal(store.revealProgress("r1"), null);
});

test("a message deleted for me still counts for the reveal: it was sent", () => {
  const store = createStore(ME, { isVisible: () => true });
  const veiled = room("r1", { last_seq: 1, reveal: { revealed: false, after: 5, sent: { 1: 1 } } });
  store.setRooms([veiled]);
  store.joined("r1", { room: veiled, messages: [message(1, { sender_id: 1 })], has_more: false, receipts: {} }, null);
  store.received(message(2));
  store.received(message(3, { sender_id: 1 }));
  store.hidden("r1", 2); // here
  store.received({ id: "m3", room_id: "r1", seq: 3, hidden: true }); // in another tab, told by its stub
  assert.deepEqual(store.revealProgress("r1"), { after: 5, mine: 2, theirs: 1 });
  store.unhidden(message(2)); // a refused delete: counted once, as a message again
  assert.deepEqual(store.revealProgress("r1"), { after: 5, mine: 2, theirs: 1 });
});

test("a message deleted for me comes as a stub that holds its seq, and stays out when it comes again", () => {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([room()]);
  const stub = { id: "m2", room_id: "r1", seq: 2, hidden: true };
  store.joined("r1", { room: room(), messages: [message(1), stub, message(3, { hidden: true, text: undefined })], has_more: true, receipts: {} }, null);
  assert.deepEqual(store.chat("r1").messages.map((m) => m.seq), [1]);
  assert.equal(store.lastSeq("r1"), 3); // no gap: a catch-up would not ask for them again
  assert.equal(store.room("r1").last_message.seq, 1);
  assert.ok(store.isHidden("r1", "m2"));
  store.joined("r1", { room: room(), messages: [message(2)], has_more: false, receipts: {} }, 1); // a late copy
  assert.deepEqual(store.chat("r1").messages.map((m) => m.seq), [1]);
  store.received(message(4), { live: true });
  assert.equal(store.lastSeq("r1"), 4);
});

test("deleting for me takes the message out at once, the links list's last line too, and a refusal brings it back", () => {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([room()]);
  store.joined("r1", { room: room(), messages: [message(1), message(2)], has_more: false, receipts: {} }, null);
  const seen = recording(store);
  const second = store.chat("r1").messages[1];
  store.hidden("r1", 2);
  assert.deepEqual(store.chat("r1").messages.map((m) => m.seq), [1]);
  assert.equal(store.room("r1").last_message.seq, 1);
  assert.equal(store.lastSeq("r1"), 2);
  assert.ok(seen.some(([topic]) => topic === "chat"));
  store.updated({ ...second, text: "edited by Bob" }); // the partner's edit of it stays out
  assert.deepEqual(store.chat("r1").messages.map((m) => m.seq), [1]);
  store.hidden("r1", 7); // not loaded here: its stub comes with the page that has it
  assert.ok(!store.chat("r1").hidden.has(7));
  store.unhidden(second);
  assert.deepEqual(store.chat("r1").messages.map((m) => m.seq), [1, 2]);
  assert.equal(store.room("r1").last_message.seq, 2);
});

test("an older page starts before the oldest seq loaded, deleted for me or not", () => {
  const store = createStore(ME);
  store.joined("r1", { room: room(), messages: [{ id: "m5", room_id: "r1", seq: 5, hidden: true }, message(6)], has_more: true, receipts: {} }, null);
  assert.equal(store.oldestSeq("r1"), 5);
  assert.equal(store.oldestSeq("r9"), null);
});

test("a long history: older pages go before, new messages after, an edit in place; found by id and seq", () => {
  const store = createStore(ME, { isVisible: () => true });
  store.setRooms([room()]);
  store.joined("r1", { room: room(), messages: [message(51), message(52)], has_more: true, receipts: {} }, null);
  store.olderLoaded("r1", { messages: [message(49), message(50)], has_more: true });
  store.received(message(53));
  store.updated(message(50, { text: "edited" }));
  store.received(message(55));
  store.received(message(54)); // out of order: placed by seq
  assert.deepEqual(store.chat("r1").messages.map((m) => m.seq), [49, 50, 51, 52, 53, 54, 55]);
  assert.equal(store.messageBySeq("r1", 50).text, "edited");
  assert.equal(store.messageById("r1", "m50").text, "edited");
  assert.equal(store.messageBySeq("r1", 48), null);
  assert.equal(store.messageById("r1", "m1"), null);
  store.updated(message(10, { text: "never loaded" })); // not loaded: not added
  assert.equal(store.messageBySeq("r1", 10), null);
});

test("an ended link no longer says the partner is online, unless both kept it", () => {
  const store = createStore(ME);
  store.setRooms([room("r1"), room("r2", { kept: true })]);
  store.roomEnded({ room_id: "r1", by: 2, reason: "left" });
  store.roomEnded({ room_id: "r2", by: 2, reason: "left" });
  assert.deepEqual([store.partnerOf(store.room("r1")).online, store.partnerOf(store.room("r1")).last_seen], [false, null]);
  assert.equal(store.partnerOf(store.room("r2")).online, true);
});

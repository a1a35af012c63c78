// The long history's bookkeeping (views/chat_window.js), without a browser: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { buildItems, covers, createHeights, dividerSeqFor, messageKey, windowFor } from "../../static/js/views/chat_window.js";

const dayOf = (iso) => iso.slice(0, 10);
const message = (seq, extra = {}) => ({ id: seq * 10, seq, sender_id: seq % 2 ? 2 : 1, created_at: `2026-01-0${1 + Math.floor(seq / 3)}T10:00:00Z`, ...extra });
const chatOf = (messages, outbox = []) => ({ messages, outbox: new Map(outbox.map((entry) => [entry.client_id, entry])) });

test("items: a day's separator before its first message, the divider before its seq, sends waiting last", () => {
  const pending = { client_id: "c1", sender_id: 1, created_at: "2026-01-02T11:00:00Z", state: "pending" };
  const items = buildItems(chatOf([message(1), message(2), message(3), message(4)], [pending]), { dividerSeq: 3, dayOf });
  assert.deepEqual(items.map((item) => item.key), [
    "day:2026-01-01", "seq:1", "seq:2", "day:2026-01-02", "divider", "seq:3", "seq:4", "c1"]);
  assert.equal(items.at(-1).state, "pending");
  assert.equal(messageKey({ client_id: "abc", seq: 4 }), "abc");
});

test("items: unchanged messages keep their item, a replaced message gets a new one", () => {
  const first = [message(1), message(2)];
  const before = buildItems(chatOf(first), { dayOf });
  const previous = new Map(before.map((item) => [item.key, item]));
  const edited = { ...first[1], text: "edited" };
  const after = buildItems(chatOf([first[0], edited, message(3)]), { dayOf, previous });
  assert.equal(after[1], before[1]); // seq:1, the same object
  assert.notEqual(after[2], before[2]); // seq:2 was replaced
  assert.equal(after[2].message, edited);
});

test("items: a day that comes back (a clock set back) is keyed apart", () => {
  const items = buildItems(chatOf([
    message(1, { created_at: "2026-01-01T10:00:00Z" }), message(2, { created_at: "2026-01-02T10:00:00Z" }),
    message(3, { created_at: "2026-01-01T11:00:00Z" })]), { dayOf });
  const keys = items.map((item) => item.key);
  assert.equal(new Set(keys).size, keys.length);
});

test("the unread divider goes before the count-th last message from the partner", () => {
  const messages = [1, 2, 3, 4, 5, 6].map((seq) => message(seq)); // odd seqs are the partner's (2)
  assert.equal(dividerSeqFor(messages, 2, 1), 3);
  assert.equal(dividerSeqFor(messages, 1, 1), 5);
  assert.equal(dividerSeqFor(messages, 9, 1), null); // not loaded that far
  assert.equal(dividerSeqFor(messages, 0, 1), null);
});

test("heights: estimated until measured, then the mean of what was measured; offsets are their sums", () => {
  const heights = createHeights({ estimate: 50 });
  heights.setKeys(["a", "b", "c", "d"]);
  assert.equal(heights.total(), 200);
  assert.equal(heights.offset(2), 100);
  heights.set("a", 20);
  heights.set("b", 40);
  assert.equal(heights.get("c"), 30); // the mean of the measured
  assert.equal(heights.total(), 20 + 40 + 30 + 30);
  assert.equal(heights.set("a", 20), false);
  assert.equal(heights.offset(99), heights.total());
  assert.equal(heights.indexAt(0), 0);
  assert.equal(heights.indexAt(19), 0);
  assert.equal(heights.indexAt(20), 1);
  assert.equal(heights.indexAt(10_000), 3);
  // Keys that come before (an older page) move the offsets; measured heights stay with their keys.
  heights.setKeys(["y", "z", "a", "b", "c", "d"]);
  assert.equal(heights.offset(2), 60);
  assert.equal(heights.offset(3), 80);
  heights.clear();
  assert.equal(heights.total(), 300);
});

test("the window: the items a viewport crosses and the overscan either side; covered with a margin", () => {
  const heights = createHeights({ estimate: 10 });
  heights.setKeys(Array.from({ length: 1000 }, (_, index) => `k${index}`));
  const range = windowFor(heights, 5000, 100, 50);
  assert.deepEqual(range, [495, 516]);
  assert.equal(covers(heights, range, 5000, 100, 30), true);
  assert.equal(covers(heights, range, 5040, 100, 30), false); // too near the bottom edge
  assert.deepEqual(windowFor(heights, 0, 100, 50), [0, 16]);
  assert.deepEqual(windowFor(heights, 9950, 100, 50), [990, 1000]);
  assert.equal(covers(heights, [990, 1000], 9950, 100, 30), true); // the end of the history
  const empty = createHeights();
  empty.setKeys([]);
  assert.deepEqual(windowFor(empty, 0, 100, 50), [0, 0]);
});

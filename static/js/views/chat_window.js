// The long history's bookkeeping, without the DOM (node --test tests/js/chat_window.test.mjs):
// the derived list of what the history shows (day separators, the unread divider, messages,
// sends waiting in the outbox), and the heights of those items, measured when drawn and
// estimated before, from which views/chat.js draws only the window of items near the viewport
// and sizes the space above and below it. docs/decisions.md, "Long chats".

/**
 * The history's items in order: {key, kind: "day" | "divider" | "message", message, state, at}.
 * `dividerSeq`: the seq of the stored message the unread divider goes before (or null).
 * `dayOf(iso)`: the day a time falls on, in the person's time zone. Items already built for
 * the same message object and state are reused (`previous`: key -> item), so a caller can
 * compare items by identity to see what changed.
 */
export function buildItems(chat, { dividerSeq = null, dayOf, previous = new Map() }) {
  const items = [];
  const days = new Set();
  let lastDay = null;
  const add = (message, state) => {
    const day = dayOf(message.created_at);
    if (day !== lastDay) {
      // A day once (a clock that went back could bring it again: then keyed apart).
      const key = days.has(day) ? `day:${day}:${messageKey(message)}` : `day:${day}`;
      days.add(day);
      items.push(reuse(previous, { key, kind: "day", message, state: null }));
      lastDay = day;
    }
    if (dividerSeq !== null && state === "sent" && message.seq === dividerSeq) {
      items.push(reuse(previous, { key: "divider", kind: "divider", message, state: null }));
    }
    items.push(reuse(previous, { key: messageKey(message), kind: "message", message, state }));
  };
  for (const message of chat.messages) add(message, "sent");
  for (const entry of chat.outbox.values()) add(entry, entry.state);
  return items;
}

/** A bubble's key: its client_id (the same from the outbox to the stored copy), else its seq. */
export const messageKey = (message) => message.client_id || `seq:${message.seq}`;

function reuse(previous, item) {
  const known = previous.get(item.key);
  if (known && known.kind === item.kind && known.message === item.message && known.state === item.state) return known;
  return item;
}

/** Where the unread divider goes: before the count-th last message from someone other than `meId`. */
export function dividerSeqFor(messages, count, meId) {
  if (!count) return null;
  let left = count;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    if (messages[index].sender_id !== meId) {
      left -= 1;
      if (!left) return messages[index].seq;
    }
  }
  return null;
}

/**
 * Heights of the items by key: measured ones as measured, the others at `estimate` (or the
 * mean of what was measured, once something was). Offsets are prefix sums, recomputed when
 * something changed: O(n) additions per change, nothing per scroll step.
 */
export function createHeights({ estimate = 48 } = {}) {
  const measured = new Map(); // key -> px
  let keys = [];
  let offsets = null; // offsets[i]: the top of item i; offsets[n]: the total
  let sum = 0;

  const guess = () => (measured.size ? sum / measured.size : estimate);

  function ensure() {
    if (offsets) return offsets;
    const fallback = guess();
    offsets = new Float64Array(keys.length + 1);
    for (let index = 0; index < keys.length; index += 1) {
      offsets[index + 1] = offsets[index] + (measured.get(keys[index]) ?? fallback);
    }
    return offsets;
  }

  return {
    /** The items now in the history, in order (their keys). */
    setKeys(next) {
      keys = next;
      offsets = null;
    },
    /** A drawn item's height; returns whether it differed from what was known. */
    set(key, height) {
      const known = measured.get(key);
      if (known === height) return false;
      sum += height - (known ?? 0);
      measured.set(key, height);
      offsets = null;
      return true;
    },
    has: (key) => measured.has(key),
    get: (key) => measured.get(key) ?? guess(),
    /** Forget every height (another room). */
    clear() {
      measured.clear();
      sum = 0;
      offsets = null;
    },
    count: () => keys.length,
    /** The top of item `index` (index = count: the bottom of the last). */
    offset(index) {
      return ensure()[Math.max(0, Math.min(keys.length, index))];
    },
    total() {
      return ensure()[keys.length];
    },
    /** The item at height `y` (clamped to the items): the last whose top is at or above it. */
    indexAt(y) {
      const all = ensure();
      if (!keys.length) return 0;
      let low = 0;
      let high = keys.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (all[middle] <= y) low = middle;
        else high = middle - 1;
      }
      return low;
    },
  };
}

/**
 * The items to draw for a viewport [top, top + height) over the history (in the history's own
 * coordinates): those it crosses and `overscan` px either side, as [start, end).
 */
export function windowFor(heights, top, height, overscan) {
  const count = heights.count();
  if (!count) return [0, 0];
  const start = heights.indexAt(Math.max(0, top - overscan));
  const end = Math.min(count, heights.indexAt(top + height + overscan) + 1);
  return [start, Math.max(end, start + 1)];
}

/** Whether the drawn [start, end) covers the viewport with `margin` px to spare either side. */
export function covers(heights, [start, end], top, height, margin) {
  if (start >= end) return heights.count() === 0;
  const above = start === 0 || heights.offset(start) <= Math.max(0, top - margin);
  const below = end === heights.count() || heights.offset(end) >= top + height + margin;
  return above && below;
}

// The page's state, and the only code that changes it. Views read it and subscribe;
// dispatcher.js turns the server's events, and app.js the person's actions, into the calls below.
// No DOM here: it runs under `node --test` (tests/js/store.test.mjs); app.js tells it whether the page is seen.
//
// Messages of a room live in a Chat: `messages` holds what the server stored (by seq, no
// gaps or repeats) less what I deleted for me, `hidden` those (seq -> id) (the server lists them
// as stubs {id, room_id, seq, hidden: true}, so seqs stay gapless), `hiddenSenders` who sent those
// hidden while this page had them (seq -> sender_id: they still count for the reveal), `outbox` holds this tab's
// sends that have no ack yet, by client_id.
// A reconnect layer needs only `lastSeq(roomId)` (to rejoin with since_seq) and
// `outboxEntries()` (to resend with the same client_id); the server drops duplicates.

/**
 * `isVisible()`: whether the page is on screen (a message to an open, visible room is not unread);
 * without one, as under node, never.
 */
// The kinds of message a member sends (a call's line is the server's): what the reveal counts.
const SENT_BY_MEMBERS = new Set(["text", "image", "voice", "file"]);

export function createStore(me, { isVisible = () => false } = {}) {
  const state = {
    me,
    connection: "connecting", // connecting | online | offline
    connects: 0, // how many times the socket came online (1: the first connect)
    typing: new Map(), // room id -> {userId, at}: a partner typing there
    roomId: null, // the room open on screen, from the URL
    match: { phase: "idle", code: null, expiresAt: null, room: null, notice: null, looking: null },
    rooms: new Map(), // id -> room (+ last_message), as GET /api/rooms gives them
    roomsLoaded: false,
    chats: new Map(), // room id -> Chat
    warnings: [], // moderators' warnings not yet acknowledged, oldest first: {id, reason, created_at}
    restriction: null, // {standing, until, reason}: the account was suspended or banned (account:restricted)
  };
  const listeners = new Set();

  function changed(topic, detail) {
    for (const listener of listeners) listener(topic, detail);
  }

  function chat(roomId) {
    let entry = state.chats.get(roomId);
    if (!entry) {
      entry = {
        roomId, messages: [], byId: new Map(), hidden: new Map(), hiddenSenders: new Map(), outbox: new Map(), receipts: {}, hasMore: false,
        status: "idle", error: null, loadingOlder: false, unreadAtOpen: 0,
      };
      state.chats.set(roomId, entry);
    }
    return entry;
  }

  /** Merge stored messages into a chat, in seq order, each seq once; acked sends leave the outbox.
   * A stub of a message I deleted for me takes its seq out of `messages`; a copy of one arriving
   * late (an answer that was on its way) stays out. Newer messages after the last and an older page
   * before the first are appended or prepended (the common cases, O(page)); anything else (an
   * edit, a gap filled) is placed by seq. */
  function merge(entry, arriving) {
    const incoming = [];
    for (const message of arriving) {
      if (message.hidden) {
        entry.hidden.set(message.seq, message.id);
        drop(entry, message.seq);
        continue;
      }
      if (entry.hidden.has(message.seq)) continue;
      if (message.sender_id === state.me.id) entry.outbox.delete(message.client_id);
      if (message.id != null) entry.byId.set(message.id, message);
      incoming.push(message);
    }
    if (!incoming.length) return;
    const { messages } = entry;
    const sorted = incoming.every((message, index) => !index || incoming[index - 1].seq < message.seq);
    if (sorted && (!messages.length || incoming[0].seq > messages[messages.length - 1].seq)) {
      messages.push(...incoming);
      return;
    }
    if (sorted && incoming[incoming.length - 1].seq < messages[0].seq) {
      entry.messages = [...incoming, ...messages];
      return;
    }
    for (const message of incoming) {
      const at = seqIndex(entry.messages, message.seq);
      if (entry.messages[at]?.seq === message.seq) entry.messages[at] = message;
      else entry.messages.splice(at, 0, message);
    }
  }

  /** The message at `seq` leaves the chat (deleted for me); who sent it is kept, for the reveal. */
  function drop(entry, seq) {
    const at = seqIndex(entry.messages, seq);
    const gone = entry.messages[at];
    if (gone?.seq !== seq) return;
    entry.messages.splice(at, 1);
    entry.byId.delete(gone.id);
    if (SENT_BY_MEMBERS.has(gone.kind)) entry.hiddenSenders.set(seq, gone.sender_id);
  }

  /** Where `seq` is (or would go) in messages sorted by seq. */
  function seqIndex(messages, seq) {
    let low = 0;
    let high = messages.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (messages[middle].seq < seq) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** A room as the server sent it: its reveal counts are as of its last_seq (the page adds what came since). */
  function fromServer(room) {
    return room.reveal ? { ...room, reveal: { ...room.reveal, base_seq: room.last_seq } } : room;
  }

  function touchRoom(message) {
    const room = state.rooms.get(message.room_id);
    if (!room) return;
    const last = room.last_message;
    if (!last || last.seq <= message.seq) room.last_message = message;
    room.last_seq = Math.max(room.last_seq || 0, message.seq);
    const isOpen = state.roomId === message.room_id && isVisible();
    if (message.sender_id !== state.me.id && !isOpen && (!last || last.seq < message.seq)) {
      room.unread = (room.unread || 0) + 1;
    }
    // Newest activity first, as the server orders them.
    state.rooms.delete(room.id);
    state.rooms = new Map([[room.id, room], ...state.rooms]);
  }

  return {
    state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    partnerOf(room) {
      return room?.members?.find((member) => member.id !== state.me.id) || null;
    },
    room(roomId) {
      return state.rooms.get(roomId) || null;
    },
    chat,
    /** A loaded message of a room by its id (a reply's quoted message), or null. */
    messageById(roomId, id) {
      return state.chats.get(roomId)?.byId.get(id) || null;
    },
    /** A loaded message of a room by its seq, or null. */
    messageBySeq(roomId, seq) {
      const messages = state.chats.get(roomId)?.messages || [];
      const found = messages[seqIndex(messages, seq)];
      return found?.seq === seq ? found : null;
    },
    /** The seq up to which this chat holds every message, from its oldest loaded one: what a
     * reconnect rejoins with (since_seq). Not simply the highest: a push lost on the way (a
     * message queue drops what a worker missed while cut off) leaves a gap below it, and the
     * catch-up must bring that message back too. A joined chat with no messages holds all up
     * to 0: rejoining it (a reconnect, a reopened link) is a catch-up, not a fresh join that
     * would close the composer until it is answered. null: never joined. */
    lastSeq(roomId) {
      const entry = state.chats.get(roomId);
      const messages = entry?.messages || [];
      const hidden = entry?.hidden || new Map();
      if (!messages.length && !hidden.size) return entry?.status === "ready" ? 0 : null;
      let held = this.oldestSeq(roomId); // a seq I deleted for me is held too: it keeps its place
      for (const message of messages) { // in seq order; one pass, nothing built (it runs on every message)
        if (message.seq <= held) continue;
        while (hidden.has(held + 1)) held += 1;
        if (message.seq !== held + 1) break;
        held = message.seq;
      }
      while (hidden.has(held + 1)) held += 1;
      return held;
    },
    /** Whether I deleted the message with this id for me (a reply's quote says so). */
    isHidden(roomId, messageId) {
      return [...(state.chats.get(roomId)?.hidden.values() || [])].includes(messageId);
    },
    /** The oldest seq loaded (deleted for me or not): where an older page starts (null: none). */
    oldestSeq(roomId) {
      const entry = state.chats.get(roomId);
      let oldest = entry?.messages[0]?.seq ?? null; // messages are in seq order
      for (const seq of entry?.hidden?.keys() || []) if (oldest === null || seq < oldest) oldest = seq;
      return oldest;
    },
    outboxEntries() {
      return [...state.chats.values()].flatMap((entry) => [...entry.outbox.values()]);
    },
    /** The gradual reveal of a room not yet revealed: {after, mine, theirs} messages sent (counted by the
     * server up to the room's last_seq, by the page since); null once revealed. */
    revealProgress(roomId) {
      const room = state.rooms.get(roomId);
      const reveal = room?.reveal;
      if (!reveal || reveal.revealed || !reveal.sent) return null;
      const partner = this.partnerOf(room);
      const sent = { ...reveal.sent };
      const count = (seq, senderId) => {
        if (seq > reveal.base_seq) sent[senderId] = (sent[senderId] || 0) + 1;
      };
      const entry = state.chats.get(roomId);
      for (const message of entry?.messages || []) if (SENT_BY_MEMBERS.has(message.kind)) count(message.seq, message.sender_id);
      for (const [seq, senderId] of entry?.hiddenSenders || []) count(seq, senderId); // deleted for me, still sent
      return { after: reveal.after, mine: sent[state.me.id] || 0, theirs: (partner && sent[partner.id]) || 0 };
    },
    activeRoom() {
      return [...state.rooms.values()].find((room) => room.status === "active") || null;
    },

    setConnection(connection) {
      const cameOnline = connection === "online" && state.connection !== "online";
      state.connection = connection;
      if (cameOnline) state.connects += 1;
      if (connection !== "online" && state.typing.size) {
        state.typing.clear(); // nobody tells us it ended
        changed("typing");
      }
      changed("connection", { cameOnline, first: cameOnline && state.connects === 1 });
    },
    openRoom(roomId) {
      state.roomId = roomId;
      const room = roomId && state.rooms.get(roomId);
      if (room?.unread > 0) chat(roomId).unreadAtOpen = room.unread; // the unread divider: views/chat.js
      if (room) room.unread = 0;
      changed("route");
      changed("rooms");
    },

    // --- matching ---------------------------------------------------------------
    matchStarting(code) {
      state.match = { phase: "starting", code, expiresAt: null, room: null, notice: null, looking: null };
      changed("match");
    },
    /** `looking`: {interests, languages, only_shared, since} as the server kept them (none for a code). */
    matchWaiting(code, expiresAt, looking = null) {
      state.match = { phase: "waiting", code, expiresAt, room: null, notice: null, looking };
      changed("match");
    },
    matchConflict(room, code) {
      if (room) this.upsertRoom(room);
      state.match = { phase: "conflict", code, expiresAt: null, room, notice: null };
      changed("match");
    },
    /** `match:found` or a matched ack: the room is listed and opened (app.js follows "matched"). */
    matched(room) {
      this.upsertRoom(room);
      this.matchIdle();
      changed("matched", { room });
    },
    matchIdle(notice = null) {
      state.match = { phase: "idle", code: state.match.code, expiresAt: null, room: null, notice };
      changed("match");
    },

    // --- rooms --------------------------------------------------------------------
    setRooms(rooms) {
      state.rooms = new Map(rooms.map((room) => {
        const known = state.rooms.get(room.id);
        return [room.id, { ...known, ...fromServer(room), unread: room.id === state.roomId ? 0 : room.unread }];
      }));
      state.roomsLoaded = true;
      changed("rooms");
    },
    upsertRoom(room) {
      const known = state.rooms.get(room.id);
      const merged = { last_message: null, ...known, ...fromServer(room) };
      if (room.id === state.roomId) merged.unread = 0;
      if (known) {
        state.rooms.set(room.id, merged);
      } else {
        state.rooms = new Map([[room.id, merged], ...state.rooms]);
      }
      changed("rooms");
      if (room.id === state.roomId) changed("chat");
    },
    roomEnded({ room_id: roomId, by, reason }) {
      const room = state.rooms.get(roomId);
      if (room) Object.assign(room, { status: "ended", ended_by: by, end_reason: reason, ended_at: new Date().toISOString() });
      // Presence is shared only in an active link or one both kept (heartlink/domain/privacy.py): from
      // now on the server tells this link nothing of the partner, so what it said last must go.
      if (room && !room.kept) {
        for (const member of room.members || []) {
          if (member.id !== state.me.id) Object.assign(member, { online: false, last_seen: null });
        }
      }
      changed("rooms");
      if (roomId === state.roomId) changed("chat");
    },
    presence({ user_id: userId, online, last_seen: lastSeen }) {
      for (const room of state.rooms.values()) {
        for (const member of room.members || []) {
          if (member.id === userId) Object.assign(member, { online, last_seen: lastSeen });
        }
      }
      if (!online) {
        for (const [roomId, typist] of state.typing) if (typist.userId === userId) state.typing.delete(roomId);
      }
      changed("rooms");
      changed("presence");
      changed("typing");
    },
    /** `user:updated`: a name, picture or presence changed (for me, or someone I share a link with). */
    userUpdated(user) {
      if (user.id === state.me.id) Object.assign(state.me, user);
      for (const room of state.rooms.values()) {
        for (const member of room.members || []) if (member.id === user.id) Object.assign(member, user);
      }
      changed("rooms");
      changed("presence");
      changed("me");
    },

    // --- what moderators decided about me (views/standing.js) --------------------------
    /** The warnings the page was rendered with, and `account:warning` (a new one); each shown until acknowledged. */
    warned(...warnings) {
      for (const warning of warnings) {
        if (!state.warnings.some((known) => known.id === warning.id)) state.warnings.push(warning);
      }
      changed("warnings");
    },
    /** Acknowledged here or in another tab (`account:warning_acknowledged`): gone for good. */
    warningAcknowledged(id) {
      state.warnings = state.warnings.filter((warning) => warning.id !== id);
      changed("warnings");
    },
    /** `account:restricted`, or a connect refused as restricted: the page stops and says why. */
    restricted({ standing, until = null, reason = null }) {
      state.restriction = { standing, until, reason };
      changed("restricted");
    },

    // --- typing ---------------------------------------------------------------------
    /** `typing` from the server: a partner started or stopped typing in a room. */
    typing({ room_id: roomId, user_id: userId, typing }, at = Date.now()) {
      if (userId === state.me.id) return;
      if (typing) state.typing.set(roomId, { userId, at });
      else state.typing.delete(roomId);
      changed("typing", { roomId });
    },
    /** A typist not refreshed for a while (live/typing.js keeps the clock). */
    typingExpired(roomId, at) {
      const typist = state.typing.get(roomId);
      if (!typist || typist.at !== at) return;
      state.typing.delete(roomId);
      changed("typing", { roomId });
    },

    // --- messages -----------------------------------------------------------------
    joining(roomId) {
      const entry = chat(roomId);
      entry.status = "joining";
      entry.error = null;
      changed("chat");
    },
    joined(roomId, { room, messages, has_more: hasMore, receipts }, sinceSeq) {
      const entry = chat(roomId);
      if (receipts) Object.assign(entry.receipts, receipts);
      this.upsertRoom(room);
      if (sinceSeq == null) entry.hasMore = hasMore;
      merge(entry, messages);
      entry.status = "ready";
      const newest = messages.findLast((message) => !message.hidden);
      const known = state.rooms.get(roomId);
      if (known && newest && (!known.last_message || known.last_message.seq < newest.seq)) known.last_message = newest;
      changed("chat");
      changed("rooms");
    },
    joinFailed(roomId, error) {
      const entry = chat(roomId);
      entry.status = "error";
      entry.error = error.message;
      changed("chat");
    },
    olderLoading(roomId, loading) {
      chat(roomId).loadingOlder = loading;
      changed("chat", { older: true });
    },
    olderLoaded(roomId, { messages, has_more: hasMore }) {
      const entry = chat(roomId);
      entry.hasMore = hasMore;
      entry.loadingOlder = false;
      merge(entry, messages);
      changed("chat", { older: true });
    },
    /** A message stored by the server: from an ack, `message:new`, or a catch-up. */
    received(message, { live = false } = {}) {
      const entry = chat(message.room_id);
      const typist = state.typing.get(message.room_id);
      if (typist && typist.userId === message.sender_id) {
        state.typing.delete(message.room_id);
        changed("typing", { roomId: message.room_id });
      }
      // The server pushes a room's messages in seq order, so a live one past a gap means a
      // push was lost: the page catches up (app.js).
      const held = entry.status === "ready" ? this.lastSeq(message.room_id) : null;
      const gap = live && held !== null && message.seq > held + 1;
      // While joining too: a resend's ack may overtake the join's answer, which may lack it.
      if (entry.status === "ready" || entry.status === "joining") merge(entry, [message]);
      else entry.outbox.delete(message.client_id);
      touchRoom(message);
      // live: pushed by the server (message:new), not an ack or a catch-up.
      changed("chat", { roomId: message.room_id, message, live, gap, incoming: message.sender_id !== state.me.id });
      changed("rooms");
    },
    /** An edit, deletion or reaction: the stored copy is replaced, nothing moves. */
    updated(message) {
      const entry = state.chats.get(message.room_id);
      if (entry && this.messageBySeq(message.room_id, message.seq)) merge(entry, [message]);
      const room = state.rooms.get(message.room_id);
      if (room?.last_message?.seq === message.seq) room.last_message = message;
      changed("chat", { roomId: message.room_id });
      changed("rooms");
    },
    /** Deleted for me, here or in another tab (`message:hidden`): the message goes from this chat,
     * and from the links list's last line (the newest one left takes its place). A message not
     * loaded here needs nothing: its stub comes with the page or catch-up that would bring it. */
    hidden(roomId, seq) {
      const entry = state.chats.get(roomId);
      if (!entry?.messages.some((message) => message.seq === seq)) return;
      entry.hidden.set(seq, entry.messages.find((message) => message.seq === seq).id);
      drop(entry, seq);
      const room = state.rooms.get(roomId);
      if (room?.last_message?.seq === seq) room.last_message = entry.messages[entry.messages.length - 1] || null;
      changed("chat", { roomId });
      changed("rooms");
    },
    /** A delete for me the server refused: the message comes back. */
    unhidden(message) {
      const entry = chat(message.room_id);
      entry.hidden.delete(message.seq);
      entry.hiddenSenders.delete(message.seq);
      merge(entry, [message]);
      const room = state.rooms.get(message.room_id);
      if (room && (!room.last_message || room.last_message.seq < message.seq)) room.last_message = message;
      changed("chat", { roomId: message.room_id });
      changed("rooms");
    },
    /** `extra`: {kind, attachment_id, attachment, reply_to} for pictures, voice notes, files, replies. */
    queueSend(roomId, text, extra = {}) {
      const entry = {
        client_id: crypto.randomUUID(), room_id: roomId, sender_id: state.me.id, kind: "text", text,
        created_at: new Date().toISOString(), state: "pending", error: null, retryable: true, ...extra,
      };
      chat(roomId).outbox.set(entry.client_id, entry);
      changed("chat", { roomId, pending: entry });
      return entry;
    },
    sendFailed(entry, error) {
      const queued = chat(entry.room_id).outbox.get(entry.client_id);
      if (!queued) return;
      // Offline: it stays pending and goes out again on reconnect.
      if (error.code !== "offline") {
        // Rate limited: nothing was stored, so the same send may go again once the hint has passed.
        Object.assign(queued, {
          state: "failed", error: error.message, retryable: error.retryable || error.code === "rate_limited",
          // Refused by the service's rules: sending it again would be refused again; the text goes back to be changed.
          refusal: error.code === "filtered" ? { kind: error.details?.kind, allowed_at: error.details?.allowed_at } : null,
        });
      }
      changed("chat", { roomId: entry.room_id, failed: error });
    },
    /** A send refused by the rules, taken back to be changed: its bubble goes; returns it. */
    takeBackSend(roomId, clientId) {
      const outbox = chat(roomId).outbox;
      const entry = outbox.get(clientId);
      if (!entry || entry.state !== "failed") return null;
      outbox.delete(clientId);
      changed("chat", { roomId });
      return entry;
    },
    resending(entry) {
      Object.assign(entry, { state: "pending", error: null, waiting: null });
      changed("chat", { roomId: entry.room_id });
    },
    /** Rate limited: nothing was stored; it stays pending and goes again in `seconds` (live/outbox.js). */
    sendWaiting(entry, seconds) {
      const queued = chat(entry.room_id).outbox.get(entry.client_id);
      if (!queued) return;
      Object.assign(queued, { state: "pending", error: null, waiting: seconds });
      changed("chat", { roomId: entry.room_id, waiting: seconds });
    },

    // --- receipts and the outbox kept across reloads (live/receipts.js, live/outbox.js) ---------------
    /** A member's marks moved (`receipt` event or a mark's ack); they never move back. */
    receipt({ room_id: roomId, user_id: userId, delivered_seq: deliveredSeq, read_seq: readSeq }) {
      const marks = chat(roomId).receipts;
      const known = marks[userId] || { delivered_seq: 0, read_seq: 0 };
      marks[userId] = {
        delivered_seq: Math.max(known.delivered_seq, deliveredSeq), read_seq: Math.max(known.read_seq, readSeq),
      };
      changed("chat", { roomId, receipt: true });
    },
    /** How far an own message got: pending | failed | sent | delivered | read (null: not mine). */
    receiptOf(message, sendState) {
      if (message.sender_id !== state.me.id) return null;
      if (sendState !== "sent") return sendState;
      const marks = Object.entries(chat(message.room_id).receipts)
        .filter(([userId]) => String(userId) !== String(state.me.id)).map(([, mark]) => mark);
      if (marks.some((mark) => mark.read_seq >= message.seq)) return "read";
      if (marks.some((mark) => mark.delivered_seq >= message.seq)) return "delivered";
      return "sent";
    },
    /** A send kept in localStorage by an earlier page: shown pending, resent with its client_id. */
    restoreSend(saved) {
      const outbox = chat(saved.room_id).outbox;
      if (outbox.has(saved.client_id)) return null;
      const entry = { ...saved, sender_id: state.me.id, state: "pending", error: null, retryable: true };
      outbox.set(entry.client_id, entry);
      changed("chat", { roomId: entry.room_id });
      return entry;
    },
  };
}

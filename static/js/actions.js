// The one way out: every request the page makes to the server leaves from here, as dispatcher.js
// is the one way in. Socket requests go through socket.js's request(), HTTP through api.js; views
// and the live modules call these actions and never import either. What an answer changes goes
// into the store (or back to the caller, for the dialogs and Settings that show it themselves).
import { deleteJSON, getJSON, patchJSON, postJSON, upload } from "./api.js";
import { formatDateTime, t } from "./i18n.js";
import { RequestError } from "./socket.js";
import { createSender } from "./live/outbox.js";

/**
 * socket            socket.js's connection: request(event, payload), reconnectNow(), connected
 * store             store.js's
 * urls              the server's URLs, from #app's data- attributes: lobby, room(roomId), rooms,
 *                   history(roomId), attachments(roomId), reports, blocks, block(userId), me, avatar, rtcConfig,
 *                   warning(warningId), birthDate (the question an account without a date of birth answers)
 * historyPageSize   the server's HISTORY_PAGE_SIZE
 * page              the page's side: navigate(url) (app.js's router), leave(url) (to another page of the
 *                   site), and composer() (composer_media.js's, mounted after the actions: what a send
 *                   means, its error line, editing)
 */
const JUMP_RANGE = 1000; // the server's rooms.MAX_RANGE: one answer to a far jump back
const JUMP_STEPS = 20; // a jump loads at most this many answers

export function createActions({ socket, store, urls, historyPageSize, page }) {
  const olderLoads = new Map(); // room id -> the older page being loaded
  // Sends go one at a time per room, in order; rate-limited ones wait and go again (live/outbox.js).
  const sender = createSender({ request: (event, payload) => socket.request(event, payload), store });
  const catchingUp = new Set(); // rooms with a catch-up in flight: a second one would fetch the same
  let lastLooking = null; // what the lobby's form last asked for: "look again" asks the same

  function waitedOrMatched(ack) {
    if (ack.state === "matched") store.matched(ack.room);
    else {
      const looking = ack.code ? null : { interests: ack.interests || [], languages: ack.languages || [], only_shared: Boolean(ack.only_shared), since: ack.created_at };
      store.matchWaiting(ack.code, ack.expires_at, looking);
    }
  }

  function deliver(entry) {
    sender.send(entry);
  }

  /** An edit, deletion or reaction: the ack's message replaces the stored one (as message:updated does). */
  async function changeMessage(event, payload) {
    try {
      store.updated((await socket.request(event, payload)).message);
    } catch (error) {
      page.composer().showError(error.message);
    }
  }

  const actions = {
    roomUrl: urls.room,

    /** Whether requests can go now (the socket is up). */
    get connected() {
      return socket.connected;
    },
    reconnectNow() {
      socket.reconnectNow();
    },

    openRoom(roomId) {
      page.navigate(roomId ? urls.room(roomId) : urls.lobby);
    },

    // --- finding a link, ending it -----------------------------------------------------------
    /** `looking`: {interests, languages, only_shared} from the lobby's form (ignored with a code). */
    async findLink(code = store.state.match.code, looking = lastLooking) {
      store.matchStarting(code);
      if (looking) lastLooking = looking;
      try {
        const ack = await socket.request("match:start", code ? { code } : { ...looking });
        waitedOrMatched(ack);
      } catch (error) {
        if (error.code === "conflict" && error.details.room) store.matchConflict(error.details.room, code);
        else if (error.details?.needs === "birth_date" && urls.birthDate) page.leave(urls.birthDate);
        else store.matchIdle({ text: error.message, kind: "error" });
      }
    },

    /** End this link and look again with the same settings, in one step (match:next). */
    async nextLink(roomId) {
      store.matchStarting(null);
      actions.openRoom(null);
      try {
        waitedOrMatched(await socket.request("match:next", { room_id: roomId }));
      } catch (error) {
        if (error.code === "conflict" && error.details.room) store.matchConflict(error.details.room, null);
        else store.matchIdle({ text: error.message, kind: "error" });
      }
    },

    async cancelFind() {
      try {
        await socket.request("match:cancel");
        store.matchIdle();
      } catch (error) {
        store.matchIdle({ text: error.message, kind: "error" });
      }
    },

    async endAndFindAgain(roomId) {
      try {
        const ack = await socket.request("room:leave", { room_id: roomId });
        store.upsertRoom(ack.room);
      } catch (error) {
        store.matchIdle({ text: error.message, kind: "error" });
        return;
      }
      await actions.findLink();
    },

    async endLink(roomId) {
      try {
        const ack = await socket.request("room:leave", { room_id: roomId });
        store.upsertRoom(ack.room);
      } catch (error) {
        store.joinFailed(roomId, error);
      }
    },

    // --- the room: joining, catching up, the list of links -----------------------------------
    async join(roomId) {
      let sinceSeq = store.chat(roomId).status === "ready" ? store.lastSeq(roomId) : null;
      if (sinceSeq === null) store.joining(roomId);
      else if (catchingUp.has(roomId)) return;
      catchingUp.add(roomId);
      try {
        // A catch-up comes in pages of at most 200: ask again from the new position until none remain.
        for (;;) {
          const ack = await socket.request("room:join", sinceSeq === null ? { room_id: roomId } : { room_id: roomId, since_seq: sinceSeq });
          store.joined(roomId, ack, sinceSeq); // live/receipts.js marks delivered / read what is on screen
          const reached = store.lastSeq(roomId);
          if (sinceSeq === null || !ack.has_more || reached <= sinceSeq) break;
          sinceSeq = reached;
        }
      } catch (error) {
        if (error.code !== "offline") store.joinFailed(roomId, error); // offline: joined on connect
      } finally {
        catchingUp.delete(roomId);
      }
    },

    /** After a reconnect: catch up the open room from its last seq, send what was never acked. */
    catchUp() {
      if (store.state.roomId) actions.join(store.state.roomId);
      actions.refreshRooms();
      for (const entry of store.outboxEntries()) {
        if (entry.state === "pending" || entry.retryable) deliver(entry);
      }
    },

    async refreshRooms() {
      try {
        store.setRooms((await getJSON(urls.rooms)).rooms);
      } catch {
        // The list stays as it was; the next reconnect or match refreshes it.
      }
    },

    /** The page before the oldest loaded message; `fromSeq`: down to that seq at once (a jump far back). */
    loadOlder(roomId, { fromSeq = null } = {}) {
      const chat = store.chat(roomId);
      if (olderLoads.has(roomId)) return olderLoads.get(roomId);
      if (!chat.hasMore) return Promise.resolve();
      const load = (async () => {
        store.olderLoading(roomId, true);
        const params = new URLSearchParams({ limit: String(historyPageSize) });
        const oldest = store.oldestSeq(roomId); // hidden stubs count: the page below them
        if (oldest !== null) params.set("before_seq", String(oldest));
        if (fromSeq !== null) params.set("from_seq", String(fromSeq));
        try {
          store.olderLoaded(roomId, await getJSON(`${urls.history(roomId)}?${params}`));
        } catch (error) {
          store.olderLoading(roomId, false);
          store.joinFailed(roomId, error);
        }
      })().finally(() => olderLoads.delete(roomId));
      olderLoads.set(roomId, load);
      return load;
    },
    /** Older history until `found()` or its start, a long step (JUMP_RANGE) at a time: a jump
     * to a message far back (views/chat.js's heartlink:show-message). `seq`: the one wanted, when known. */
    async loadBackTo(roomId, found, seq = null) {
      for (let step = 0; step < JUMP_STEPS && !found(); step += 1) {
        const chat = store.chat(roomId);
        if (!chat.hasMore || chat.status !== "ready") return;
        const oldest = store.oldestSeq(roomId) ?? 0;
        await actions.loadOlder(roomId, { fromSeq: Math.max(0, seq ?? oldest - JUMP_RANGE) });
      }
    },

    /** A page of the room's messages with these words, newest first, older with `beforeSeq` (views/search.js). */
    searchRoom(roomId, query, beforeSeq = null) {
      const params = new URLSearchParams({ q: query });
      if (beforeSeq !== null) params.set("before_seq", String(beforeSeq));
      return getJSON(`${urls.search(roomId)}?${params}`);
    },

    /** A page of the link's shared items (views/partner_panel.js, views/media_viewer.js): `kind`
     * media|files|voice; `cursor` {before} or {after} a seq (none: the newest). Resolves with
     * {items (newest first), has_more, next_before | next_after}. */
    sharedItems(roomId, kind, cursor = {}, limit = 30) {
      const params = new URLSearchParams({ kind, limit: String(limit) });
      for (const key of ["before", "after"]) if (cursor[key] != null) params.set(key, String(cursor[key]));
      return getJSON(`${urls.attachments(roomId)}?${params}`);
    },

    // --- messages: text, attachments, reactions, edit, delete (views/message_content.js) -----
    send(roomId, text) {
      const { replyTo, editing } = page.composer().composeIntent(roomId);
      if (editing) actions.editMessage(editing, text);
      else deliver(store.queueSend(roomId, text, replyTo ? { reply_to: replyTo.id } : {}));
    },
    /** Send an uploaded attachment as a message; `caption` (or null) is its text. */
    sendAttachment(roomId, attachment, replyTo = null, caption = null) {
      deliver(store.queueSend(roomId, caption, {
        kind: attachment.kind, attachment_id: attachment.id, attachment, ...(replyTo && { reply_to: replyTo }),
      }));
    },
    /** Upload a file to a room (resolves with the stored attachment); it is sent with sendAttachment(). */
    uploadAttachment(roomId, file, kind, onProgress, signal) {
      const form = new FormData();
      form.append("kind", kind);
      form.append("file", file, file.name);
      return upload(urls.attachments(roomId), form, onProgress, signal);
    },
    retry(roomId, clientId) {
      const entry = store.chat(roomId).outbox.get(clientId);
      if (entry) deliver(entry);
    },
    react(message, emoji) {
      changeMessage("message:react", { room_id: message.room_id, message_id: message.id, emoji });
    },
    async editMessage(message, text) {
      try {
        store.updated((await socket.request("message:edit", { room_id: message.room_id, message_id: message.id, text })).message);
      } catch (error) {
        // Refused (the rules, too long …): the edit stays open with the new text, to be changed.
        if (error.code !== "offline") page.composer().startEdit(message, text);
        page.composer().showError(error.code === "filtered" && error.details.allowed_at
          ? t("filtered_link", { time: formatDateTime(error.details.allowed_at) }) : error.message);
      }
    },
    deleteMessage(message) {
      changeMessage("message:delete", { room_id: message.room_id, message_id: message.id });
    },
    /** Delete for me: gone from this tab at once (and from my other tabs by `message:hidden`); back if refused. */
    async hideMessage(message) {
      store.hidden(message.room_id, message.seq);
      try {
        await socket.request("message:hide", { room_id: message.room_id, message_id: message.id });
      } catch (error) {
        store.unhidden(message);
        page.composer().showError(error.message);
      }
    },
    isEditing(roomId) {
      return page.composer().isEditing(roomId);
    },
    startEdit(message) {
      page.composer().startEdit(message);
    },

    // --- receipts and typing (live/receipts.js, live/typing.js) ------------------------------
    /** `message:delivered` or `message:read` up to a seq; the ack's receipt goes into the store. */
    async markReceipt(event, roomId, upTo) {
      const ack = await socket.request(event, { room_id: roomId, up_to_seq: upTo });
      if (ack.receipt) store.receipt(ack.receipt);
    },
    sendTyping(roomId, typing) {
      if (socket.connected) socket.request("typing", { room_id: roomId, typing }).catch(() => {});
    },

    // --- "Keep this link" and reopening a kept one -------------------------------------------
    async keepLink(roomId, keep) {
      try {
        store.upsertRoom((await socket.request("link:keep", { room_id: roomId, keep })).room);
      } catch (error) {
        page.composer().showError(error.message);
      }
    },
    async reopenLink(roomId) {
      try {
        store.upsertRoom((await socket.request("link:reopen", { room_id: roomId })).room);
        actions.join(roomId);
      } catch (error) {
        page.composer().showError(error.message || t("reopen_failed"));
      }
    },

    // --- calls: call_session.js asks; its state machine decides what ----------------------------
    /** One of the call session's requests (call:start, call:accept, call:signal …). */
    callRequest(event, payload) {
      return socket.request(event, payload);
    },
    /** The ICE servers for a call; without an answer, none (a direct connection may still work). */
    rtcConfig() {
      return getJSON(urls.rtcConfig).catch(() => ({ iceServers: [] }));
    },

    // --- safety: report, block, unblock (views/safety.js, Settings) -------------------------------
    report(body) {
      return postJSON(urls.reports, body);
    },
    /** The people I blocked now: {blocked: [person]}, as block() and unblock() answer too. */
    blockedPeople() {
      return getJSON(urls.blocks);
    },
    block(userId) {
      return postJSON(urls.block(userId));
    },
    unblock(userId) {
      return deleteJSON(urls.block(userId));
    },

    // --- my profile and privacy (views/settings.js) -------------------------------------------------
    profile() {
      return getJSON(urls.me);
    },
    updateProfile(fields) {
      return patchJSON(urls.me, fields);
    },
    uploadAvatar(file) {
      const form = new FormData();
      form.append("file", file, file.name);
      return upload(urls.avatar, form);
    },
    removeAvatar() {
      return deleteJSON(urls.avatar);
    },
    /** Delete my account for good, after my password (DELETE /api/me): {deleted: true}. */
    deleteAccount(password) {
      return deleteJSON(urls.me, { password });
    },

    // --- what moderators decided about me (views/standing.js) ------------------------------------
    /** I have read a moderator's warning: it goes, here and in my other tabs. */
    async acknowledgeWarning(warningId) {
      await postJSON(urls.warning(warningId));
      store.warningAcknowledged(warningId);
    },
  };
  return actions;
}

/**
 * The sign-in page's one request (static/js/signin.js): a suspended or banned person's appeal,
 * {username, password, text}, sent with no session. `urls`: {appeals}.
 */
export function createSignInActions({ urls }) {
  return {
    appeal(body) {
      return postJSON(urls.appeals, body);
    },
  };
}

/**
 * The moderation console's requests (static/js/console.js). What an answer brings goes into the
 * console's store (console_store.js); a refused decision is thrown back to the form that sent it.
 * `urls`: reports, person(userId), decisions, appeals, appeal(appealId); `pageSize`: reports a page.
 */
export function createConsoleActions({ store, urls, pageSize = 20 }) {
  let reportsAsked = 0; // answers that come back out of order are dropped: only the latest counts
  let appealsAsked = 0;

  /** Every console path answers 404 to anyone but a moderator: when a refusal is a 404 and the list of
   * reports, which always exists, is one too, it is said as what it is. */
  async function asModerator(asking) {
    try {
      return await asking();
    } catch (error) {
      if (error.details?.status !== 404) throw error;
      const closed = await getJSON(urls.reports).then(() => false, (again) => again.details?.status === 404);
      throw closed ? new RequestError({ code: "not_a_moderator", message: t("console_closed"), status: 404 }) : error;
    }
  }

  const actions = {
    /** The current page of open reports (or `page`), into the store. */
    async loadReports(page = store.state.page) {
      const asked = ++reportsAsked;
      try {
        const answer = await asModerator(() => getJSON(`${urls.reports}?${new URLSearchParams({ page: String(page), limit: String(pageSize) })}`));
        if (asked === reportsAsked) store.reportsLoaded(answer, pageSize);
      } catch (error) {
        if (asked === reportsAsked) store.reportsFailed(error.message);
      }
    },
    async loadAppeals() {
      const asked = ++appealsAsked;
      try {
        const { appeals } = await asModerator(() => getJSON(urls.appeals));
        if (asked === appealsAsked) store.appealsLoaded(appeals);
      } catch (error) {
        if (asked === appealsAsked) store.appealsFailed(error.message);
      }
    },
    /** A person's record (account age, links, reporters, warnings, actions), into the store. */
    async loadRecord(userId) {
      store.recordLoading(userId);
      try {
        store.recordLoaded(userId, await asModerator(() => getJSON(urls.person(userId))));
      } catch (error) {
        store.recordFailed(userId, error.message);
      }
    },
    /** {action, note, reason?, report_ids | subject_id, days | until}: the reports decided leave the list. */
    async decide(body) {
      const { decision } = await asModerator(() => postJSON(urls.decisions, body));
      store.decided(decision);
      return decision;
    },
    /** "upheld" or "restored", with a note: the appeal leaves the list. */
    async decideAppeal(appealId, decision, note) {
      const answer = await asModerator(() => postJSON(urls.appeal(appealId), { decision, note }));
      store.decided(answer.decision);
      return answer.decision;
    },
  };
  return actions;
}

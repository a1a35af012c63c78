// The one way in for what the server says: every Socket.IO server event of the page is heard
// here, and turned into a call on the store (or on the call session, the other state holder).
// Views never listen to the socket; they subscribe to the store (or the session).
//
// Events (docs/protocol.md §5): match:found, match:timeout, match:cancelled, room:ended,
// room:updated, presence, user:updated, message:new, message:updated, message:hidden, receipt, typing,
// call:incoming, call:state, call:signal, account:warning, account:warning_acknowledged,
// account:restricted. The moderation console's events are heard by dispatchConsoleEvents, below.

/** `notices`: the words for lobby notices, {timeout, cancelledElsewhere} (already translated). */
export function dispatchServerEvents(socket, store, calls, notices) {
  const handlers = {
    "match:found": ({ room }) => store.matched(room),
    "match:timeout": () => store.matchIdle({ text: notices.timeout, kind: "info" }),
    "match:cancelled": () => store.matchIdle({ text: notices.cancelledElsewhere, kind: "info" }),
    "room:ended": (event) => store.roomEnded(event),
    "room:updated": ({ room }) => room && store.upsertRoom(room),
    presence: (event) => store.presence(event),
    "user:updated": ({ user }) => user && store.userUpdated(user),
    "message:new": ({ message }) => store.received(message, { live: true }),
    "message:updated": ({ message }) => store.updated(message),
    "message:hidden": ({ room_id: roomId, seq }) => store.hidden(roomId, seq),
    receipt: (receipt) => store.receipt(receipt),
    typing: (event) => store.typing(event),
    "call:incoming": (event) => calls.incoming(event),
    "call:state": (event) => calls.state(event),
    "call:signal": (event) => calls.signalled(event),
    "account:warning": (warning) => warning && store.warned(warning),
    "account:warning_acknowledged": ({ id }) => store.warningAcknowledged(id),
    "account:restricted": (restriction) => restriction && store.restricted(restriction),
  };
  for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
  return Object.keys(handlers);
}

/**
 * The moderation console's way in (static/js/console.js): moderation:report, moderation:appeal and
 * moderation:decided reach the console's store (console_store.js).
 */
export function dispatchConsoleEvents(socket, store) {
  const handlers = {
    "moderation:report": ({ report }) => report && store.reportFiled(report),
    "moderation:appeal": ({ appeal }) => appeal && store.appealFiled(appeal),
    "moderation:decided": (decision) => decision && store.decided(decision),
  };
  for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
  return Object.keys(handlers);
}

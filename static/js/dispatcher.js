// The one way in for what the server says: every Socket.IO server event of the page is heard
// here, and turned into a call on the store (or on the call session, the other state holder).
// Views never listen to the socket; they subscribe to the store (or the session).
//
// Events (docs/protocol.md §5): match:found, match:timeout, match:cancelled, room:ended,
// room:updated, presence, user:updated, message:new, message:updated, receipt, typing,
// call:incoming, call:state, call:signal.

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
    receipt: (receipt) => store.receipt(receipt),
    typing: (event) => store.typing(event),
    "call:incoming": (event) => calls.incoming(event),
    "call:state": (event) => calls.state(event),
    "call:signal": (event) => calls.signalled(event),
  };
  for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
  return Object.keys(handlers);
}

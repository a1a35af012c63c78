// The one Socket.IO connection of the page. Every request is answered by one ack object,
// {ok: true, ...} or {ok: false, error: {code, message}}; `request` turns the second into a throw.
import { io } from "/vendor/socket.io.esm.min.js";
import { t } from "./i18n.js";

const ACK_TIMEOUT_MS = 10000;

/** A failed request: `code` is the wire's error code, or "offline" / "timeout" from here. */
export class RequestError extends Error {
  constructor({ code = "internal", message, ...details } = {}) {
    super(message || t("error"));
    this.code = code;
    this.details = details;
  }

  /** Worth sending again as it was (the server never saw it, did not answer, or could not reach its database). */
  get retryable() {
    return this.code === "offline" || this.code === "timeout" || this.code === "unavailable";
  }
}

/**
 * Connect with the session cookie. `onStatus(status, detail)` hears "online", "offline",
 * "unauthorized" and "restricted" (detail: the refusal's {code, standing, until, reason});
 * `onReconnect()` (optional) runs on every connect after the first.
 * The socket's server events are heard by dispatcher.js only, through `on`.
 */
export function connect({ onStatus, onReconnect }) {
  const socket = io({ transports: ["websocket", "polling"] });
  let connectedBefore = false;

  socket.on("connect", () => {
    onStatus("online");
    if (connectedBefore) onReconnect?.();
    connectedBefore = true;
  });
  socket.on("disconnect", (reason) => {
    // The server ends a socket for good only when its sign-in ended (signed out in another tab, a
    // new password): there is nothing to reconnect to, so the page goes to sign-in. Every other
    // close reads as a lost transport, and the client comes back by itself.
    onStatus(reason === "io server disconnect" ? "unauthorized" : "offline");
  });
  socket.on("connect_error", (error) => {
    // Not signed in (any more), or the account is suspended or banned: trying again cannot help.
    const code = error?.data?.code;
    if (code === "unauthorized" || code === "restricted") {
      socket.disconnect();
      onStatus(code, error.data);
    } else {
      onStatus("offline");
    }
  });

  // The browser says the network is back: try now rather than wait out the backoff.
  window.addEventListener("online", () => reconnectNow());
  function reconnectNow() {
    if (!socket.connected) socket.disconnect().connect();
  }

  return {
    reconnectNow,
    /** Send `event` and resolve with the ack's fields; throws RequestError. */
    async request(event, payload = {}) {
      if (!socket.connected) throw new RequestError({ code: "offline", message: t("offline_error") });
      let ack;
      try {
        ack = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
      } catch {
        throw new RequestError({ code: "timeout", message: t("no_answer") });
      }
      if (!ack || ack.ok !== true) throw new RequestError(ack?.error);
      return ack;
    },
    on(event, handler) {
      socket.on(event, handler);
    },
    get connected() {
      return socket.connected;
    },
  };
}

"""The inbound packet budget: what any one connection may send, counted before any work.

Every Engine.IO message a connection sends, whatever event it names (unknown ones
too), takes one token from that connection's bucket (PACKET_RATE per second, up to
PACKET_BURST saved up). Without a token the packet is dropped before it is decoded,
so a flood costs almost nothing of the worker's time; a connection that has had more
than a whole burst of packets dropped is closed, as a lost transport (no well-behaved
client ever has one dropped: the page sends a few packets a second at most; one that
reconnects starts with a fresh budget and is closed again if it floods again).
The per-person rate limits (heartlink.limits) sit above this, with coded acks.

A packet that cannot be read (malformed Engine.IO or Socket.IO) is dropped with one short
log line, at most a few a minute per address (it used to log a traceback each).
Two kinds of input are refused outright, since either could fill the worker's memory:
binary Socket.IO packets (no event of the protocol takes binary, and python-socketio keeps
every attachment a binary packet announces), and a websocket message larger than the
Socket.IO payload limit, however it is fragmented (eventlet checks each frame's length,
never a whole message's; gevent-websocket checks neither).

This is hooked in as python-socketio's own admin instrumentation does: the Engine.IO
server's 'message' and 'disconnect' handlers are wrapped.
"""
import logging
import time

from . import borrowed, logs, sockets

log = logging.getLogger(__name__)


class PacketBudget:
    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self._buckets = {}  # eio sid -> [tokens, last refill, packets dropped]

    def take(self, eio_sid, now=None):
        """Returns "ok", "drop" or "close" for one packet from this connection."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(eio_sid)
        if bucket is None:
            bucket = self._buckets[eio_sid] = [self.burst, now, 0]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1:
            bucket[0] = tokens - 1
            return "ok"
        bucket[0] = tokens
        bucket[2] += 1
        if bucket[2] == 1:
            log.warning("connection %s is over its packet budget (%s/s); dropping its packets", eio_sid, self.rate)
        return "close" if bucket[2] > self.burst else "drop"

    def forget(self, eio_sid):
        self._buckets.pop(eio_sid, None)


# What python-socketio raises for a packet it cannot read (bad type digit, bad JSON, a
# payload of the wrong shape); a fault of the server's own (the database away) is not one.
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def _is_binary(data):
    """A binary Socket.IO packet: its header (BINARY_EVENT 5, BINARY_ACK 6) or an attachment."""
    return not isinstance(data, str) or data[:1] in ("5", "6")


def _address(sio, eio_sid):
    return borrowed.handshake_environ(sio, eio_sid).get("REMOTE_ADDR", "-")


def install(sio, rate, burst):
    """Put the budget in front of a python-socketio server's packet handling."""
    budget = PacketBudget(rate, burst)
    eio = borrowed.engineio_server(sio)
    on_message, on_disconnect = borrowed.engineio_handler(sio, "message"), borrowed.engineio_handler(sio, "disconnect")
    # Connections closed for flooding, and when: what they had in flight still arrives.
    closed = {}
    # Binary and malformed packets: each a few log lines a minute per address.
    binary_log, malformed_log = logs.LogBudget(), logs.LogBudget()
    _cap_websocket_messages(eio.async_mode, borrowed.socket_payload_limit(sio))

    def budgeted_message(eio_sid, data):
        if eio_sid in closed:
            return None
        verdict = budget.take(eio_sid)
        if verdict == "ok" and _is_binary(data):
            if binary_log.allows(_address(sio, eio_sid)):
                log.warning("connection %s sent a binary packet; refused (no event takes binary)", eio_sid)
            return None
        if verdict == "ok":
            try:
                return on_message(eio_sid, data)
            except _UNREADABLE as error:  # event handlers answer their own errors; this is the packet itself
                address = _address(sio, eio_sid)
                if malformed_log.allows(address):
                    log.warning("malformed packet from %s (connection %s): %s; dropped",
                                address, eio_sid, type(error).__name__)
                return None
        if verdict == "close":
            log.warning("closing connection %s: it kept flooding past its packet budget", eio_sid)
            now = time.monotonic()
            for stale in [sid for sid, at in closed.items() if now - at > 60]:
                del closed[stale]
            closed[eio_sid] = now
            sockets.close_for_reconnect([eio_sid])
        return None

    def forgetting_disconnect(eio_sid, *args):
        budget.forget(eio_sid)
        return on_disconnect(eio_sid, *args)

    eio.on("message", budgeted_message)
    eio.on("disconnect", forgetting_disconnect)
    return budget


def _cap_websocket_messages(async_mode, limit):
    """A websocket message, however fragmented, may be no longer than the Socket.IO payload
    limit. Without this, a text frame with FIN=0 followed by endless continuation frames grew
    one message without bound (1.2 GB in 5.5 s); past the limit the connection now fails."""
    if async_mode == "eventlet":
        borrowed.cap_eventlet_messages()
    elif async_mode == "gevent":
        borrowed.cap_gevent_messages(limit)

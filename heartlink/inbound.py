"""The inbound packet budget: what any one connection may send, counted before any work.

Every Engine.IO message a connection sends, whatever event it names (unknown ones
too), takes one token from that connection's bucket (PACKET_RATE per second, up to
PACKET_BURST saved up). Without a token the packet is dropped before it is decoded,
so a flood costs almost nothing of the worker's time; a connection that has had more
than a whole burst of packets dropped is closed, as a lost transport (no well-behaved
client ever has one dropped: the page sends a few packets a second at most; one that
reconnects starts with a fresh budget and is closed again if it floods again).
The per-person rate limits (heartlink.limits) sit above this, with coded acks.

This is hooked in as python-socketio's own admin instrumentation does: the Engine.IO
server's 'message' and 'disconnect' handlers are wrapped.
"""
import logging
import time

from . import realtime

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


def install(sio, rate, burst):
    """Put the budget in front of a python-socketio server's packet handling."""
    budget = PacketBudget(rate, burst)
    eio = sio.eio
    on_message, on_disconnect = eio.handlers["message"], eio.handlers["disconnect"]
    # Connections closed for flooding, and when: what they had in flight still arrives.
    closed = {}

    def budgeted_message(eio_sid, data):
        if eio_sid in closed:
            return None
        verdict = budget.take(eio_sid)
        if verdict == "ok":
            return on_message(eio_sid, data)
        if verdict == "close":
            log.warning("closing connection %s: it kept flooding past its packet budget", eio_sid)
            now = time.monotonic()
            for stale in [sid for sid, at in closed.items() if now - at > 60]:
                del closed[stale]
            closed[eio_sid] = now
            realtime.close_for_reconnect([eio_sid])
        return None

    def forgetting_disconnect(eio_sid, *args):
        budget.forget(eio_sid)
        return on_disconnect(eio_sid, *args)

    eio.on("message", budgeted_message)
    eio.on("disconnect", forgetting_disconnect)
    return budget

"""Connections a single address may hold, and Engine.IO sessions that never sign in.

`ConnectionGuard` is WSGI middleware around the whole application (Socket.IO
included): it counts the requests in flight per client address (a websocket is one
request for as long as it is open; a held long-poll is one while it is held) and
answers 429 past MAX_CONNECTIONS_PER_ADDRESS, before any work. It also counts the new
Engine.IO sessions each address opens (HANDSHAKE_RATE): an anonymous handshake costs a
session held until the reaper closes it, and 2,500 a second from one address, each held
5 s, took a worker past 1 GB. Slow senders that never finish their headers are dropped
earlier (heartlink/worker/server.py).

`HandshakeReaper` closes Engine.IO sessions that have not completed a Socket.IO
CONNECT within HANDSHAKE_TIMEOUT seconds (a refused connect leaves one open
otherwise, uncounted and holding memory), as a lost transport, so that a client that
meant to connect tries again (sockets.close_for_reconnect). It is started
by the first request the guard sees, so nothing runs in processes that never serve.
"""
import json
import logging
import threading
import time

from . import borrowed, sockets

log = logging.getLogger(__name__)


class HandshakeBudget:
    """New Engine.IO sessions per address: `limit` in any `window` seconds on average (a token
    bucket refilled at limit/window a second, holding at most `limit`)."""

    _ADDRESSES = 10_000  # past that, full buckets are forgotten

    def __init__(self, limit, window):
        self.rate, self.burst = limit / window, limit
        self._buckets = {}  # address -> [tokens, last refill]
        self._lock = threading.Lock()

    def take(self, address, now=None):
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(address)
            if bucket is None:
                if len(self._buckets) >= self._ADDRESSES:
                    self._buckets = {key: value for key, value in self._buckets.items()
                                     if value[0] + (now - value[1]) * self.rate < self.burst}
                bucket = self._buckets[address] = [self.burst, now]
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
            if bucket[0] < 1:
                return False
            bucket[0] -= 1
            return True


def _is_handshake(environ):
    """A request that opens a new Engine.IO session: the Socket.IO path without a session id."""
    return environ.get("PATH_INFO", "").startswith("/socket.io") and "sid=" not in environ.get("QUERY_STRING", "")


class ConnectionGuard:
    def __init__(self, wsgi_app, max_per_address, on_first_request=None, handshakes=None):
        self._app = wsgi_app
        self._max = max_per_address
        self._open = {}
        self._lock = threading.Lock()
        self._on_first_request = on_first_request
        self._warned = set()
        self._handshakes = handshakes

    def __call__(self, environ, start_response):
        if self._on_first_request is not None:
            starter, self._on_first_request = self._on_first_request, None
            starter()
        address = environ.get("REMOTE_ADDR") or "-"
        if self._handshakes is not None and _is_handshake(environ) and not self._handshakes.take(address):
            return _too_many(start_response, "Too many new connections from your address.")
        if not self._enter(address):
            if address not in self._warned:
                self._warned.add(address)
                log.warning("address %s holds %d connections; refusing more", address, self._max)
            return _too_many(start_response, "Too many connections from your address.")
        try:
            result = self._app(environ, start_response)
        except BaseException:
            self._leave(address)
            raise
        return _Counted(result, lambda: self._leave(address))

    def _enter(self, address):
        with self._lock:
            count = self._open.get(address, 0)
            if self._max and count >= self._max:
                return False
            self._open[address] = count + 1
            return True

    def _leave(self, address):
        with self._lock:
            count = self._open.get(address, 1) - 1
            if count > 0:
                self._open[address] = count
            else:
                self._open.pop(address, None)
                self._warned.discard(address)


def _too_many(start_response, message):
    body = json.dumps({"error": {"code": "rate_limited", "message": message}}).encode()
    start_response("429 Too Many Requests", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(body))), ("Retry-After", "5")])
    return [body]


class _Counted:
    """A response body that gives its connection back when the server closes it."""

    def __init__(self, result, done):
        self._result = result
        self._done = done
        self._closed = False

    def __iter__(self):
        try:
            yield from self._result
        finally:
            # gevent-websocket reads a websocket's (empty) body and never calls close().
            self.close()

    def close(self):
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


class HandshakeReaper:
    """Close Engine.IO sessions without a Socket.IO connection after `timeout` seconds."""

    def __init__(self, socketio, timeout, interval=1.0):
        self._socketio = socketio
        self._timeout = timeout
        self._interval = min(interval, max(timeout / 2, 0.1))
        self._first_seen = {}

    def start(self):
        if self._timeout > 0:
            self._socketio.start_background_task(self._run)

    def _run(self):
        while True:
            self._socketio.sleep(self._interval)
            try:
                self.sweep()
            except Exception:
                log.exception("closing unconnected Engine.IO sessions failed; trying again")

    def sweep(self, now=None):
        """One pass; returns the Engine.IO sids closed."""
        now = time.monotonic() if now is None else now
        server = self._socketio.server
        open_sockets = borrowed.engineio_sockets(server)
        sessions = list(open_sockets)
        self._first_seen = {eio_sid: self._first_seen.get(eio_sid, now) for eio_sid in sessions}
        closed = []
        for eio_sid in sessions:
            if now - self._first_seen[eio_sid] < self._timeout:
                continue
            eio_socket = open_sockets.get(eio_sid)
            if (eio_socket is None or borrowed.socket_closed(eio_socket)
                    or borrowed.has_socketio_connection(server, eio_sid)):
                continue
            log.info("closing Engine.IO session %s: no Socket.IO connection after %.0f s", eio_sid, self._timeout)
            closed.append(eio_sid)
            self._first_seen.pop(eio_sid, None)
        # Without waiting on those clients (one that never polls again must not stop the
        # reaper), and so that a client that meant to connect tries again.
        sockets.close_for_reconnect(closed)
        return closed

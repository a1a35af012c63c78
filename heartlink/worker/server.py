"""Running one worker process: the WSGI server, the sweeper beside it, and a graceful stop.

We build the listening socket ourselves (rather than socketio.run) to set
TCP_NODELAY: a handler that emits and then acks writes two frames, and with
Nagle's algorithm the second waits for the peer's delayed ACK (~40 ms).

On SIGTERM (systemd stop, docker stop, a deploy) the worker stops accepting
connections, lets the socket handlers already running finish, closes its sockets
so that their clients come back (sockets.close_for_reconnect: every official client
sees a lost transport and reconnects, through the balancer, to a worker that is up,
rejoining with since_seq and resending its unacked sends with the same client_id),
records in the database that it is gone, and exits. All of it within
HEARTLINK_SHUTDOWN_TIMEOUT; an alarm kills the process if it has not exited a second
after that.

On SIGHUP the worker reads HEARTLINK_BLOCKED_TERMS again (protections.load_blocked_terms);
the sends after the reload are checked against the new list.
"""
import argparse
import functools
import logging
import math
import os
import resource
import signal
import socket
import sys
import time

from config import redis_queue

from ..domain import presence, protections
from ..extensions import socketio
from . import borrowed, logs, metrics, sockets, sweeper, tuning

log = logging.getLogger(__name__)

_QUEUE_WATCH_EVERY = 1.0  # seconds


def _tuned(listener):
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def _allow_open_files(wanted):
    """Every socket is a file: lift the soft limit (often 1024) toward what we may serve."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        log.info("open files limit raised from %d to %d", soft, target)


def _dump_tasks(*_):
    """SIGUSR1: log where every green thread is waiting (for a worker that seems stuck)."""
    import gc
    import traceback

    import greenlet

    stacks = {}
    for task in gc.get_objects():
        if isinstance(task, greenlet.greenlet) and task.gr_frame is not None:
            stack = "".join(traceback.format_stack(task.gr_frame))
            stacks[stack] = stacks.get(stack, 0) + 1
    for stack, count in sorted(stacks.items(), key=lambda item: -item[1]):
        log.warning("%d task(s) at:\n%s", count, stack)


def _options(argv):
    parser = argparse.ArgumentParser(prog="app.py", description="Serve Heart Link (one worker).")
    parser.add_argument("--log-json", action="store_true",
                        help="log one JSON object per line (same as HEARTLINK_LOG_FORMAT=json)")
    return parser.parse_args(argv)


class Worker:
    """This process's part in the service: what it serves, and how it stops."""

    def __init__(self, app):
        self.app = app
        self.config = app.config
        self.running_handlers = 0
        self.stopping = False
        self.sweeper = None
        self._close_listener = lambda: None
        self._count_handlers()

    def _count_handlers(self):
        # python-socketio runs each event in its own task through one method (and sends
        # the ack from it); counting there is how a stop knows what is still running.
        def counting(handle):
            def counted(*args):
                self.running_handlers += 1
                try:
                    return handle(*args)
                finally:
                    self.running_handlers -= 1

            return counted

        borrowed.wrap_event_handling(socketio.server, counting)

    def start_background(self):
        self.sweeper = sweeper.start(self.app)
        if redis_queue(self.config):
            socketio.start_background_task(self._watch_queue)

    def _watch_queue(self):
        """While Redis was unreachable this worker's sockets missed what other workers
        published; when it is back they are closed so that each client rejoins with
        since_seq and catches up (the page shows "reconnecting" meanwhile)."""
        import redis

        client = redis.Redis.from_url(self.config["SOCKETIO_MESSAGE_QUEUE"], socket_timeout=1,
                                      socket_connect_timeout=1, retry_on_timeout=False)
        manager = socketio.server.manager
        down_since = lost_subscription = None
        while not self.stopping:
            socketio.sleep(_QUEUE_WATCH_EVERY)
            try:
                client.ping()
            except Exception as error:  # noqa: BLE001 - any failure means unreachable
                if down_since is None:
                    down_since, lost_subscription = time.monotonic(), borrowed.queue_subscription(manager)
                    metrics.queue_outages.inc()
                    log.error("message queue unreachable; events to other workers are not delivered "
                              "until it returns", extra={"error": str(error)})
                continue
            if down_since is None or self.stopping:
                continue
            # python-socketio's listener resubscribes on its own, after a backoff of up to 60 s;
            # until then this worker still hears nothing, so its sockets wait for that.
            resubscribed = functools.partial(self._resubscribed, manager, lost_subscription)
            if not self._wait(time.monotonic() + 65, resubscribed):
                log.error("message queue is back but this worker did not resubscribe within 65 s")
            log.warning("message queue back after %.1f s; closing this worker's sockets so their "
                        "clients catch up", time.monotonic() - down_since)
            down_since = lost_subscription = None
            self._close_sockets()

    @staticmethod
    def _resubscribed(manager, lost):
        subscription = borrowed.queue_subscription(manager)
        if subscription is None:
            return True  # a manager that does not say: assume it listens again
        return subscription is not lost and borrowed.subscribed(subscription)

    def _close_sockets(self):
        """Close every socket of this worker so that its client comes back (here or, through
        the balancer, on another worker) and catches up."""
        return sockets.close_for_reconnect(list(borrowed.engineio_sockets(socketio.server)))

    def _wait(self, until, condition):
        while time.monotonic() < until and not condition():
            socketio.sleep(0.05)
        return condition()

    def stop(self):
        """The graceful stop; ends the process."""
        if self.stopping:
            return
        self.stopping = True
        timeout = self.config["SHUTDOWN_TIMEOUT"]
        # The hard bound: SIGALRM's default action ends the process, whatever is stuck.
        signal.alarm(max(1, math.ceil(timeout)) + 1)
        started = time.monotonic()
        deadline = started + timeout
        open_sockets = borrowed.engineio_sockets(socketio.server)
        log.info("stopping: %d sockets, %d handlers running (at most %.0f s)",
                 len(open_sockets), self.running_handlers, timeout)
        self._close_listener()
        # Handlers already running finish and ack; half the time is theirs.
        if not self._wait(started + timeout / 2, lambda: self.running_handlers == 0):
            log.warning("stopping with %d handlers still running", self.running_handlers)
        closed = self._close_sockets()
        # Let what was queued (acks) go out to the clients still reading, and the disconnect
        # handlers finish.
        self._wait(min(deadline, time.monotonic() + 2),
                   lambda: self.running_handlers == 0 and not any(map(borrowed.queued_packets, open_sockets.values())))
        if self.sweeper is not None:
            getattr(self.sweeper, "g", self.sweeper).kill()
        try:
            with self.app.app_context():
                presence.worker_stopped(self.config["WORKER_ID"])
        except Exception:  # noqa: BLE001 - the others notice the stale heartbeat instead
            log.exception("could not record that worker %s stopped", self.config["WORKER_ID"])
        log.info("stopped in %.2f s (%d sockets closed)", time.monotonic() - started, closed)
        logs.flush()
        os._exit(0)

    def reload_blocked_terms(self):
        """Run in a task of its own (a signal handler only schedules it): the file is read and
        compiled there, and swapped in whole, so a send sees the old list or the new one."""
        try:
            protections.load_blocked_terms(self.app)
        except Exception:  # noqa: BLE001 - logged; the list in force stays
            log.exception("reloading the blocked terms failed")

    def serve(self):
        host, port = self.config["HOST"], self.config["PORT"]
        mode = borrowed.engineio_server(socketio.server).async_mode
        tuning.tune(mode)
        if mode == "eventlet":
            self._serve_eventlet(host, port)
        elif mode == "gevent":
            self._serve_gevent(host, port)
        else:
            raise RuntimeError(f"HEARTLINK_ASYNC_MODE={mode} is not a serving mode; use eventlet or gevent")

    def _bound(self, host, port):
        """Once the port is ours: the background work starts (its first step clears what an
        earlier process of this worker id left, which a second server that cannot bind the
        port must never do), and "serving" is said, so that the log means it."""
        self.start_background()
        log.info("Heart Link serving on http://%s:%s (%s, worker %s)", host, port,
                 borrowed.engineio_server(socketio.server).async_mode, self.config["WORKER_ID"])

    def _serve_eventlet(self, host, port):
        import eventlet
        import eventlet.wsgi

        # reuse_port=False: a second server on a port already in use fails at start, instead of
        # quietly sharing it (eventlet sets SO_REUSEPORT by default) and splitting the traffic.
        listener = _tuned(eventlet.listen((host, port), reuse_port=False))
        self._bound(host, port)
        # eventlet caps concurrent connections at 1024 unless told otherwise.
        accepting = eventlet.spawn(eventlet.wsgi.server, listener, self.app, max_size=self.config["MAX_CONNECTIONS"],
                                   log_output=False, socket_timeout=self.config["HTTP_SOCKET_TIMEOUT"],
                                   protocol=_eventlet_protocol(_OpenByAddress.for_config(self.config),
                                                               self.config["REQUEST_HEAD_TIMEOUT"]))

        def close_listener():
            # End the accept loop before closing its socket: a socket closed under a waiting
            # greenlet leaves its wait registered on the file descriptor, and the next
            # database connection, given the same descriptor, fails with "second simultaneous read".
            accepting.kill()
            listener.close()

        self._close_listener = close_listener
        # A signal handler interrupts whichever greenlet runs: it only schedules the stop.
        signal.signal(signal.SIGTERM, lambda *_: eventlet.spawn_n(self.stop))
        signal.signal(signal.SIGHUP, lambda *_: eventlet.spawn_n(self.reload_blocked_terms))
        try:
            accepting.wait()
        except BaseException:  # noqa: B036 - GreenletExit when stop() ended the accept loop
            if not self.stopping:
                raise
        while True:  # the listener was closed by stop(), which ends the process
            eventlet.sleep(1)

    def _serve_gevent(self, host, port):
        import gevent
        from gevent import pywsgi

        handler = _gevent_handler(self.config["HTTP_SOCKET_TIMEOUT"], _OpenByAddress.for_config(self.config),
                                  self.config["REQUEST_HEAD_TIMEOUT"])
        server = pywsgi.WSGIServer((host, port), self.app, handler_class=handler, log=None)
        server.init_socket()
        _tuned(server.socket)
        self._bound(host, port)
        self._close_listener = server.close
        gevent.signal_handler(signal.SIGTERM, lambda: gevent.spawn(self.stop))
        gevent.signal_handler(signal.SIGHUP, lambda: gevent.spawn(self.reload_blocked_terms))
        # After close() gevent waits this long for open connections before killing them;
        # stop() closes them itself and ends the process before that.
        server.serve_forever(stop_timeout=self.config["SHUTDOWN_TIMEOUT"])
        while True:
            gevent.sleep(1)


# --- what one address may hold before its requests reach the app -----------------------------
# A connection whose request head never completes never reaches the WSGI guard (guard.py), so
# 10,000 half-open requests from one address, each trickling a header line within the socket
# timeout, filled the worker's connection pool. Connections are counted per address as they are
# accepted, and a request head must be complete within REQUEST_HEAD_TIMEOUT.

class _OpenByAddress:
    """Connections open per client address, counted at accept (one green thread, no lock)."""

    def __init__(self, cap):
        self.cap, self._open = cap, {}

    @classmethod
    def for_config(cls, config):
        # Twice the WSGI guard's cap on requests in flight, so that a person past that cap is
        # told 429 rather than cut off. Behind a proxy every connection comes from the proxy's
        # address: the proxy counts per client (docs/security.md), the guard per forwarded address.
        return cls(None if config["PROXY_COUNT"] else 2 * config["MAX_CONNECTIONS_PER_ADDRESS"])

    def enter(self, address):
        held = self._open.get(address, 0)
        if self.cap is not None and held >= self.cap:
            return False
        self._open[address] = held + 1
        return True

    def leave(self, address):
        held = self._open.pop(address, 1) - 1
        if held > 0:
            self._open[address] = held


def _address(peer):
    return peer[0] if isinstance(peer, tuple) else str(peer)


def _head_too_slow():
    return TimeoutError("the request head was not complete in time")


# What the HTTP parsers say of a bad request (its line included, up to 8 KB) is logged cut
# short, a few lines a minute per address: junk request lines from one address wrote 52 MB
# of log in 4.5 s.
_bad_requests = logs.LogBudget()


def _log_bad_request(address, message):
    if _bad_requests.allows(address):
        log.warning("bad request from %s: %.200s", address, message)


def _eventlet_protocol(open_by_address, head_timeout):
    import eventlet
    from eventlet import wsgi

    # __init__(conn_state, server) is eventlet's own, undocumented (listed in borrowed.py); the
    # other methods are http.server's.
    class Protocol(wsgi.HttpProtocol):
        def __init__(self, conn_state, server):
            address = _address(conn_state[0])
            if not open_by_address.enter(address):
                conn_state[1].close()  # over its address's share: closed before a byte is read
                return
            try:
                super().__init__(conn_state, server)
            finally:
                open_by_address.leave(address)

        def handle_one_request(self):
            # socket_timeout bounds each read; this bounds the whole head, however it trickles in.
            self._head_deadline = eventlet.Timeout(head_timeout, _head_too_slow())
            try:
                super().handle_one_request()
            finally:
                self._head_deadline.cancel()

        def parse_request(self):
            try:
                return super().parse_request()
            finally:
                self._head_deadline.cancel()  # the head is in; the body and the app have their own bounds

        def log_message(self, format, *args):  # noqa: A002 - http.server's signature
            _log_bad_request(_address(self.client_address), format % args)

    return Protocol


def _gevent_handler(socket_timeout, open_by_address, head_timeout):
    import gevent
    from geventwebsocket.handler import WebSocketHandler

    # upgrade_websocket is gevent-websocket's own, undocumented (listed in borrowed.py); the other
    # methods are gevent.pywsgi's.
    class Handler(WebSocketHandler):
        def handle(self):
            address = _address(self.client_address)
            if not open_by_address.enter(address):
                return  # over its address's share: the server closes it unread
            try:
                # eventlet's socket_timeout, for gevent: a client that sends nothing for this
                # long (a request never finished, a websocket that stopped answering) is dropped.
                self.socket.settimeout(socket_timeout)
                super().handle()
            finally:
                open_by_address.leave(address)

        def handle_one_request(self):
            self._head_deadline = gevent.Timeout(head_timeout, _head_too_slow())
            self._head_deadline.start()
            try:
                return super().handle_one_request()
            finally:
                self._head_deadline.cancel()

        def read_request(self, raw_requestline):
            try:
                return super().read_request(raw_requestline)
            finally:
                self._head_deadline.cancel()

        def log_error(self, msg, *args):
            _log_bad_request(_address(self.client_address), msg % args if args else msg)

        def log_request(self):
            # No access log, as under eventlet (log_output=False): gevent-websocket's wrote every
            # request line, a junk one of 8 KB included, at INFO.
            pass

        def upgrade_websocket(self):
            # gevent-websocket upgrades before the app runs, so Engine.IO's refusal of a
            # foreign origin would reach the client as a socket closed without a word. Such
            # a request is not upgraded: the app answers it over HTTP (400), as under eventlet.
            if borrowed.foreign_origin(socketio.server, self.environ):
                return None
            return super().upgrade_websocket()

    return Handler


def serve(app, argv=None):
    options = _options(sys.argv[1:] if argv is None else argv)
    logs.setup("json" if options.log_json else app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    _allow_open_files(app.config["MAX_CONNECTIONS"] + 256)
    signal.signal(signal.SIGUSR1, _dump_tasks)
    Worker(app).serve()

"""Running one worker process: the WSGI server, and the sweeper beside it.

We build the listening socket ourselves (rather than socketio.run) to set
TCP_NODELAY: a handler that emits and then acks writes two frames, and with
Nagle's algorithm the second waits for the peer's delayed ACK (~40 ms).
"""
import logging
import resource
import socket

from .extensions import socketio
from . import sweeper, tuning

log = logging.getLogger(__name__)


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


def serve(app):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host, port = app.config["HOST"], app.config["PORT"]
    _allow_open_files(app.config["MAX_CONNECTIONS"] + 256)
    sweeper.start(app)
    mode = socketio.server.eio.async_mode
    tuning.tune(mode)
    log.info("Heart Link serving on http://%s:%s (%s, worker %s)", host, port, mode, app.config["WORKER_ID"])
    if mode == "eventlet":
        import eventlet
        import eventlet.wsgi

        listener = _tuned(eventlet.listen((host, port)))
        # eventlet caps concurrent connections at 1024 unless told otherwise.
        eventlet.wsgi.server(listener, app, max_size=app.config["MAX_CONNECTIONS"], log_output=False)
    elif mode == "gevent":
        from gevent import pywsgi
        from geventwebsocket.handler import WebSocketHandler

        server = pywsgi.WSGIServer((host, port), app, handler_class=WebSocketHandler, log=None)
        server.init_socket()
        _tuned(server.socket)
        server.serve_forever()
    else:
        raise RuntimeError(f"HEARTLINK_ASYNC_MODE={mode} is not a serving mode; use eventlet or gevent")

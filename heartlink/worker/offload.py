"""Running blocking CPU work (image decodes, media walks, password hashing) off the event loop.

One green thread runs every socket of a worker. A 200 ms argon2 verification or a
large image decode run inline would stop every other chat on the worker for as
long, so they run in a real OS thread and the green thread waits:

- eventlet: `eventlet.tpool.execute` (a pool of OS threads; the caller's green thread yields);
- gevent: the hub's threadpool (`get_hub().threadpool.apply`);
- threading (tests, the CLI): a direct call, since every request already has its own thread.

Media decodes also pass a gate of MEDIA_DECODE_CONCURRENCY permits: each holds up to
a few hundred MiB for a large picture, so at most that many run at once per worker,
and the rest wait their turn (a green wait, nothing blocks). Password hashing has its
own gate, PASSWORD_HASH_CONCURRENCY: argon2 is all CPU, and twenty of them in twenty
threads would leave the event loop's thread one core-share in twenty-one.
"""
import logging
import threading
from contextlib import contextmanager

from flask import current_app

from . import borrowed

log = logging.getLogger(__name__)

_gates = {}
_gates_lock = threading.Lock()


def _mode():
    try:
        from ..extensions import socketio

        return borrowed.engineio_server(socketio.server).async_mode
    except AttributeError:  # Socket.IO not initialised (a bare app in a script)
        return current_app.config.get("ASYNC_MODE", "threading")


def run(function, *args, **kwargs):
    """function(*args, **kwargs) in an OS thread when the server is green; its result or its exception."""
    mode = _mode()
    if mode == "eventlet":
        from eventlet import patcher, tpool

        if patcher.is_monkey_patched("thread"):
            return tpool.execute(function, *args, **kwargs)
    elif mode == "gevent":
        from gevent import get_hub

        return get_hub().threadpool.apply(function, args, kwargs)
    return function(*args, **kwargs)


def pause():
    """Let the other green threads run before going on (nothing to do outside a green server)."""
    mode = _mode()
    if mode == "eventlet":
        import eventlet

        eventlet.sleep(0)
    elif mode == "gevent":
        import gevent

        gevent.sleep(0)


def _semaphore(name, permits):
    """A semaphore of the server's flavour (green under eventlet/gevent), one per name and size."""
    key = (name, permits, _mode())
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            mode = key[2]
            if mode == "eventlet":
                import eventlet.semaphore

                gate = eventlet.semaphore.Semaphore(permits)
            elif mode == "gevent":
                import gevent.lock

                gate = gevent.lock.Semaphore(permits)
            else:
                gate = threading.BoundedSemaphore(permits)
            _gates[key] = gate
    return gate


@contextmanager
def gate(name, permits):
    """At most `permits` holders of `name` at once in this process; others wait."""
    semaphore = _semaphore(name, permits)
    semaphore.acquire()
    try:
        yield
    finally:
        semaphore.release()


def release_database():
    """End this request's read transaction before a wait (a gate, the message writer), so
    its pooled connection goes back for others: a crowd of waiting handlers would otherwise
    hold every connection of the pool, and whoever they wait for could not get one."""
    from ..extensions import db

    session = db.session()
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        session.commit()


def decode(function, *args):
    """A media decode: through the decode gate, then off the event loop."""
    release_database()
    with gate("media", current_app.config["MEDIA_DECODE_CONCURRENCY"]):
        return run(function, *args)


def password_work(function, *args):
    """Password hashing or verification: through its own gate, then off the event loop.
    Few at once (one by default), so a storm of sign-ins queues instead of taking
    every core from the thread that runs the chats."""
    release_database()
    with gate("password", current_app.config["PASSWORD_HASH_CONCURRENCY"]):
        return run(function, *args)

"""The request context Flask-SocketIO pushes for every Socket.IO event, without its URL work.

Each event gets a request context built from the socket's handshake environ (one dict per
socket, kept by Engine.IO). Flask then binds a URL adapter to that environ and matches its
path, /socket.io/, against the routes. Werkzeug's matcher makes a recursive closure for
every match, a reference cycle that only the garbage collector frees: at 1,000 messages a
second that was ~8,000 cyclic objects a second, and a 45 ms young-generation collection
every 6 s that stopped every chat on the worker (docs/performance.md). The path and host of
a socket never change, so its adapter is made once, kept in its environ, and matches once.
HTTP requests are untouched: each has an environ of its own.
"""
from flask import Flask

from . import borrowed

_SOCKET_PATH = "/socket.io/"
_ADAPTER = "heartlink.url_adapter"


class _MatchedOnce:
    """A socket's URL adapter: the first match is kept; building URLs goes to the adapter."""

    def __init__(self, adapter):
        self._adapter = adapter
        self._matched = None

    def match(self, *args, **kwargs):
        if args or kwargs != borrowed.URL_MATCH_ARGUMENTS:  # not the request context's own match
            return self._adapter.match(*args, **kwargs)
        if self._matched is None:
            self._matched = self._adapter.match(**borrowed.URL_MATCH_ARGUMENTS)
        return self._matched

    def __getattr__(self, name):
        return getattr(self._adapter, name)


class App(Flask):
    """Heart Link's Flask app: a socket's events share the URL adapter of its handshake."""

    def create_url_adapter(self, request):
        if request is None or request.environ.get("PATH_INFO") != _SOCKET_PATH:
            return super().create_url_adapter(request)
        adapter = request.environ.get(_ADAPTER)
        if adapter is None:
            adapter = request.environ[_ADAPTER] = _MatchedOnce(super().create_url_adapter(request))
        return adapter

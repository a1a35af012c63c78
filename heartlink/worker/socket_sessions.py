"""Flask's signed-cookie sessions, minus two costs that every Socket.IO event paid.

Flask-SocketIO pushes a request context for each event, and Flask opens the session
from the cookie each time, verifying its signature with a serializer built anew (which
itself test-encodes an empty dict). A socket's events never read that copy: Flask-SocketIO
gives each socket its own session, made at connect and kept in the socket's environ
(borrowed.SOCKET_SESSION_KEY). So: the serializer is built once per secret, and a request
context for a socket that already has its own session opens an empty one.
"""
from flask.sessions import SecureCookieSessionInterface

from . import borrowed


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers = {}

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = self._serializers[key] = super().get_signing_serializer(app)
        return serializer

    def open_session(self, app, request):
        if borrowed.SOCKET_SESSION_KEY in request.environ:
            return self.session_class()
        return super().open_session(app, request)

"""Heart Link: the app factory. It only wires; every rule lives in its own module."""
import logging
import os
import warnings

import click
from flask import g, has_request_context, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy.engine import make_url
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from config import BASE_DIR, Config

from .domain import protections
from .entry import events  # noqa: F401  (its handlers register before any init_app; see create_app)
from .entry.http import wants_json
from .errors import DomainError, Unauthorized, code_for_status
from .extensions import babel, csrf, db, login_manager, migrate, socketio
from .live import codec, ordering
from .worker import bodies, database, inbound, socket_sessions
from .worker.socket_context import App

log = logging.getLogger(__name__)
# Known and documented (docs/operations.md): eventlet is in bugfix mode; gevent is the alternative.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


class SettingMissing(click.UsageError, RuntimeError):
    """A setting Heart Link cannot start without. To whoever builds the app it is a
    RuntimeError; the flask commands (and `python app.py`) print its one line and exit 2."""


_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# The only writes anyone may make before signing in; every other one is refused unsigned-in
# before its body is read (the CSRF check reads a form). These check CSRF themselves: the token
# and appeal endpoints need none (a browser never sends them credentials by itself: the password
# is in the body), and the sign-in and sign-up forms check theirs as forms, so that a token gone
# stale (another tab loaded the page meanwhile) shows the form again, not an error.
_SIGN_IN_WRITES = {"auth.api_token", "auth.login", "auth.register", "api.appeal"}
# The endpoints whose body is an upload (MAX_CONTENT_LENGTH); every other body is small.
_UPLOADS = {"api.upload_attachment", "profile.upload_avatar"}
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _size_database_pool(config):
    """A server database gets the configured pool size; SQLite keeps SQLAlchemy's own pool."""
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {**config["SQLALCHEMY_ENGINE_OPTIONS"],
                                               "pool_size": config["DATABASE_POOL_SIZE"],
                                               "max_overflow": config["DATABASE_POOL_OVERFLOW"]}


def create_app(config_class=Config):
    app = App(__name__, root_path=str(BASE_DIR / "heartlink"),
              template_folder=str(BASE_DIR / "templates"), static_folder=str(BASE_DIR / "static"),
              instance_path=str(BASE_DIR / "instance"))
    app.json = codec.JSONProvider(app)
    app.request_class = bodies.Request  # upload bodies read off the event loop, with no database connection held
    app.config.from_object(config_class)
    if not app.config.get("SECRET_KEY"):
        # Development gets a per-machine key from config.py; the test suite's TestConfig has its own.
        raise SettingMissing("SECRET_KEY is not set; Heart Link will not start without one. Set SECRET_KEY to a "
                             "long random value, or HEARTLINK_ENV=development on your own machine (a key is then "
                             "generated into instance/).")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(BASE_DIR / "translations")
    app.session_interface = _SessionInterface()
    _create_private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    _size_database_pool(app.config)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: _locale(app))
    # Socket handlers were collected at import (heartlink.events), so every new
    # Socket.IO server made here gets all of them.
    order = app.extensions["heartlink_order"] = ordering.RoomOrder(app)
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        client_manager=ordering.client_manager(app, order),
        json=codec,
        cors_allowed_origins=app.config["ALLOWED_ORIGINS"],
        ping_interval=app.config["PING_INTERVAL"],
        ping_timeout=app.config["PING_TIMEOUT"],
        max_http_buffer_size=app.config["MAX_SOCKET_PAYLOAD"],
    )
    inbound.install(socketio.server, app.config["PACKET_RATE"], app.config["PACKET_BURST"])
    # Flask-SocketIO pushes a request context per event from the handshake's environ, whose
    # path is /socket.io/; without a route there Flask builds a NotFound per event (for a
    # websocket, a WebsocketMismatch, whose traceback made ~50 objects of cyclic garbage
    # per event and 100 ms collector pauses under load). The Socket.IO middleware answers
    # that path before Flask ever would, so these views only exist to be matched.
    app.add_url_rule("/socket.io/", "socketio", lambda: ("", 404))
    app.add_url_rule("/socket.io/", "socketio_websocket", lambda: ("", 404), websocket=True)
    _guard_connections(app)

    from .entry.api import bp as api_bp
    from .entry.auth import bp as auth_bp
    from .entry.cli import register_cli
    from .entry.health import bp as health_bp
    from .entry.http import IdConverter
    from .entry.me import bp as profile_bp
    from .entry.metrics import bp as metrics_bp
    from .entry.moderation import bp as moderation_bp
    from .entry.pages import bp as pages_bp
    from .worker import limits

    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(auth_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(profile_bp, url_prefix="/api")
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(health_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(moderation_bp)  # its own paths: /moderation and /api/moderation/
    limits.init_app(app)
    protections.load_blocked_terms(app)
    register_cli(app)
    _register_http_hooks(app)
    return app


class _SessionInterface(socket_sessions.SessionInterface):
    """Session cookies are Secure whenever the request came over https (directly, or as
    the proxies PROXY_COUNT trusts say), not only when a setting forces it."""

    def get_cookie_secure(self, app):
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def _create_private_sqlite_file(uri):
    """A SQLite database file (and so its -wal and -shm, which copy its mode) readable by its owner only."""
    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    path = url.database
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _guard_connections(app):
    """Outermost WSGI layers, Socket.IO included: the real client address first (ProxyFix,
    when proxies are configured), then the connections-per-address cap (heartlink/worker/guard.py)."""
    from .worker.guard import ConnectionGuard, HandshakeBudget, HandshakeReaper

    reaper = HandshakeReaper(socketio, app.config["HANDSHAKE_TIMEOUT"])
    app.extensions["heartlink_handshake_reaper"] = reaper
    guarded = ConnectionGuard(app.wsgi_app, app.config["MAX_CONNECTIONS_PER_ADDRESS"],
                              on_first_request=reaper.start if not app.testing else None,
                              handshakes=HandshakeBudget(*app.config["HANDSHAKE_RATE"]))
    app.extensions["heartlink_connection_guard"] = guarded
    app.wsgi_app = guarded
    if app.config["PROXY_COUNT"]:
        # Behind a proxy, the client's address (per-address limits) and scheme (Secure
        # cookies, HSTS) come from its X-Forwarded-* headers.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _locale(app):
    if not has_request_context():  # CLI and the sweeper speak the default language
        return app.config["BABEL_DEFAULT_LOCALE"]
    if getattr(current_user, "language", None) in app.config["LANGUAGES"]:  # the person's choice in settings
        return app.config["LANGUAGES"][current_user.language]
    best = request.accept_languages.best_match(app.config["LANGUAGES"].keys())
    return app.config["LANGUAGES"].get(best, app.config["BABEL_DEFAULT_LOCALE"])


def _register_http_hooks(app):
    from .entry import moderation as console
    from .entry.auth import bearer_token

    warned_about_proxy = []

    @app.before_request
    def _bound_the_body():
        # Werkzeug refuses a body over this (413) before parsing it: 26 MB sent to any form or
        # JSON endpoint used to be parsed in full on the event loop. First of the hooks, since
        # the CSRF check reads the form.
        request.max_content_length = (app.config["MAX_CONTENT_LENGTH"] if request.endpoint in _UPLOADS
                                      else app.config["MAX_BODY_BYTES"])

    @app.before_request
    def _console_for_moderators_only():
        # Before sign-in and CSRF are asked for: anyone but a moderator gets the 404 an unknown
        # address gets, whatever the method, so the console does not even say it exists.
        if console.is_console(request.path):
            console.only_moderators()

    @app.before_request
    def _csrf_unless_bearer():
        # A request authenticated by a bearer token (which a browser never adds on its own)
        # needs no CSRF token; every other write does, a cookie-authenticated one with a
        # bogus Authorization header included (the cookie is then ignored altogether).
        if not app.config["PROXY_COUNT"] and not warned_about_proxy and "X-Forwarded-For" in request.headers:
            warned_about_proxy.append(True)
            log.warning("requests carry X-Forwarded-For but HEARTLINK_PROXY_COUNT is 0: every client "
                        "behind the proxy shares one address (and one per-address limit)")
        if request.method in _SAFE_METHODS or request.endpoint in _SIGN_IN_WRITES:
            return
        if bearer_token(request) is not None:
            if current_user.is_authenticated and g.get("signed_in_by_token"):
                return
            raise Unauthorized()
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        csrf.protect()

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure and app.config["HSTS_MAX_AGE"]:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_MAX_AGE']}")
        if "Cache-Control" not in response.headers and response.mimetype in ("text/html", "application/json"):
            # Pages and JSON are someone's own (their chats, a CSRF token): never kept by any cache.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(DomainError)
    def _domain_error(error):
        db.session.rollback()
        # A refusal with a wait (rate limits) says it in the header HTTP clients read, as well as in the body.
        retry = {"Retry-After": str(error.details["retry_after"])} if "retry_after" in error.details else {}
        if wants_json():
            return jsonify({"error": error.to_wire()}), error.status, retry
        return render_template("error.html", message=str(error.message), status=error.status), error.status, retry

    @app.errorhandler(HTTPException)
    def _http_error(error):
        if wants_json():
            code = code_for_status(error.code)
            return jsonify({"error": {"code": code, "message": error.description}}), error.code
        return render_template("error.html", message=error.description, status=error.code), error.code

    @app.errorhandler(Exception)
    def _internal_error(error):
        db.session.rollback()
        unexpected = database.failure(error, log, "request %s %s failed", request.method, request.path)
        if wants_json():
            return jsonify({"error": unexpected.to_wire()}), unexpected.status
        page = render_template("error.html", message=str(unexpected.message), status=unexpected.status)
        return page, unexpected.status

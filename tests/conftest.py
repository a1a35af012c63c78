"""Fixtures: an app on a fresh migrated database per test, the HTTP and Socket.IO
test clients, a real server process (`python app.py`) for transport tests, and two
people linked over either. The browser's fixtures are the browser_plugin plugin."""
import os
import secrets
import shutil
import subprocess
import sys

import flask_migrate
import pytest
from flask.testing import FlaskClient
from hypothesis import settings

from config import BASE_DIR
from heartlink import create_app
from heartlink.domain import accounts
from heartlink.extensions import db, socketio

from support import PASSWORD, AuthActions, LiveServer, app_over, config_for, link_clients, link_test_clients, match

pytest_plugins = ["browser_plugin"]

# Tiers, by the fixtures a test uses: `make test-fast` runs what needs neither.
# Every fixture that starts `python app.py` (or needs PostgreSQL and Redis) makes a test live.
_LIVE = {"live_server", "module_server", "serve", "linked", "workers", "cluster", "strict_server",
         "postgres_url", "redis_url"}
_BROWSER = {"browser", "media_browser"}


# Browser tests run in this many groups, whole modules each (their servers are per module): one
# chain of them was the suite's critical path, and two Chromiums still leave a core for the rest.
_BROWSER_GROUPS = 2


def pytest_collection_modifyitems(items):
    browser_modules = {}
    for item in items:
        used = set(item.fixturenames)
        if used & _BROWSER:
            item.add_marker(pytest.mark.browser)
            browser_modules.setdefault(item.module.__name__, []).append(item)
        if used & (_LIVE | _BROWSER):
            item.add_marker(pytest.mark.live)
    _share_out(browser_modules)


def _share_out(modules):
    """Each module's browser tests to the group with the fewest tests so far, largest modules first."""
    groups = [[] for _ in range(_BROWSER_GROUPS)]
    for name in sorted(modules, key=lambda name: (-len(modules[name]), name)):
        smallest = min(groups, key=len)
        smallest.extend(modules[name])
    for number, group in enumerate(groups):
        for item in group:
            item.add_marker(pytest.mark.xdist_group(f"browser-{number}"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report carries the errors its live servers logged while it ran."""
    began = call.start
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for server in LiveServer.started:
        path = server.log_path
        if path.exists() and path.stat().st_mtime >= began:
            lines = path.read_text(errors="replace").splitlines()
            errors = [line for line in lines if "ERROR" in line or "Error" in line or "Traceback" in line]
            report.sections.append((f"server log {path.name} (errors)", "\n".join(errors[-40:]) or "none"))


# Hypothesis: CI replays the same examples every run (a failure there is reproducible);
# elsewhere each run explores new ones. Example counts are set by each test.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev"))


@pytest.fixture(scope="session")
def schema_db(tmp_path_factory):
    """The schema as `flask db upgrade` builds it, made once and copied for each test."""
    path = tmp_path_factory.mktemp("schema") / "schema.db"
    app = create_app(config_for(path))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def db_path(schema_db, tmp_path):
    path = tmp_path / "heartlink.db"
    shutil.copy(schema_db, path)
    return path


class BufferedClient(FlaskClient):
    """Reads each response whole and closes it, so a served file is closed at once
    (unclosed files are errors here: see filterwarnings)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(db_path, tmp_path):
    app = create_app(config_for(db_path, UPLOAD_DIR=str(tmp_path / "uploads")))
    app.test_client_class = BufferedClient
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def in_app(app):
    """The app, with its context pushed for the test's domain calls."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create an account; returns its id."""

    def make(username, display_name=None):
        with app.app_context():
            # Made as an operator makes accounts: vouched for, never asked their date of birth.
            return accounts.create_user(username, PASSWORD, display_name, vouched=True).id

    return make


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def sock(app, make_user):
    """Signed-in Flask-SocketIO test clients: sock("alice") -> client."""
    made = []

    def connect(username):
        make_user(username)
        http = app.test_client()
        AuthActions(http).login(username)
        client = socketio.test_client(app, flask_test_client=http)
        made.append(client)
        return client

    yield connect
    for client in made:
        if client.is_connected():
            client.disconnect()


@pytest.fixture
def serve(db_path, tmp_path):
    """serve(**settings) -> a LiveServer over this test's database, with HEARTLINK_* settings
    of its own; stopped after the test."""
    started = []

    def start(**settings):
        started.append(LiveServer(db_path, tmp_path, **settings))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture(scope="module")
def module_server_settings():
    """HEARTLINK_* settings of the module's module_server: a module overrides this fixture."""
    return {}


@pytest.fixture(scope="module")
def module_server(schema_db, tmp_path_factory, module_server_settings):
    """One live server for a whole module whose tests each make their own people
    (support.fresh_names) and kill nothing."""
    folder = tmp_path_factory.mktemp("module-server")
    path = folder / "heartlink.db"
    shutil.copy(schema_db, path)
    live = LiveServer(path, folder, **module_server_settings)
    yield live
    live.close()


@pytest.fixture
def live_server(serve):
    return serve()


@pytest.fixture
def linked(request):
    """linked(server=None, first="alice", second="bob", across=None) -> (a, b, room_id):
    two people signed in over real websockets to `server` (the test's live_server unless
    given) and matched. Their sockets are closed after the test."""
    made = []

    def link(server=None, first="alice", second="bob", across=None):
        a, b, room_id = link_clients(server or request.getfixturevalue("live_server"), first, second, across)
        made.extend((a, b))
        return a, b, room_id

    yield link
    for client in made:
        if client.connected:
            client.disconnect()


@pytest.fixture
def linked_http(app, make_user):
    """Alice and Bob in a link, each with a signed-in HTTP test client; Eve signed in too:
    (room_id, clients by name, ids by name)."""
    ids = {name: make_user(name) for name in ("alice", "bob", "eve")}
    with app.app_context():
        room = match(ids["alice"], ids["bob"])
    clients = {}
    for name in ids:
        clients[name] = app.test_client()
        AuthActions(clients[name]).login(name)
    return room.id, clients, ids


@pytest.fixture
def linked_sockets(sock):
    """Alice and Bob on Flask-SocketIO test clients, matched: (alice, bob, room_id)."""
    return link_test_clients(sock)[:3]


# --- the real engines, for scale-out and fault tests ---------------------------------------

POSTGRES_ADMIN = os.environ.get("HEARTLINK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("HEARTLINK_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _needs(what, check):
    try:
        check()
    except Exception as error:  # noqa: BLE001 - any failure to reach it means it is absent here
        reason = f"{what} is not reachable ({error})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"scale-out tests must run in CI: {reason}")
        print(f"skipping scale-out test: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def _postgres_template(tmp_path_factory):
    """A database migrated once per test process (`flask db upgrade`); each test gets a copy."""
    import psycopg2

    _needs("PostgreSQL", lambda: psycopg2.connect(POSTGRES_ADMIN, connect_timeout=3).close())
    name = f"heartlink_template_{secrets.token_hex(6)}"
    admin = psycopg2.connect(POSTGRES_ADMIN)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    env = {**os.environ, "DATABASE_URL": POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}",
           "HEARTLINK_ENV": "testing", "FLASK_APP": "heartlink", "SECRET_KEY": secrets.token_hex(16)}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=BASE_DIR, env=env, check=True,
                   capture_output=True)
    yield admin, name
    admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


@pytest.fixture
def postgres_url(_postgres_template):
    admin, template = _postgres_template
    name = f"heartlink_test_{secrets.token_hex(6)}"
    admin.cursor().execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def either_database(request, app, tmp_path):
    """An app context over a migrated database of either kind: the test's SQLite copy, then PostgreSQL
    (skipped with a printed reason when absent, a failure in CI)."""
    if request.param == "sqlite":
        with app.app_context():
            yield app
        return
    url = request.getfixturevalue("postgres_url")
    with app_over(url, UPLOAD_DIR=str(tmp_path / "uploads")) as pg, pg.app_context():
        yield pg


@pytest.fixture
def redis_url():
    import redis

    _needs("Redis", lambda: redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping())
    return REDIS_URL

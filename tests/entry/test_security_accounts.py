"""Accounts under attack: password guessing, timing, saved cookies after logout, open
redirects, CSRF with a bogus bearer header, cookies and headers over https, files and
secrets on disk."""
import os
import re
import stat
import subprocess
import sys
import threading
import time
import uuid

import argon2
import pytest
import requests
import socketio as socketio_client

import config as config_module
from config import BASE_DIR
from heartlink import create_app
from heartlink.domain import accounts
from heartlink.extensions import db, socketio
from heartlink.worker import offload

from support import PASSWORD, AuthActions, EventClient, assert_kept_up, browser_session, config_for

# --- password guessing and timing --------------------------------------------------------------

def _verified_hashes(monkeypatch):
    """The hash each password verification checks against, in the order they run."""
    verified = []
    real = offload.password_work

    def spy(work, *args):
        if getattr(work, "__name__", "") == "verify":  # PasswordHasher.verify(hash, password)
            verified.append(args[0])
        return real(work, *args)

    monkeypatch.setattr(offload, "password_work", spy)
    return verified


def _assert_is_the_dummy_hash(app, verified, found):
    """`found` costs what a real account's hash costs (it is at the current argon2 settings)
    and is the one every unknown name is checked against."""
    cost = argon2.extract_parameters(found)
    assert (cost.memory_cost, cost.time_cost, cost.parallelism) == (
        app.config["ARGON2_MEMORY_KIB"], app.config["ARGON2_TIME_COST"], app.config["ARGON2_PARALLELISM"])
    with app.app_context():
        assert accounts.authenticate("nobody-else-either", "another-password") is None
    assert verified[-1] == found


def test_an_unknown_username_costs_a_full_verification(app, make_user, monkeypatch):
    """No early answer for names nobody has (the 8.6 ms vs 214 ms of the report): a
    verification runs against a dummy hash, through the thread pool like a real one."""
    make_user("alice")
    verified = _verified_hashes(monkeypatch)
    with app.app_context():
        assert accounts.authenticate("nobody-at-all", "some-password") is None
        assert accounts.authenticate("alice", "wrong-password") is None
    assert len(verified) == 2 and verified[0].startswith("$argon2id$") and verified[0] != verified[1]
    _assert_is_the_dummy_hash(app, verified, verified[0])


@pytest.mark.parametrize("password", ["", None, 12345, "x" * 257, "wrong-password"])
def test_every_refused_password_costs_one_verification_for_known_and_unknown_names(
        app, client, make_user, monkeypatch, password):
    """An empty, missing, odd or overlong password answered 4.6-8.3 ms for a real username and
    42-70 ms for an unknown one: the answer named the accounts. Every refusal now verifies once,
    against the account's own hash or the dummy one."""
    alice = make_user("alice")
    verified = _verified_hashes(monkeypatch)
    for username in ("alice", "nobody-at-all"):
        answer = client.post("/api/token", json={"username": username, "password": password})
        assert answer.status_code == 401
        assert answer.get_json()["error"]["code"] == "unauthorized"
    assert len(verified) == 2
    with app.app_context():
        assert verified[0] == db.session.get(accounts.User, alice).password_hash != verified[1]
    _assert_is_the_dummy_hash(app, verified, verified[1])


def test_passwords_are_hashed_with_owasp_argon2id_defaults_and_rehashed_on_sign_in(app, make_user):
    assert (config_module.Config.ARGON2_MEMORY_KIB, config_module.Config.ARGON2_TIME_COST,
            config_module.Config.ARGON2_PARALLELISM) == (19456, 2, 1)
    alice = make_user("alice")
    app.config["ARGON2_MEMORY_KIB"] = 2048  # the cost moves on: the next sign-in rehashes
    with app.app_context():
        assert accounts.authenticate("alice", PASSWORD).id == alice
        assert "m=2048," in db.session.get(accounts.User, alice).password_hash


def test_someone_elses_wrong_guesses_never_lock_out_the_right_password(app, make_user):
    make_user("bob")
    app.config["LOGIN_BACKOFF_BASE"] = 600
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for _ in range(app.config["LOGIN_FREE_FAILURES"] + 3):
        AuthActions(attacker).login("bob", "not-bobs-password")
    assert AuthActions(attacker).login("bob", "not-bobs-password").status_code == 429
    bob = app.test_client()
    bob.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert AuthActions(bob).login("bob").status_code == 302
    # Right passwords never count: many sign-ins in a row are fine.
    for _ in range(app.config["LOGIN_FREE_FAILURES"] + 3):
        assert AuthActions(app.test_client()).login("bob").status_code == 302


def test_password_changes_from_a_session_are_limited(app, client, auth, make_user):
    """73 guesses in 10 s through /settings/password, before; now the account budget and the
    wrong-password back-off both stop it, and the right password changes nothing meanwhile."""
    make_user("alice")
    app.config["LOGIN_BACKOFF_BASE"] = 600
    auth.login("alice")
    statuses = []
    for index in range(8):
        statuses.append(client.post("/settings/password", data={
            "csrf_token": auth.csrf_token("/settings"), "current_password": f"guess-{index}-xx",
            "new_password": "a-brand-new-secret"}).status_code)
    assert 429 in statuses and statuses[0] == 302
    assert statuses[statuses.index(429):] == [429] * (len(statuses) - statuses.index(429))
    with app.app_context():
        assert accounts.authenticate("alice", PASSWORD) is not None


def test_a_login_storm_does_not_stall_another_pairs_chat(db_path, tmp_path, linked):
    """20 wrong /api/token calls at once at three times the real argon2 cost (inline, that
    froze every chat for seconds): the hashing runs in a thread, so another pair's acks
    keep coming back (90 % within 1 s, every one within 2 s on a busy machine)."""
    from support import LiveServer

    server = LiveServer(db_path, tmp_path, HEARTLINK_ARGON2_MEMORY_KIB="19456", HEARTLINK_ARGON2_TIME_COST="6",
                        HEARTLINK_RATE_MESSAGES="100000/10", HEARTLINK_RATE_EVENTS="100000/10")
    try:
        a, b, room_id = linked(server)
        done = []

        def guess(index):
            done.append(requests.post(server.url + "/api/token", timeout=60,
                                      json={"username": f"nobody{index}", "password": "wrong-password"}).status_code)

        guessers = [threading.Thread(target=guess, args=(index,)) for index in range(20)]
        for thread in guessers:
            thread.start()
        latencies = []
        while any(thread.is_alive() for thread in guessers):
            started = time.monotonic()
            ack = a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "hi"})
            latencies.append(time.monotonic() - started)
            assert ack["ok"], ack
            time.sleep(0.02)
        for thread in guessers:
            thread.join()
        assert done == [401] * 20
        assert_kept_up(latencies)
        a.disconnect()
        b.disconnect()
    finally:
        server.close()


# --- next= -------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/%09/evil.com", "/\t/evil.com", "/\n/evil.com", "/\\evil.com", "/\\/evil.com", "//evil.com",
    "https://evil.com", "http:evil.com", "/\r\n/evil.com", " //evil.com", "javascript:alert(1)",
    "/\u202e/x",
])
def test_next_never_leaves_the_site(client, auth, make_user, target):
    make_user("alice")
    response = client.post("/login", query_string={"next": target}, data={
        "username": "alice", "password": PASSWORD, "csrf_token": auth.csrf_token()})
    location = response.headers["Location"]
    assert response.status_code == 302
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location.split("?")[0][:2]
    assert not re.match(r"^/[\s\\/]", location), location


def test_a_local_next_is_kept(client, auth, make_user):
    make_user("alice")
    response = client.post("/login", query_string={"next": "/rooms/abc?x=1"}, data={
        "username": "alice", "password": PASSWORD, "csrf_token": auth.csrf_token()})
    assert response.headers["Location"] == "/rooms/abc?x=1"


# --- logout ends the sign-in everywhere --------------------------------------------------------

def _cookie(client):
    return client.get_cookie("session").value


def test_a_saved_cookie_is_dead_after_logout_on_every_worker(app, db_path, tmp_path, make_user):
    make_user("alice")
    browser = app.test_client()
    AuthActions(browser).login("alice")
    saved = _cookie(browser)
    assert browser.get("/api/me").status_code == 200
    AuthActions(browser).logout()

    replay = app.test_client()
    replay.set_cookie("session", saved)
    assert replay.get("/api/me").status_code == 401
    # A second worker on the same database refuses it too (the revocation is in the database).
    other_worker = create_app(config_for(db_path, UPLOAD_DIR=str(tmp_path / "uploads")))
    elsewhere = other_worker.test_client()
    elsewhere.set_cookie("session", saved)
    assert elsewhere.get("/api/me").status_code == 401
    # And Socket.IO will not connect with it.
    socket = socketio.test_client(app, flask_test_client=replay)
    assert not socket.is_connected()
    with other_worker.app_context():
        db.engine.dispose()


def test_logging_out_a_token_ends_that_token_only(app, client, make_user):
    make_user("alice")
    first = client.post("/api/token", json={"username": "alice", "password": PASSWORD}).get_json()["token"]
    second = client.post("/api/token", json={"username": "alice", "password": PASSWORD}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {first}"}
    assert client.post("/api/logout", headers=bearer).get_json() == {"signed_out": True}
    assert client.get("/api/me", headers=bearer).status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_sign_out_everywhere_ends_every_cookie_token_and_socket(live_server):
    live_server.make_user("alice")
    laptop, csrf_token = browser_session(live_server, "alice")
    phone, _ = browser_session(live_server, "alice")
    token = live_server.token("alice")
    device = live_server.connect("alice", token)
    answer = laptop.post(live_server.url + "/logout/everywhere", data={"csrf_token": csrf_token},
                         allow_redirects=False)
    assert answer.status_code == 302
    assert device.closed.wait(10)
    for session in (laptop, phone):
        assert session.get(live_server.url + "/api/me").status_code == 401
    assert requests.get(live_server.url + "/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        EventClient().connect(live_server.url, auth={"token": token})


# --- CSRF and bearer tokens --------------------------------------------------------------------

def test_a_bogus_bearer_header_does_not_skip_csrf_for_a_cookie_session(app, client, auth, make_user):
    make_user("alice")
    bob = make_user("bob")
    auth.login("alice")
    forged = client.post(f"/api/users/{bob}/block", headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401
    with app.app_context():
        assert accounts.find_user("alice") is not None
    assert client.get("/api/blocks").get_json()["blocked"] == []
    # A real token is its own authentication: no CSRF token needed, the cookie plays no part.
    token = client.post("/api/token", json={"username": "alice", "password": PASSWORD}).get_json()["token"]
    bare = app.test_client()
    assert bare.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


# --- https, caching, files on disk, secrets ----------------------------------------------------

def test_cookies_are_secure_and_hsts_is_sent_over_https_directly_and_through_the_proxy(db_path, make_user):
    make_user("alice")
    # (A browser sends Referer on https form posts; Flask-WTF checks it there.)
    for extra, kwargs in (({}, {"base_url": "https://heartlink.test",
                                "headers": {"Referer": "https://heartlink.test/login"}}),
                          ({"PROXY_COUNT": 1}, {"headers": {"X-Forwarded-Proto": "https",
                                                            "X-Forwarded-For": "198.51.100.1",
                                                            "Referer": "https://localhost/login"}})):
        app = create_app(config_for(db_path, **extra))
        client = app.test_client()
        page = client.get("/login", **kwargs)
        assert "Secure" in page.headers["Set-Cookie"] or "csrf" not in page.headers.get("Set-Cookie", "csrf")
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        signed_in = client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token},
                                **kwargs)
        assert signed_in.status_code == 302
        assert "; Secure" in signed_in.headers["Set-Cookie"]
        with app.app_context():
            db.engine.dispose()
    plain = create_app(config_for(db_path)).test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    assert "Secure" not in plain.headers.get("Set-Cookie", "")


def test_private_pages_and_json_are_no_store_but_static_files_are_not(client, auth, make_user):
    make_user("alice")
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    auth.login("alice")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/api/me").headers["Cache-Control"] == "no-store"
    assert client.get("/api/rooms").headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_a_new_sqlite_database_and_the_dev_secret_are_readable_by_their_owner_only(tmp_path, monkeypatch):
    path = tmp_path / "fresh" / "heartlink.db"
    app = create_app(config_for(path))
    with app.app_context():
        db.session.execute(db.text("CREATE TABLE probe (x INTEGER)"))
        db.session.commit()
        db.engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path / "instance")
    secret = config_module.development_secret()
    assert len(secret) == 64
    assert stat.S_IMODE((tmp_path / "instance" / "dev-secret-key").stat().st_mode) == 0o600


@pytest.mark.parametrize("env_name", ["testing", "production", "staging"])
def test_no_mode_starts_without_a_secret_key(env_name):
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    env.update(HEARTLINK_ENV=env_name, HEARTLINK_ASYNC_MODE="threading", DATABASE_URL="sqlite://")
    run = subprocess.run([sys.executable, "-c", "from heartlink import create_app; create_app()"],
                         cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "SECRET_KEY is not set" in run.stderr

"""A restriction on every worker: two `python app.py` workers on PostgreSQL and Redis, real
Socket.IO clients (python-socketio and socket.io-client).

A ban at the command line closes the person's sockets on the other worker, after telling
them why; their token and reconnects are refused; their partner's link ends for safety. A
suspension of 2 s lifts itself. With Redis away, the database is the truth: the other worker
refuses the person's next event, and its sweeper closes a socket that sends nothing.
"""
import secrets
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import requests
import socketio as socketio_client
from sqlalchemy import select

from config import BASE_DIR
from heartlink.domain import accounts, moderation
from heartlink.extensions import db
from heartlink.models import ModerationEntry, utcnow

from support import PASSWORD, ClientProcess, LiveServer, Proxy, eventually

REDIS_PORT = 6379
# No sweep during these tests unless one asks for it: what closes a socket there is the broadcast,
# or the refusal of an event. (The heartbeat comes every 5 sweeps; workers go stale far later.)
_NO_SWEEP = {"HEARTLINK_SWEEP_INTERVAL": 60, "HEARTLINK_WORKER_STALE_AFTER": 600}


@pytest.fixture
def two_workers(postgres_url, redis_url, tmp_path):
    """start(**settings) -> (w1, w2, redis proxy): two workers whose Redis (and the operator's)
    goes through a proxy the test can cut."""
    started, proxies = [], []

    def start(**settings):
        proxy = Proxy(REDIS_PORT)
        proxies.append(proxy)
        shared = {"SOCKETIO_MESSAGE_QUEUE": redis_url.replace(f":{REDIS_PORT}", f":{proxy.port}"),
                  "HEARTLINK_SOCKETIO_CHANNEL": f"heartlink-test-{secrets.token_hex(4)}",
                  "SECRET_KEY": secrets.token_hex(16), **settings}
        for name in ("w1", "w2"):
            started.append(LiveServer(postgres_url, tmp_path, HEARTLINK_WORKER_ID=name, **shared))
        return started[-2], started[-1], proxy

    yield start
    for server in started:
        server.close()
    for proxy in proxies:
        proxy.close()


def _operator(server, *args):
    """A flask command, run as the operator runs it, against the workers' database and queue."""
    env = {**server.env, "FLASK_APP": "heartlink"}
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _refused_connect(server, token):
    """Connect with `token`; the refusal's data (the connect is expected to fail)."""
    client = socketio_client.Client(reconnection=False)
    refusals = []
    client.on("connect_error", lambda data=None: refusals.append(data))
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        client.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return refusals


def _token_answer(server, username):
    answer = requests.post(server.url + "/api/token", json={"username": username, "password": PASSWORD},
                           timeout=10)
    return answer.status_code, answer.json()


def test_a_ban_closes_the_persons_sockets_on_the_other_worker_and_ends_their_link(two_workers, linked, tmp_path):
    w1, w2, _redis = two_workers(**_NO_SWEEP)
    alice, bob, room_id = linked(w1, across=w2)
    bob_id = _user_id(w2, "bob")
    old_token = w2.token("bob")
    js = ClientProcess("js", tmp_path / "js.log")  # bob's second device, on socket.io-client
    try:
        js.add("bob", w2, room_id, bob_id)

        said = _operator(w1, "users", "ban", "bob", "--reason", "Threats in two links.")
        assert said.startswith("banned bob (audit entry ")

        told = {"standing": "banned", "until": None, "reason": "Threats in two links."}
        assert bob.wait_for("account:restricted") == told
        # The sweeper does not run in this test, so only the broadcast can close it. How soon is a figure,
        # printed here and kept in docs/performance.md (tens of ms), not asserted: a busy machine's
        # scheduling is no defect of the product.
        assert bob.closed.wait(10)
        closed_after = (bob.closed_at - _audited_at(w1, bob_id)).total_seconds()
        print(f"bob's python socket on w2 closed {closed_after * 1000:.0f} ms after the ban was committed")
        js.wait(lambda: js.people["bob"]["disconnects"], 10, "bob's socket.io-client socket closes")
        assert js.people["bob"]["restricted"] == [told]
        assert js.people["bob"]["disconnects"] == ["io server disconnect"]  # final: no reconnect of its own

        assert alice.wait_for("room:ended") == {"room_id": room_id, "by": None, "reason": "safety"}
        assert alice.connected  # the partner learns nothing more, and stays

        status, body = _token_answer(w2, "bob")
        assert status == 403 and (body["error"]["code"], body["error"]["standing"]) == ("restricted", "banned")
        for server in (w1, w2):
            refusal = _refused_connect(server, old_token)
            assert [(data["data"]["code"], data["data"]["standing"]) for data in refusal] == [("restricted", "banned")]
        js.connect_again("bob")
        js.wait(lambda: js.people["bob"]["refusals"], 10, "bob's socket.io-client reconnect is refused")
        assert js.people["bob"]["refusals"][0]["code"] == "restricted"
        assert js.people["bob"]["connects"] == 1
    finally:
        js.close()


def test_a_suspension_of_two_seconds_lifts_itself(two_workers):
    w1, w2, _redis = two_workers()
    bob_id = w1.make_user("bob")
    with w1.app.app_context():
        until = utcnow() + timedelta(seconds=2)
        moderation.suspend(bob_id, until, "Cooling off.", moderation.CLI)

    answers = []  # (sent, answered, status) on the server's clock (the same machine's UTC)
    while not answers or answers[-1][2] != 200:
        sent = utcnow()
        status, body = _token_answer(w2, "bob")
        answers.append((sent, utcnow(), status))
        assert status in (200, 403), body
        assert sent < until + timedelta(seconds=30), f"still refused long after the suspension: {answers}"
        time.sleep(0.2)
    assert answers[0][1] < until, f"the first answer took past the suspension's end: {answers}"
    # The server decided between sending and answering: refused while that was all before the end.
    assert all(status == 403 for sent, answered, status in answers if answered < until), answers
    assert all(status == 200 for sent, answered, status in answers if sent > until), answers
    connected = w2.connect("bob")  # no operator did anything
    assert connected.connected
    connected.disconnect()

    def written_back():
        with w1.app.app_context():
            return db.session.execute(select(ModerationEntry.action).where(
                ModerationEntry.subject_id == bob_id, ModerationEntry.action == "suspension_ended")).scalar()
    eventually(written_back, 20, "a sweeper writes the end of the suspension back, audited")


def test_with_redis_away_the_other_worker_refuses_the_next_event(two_workers, linked):
    w1, w2, redis = two_workers(**_NO_SWEEP)
    alice, bob, room_id = linked(w1, across=w2)
    redis.cut()  # the workers and the operator lose the queue

    said = _operator(w1, "users", "ban", "bob", "--reason", "Threats.")
    assert said.startswith("banned bob")

    refused = bob.send_text(room_id, "still here?")
    assert refused["ok"] is False
    assert (refused["error"]["code"], refused["error"]["standing"]) == ("restricted", "banned")
    assert bob.wait_for("account:restricted") == {"standing": "banned", "until": None, "reason": "Threats."}
    assert bob.closed.wait(10)
    # Alice, on the first worker, heard nothing (the queue is away), but the link has ended all the same.
    ended = alice.send_text(room_id, "hello?")
    assert ended["ok"] is False and ended["error"]["code"] == "conflict"


def test_with_redis_away_the_sweeper_closes_a_socket_that_sends_nothing(two_workers, linked):
    w1, w2, redis = two_workers(HEARTLINK_SWEEP_INTERVAL=0.5)
    _alice, bob, _room_id = linked(w1, across=w2)
    redis.cut()

    _operator(w1, "users", "suspend", "bob", "--days", "1", "--reason", "Insults.")

    told = bob.wait_for("account:restricted", timeout=15)
    assert (told["standing"], told["reason"]) == ("suspended", "Insults.") and told["until"].endswith("Z")
    assert bob.closed.wait(10)


def _user_id(server, username):
    with server.app.app_context():
        return accounts.find_user(username).id


def _audited_at(server, subject_id):
    with server.app.app_context():
        return db.session.execute(select(ModerationEntry.created_at).where(ModerationEntry.subject_id == subject_id)
                                  .order_by(ModerationEntry.id.desc())).scalars().first()

"""Faults on the real engines: two `python app.py` workers on PostgreSQL and Redis, and
one of them killed, stopped, or cut off from Redis or PostgreSQL.

The machine's PostgreSQL and Redis are shared with other work, so nothing here stops
them: an outage is a TCP proxy (a thread in this process, on 127.0.0.1) between one
worker and the engine, cut and restored by the test.

People are simulated the way the page behaves: every send has a client_id; a send
without an ok ack stays in the outbox and is resent, with the same client_id, after a
reconnect; a reconnect rejoins the room with since_seq = the seq up to which every message
is held. Each test prints what it counted and asserts that no acknowledged message was
lost or duplicated.
"""
import secrets
import signal
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from config import sqlalchemy_url

from support import EventClient, LiveServer, Proxy, eventually

PG_PORT = 5432
PG_TIMEOUTS = "?options=-c%20lock_timeout%3D5000%20-c%20idle_in_transaction_session_timeout%3D5000"
REDIS_PORT = 6379


def _wait_until_or_not(condition, until):
    while not condition() and time.monotonic() < until:
        time.sleep(0.05)
    return condition()


class Person:
    """One person's client, as the page behaves: an outbox of unacked sends, the seqs they
    were pushed, and a reconnect that catches up and resends."""

    def __init__(self, name, user_id, server):
        self.name, self.user_id = name, user_id
        self.token = server.token(name)
        self.lock = threading.Lock()
        self.room_id = None
        self.outbox = {}    # client_id -> text: sent, no ok ack yet
        self.acked = {}     # client_id -> seq
        self.sent = []      # every client_id, once
        self.errors = {}    # error code -> how many times an ack carried it
        self.retry = set()  # client_ids whose last ack was an error: resent by resend()
        self.sent_at = {}   # client_id -> when it last went out
        self.pushed = []    # (seq, sender_id) of every message:new, in arrival order
        self.caught_up = []  # (seq, sender_id) from room:join catch-ups
        self.client = None
        self.server = None
        self.connect(server)

    def connect(self, server):
        client = EventClient()
        client.on("message:new", self._on_message)
        client.connect(server.url, auth={"token": self.token})
        self.client, self.server = client, server
        return client

    def _on_message(self, data):
        message = data["message"]
        with self.lock:
            self.pushed.append((message["seq"], message["sender_id"]))

    def held_seq(self):
        """As the page: the seq up to which every message is held (a lost push leaves a gap)."""
        with self.lock:
            seqs = {seq for seq, _ in self.pushed + self.caught_up} | set(self.acked.values())
        held = 0
        while held + 1 in seqs:
            held += 1
        return held

    def send(self, count, prefix="m"):
        """Send `count` messages without waiting (a burst); acks land in self.acked."""
        for _ in range(count):
            client_id = str(uuid.uuid4())
            with self.lock:
                self.outbox[client_id] = f"{prefix} {len(self.sent) + 1} from {self.name}"
                self.sent.append(client_id)
            self._emit(client_id)

    def _emit(self, client_id):
        self.sent_at[client_id] = time.monotonic()
        text_ = self.outbox.get(client_id)
        if text_ is None:
            return  # acked meanwhile
        payload = {"room_id": self.room_id, "client_id": client_id, "text": text_}
        try:
            self.client.emit("message:send", payload, callback=lambda ack: self._on_ack(client_id, ack))
        except Exception:  # noqa: BLE001 - not connected: it stays in the outbox
            pass

    def _on_ack(self, client_id, ack):
        with self.lock:
            if ack.get("ok"):
                self.acked[client_id] = ack["message"]["seq"]
                self.outbox.pop(client_id, None)
            else:
                code = ack["error"]["code"]
                self.errors[code] = self.errors.get(code, 0) + 1
                self.retry.add(client_id)

    def resend(self, everything=True):
        """After a reconnect everything unacked goes again; otherwise what got an error
        ack, or no answer for 5 s."""
        now = time.monotonic()
        with self.lock:
            waiting = [cid for cid in self.outbox
                       if everything or cid in self.retry or now - self.sent_at.get(cid, 0) > 5]
            self.retry.difference_update(waiting)
        for client_id in waiting:
            self._emit(client_id)

    def reconnect(self, server):
        """The page after losing its socket: connect, rejoin with since_seq, resend the outbox."""
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001
            pass
        self.connect(server)
        self.catch_up()
        self.resend()

    def catch_up(self):
        ack = self.client.ask("room:join", {"room_id": self.room_id, "since_seq": self.held_seq()})
        assert ack["ok"], ack
        with self.lock:
            self.caught_up += [(m["seq"], m["sender_id"]) for m in ack["messages"]]

    def settle(self, timeout=20):
        """Resend until every message sent has an ok ack."""
        deadline = time.monotonic() + timeout
        while self.outbox and time.monotonic() < deadline:
            if not self.client.connected:  # the page reconnects, catches up, resends
                self.reconnect(self.server)
            self.resend(everything=False)
            end = min(deadline, time.monotonic() + 1)
            while self.outbox and time.monotonic() < end:
                time.sleep(0.02)
        assert not self.outbox, f"{self.name}: {len(self.outbox)} sends never acked ({self.errors})"

    def close(self):
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001
            pass


def tally(label, sender, receiver, timeout=10, count_catch_up=False):
    """What `receiver` got of `sender`'s messages; waits (bounded) for all acked to arrive."""
    acked = set(sender.acked.values())

    def received():
        got = {seq for seq, who in receiver.pushed if who == sender.user_id}
        if count_catch_up:
            got |= {seq for seq, who in receiver.caught_up if who == sender.user_id}
        return got

    deadline = time.monotonic() + timeout
    while not acked <= received() and time.monotonic() < deadline:
        time.sleep(0.05)
    pushed = [seq for seq, who in receiver.pushed if who == sender.user_id]
    out_of_order = sum(1 for index, seq in enumerate(pushed) if index and seq < max(pushed[:index]))
    counts = {"sent": len(sender.sent), "acked": len(acked), "received": len(received()),
              "pushed": len(pushed), "lost": len(acked - received()),
              "duplicated": len(pushed) - len(set(pushed)), "out_of_order": out_of_order,
              "error_acks": dict(sender.errors)}
    if counts["lost"]:
        counts["missing_seqs"] = sorted(acked - received())
    print(f"\n{label}: {counts}")
    return counts


def _stored(postgres_url, room_id):
    engine = create_engine(sqlalchemy_url(postgres_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT seq, client_id FROM messages WHERE room_id = :r ORDER BY seq"),
                                {"r": room_id}).all()
            last_seq = conn.execute(text("SELECT last_seq FROM rooms WHERE id = :r"), {"r": room_id}).scalar()
    finally:
        engine.dispose()
    return rows, last_seq


def assert_stored_once(postgres_url, room_id, *people):
    """Every message sent is stored exactly once, at a gapless seq (nothing half-stored)."""
    rows, last_seq = _stored(postgres_url, room_id)
    seqs = [seq for seq, _ in rows]
    assert seqs == list(range(1, len(rows) + 1)) and last_seq == len(rows)
    stored = [client_id for _, client_id in rows]
    assert len(stored) == len(set(stored))
    for person in people:
        assert set(person.sent) <= set(stored)
        assert all(person.acked[cid] == seq for seq, cid in rows if cid in person.acked)


@pytest.fixture
def cluster(postgres_url, redis_url, tmp_path):
    """start(name, **settings) -> a worker on the shared database and queue."""
    shared = {"SOCKETIO_MESSAGE_QUEUE": redis_url, "SECRET_KEY": secrets.token_hex(16),
              "HEARTLINK_SOCKETIO_CHANNEL": f"heartlink-test-{secrets.token_hex(4)}",
              "HEARTLINK_WORKER_STALE_AFTER": 2, "HEARTLINK_RATE_MESSAGES": "10000/10",
              "HEARTLINK_RATE_EVENTS": "10000/10", "HEARTLINK_SHUTDOWN_TIMEOUT": 6}
    started, proxies = [], []

    def start(name, **settings):
        server = LiveServer(postgres_url, tmp_path, HEARTLINK_WORKER_ID=name, **{**shared, **settings})
        started.append(server)
        return server

    def proxy(port):
        made = Proxy(port)
        proxies.append(made)
        return made

    start.proxy = proxy
    start.database = postgres_url
    try:
        yield start
    finally:
        for server in started:
            server.close()
        for made in proxies:
            made.close()


def _pair(first_server, second_server, first="alice", second="bob", code=None):
    first_id, second_id = first_server.make_user(first), first_server.make_user(second)
    one, two = Person(first, first_id, first_server), Person(second, second_id, second_server)
    code = code or secrets.token_hex(4).upper()
    assert one.client.ask("match:start", {"code": code})["state"] == "waiting"
    ack = two.client.ask("match:start", {"code": code})
    assert ack["state"] == "matched", ack
    one.client.wait_for("match:found")
    one.room_id = two.room_id = ack["room"]["id"]
    return one, two


def _wait_disconnected(person, timeout=10):
    eventually(lambda: not person.client.connected, timeout, f"{person.name} notices the worker is gone")


def _worker_rows(database, worker_id):
    engine = create_engine(sqlalchemy_url(database))
    try:
        with engine.connect() as conn:
            workers = conn.execute(text("SELECT count(*) FROM workers WHERE id = :w"), {"w": worker_id}).scalar()
            sockets = conn.execute(text("SELECT count(*) FROM connections WHERE worker_id = :w"),
                                   {"w": worker_id}).scalar()
    finally:
        engine.dispose()
    return workers, sockets


def test_a_killed_workers_people_resend_on_the_other_and_nothing_acked_is_lost(cluster):
    w1, w2 = cluster("w1"), cluster("w2")
    alice, bob = _pair(w1, w2)
    alice.send(10)
    bob.send(5)
    alice.settle(), bob.settle()
    alice.send(30)  # a burst in flight ...
    eventually(lambda: len(alice.acked) >= 15, 10, "part of the burst is acked")
    w1.kill()       # ... when alice's worker dies without a word
    _wait_disconnected(alice)
    alice.reconnect(w2)
    alice.settle()
    alice.send(5, prefix="after")
    alice.settle()
    counts = tally("SIGKILL: alice (w1, killed) -> bob (w2)", alice, bob)
    back = tally("SIGKILL: bob -> alice (pushed or caught up)", bob, alice, count_catch_up=True)
    assert_stored_once(cluster.database, alice.room_id, alice, bob)
    assert counts["lost"] == 0 and counts["duplicated"] == 0
    assert back["lost"] == 0 and back["duplicated"] == 0
    # The partner sees every message once, in seq order (both ways).
    assert counts["out_of_order"] == 0 and back["out_of_order"] == 0
    alice.close(), bob.close()


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_a_stopped_worker_finishes_its_work_and_exits_in_time(cluster, async_mode):
    w1, w2 = cluster("w1", HEARTLINK_ASYNC_MODE=async_mode), cluster("w2")
    alice, bob = _pair(w1, w2)
    alice.send(10)
    alice.settle()
    alice.send(30)
    eventually(lambda: len(alice.acked) >= 15, 10, "part of the burst is acked")
    stopping_at = time.monotonic()
    w1.process.send_signal(signal.SIGTERM)
    _wait_disconnected(alice)
    acked_before_close = len(alice.acked)
    alice.reconnect(w2)
    returncode = w1.process.wait(15)
    took = time.monotonic() - stopping_at
    alice.settle()
    alice.send(5, prefix="after")
    alice.settle()
    counts = tally(f"SIGTERM ({async_mode}): alice (w1, stopped) -> bob (w2)", alice, bob)
    print(f"SIGTERM ({async_mode}): exit code {returncode} after {took:.2f} s; "
          f"{acked_before_close} of {len(alice.sent) - 5} acked before the socket closed")
    assert returncode == 0
    assert took <= 6 + 1  # HEARTLINK_SHUTDOWN_TIMEOUT, plus the alarm's second
    assert _worker_rows(cluster.database, "w1") == (0, 0)  # it said it is gone
    assert_stored_once(cluster.database, alice.room_id, alice, bob)
    assert counts["lost"] == 0 and counts["duplicated"] == 0
    assert counts["out_of_order"] == 0
    alice.close(), bob.close()


def test_a_redis_outage_keeps_sends_acked_and_the_other_worker_catches_up(cluster, redis_url):
    redis_proxy = cluster.proxy(REDIS_PORT)
    w1 = cluster("w1", SOCKETIO_MESSAGE_QUEUE=redis_url.replace(f":{REDIS_PORT}", f":{redis_proxy.port}"))
    w2 = cluster("w2")
    alice, bob = _pair(w1, w1, "alice", "bob")      # both on the worker that loses Redis
    carol, dave = _pair(w1, w2, "carol", "dave")    # across the two workers
    alice.send(3), carol.send(3), dave.send(3)
    for person in (alice, carol, dave):
        person.settle()

    redis_proxy.cut()
    cut_at = time.monotonic()
    eventually(lambda: w1.health() == 503, 10, "w1's health check reports the queue down")
    assert w2.health() == 200
    alice.send(10, prefix="outage")
    bob.send(10, prefix="outage")
    carol.send(10, prefix="outage")
    dave.send(10, prefix="outage")
    outage_ends = cut_at + 10  # Redis is away for 10 s
    _wait_until_or_not(lambda: not any(p.outbox for p in (alice, bob, carol, dave)), outage_ends - 1)
    acked_in_outage = {p.name: len(p.acked) for p in (alice, bob, carol, dave)}
    same_worker = tally("Redis down: alice -> bob (same worker)", alice, bob, timeout=1)
    time.sleep(max(0.0, outage_ends - time.monotonic()))
    redis_proxy.restore()
    eventually(lambda: w1.health() == 200, 15, "w1's health check sees the queue again")
    assert w1.process.poll() is None and w2.process.poll() is None  # nothing crashed

    # w1 closes its sockets once it hears the queue again; the pages reconnect and catch up.
    eventually(lambda: not any(p.client.connected for p in (alice, bob, carol)), 70,
                "w1 closes its sockets after resubscribing")
    for person in (alice, bob, carol, dave):
        if person.client.connected:
            person.catch_up()  # dave's worker never lost Redis: his page catches up by since_seq
        person.settle()
    carol.send(3, prefix="after"), dave.send(3, prefix="after")
    carol.settle(), dave.settle()
    across = tally("Redis down: carol (w1) -> dave (w2), pushed or caught up", carol, dave, count_catch_up=True)
    back = tally("Redis down: dave (w2) -> carol (w1), pushed or caught up", dave, carol, count_catch_up=True)
    print(f"Redis down: acked during the outage: {acked_in_outage}")
    assert_stored_once(cluster.database, alice.room_id, alice, bob)
    assert_stored_once(cluster.database, carol.room_id, carol, dave)
    assert acked_in_outage == {"alice": 13, "bob": 10, "carol": 13, "dave": 13}
    assert same_worker["lost"] == 0 and same_worker["duplicated"] == 0
    for counts in (across, back):
        assert counts["lost"] == 0 and counts["duplicated"] == 0
    for person in (alice, bob, carol, dave):
        person.close()


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_a_postgres_restart_under_load_loses_nothing_acked(cluster, postgres_url, async_mode):
    pg_proxy = cluster.proxy(PG_PORT)
    w1 = cluster("w1", DATABASE_URL=postgres_url.replace(f":{PG_PORT}", f":{pg_proxy.port}") + PG_TIMEOUTS,
                 HEARTLINK_ASYNC_MODE=async_mode)
    w2 = cluster("w2")
    alice, bob = _pair(w1, w2)
    stop = threading.Event()

    def chat():  # alice keeps talking through the restart, 20 sends a second, fewer than 50 unacked
        ticks = 0
        while not stop.is_set():
            if alice.client.connected and len(alice.outbox) < 50:
                alice.send(1, prefix="load")
            ticks += 1
            if ticks % 20 == 0:  # once a second the page retries what failed
                alice.resend(everything=False)
            time.sleep(0.05)

    talker = threading.Thread(target=chat)
    talker.start()
    try:
        eventually(lambda: len(alice.acked) >= 20, 10, "sends acked before the restart")
        pg_proxy.cut()  # every connection dropped, new ones refused: a restart
        eventually(lambda: w1.health() == 503, 10, "w1's health check reports the database down")
        time.sleep(3)   # the database stays down for 3 s
        pg_proxy.restore()
        eventually(lambda: w1.health() == 200, 15, "w1's pool reconnects")
        acked_at_restore = len(alice.acked)
        eventually(lambda: len(alice.acked) >= acked_at_restore + 20, 15, "sends acked after the restart")
    finally:
        stop.set()
        talker.join()
    if not alice.client.connected:
        alice.reconnect(w1)
    alice.settle()
    counts = tally(f"PostgreSQL restart ({async_mode}): alice (w1, behind the proxy) -> bob (w2)", alice, bob)
    assert w1.process.poll() is None
    # Sends while the database was away were answered `unavailable`, then sent again.
    assert "unavailable" in alice.errors and set(alice.errors) <= {"unavailable", "conflict"}
    assert_stored_once(cluster.database, alice.room_id, alice)
    assert counts["lost"] == 0 and counts["duplicated"] == 0
    alice.close(), bob.close()


def test_health_answers_without_a_sign_in_and_is_never_cached(cluster):
    w1 = cluster("w1")
    response = requests.get(w1.url + "/healthz", timeout=5)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {"ok": True, "worker": "w1",
                               "checks": {"process": "ok", "database": "ok", "queue": "ok"}}


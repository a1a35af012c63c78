"""Scale-out on the real engines: two `python app.py` workers sharing PostgreSQL and
a Redis message queue. People on different workers are matched, chat, see receipts,
typing and presence; the match queue and the rate limits hold across workers (200
people asking at once included); calls ring across workers, and a call to someone whose
worker died ends as missed; `flask rooms cleanup` reaches both workers; a killed
worker's people go offline. The worker tests that are cheap to repeat run under both
eventlet and gevent."""
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from config import BASE_DIR
from heartlink.extensions import db
from heartlink.models import MatchTicket, User

from support import PASSWORD, EventClient, LiveServer, burst_from_both_sides, crowd, free_port, received_seqs


def _shared_settings(redis_url):
    return {"SOCKETIO_MESSAGE_QUEUE": redis_url, "SECRET_KEY": secrets.token_hex(16),
            "HEARTLINK_SOCKETIO_CHANNEL": f"heartlink-test-{secrets.token_hex(4)}",
            "HEARTLINK_WORKER_STALE_AFTER": 2}


@pytest.fixture
def workers(request, postgres_url, redis_url, tmp_path):
    """Two workers; a test parametrised with indirect=True picks the async mode."""
    shared = {**_shared_settings(redis_url), "HEARTLINK_ASYNC_MODE": getattr(request, "param", "eventlet"),
              **getattr(request.function, "worker_settings", {})}
    started = []
    try:
        for name in ("w1", "w2"):
            started.append(LiveServer(postgres_url, tmp_path, HEARTLINK_WORKER_ID=name, **shared))
        yield started
    finally:
        for server in started:
            server.close()


@pytest.mark.parametrize("workers", ["eventlet", "gevent"], indirect=True)
def test_people_on_different_workers_are_matched_and_chat(workers, linked):
    w1, w2 = workers
    alice, bob, room_id = linked(w1, across=w2)
    bob_id = next(m["id"] for m in bob.ask("room:join", {"room_id": room_id})["room"]["members"]
                  if m["username"] == "bob")

    sent = alice.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "via w1"})
    assert bob.wait_for("message:new")["message"]["id"] == sent["message"]["id"]
    reply = bob.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "via w2"})
    assert alice.wait_for("message:new")["message"]["seq"] == reply["message"]["seq"] == 2

    bob.ask("message:read", {"room_id": room_id, "up_to_seq": 2})
    assert alice.wait_for("receipt") == {"room_id": room_id, "user_id": bob_id, "delivered_seq": 2, "read_seq": 2}
    bob.ask("typing", {"room_id": room_id, "typing": True})
    assert alice.wait_for("typing")["user_id"] == bob_id

    bob.disconnect()
    offline = alice.wait_for("presence", lambda p: not p["online"], timeout=10)
    assert offline["user_id"] == bob_id
    alice.disconnect()


def test_the_rate_limit_counts_across_workers(workers, linked):
    w1, w2 = workers
    alice, bob, room_id = linked(w1, across=w2)
    alice_elsewhere = w2.connect("alice")
    limit, window = 30, 10  # HEARTLINK_RATE_MESSAGES default
    sends = [(alice if index % 2 else alice_elsewhere).timed_ask("message:send", {
        "room_id": room_id, "client_id": str(uuid.uuid4()), "text": "hi"}) for index in range(limit + 1)]
    results = [ack["ok"] for _, _, ack in sends]
    # Both workers count in one moving window: at most `limit` in any `window` seconds...
    accepted = [(sent, acked) for sent, acked, ack in sends if ack["ok"]]
    for first, last in zip(accepted, accepted[limit:], strict=False):  # each with the one `limit` later
        assert last[1] - first[0] >= window
    # ...so while the first send is still in the window, the last one is refused.
    if sends[-1][0] - sends[0][0] < window:
        assert results.count(True) == limit and results[-1] is False
    for client in (alice, alice_elsewhere, bob):
        client.disconnect()


def test_racing_match_requests_on_two_workers_never_double_book_anyone(workers):
    w1, w2 = workers
    names = [f"racer{index}" for index in range(12)]
    for name in names:
        w1.make_user(name)
    clients = [(w1 if index % 2 else w2).connect(name) for index, name in enumerate(names)]
    barrier = threading.Barrier(len(clients))
    acks = {}

    def ask(index, client):
        barrier.wait()
        acks[index] = client.ask("match:start")

    threads = [threading.Thread(target=ask, args=pair) for pair in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    def still_waiting(name):
        with w1.app.app_context():
            return db.session.query(MatchTicket).join(User, User.id == MatchTicket.user_id).filter(
                User.username == name).count() == 1

    rooms = {}
    for index, client in enumerate(clients):
        ack = acks[index]
        assert ack["ok"], ack
        room = ack["room"] if ack["state"] == "matched" else None
        if room is None:
            if still_waiting(names[index]):
                continue  # still waiting: allowed, the other waiters were taken
            room = client.wait_for("match:found", timeout=30)["room"]  # taken by a later request
        rooms.setdefault(room["id"], set()).add(names[index])
    members = [name for pair in rooms.values() for name in pair]
    assert all(len(pair) == 2 for pair in rooms.values())
    assert len(members) == len(set(members))  # nobody in two rooms
    assert len(rooms) >= len(names) // 2 - 1
    for client in clients:
        client.disconnect()


def test_the_people_of_a_killed_worker_go_offline(workers, linked):
    w1, w2 = workers
    alice, bob, _room_id = linked(w1, across=w2)
    w2.kill()  # bob's worker dies without a word; its heartbeat stops
    offline = alice.wait_for("presence", lambda p: not p["online"], timeout=15)
    assert offline["last_seen"]
    alice.disconnect()


def _settings(**settings):
    """Extra worker settings for one test (read by the `workers` fixture)."""
    def mark(test):
        test.worker_settings = {key: str(value) for key, value in settings.items()}
        return test
    return mark


@pytest.mark.parametrize("workers", ["eventlet", "gevent"], indirect=True)
def test_the_caller_on_one_worker_hears_that_the_callee_rings_on_another(workers, linked):
    w1, w2 = workers
    alice, bob, room_id = linked(w1, across=w2)
    call_id = alice.ask("call:invite", {"room_id": room_id, "media": "audio"})["call_id"]
    invited = alice.wait_for("call:state", lambda c: c["call_id"] == call_id)
    assert invited["state"] == "ringing" and invited["device_ringing"] is False
    assert bob.wait_for("call:incoming")["call_id"] == call_id
    assert bob.ask("call:ringing", {"call_id": call_id}) == {"ok": True}
    rings = alice.wait_for("call:state", lambda c: c["call_id"] == call_id and c.get("device_ringing"))
    assert rings["state"] == "ringing"
    assert alice.ask("call:cancel", {"call_id": call_id})["ok"]


@pytest.mark.parametrize("workers", ["eventlet", "gevent"], indirect=True)
@_settings(HEARTLINK_CALL_RING_TIMEOUT=3)
def test_a_call_rings_across_workers_and_a_call_to_a_dead_worker_is_missed(workers, linked):
    w1, w2 = workers
    alice, bob, room_id = linked(w1, across=w2)
    call_id = alice.ask("call:invite", {"room_id": room_id, "media": "audio"})["call_id"]
    assert bob.wait_for("call:incoming")["call_id"] == call_id
    assert bob.ask("call:accept", {"call_id": call_id})["ok"]
    assert alice.wait_for("call:state", lambda c: c["state"] == "accepted")["call_id"] == call_id
    assert alice.ask("call:hangup", {"call_id": call_id})["ok"]
    assert bob.wait_for("call:state", lambda c: c["state"] == "ended")["call_id"] == call_id

    call_id = alice.ask("call:invite", {"room_id": room_id, "media": "video"})["call_id"]
    assert bob.wait_for("call:incoming")["call_id"] == call_id
    w2.kill()  # bob's phone is ringing on a worker that dies
    missed = alice.wait_for("call:state", lambda c: c["call_id"] == call_id and c["state"] != "ringing", timeout=15)
    assert missed["state"] == "missed"
    alice.disconnect()


@pytest.mark.parametrize("workers", ["eventlet", "gevent"], indirect=True)
def test_typing_and_presence_cross_workers_and_a_reload_does_not_flicker(workers, linked):
    w1, w2 = workers
    alice, bob, room_id = linked(w1, across=w2)
    bob_id = next(m["id"] for m in bob.ask("room:join", {"room_id": room_id})["room"]["members"]
                  if m["username"] == "bob")
    bob.ask("typing", {"room_id": room_id, "typing": True})
    assert alice.wait_for("typing") == {"room_id": room_id, "user_id": bob_id, "typing": True}
    bob.ask("typing", {"room_id": room_id, "typing": False})
    assert alice.wait_for("typing")["typing"] is False
    # bob's page reloads onto the other worker within the grace period: no offline, no online
    token = w2.token("bob")
    bob.disconnect()
    bob = EventClient()
    bob.connect(w1.url, auth={"token": token})
    assert bob.ask("room:join", {"room_id": room_id})["ok"]
    bob.disconnect()
    seen = []
    alice.wait_for("presence", lambda p: seen.append(p) or (p["user_id"] == bob_id and not p["online"]),
                   timeout=10)
    # Only the final goodbye: the reload onto w1 announced nothing.
    assert [p["online"] for p in seen if p["user_id"] == bob_id] == [False]
    alice.disconnect()


def test_idle_link_cleanup_reaches_both_workers(workers, postgres_url, linked):
    w1, w2 = workers
    alice, bob, room_id = linked(w1, across=w2)
    env = {**w1.env, "FLASK_APP": "heartlink", "HEARTLINK_LINK_IDLE_HOURS": "0"}
    done = subprocess.run([sys.executable, "-m", "flask", "rooms", "cleanup"], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "ended 1 idle links" in done.stdout
    for client in (alice, bob):
        assert client.wait_for("room:ended") == {"room_id": room_id, "by": None, "reason": "idle"}
        client.disconnect()


PEOPLE = 200
DRIVERS = 4


@_settings(HEARTLINK_RATE_LOGIN_ADDRESS="10000/300", HEARTLINK_MAX_CONNECTIONS=1000)
def test_200_people_start_matching_at_once_on_two_workers(workers, linked):
    """Every room has exactly two people, nobody is in two rooms, and at most one person
    (the odd one out) is left waiting."""
    names = [f"crowd{index}" for index in range(PEOPLE)]
    clients = crowd(workers, names, DRIVERS)
    acks = queue.Queue()
    start = threading.Barrier(DRIVERS)

    def drive(first):  # each driver fires its share of requests without waiting for acks
        start.wait()
        for index in range(first, PEOPLE, DRIVERS):
            clients[index].emit("match:start", {}, callback=lambda ack, index=index: acks.put((index, ack)))

    drivers = [threading.Thread(target=drive, args=(first,)) for first in range(DRIVERS)]
    for thread in drivers:
        thread.start()
    for thread in drivers:
        thread.join()
    answers, retried = {}, 0
    deadline = time.monotonic() + 60
    while len(answers) < PEOPLE:
        index, ack = acks.get(timeout=max(0.1, deadline - time.monotonic()))
        if not ack["ok"] and ack["error"]["code"] == "conflict" and "room" not in ack["error"]:
            retried += 1  # "too many people are pairing right now": the page asks again
            clients[index].emit("match:start", {}, callback=lambda ack, index=index: acks.put((index, ack)))
            continue
        answers[index] = ack
    rooms, waiting = {}, []
    for index, ack in answers.items():
        assert ack["ok"], ack
        if ack["state"] == "matched":
            rooms.setdefault(ack["room"]["id"], []).append(index)
        else:
            waiting.append(index)
    still_waiting = []
    for index in waiting:
        try:
            found = clients[index].wait_for("match:found", timeout=10 if len(still_waiting) == 0 else 1)
        except AssertionError:
            still_waiting.append(index)
            continue
        rooms.setdefault(found["room"]["id"], []).append(index)
    members = [index for people in rooms.values() for index in people]
    print(f"\n{PEOPLE} people matching at once: {len(rooms)} rooms, {len(still_waiting)} left waiting, "
          f"{retried} asked again after a conflict")
    assert all(len(people) == 2 for people in rooms.values())
    assert len(members) == len(set(members))   # nobody is in two rooms
    assert len(still_waiting) <= 1              # nobody waits while another waits
    assert len(rooms) * 2 + len(still_waiting) == PEOPLE
    with ThreadPoolExecutor(DRIVERS) as pool:
        list(pool.map(lambda client: client.disconnect(), clients))


def test_a_burst_from_people_on_two_workers_reaches_every_socket_in_seq_order(workers, linked):
    """Alice on w1 and Bob on w2 send at once, so the room's seqs are committed by two
    processes; each of them has a second tab on the other worker. Every socket gets the
    messages it is owed in seq order, none missing, none twice."""
    w1, w2 = workers
    alice, bob, room_id = linked(w1, across=w2)
    alice_elsewhere, bob_elsewhere = w2.connect("alice"), w1.connect("bob")
    alice.room_id = room_id
    acked = burst_from_both_sides(alice, bob)
    assert acked == list(range(1, 61))
    for watcher in (alice_elsewhere, bob_elsewhere):
        seqs = received_seqs(watcher, 60)
        print(f"\ntwo workers: {len(seqs)} received, out of order: "
              f"{sum(1 for x, y in zip(seqs, seqs[1:], strict=False) if y <= x)}")
        assert seqs == list(range(1, 61))
    for sender in (alice, bob):
        seqs = received_seqs(sender, 30)
        assert seqs == sorted(seqs) and len(set(seqs)) == 30
    for client in (alice, bob, alice_elsewhere, bob_elsewhere):
        client.disconnect()


@_settings(HEARTLINK_PROXY_COUNT=1)
def test_the_shipped_nginx_config_serves_websocket_and_long_polling_sticky(workers, tmp_path):
    """deploy/nginx/compose.conf in front of the two workers: one person over websocket,
    the other over long-polling (which only works when nginx keeps it on one worker)."""
    import shutil

    import requests

    nginx_bin = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx_bin is None:
        print("skipping: nginx is not installed (apt-get install nginx-light)")
        pytest.skip("nginx is not installed")
    w1, w2 = workers
    deploy = BASE_DIR / "deploy" / "nginx"
    port = free_port()
    (tmp_path / "logs").mkdir()
    (tmp_path / "proxy.conf").write_text((deploy / "heartlink-proxy.conf").read_text())
    site = ((deploy / "compose.conf").read_text()
            .replace("web1:5000", f"127.0.0.1:{w1.port}").replace("web2:5000", f"127.0.0.1:{w2.port}")
            .replace("listen 80;", f"listen 127.0.0.1:{port};")
            .replace("/etc/nginx/heartlink-proxy.conf", str(tmp_path / "proxy.conf")))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/logs/error.log; daemon off;\n"
        f"events {{}}\nhttp {{ access_log off; include {tmp_path}/site.conf; }}\n")
    nginx = subprocess.Popen([nginx_bin, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                health = requests.get(base + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        assert health.status_code == 200 and health.json()["ok"] is True
        w1.make_user("alice")
        w1.make_user("bob")
        token = lambda name: requests.post(base + "/api/token", json={  # noqa: E731
            "username": name, "password": PASSWORD}).json()["token"]
        alice, bob = EventClient(), EventClient()
        alice.connect(base, auth={"token": token("alice")}, transports=["websocket"])
        bob.connect(base, auth={"token": token("bob")}, transports=["polling"])
        assert (alice.transport(), bob.transport()) == ("websocket", "polling")
        assert alice.ask("match:start", {"code": "NGINX1"})["state"] == "waiting"
        room_id = bob.ask("match:start", {"code": "NGINX1"})["room"]["id"]
        alice.wait_for("match:found")
        alice.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "over websocket"})
        assert bob.wait_for("message:new")["message"]["text"] == "over websocket"
        bob.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "over polling"})
        assert alice.wait_for("message:new")["message"]["text"] == "over polling"
        alice.disconnect()
        bob.disconnect()
    finally:
        nginx.terminate()
        nginx.wait(10)

"""Server closes that mean "come back": every official client (socket.io-client, and
python-socketio's Client) reconnects by itself, catches up with since_seq and loses
nothing. The people here are written as a client author would from docs/protocol.md
(tests/clients/person.py and person.js): reconnection is left to the library.

- Redis goes away and returns: each worker closes its sockets once it hears the queue
  again, so that its clients catch up on what other workers published meanwhile.
- A client stops reading (its process frozen while its long-poll is not renewed): the
  sweeper closes the socket without waiting on it, and the client comes back once it runs.
"""
# ruff: noqa: F811 - `cluster` is test_faults' fixture (two workers on PostgreSQL and Redis), imported
import uuid

from support import ClientProcess, EventClient, eventually
from test_faults import REDIS_PORT, assert_stored_once, cluster  # noqa: F401

PAIRS = 10  # each a python-socketio person and a socket.io-client person, on different workers


def _everyone(processes):
    return [person for process in processes for person in process.people.values()]


def _send_round(processes, label):
    for process in processes:
        for name in list(process.people):
            process.send(name, f"{label} from {name}")


def _all_acked(process):
    return lambda: all(len(p["acked"]) == len(p["sent"]) for p in process.people.values())


def _holds_partners_messages(people, partner_of):
    """Each person has received (pushed or caught up) every message its partner had acked."""
    def holds():
        for person in people:
            partner = partner_of[person["name"]]
            wanted = {(seq, partner["user_id"]) for seq in list(partner["acked"].values())}
            if not wanted <= person["received"]:
                return False
        return True
    return holds


def test_after_a_redis_outage_every_client_comes_back_by_itself_and_misses_nothing(cluster, redis_url, tmp_path):
    redis = cluster.proxy(REDIS_PORT)  # Redis, as both workers see it: cut is down, restore is back
    queue = redis_url.replace(f":{REDIS_PORT}", f":{redis.port}")
    w1, w2 = cluster("w1", SOCKETIO_MESSAGE_QUEUE=queue), cluster("w2", SOCKETIO_MESSAGE_QUEUE=queue)
    python, js = ClientProcess("python", tmp_path / "python-clients.log"), ClientProcess("js", tmp_path / "js.log")
    processes = (python, js)
    partner_of, rooms = {}, []
    try:
        for index in range(PAIRS):
            py_name, js_name = f"py{index}", f"js{index}"
            py_id, js_id = w1.make_user(py_name), w1.make_user(js_name)
            room_id = w1.link(py_id, js_id)
            rooms.append(room_id)
            py_worker, js_worker = (w1, w2) if index % 2 == 0 else (w2, w1)
            python.add(py_name, py_worker, room_id, py_id)
            js.add(js_name, js_worker, room_id, js_id)
            partner_of[py_name], partner_of[js_name] = js.people[js_name], python.people[py_name]
        people = _everyone(processes)
        holds = _holds_partners_messages(people, partner_of)

        _send_round(processes, "before")
        for process in processes:
            process.wait(_all_acked(process), 30, "sends before the outage are acked")
        python.wait(holds, 30, "each has the partner's messages before the outage")

        redis.cut()
        eventually(lambda: w1.health() != 200 and w2.health() != 200, timeout=15)
        # Each worker's own watch noticed it too (what makes it close its sockets when Redis returns).
        eventually(lambda: all("message queue unreachable" in w.log_path.read_text() for w in (w1, w2)), timeout=15)
        _send_round(processes, "during")  # stored and acked; the partner on the other worker misses the push
        for process in processes:
            process.wait(_all_acked(process), 30, "sends during the outage are acked")
        redis.restore()

        # Once a worker hears the queue again it closes its sockets; each client reconnects
        # by itself (python-socketio's resubscription backoff is part of the bound).
        python.wait(lambda: all(p["connects"] >= 2 and p["catch_ups"] >= 2 for p in people), 90,
                    "every client reconnects by itself and catches up")
        _send_round(processes, "after")
        for process in processes:
            process.wait(_all_acked(process), 30, "sends after the outage are acked")
        python.wait(holds, 30, "each has every message its partner sent, once caught up")
    finally:
        for process in processes:
            process.close()

    reconnected = {p["client"]: 0 for p in people}
    for person in people:
        reconnected[person["client"]] += person["connects"] >= 2
    print(f"\nRedis outage: reconnected by themselves {reconnected} of {PAIRS} each; "
          f"disconnect reasons {sorted({r for p in people for r in p['disconnects']})}")
    for room_id, index in zip(rooms, range(PAIRS), strict=True):
        first, second = python.people[f"py{index}"], js.people[f"js{index}"]
        # Every send stored once (resent ones included), at the seq its ack gave.
        assert len(first["sent"]) == len(second["sent"]) == 3
        assert_stored_once(cluster.database, room_id, _AsSender(first), _AsSender(second))


class _AsSender:
    """A person as test_faults.assert_stored_once reads one."""

    def __init__(self, person):
        self.sent, self.acked = person["sent"], person["acked"]


def test_a_stalled_client_is_closed_without_waiting_on_it_and_comes_back_by_itself(serve, tmp_path):
    """Two long-polling clients (python-socketio, socket.io-client) stop polling while their
    partners keep sending; the sweeper closes both (the second too: closing the first does not
    wait for that client to poll) and, once they run again, each reconnects and catches up."""
    server = serve(HEARTLINK_MAX_QUEUED_PACKETS=20, HEARTLINK_RATE_MESSAGES="1000/10")
    stalled = {"python": ClientProcess("python", tmp_path / "python.log", transport="polling"),
               "js": ClientProcess("js", tmp_path / "js.log", transport="polling")}
    partners = {}
    try:
        for language, process in stalled.items():
            name, partner_name = f"{language}-reader", f"{language}-partner"
            user_id, partner_id = server.make_user(name), server.make_user(partner_name)
            room_id = server.link(user_id, partner_id)
            process.add(name, server, room_id, user_id)
            partner = EventClient()
            partner.connect(server.url, auth={"token": server.token(partner_name)})
            partners[language] = (partner, room_id, partner_id, user_id)

        for process in stalled.values():
            process.pause()
        sent = {}
        for language, (partner, room_id, partner_id, _reader_id) in partners.items():
            acks = [partner.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()),
                                                 "text": f"unread {index}"}) for index in range(40)]
            assert all(ack["ok"] for ack in acks), acks
            sent[language] = {(ack["message"]["seq"], partner_id) for ack in acks}
        # Closed by the sweeper, both: each partner sees the frozen person go offline.
        for partner, _room_id, _partner_id, reader_id in partners.values():
            partner.wait_for("presence", lambda p, who=reader_id: p["user_id"] == who and not p["online"],
                             timeout=20)
        for process in stalled.values():
            process.resume()

        for language, process in stalled.items():
            partner, _room_id, _partner_id, reader_id = partners[language]
            person = next(iter(process.people.values()))
            process.wait(lambda p=person: p["connects"] >= 2 and p["catch_ups"] >= 2, 30,
                         f"the {language} client reconnects by itself and catches up")
            process.wait(lambda p=person, want=sent[language]: want <= p["received"], 30,
                         f"the {language} client has every message sent while it was frozen")
            partner.wait_for("presence", lambda p, who=reader_id: p["user_id"] == who and p["online"], timeout=20)
    finally:
        for process in stalled.values():
            process.close()
        for partner, *_ in partners.values():
            partner.disconnect()


def test_after_a_worker_restart_every_client_comes_back_by_itself(serve, tmp_path):
    """SIGTERM (a deploy): the worker closes its sockets as lost transports and exits; when it
    serves again, both kinds of client are back, caught up, without a reconnect of their own."""
    server = serve()
    python, js = ClientProcess("python", tmp_path / "python.log"), ClientProcess("js", tmp_path / "js.log")
    try:
        py_id, js_id = server.make_user("pyperson"), server.make_user("jsperson")
        room_id = server.link(py_id, js_id)
        python.add("pyperson", server, room_id, py_id)
        js.add("jsperson", server, room_id, js_id)
        people = [python.people["pyperson"], js.people["jsperson"]]
        holds = _holds_partners_messages(people, {"pyperson": people[1], "jsperson": people[0]})
        _send_round((python, js), "before")
        python.wait(lambda: all(len(p["acked"]) == 1 for p in people) and holds(), 30, "sends before the restart")

        server.stop()
        assert server.process.returncode == 0
        python.wait(lambda: all(p["disconnects"] for p in people), 30, "both see their connection end")
        server.start()
        python.wait(lambda: all(p["connects"] >= 2 and p["catch_ups"] >= 2 for p in people), 60,
                    "both reconnect by themselves and catch up")
        _send_round((python, js), "after")
        python.wait(lambda: all(len(p["acked"]) == 2 for p in people) and holds(), 30, "sends after the restart")
        print(f"\nrestart: disconnect reasons {[p['disconnects'] for p in people]}")
    finally:
        python.close(), js.close()

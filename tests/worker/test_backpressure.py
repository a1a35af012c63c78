"""A client that stops reading is disconnected before its outgoing queue grows
without bound; the other people keep being served."""
import json
import socket
import time
import uuid

import pytest
import websocket

from heartlink.extensions import db
from heartlink.models import Connection

pytestmark = [pytest.mark.heavy, pytest.mark.timeout(900)]  # a deadline for a busy machine


def _sloth(server, name):
    """A raw websocket signed in as `name`, with a tiny receive buffer, that reads nothing more."""
    sloth = websocket.create_connection(
        server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=5,
        sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    sloth.recv()
    sloth.send("40" + json.dumps({"token": server.token(name)}))
    sloth.recv()
    return sloth


def _open_sockets(server, user_id):
    with server.app.app_context():
        return db.session.query(Connection).filter_by(user_id=user_id).count()


def test_a_client_that_stops_reading_is_dropped_and_others_keep_chatting(serve):
    server = serve(HEARTLINK_MAX_QUEUED_PACKETS=50,
                   HEARTLINK_RATE_MESSAGES="100000/10", HEARTLINK_RATE_EVENTS="100000/10",
                   HEARTLINK_BUDGET_MESSAGE_TEXT="100000000/86400",  # 1,500 long messages are a load, not a person
                   # The sender asks as fast as acks come back: more than any person, so past the packet budget.
                   HEARTLINK_PACKET_RATE=100000, HEARTLINK_PACKET_BURST=100000)
    ids = {name: server.make_user(name) for name in ("sender", "sloth", "carol", "dave")}

    def sloth_sockets():
        return _open_sockets(server, ids["sloth"])

    sender, carol, dave = server.connect("sender"), server.connect("carol"), server.connect("dave")
    sloth = _sloth(server, "sloth")
    sloth.send('421["match:start",{}]')
    sloth.recv()
    assert sloth_sockets() == 1
    room_id = sender.ask("match:start")["room"]["id"]
    carol.ask("match:start")
    other_room = dave.ask("match:start")["room"]["id"]

    text = "x" * 3900
    latencies = []
    sloth_dropped_after = None
    for index in range(1500):
        sender.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": text})
        if index % 25 == 0:
            began = time.perf_counter()
            ack = carol.ask("message:send", {"room_id": other_room, "client_id": str(uuid.uuid4()),
                                             "text": f"still fine {index}"})
            dave.wait_for("message:new", lambda m, i=index: m["message"]["text"] == f"still fine {i}")
            latencies.append(time.perf_counter() - began)
            assert ack["ok"]
            if sloth_sockets() == 0:
                sloth_dropped_after = index
                break
    assert sloth_dropped_after is not None, "the stalled socket was never closed"
    latencies.sort()
    print(f"\nstalled reader dropped after {sloth_dropped_after} large messages; others' send->delivery "
          f"p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    assert carol.connected and dave.connected and sender.connected
    for client in (sender, carol, dave):
        client.disconnect()
    sloth.close()


def test_a_socket_that_asks_for_large_catch_ups_and_never_reads_is_closed_by_their_size(serve):
    """`room:join {since_seq: 0}` again and again from a socket that never reads: each answer is
    large (up to the answer's text budget), so 500 queued packets were over 100 MB. A queue is
    now weighed in characters too, and the socket is closed long before that."""
    server = serve(HEARTLINK_RATE_MESSAGES="100000/10", HEARTLINK_RATE_EVENTS="100000/10",
                   HEARTLINK_PACKET_RATE=100000, HEARTLINK_PACKET_BURST=100000)
    ids = {name: server.make_user(name) for name in ("writer", "sloth")}
    writer = server.connect("writer")
    sloth = _sloth(server, "sloth")
    writer.ask("match:start")
    sloth.send('421["match:start",{}]')
    room_id = writer.wait_for("match:found")["room"]["id"]
    for index in range(80):  # 320,000 characters: every catch-up answer is a full 256 Ki
        assert writer.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()),
                                           "text": f"{index:02d}" + "y" * 3_990})["ok"]

    def sloth_sockets():
        return _open_sockets(server, ids["sloth"])

    asked = 0
    try:
        while sloth_sockets() and asked < 300:  # 300 answers unread would be 75 MB
            sloth.send(f'42{asked + 2}["room:join",{{"room_id":"{room_id}","since_seq":0}}]')
            asked += 1
            time.sleep(0.02)
    except OSError:
        pass  # the server closed it under the sender
    deadline = time.monotonic() + 30
    while sloth_sockets() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sloth_sockets() == 0, f"still open after {asked} unread catch-ups"
    assert asked < 300
    assert writer.connected
    writer.disconnect()
    sloth.close()

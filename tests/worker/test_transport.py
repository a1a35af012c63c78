"""A real server process and real python-socketio clients over websocket."""
import uuid

import pytest
import requests
import socketio as socketio_client


def test_two_people_are_matched_and_chat(linked):
    a, b, room_id = linked()
    sent = a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": "text",
                                  "text": "hello bob"})
    assert sent["ok"] and sent["duplicate"] is False
    assert sent["message"]["seq"] == 1
    received = b.wait_for("message:new")["message"]
    assert received["text"] == "hello bob" and received["sender_id"] == sent["message"]["sender_id"]

    reply = b.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "hi alice"})
    assert reply["message"]["seq"] == 2
    assert a.wait_for("message:new")["message"]["text"] == "hi alice"

    joined = a.ask("room:join", {"room_id": room_id})
    assert [m["text"] for m in joined["messages"]] == ["hello bob", "hi alice"]
    a.disconnect()
    b.disconnect()


def test_a_connect_without_credentials_is_refused_with_a_coded_error(live_server):
    refused = []
    client = socketio_client.Client(reconnection=False)
    client.on("connect_error", lambda data: refused.append(data))
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        client.connect(live_server.url, transports=["websocket"], auth={"token": "forged"}, wait_timeout=5)
    # On the wire: {"message": ..., "data": {"code", "message"}}; socket.io-client exposes err.data.
    assert refused and refused[0]["data"]["code"] == "unauthorized" and refused[0]["data"]["message"]


def test_a_stranger_is_refused_everywhere_and_learns_nothing(live_server, linked):
    a, b, room_id = linked()
    a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "private"})
    live_server.make_user("eve")
    eve = live_server.connect("eve")
    for event, payload in [
        ("room:join", {"room_id": room_id, "since_seq": 0}),
        ("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "let me in"}),
        ("room:leave", {"room_id": room_id}),
    ]:
        ack = eve.ask(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", event
        assert "private" not in str(ack)
    token = live_server.token("eve")
    history = requests.get(f"{live_server.url}/api/rooms/{room_id}/messages",
                           headers={"Authorization": f"Bearer {token}"})
    assert history.status_code == 403
    assert eve.drain("message:new") == []
    assert a.ask("room:join", {"room_id": room_id})["room"]["status"] == "active"
    for client in (a, b, eve):
        client.disconnect()


def test_a_duplicate_client_id_is_stored_and_delivered_once(linked):
    a, b, room_id = linked()
    client_id = str(uuid.uuid4())
    payload = {"room_id": room_id, "client_id": client_id, "text": "only once"}
    acks = [a.ask("message:send", payload) for _ in range(3)]
    assert [ack["duplicate"] for ack in acks] == [False, True, True]
    assert len({ack["message"]["id"] for ack in acks}) == 1
    b.wait_for("message:new")
    after = b.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "next"})
    assert after["message"]["seq"] == 2
    assert b.drain("message:new") == []
    assert [m["text"] for m in b.ask("room:join", {"room_id": room_id, "since_seq": 0})["messages"]] == [
        "only once", "next"]
    a.disconnect()
    b.disconnect()


def test_every_tab_of_both_people_gets_new_messages(live_server, linked):
    a, b, room_id = linked()
    a_second_tab = live_server.connect("alice")
    sent = b.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "to all tabs"})
    for client in (a, a_second_tab):
        assert client.wait_for("message:new")["message"]["id"] == sent["message"]["id"]
    own = a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "from tab one"})
    assert a_second_tab.wait_for("message:new")["message"]["id"] == own["message"]["id"]
    for client in (a, a_second_tab, b):
        client.disconnect()


def test_the_gevent_worker_serves_the_same_protocol(serve, linked):
    server = serve(HEARTLINK_ASYNC_MODE="gevent")
    assert "(gevent," in server.log_path.read_text()
    a, b, room_id = linked(server)
    sent = a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "on gevent"})
    assert b.wait_for("message:new")["message"]["id"] == sent["message"]["id"]

"""A real server process and real python-socketio clients over websocket."""
import time
import uuid

import pytest
import requests
import socketio as socketio_client


def _matched(server, first="alice", second="bob"):
    server.make_user(first)
    server.make_user(second)
    a, b = server.connect(first), server.connect(second)
    assert a.ask("match:start")["state"] == "waiting"
    ack = b.ask("match:start")
    assert ack["ok"] and ack["state"] == "matched"
    room_id = ack["room"]["id"]
    found = a.wait_for("match:found")
    assert found["room"]["id"] == room_id
    return a, b, room_id


def test_two_people_are_matched_and_chat(live_server):
    a, b, room_id = _matched(live_server)
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

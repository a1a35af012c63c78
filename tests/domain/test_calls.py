"""The call state machine over sockets: invite, accept, decline, cancel, hang up,
missed after the ring timeout, signals to the other member only."""
import uuid

import pytest

from support import received, received_by_event


@pytest.fixture
def call_link(sock):
    alice, bob = sock("alice"), sock("bob")
    alice.emit("match:start", {}, callback=True)
    room_id = bob.emit("match:start", {}, callback=True)["room"]["id"]
    for client in (alice, bob):
        client.get_received()
    return alice, bob, room_id


def _invite(alice, room_id, media="video"):
    ack = alice.emit("call:invite", {"room_id": room_id, "media": media}, callback=True)
    assert ack["ok"], ack
    return ack["call_id"]


def _call_lines(client, room_id):
    messages = client.emit("room:join", {"room_id": room_id}, callback=True)["messages"]
    return [m["call"] for m in messages if m["kind"] == "call"]


def test_invite_accept_hangup_leaves_the_duration_in_the_history(call_link):
    alice, bob, room_id = call_link
    call_id = _invite(alice, room_id)
    incoming = received(bob, "call:incoming")
    assert incoming[0]["call_id"] == call_id and incoming[0]["from"]["username"] == "alice"
    assert incoming[0]["media"] == "video"
    assert bob.emit("call:accept", {"call_id": call_id}, callback=True) == {"ok": True}
    assert [s["state"] for s in received(alice, "call:state")] == ["ringing", "accepted"]
    assert alice.emit("call:hangup", {"call_id": call_id}, callback=True) == {"ok": True}
    ended = [s for s in received(bob, "call:state") if s["state"] == "ended"]
    assert len(ended) == 1 and ended[0]["duration_ms"] >= 0 and ended[0]["by"] is not None
    assert _call_lines(bob, room_id) == [{"call_id": call_id, "media": "video", "outcome": "ended",
                                          "duration_ms": ended[0]["duration_ms"]}]
    again = alice.emit("call:hangup", {"call_id": call_id}, callback=True)
    assert again["error"]["code"] == "conflict"


def test_the_caller_hears_when_a_device_of_the_callee_rings(call_link, sock):
    alice, bob, room_id = call_link
    eve = sock("eve")
    call_id = _invite(alice, room_id)
    for client in (alice, bob):
        assert [(s["state"], s["device_ringing"]) for s in received(client, "call:state")] == [("ringing", False)]
    assert alice.emit("call:ringing", {"call_id": call_id}, callback=True)["error"]["code"] == "forbidden"
    assert eve.emit("call:ringing", {"call_id": call_id}, callback=True)["error"]["code"] == "forbidden"
    assert bob.emit("call:ringing", {"call_id": "nope"}, callback=True)["error"]["code"] == "bad_request"
    assert received(alice, "call:state") == []  # refusals change nothing
    assert bob.emit("call:ringing", {"call_id": call_id}, callback=True) == {"ok": True}
    for client in (alice, bob):
        assert [(s["state"], s["device_ringing"]) for s in received(client, "call:state")] == [("ringing", True)]
    assert bob.emit("call:accept", {"call_id": call_id}, callback=True) == {"ok": True}
    assert bob.emit("call:ringing", {"call_id": call_id}, callback=True)["error"]["code"] == "conflict"


def test_invite_decline(call_link):
    alice, bob, room_id = call_link
    call_id = _invite(alice, room_id, "audio")
    assert alice.emit("call:decline", {"call_id": call_id}, callback=True)["error"]["code"] == "forbidden"
    assert bob.emit("call:decline", {"call_id": call_id}, callback=True) == {"ok": True}
    assert [s["state"] for s in received(alice, "call:state")] == ["ringing", "declined"]
    assert _call_lines(alice, room_id)[0]["outcome"] == "declined"
    # The room is free for the next call.
    _invite(alice, room_id)


def test_a_second_invite_while_ringing_is_a_conflict(call_link):
    alice, bob, room_id = call_link
    _invite(alice, room_id)
    for client in (alice, bob):
        ack = client.emit("call:invite", {"room_id": room_id, "media": "video"}, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "conflict"


def test_cancel_by_the_caller_only(call_link):
    alice, bob, room_id = call_link
    call_id = _invite(alice, room_id)
    assert bob.emit("call:cancel", {"call_id": call_id}, callback=True)["error"]["code"] == "forbidden"
    assert alice.emit("call:cancel", {"call_id": call_id}, callback=True) == {"ok": True}
    assert bob.emit("call:accept", {"call_id": call_id}, callback=True)["error"]["code"] == "conflict"


def test_signals_go_to_the_other_member_only_and_only_while_the_call_lives(call_link, sock):
    alice, bob, room_id = call_link
    eve = sock("eve")
    call_id = _invite(alice, room_id)
    offer = {"type": "offer", "sdp": "v=0 ..."}
    assert alice.emit("call:signal", {"call_id": call_id, "data": offer}, callback=True) == {"ok": True}
    assert [s["data"] for s in received(bob, "call:signal")] == [offer]
    refused = eve.emit("call:signal", {"call_id": call_id, "data": offer}, callback=True)
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert received(bob, "call:signal") == [] and received(alice, "call:signal") == []
    bob.emit("call:accept", {"call_id": call_id}, callback=True)
    answer = {"type": "answer", "sdp": "v=0 ..."}
    bob.emit("call:signal", {"call_id": call_id, "data": answer}, callback=True)
    assert [s["data"] for s in received(alice, "call:signal")] == [answer]
    bob.emit("call:hangup", {"call_id": call_id}, callback=True)
    late = alice.emit("call:signal", {"call_id": call_id, "data": {"candidate": "x"}}, callback=True)
    assert late["error"]["code"] == "conflict"
    for name in ("call:accept", "call:decline", "call:hangup"):
        assert eve.emit(name, {"call_id": call_id}, callback=True)["error"]["code"] == "forbidden"
    assert eve.emit("call:invite", {"room_id": room_id}, callback=True)["error"]["code"] == "forbidden"
    assert alice.emit("call:accept", {"call_id": str(uuid.uuid4())}, callback=True)["error"]["code"] == "not_found"


def test_leaving_the_link_ends_its_call(call_link):
    alice, bob, room_id = call_link
    call_id = _invite(alice, room_id)
    bob.emit("call:accept", {"call_id": call_id}, callback=True)
    bob.emit("room:leave", {"room_id": room_id}, callback=True)
    to_alice = received_by_event(alice)
    states = [state["state"] for state in to_alice.get("call:state", [])]
    assert states[-1] == "ended"
    assert [ended["reason"] for ended in to_alice.get("room:ended", [])] == ["left"]
    assert _call_lines(alice, room_id)[0]["outcome"] == "ended"


def test_an_unanswered_call_becomes_missed_after_the_ring_timeout(linked, serve):
    server = serve(HEARTLINK_CALL_RING_TIMEOUT=1)
    a, b, room_id = linked(server)
    call_id = a.ask("call:invite", {"room_id": room_id, "media": "video"})["call_id"]
    assert b.wait_for("call:incoming")["call_id"] == call_id
    missed = b.wait_for("call:state", lambda s: s["state"] == "missed", timeout=10)
    assert missed["call_id"] == call_id
    line = a.wait_for("message:new", lambda m: m["message"]["kind"] == "call")["message"]
    assert line["call"]["outcome"] == "missed" and line["call"]["duration_ms"] is None
    assert b.ask("call:accept", {"call_id": call_id})["error"]["code"] == "conflict"
    a.disconnect()
    b.disconnect()


def test_a_call_whose_tab_closes_ends(linked, serve):
    server = serve()
    a, b, room_id = linked(server)
    call_id = a.ask("call:invite", {"room_id": room_id, "media": "audio"})["call_id"]
    assert b.ask("call:accept", {"call_id": call_id})["ok"]
    assert b.ask("room:join", {"room_id": room_id})["room"]["active_call_id"] == call_id
    a.disconnect()  # the caller's tab is gone mid-call
    ended = b.wait_for("call:state", lambda s: s["state"] == "ended", timeout=10)
    assert ended["call_id"] == call_id
    assert b.ask("room:join", {"room_id": room_id})["room"]["active_call_id"] is None
    b.disconnect()

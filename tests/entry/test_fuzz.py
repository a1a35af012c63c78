"""Property-based fuzzing of every socket event through the Flask-SocketIO test client:
whatever arrives, the ack is one of the contract's shapes, no handler fails, and the
database keeps its invariants."""
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heartlink.extensions import db
from heartlink.models import Call, Message, Room, RoomMember, User

pytestmark = [pytest.mark.heavy, pytest.mark.timeout(900)]  # a deadline for a busy machine

EVENTS = ["match:start", "match:cancel", "room:join", "room:leave", "message:send", "message:delivered",
          "message:read", "message:edit", "message:delete", "message:hide", "message:react", "typing", "call:invite",
          "call:ringing", "call:accept", "call:decline", "call:cancel", "call:hangup", "call:signal",
          "no:such-event"]
CODES = {"bad_request", "unauthorized", "forbidden", "not_found", "conflict", "too_large", "rate_limited"}
KEYS = ["room_id", "client_id", "kind", "text", "attachment_id", "reply_to", "since_seq", "up_to_seq",
        "message_id", "emoji", "typing", "call_id", "media", "data", "code"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _plausible(known):
    """Values near what the handlers expect: real ids of this test, other ids, and junk."""
    ids = st.sampled_from(known["rooms"] + known["calls"] + [str(uuid.uuid4()), "not-a-uuid", ""])
    numbers = st.sampled_from(known["messages"] + [0, -1, 1, 2**31, 2**63, 10**30])
    field = st.one_of(ids, numbers, st.text(max_size=30), st.sampled_from(
        ["text", "image", "voice", "file", "call", "video", "audio", "😀", "ABCD1234", " ", "x" * 5000]),
        json_values)
    return st.dictionaries(st.sampled_from(KEYS), field, max_size=6)


tried = {"payloads": 0}


def _check_ack(event, ack):
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (event, ack)
    if not ack["ok"]:
        error = ack["error"]
        assert error["code"] in CODES, (event, ack)
        assert isinstance(error["message"], str) and error["message"], (event, ack)


def _check_database(app):
    with app.app_context():
        for room in db.session.query(Room):
            seqs = [seq for (seq,) in db.session.query(Message.seq).filter_by(room_id=room.id).order_by(Message.seq)]
            assert seqs == list(range(1, room.last_seq + 1)), room.id
            assert len(room.members) == 2
            if room.active_call_id:
                assert db.session.get(Call, room.active_call_id).state in ("ringing", "accepted")
        for user in db.session.query(User):
            active = [m.room_id for m in db.session.query(RoomMember).filter_by(user_id=user.id)
                      if db.session.get(Room, m.room_id).status == "active"]
            assert active == ([user.active_room_id] if user.active_room_id else []), user.username
        for member in db.session.query(RoomMember):
            assert 0 <= member.read_seq <= member.delivered_seq <= db.session.get(Room, member.room_id).last_seq


def test_random_payloads_to_every_event_keep_the_contract_and_the_database(app, sock):
    unlimited = (10**9, 10)
    app.config.update({key: unlimited for key in app.config if key.startswith("RATE_")})
    alice, bob, eve = sock("alice"), sock("bob"), sock("eve")
    alice.emit("match:start", {}, callback=True)
    room_id = bob.emit("match:start", {}, callback=True)["room"]["id"]
    sent = alice.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "hi"},
                      callback=True)["message"]
    call_id = alice.emit("call:invite", {"room_id": room_id}, callback=True)["call_id"]
    known = {"rooms": [room_id], "calls": [call_id], "messages": [sent["id"], sent["seq"]]}
    clients = [alice, bob, eve]

    @settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
    @given(who=st.integers(0, 2), event=st.sampled_from(EVENTS),
           payload=st.one_of(json_values, _plausible(known)))
    def fuzz(who, event, payload):
        tried["payloads"] += 1
        ack = clients[who].emit(event, payload, callback=True)
        _check_ack(event, ack)
        assert clients[who].is_connected()

    fuzz()
    print(f"\nfuzz: {tried['payloads']} payloads tried over {len(EVENTS)} events")
    assert tried["payloads"] >= 3000
    _check_database(app)
    # Still serving normally afterwards.
    assert alice.emit("room:join", {"room_id": room_id}, callback=True)["ok"] is True

""""Keep this link": keeping, reopening a kept link that ended, and what a block does to it.
Domain rules first, then the Socket.IO handlers through the Flask-SocketIO test client."""
import uuid

import pytest

from heartlink.domain import links, matching, rooms, safety
from heartlink.errors import Conflict, Forbidden, NotFound
from heartlink.extensions import db
from heartlink.models import MatchTicket, Room, User

from support import (
    AuthActions,
    app_over,
    link_test_clients,
    match,
    received,
    received_by_event,
    send_text,
    store_message,
)


@pytest.fixture
def people(app, make_user):
    """Alice, Bob and Carol's ids, inside an app context for domain calls."""
    ids = {name: make_user(name) for name in ("alice", "bob", "carol")}
    with app.app_context():
        yield ids


# --- domain --------------------------------------------------------------------------------

def test_a_link_is_kept_only_when_both_keep_it(people):
    room_id = match(people["alice"], people["bob"]).id
    room = links.keep(room_id, people["alice"], True)
    assert room.kept_by() == [people["alice"]] and room.kept is False
    room = links.keep(room_id, people["bob"], True)
    assert room.kept_by() == sorted([people["alice"], people["bob"]]) and room.kept is True
    room = links.keep(room_id, people["alice"], False)
    assert room.kept is False and room.kept_by() == [people["bob"]]


def test_a_stranger_cannot_keep_or_reopen_a_kept_link(people):
    room_id = match(people["alice"], people["bob"]).id
    links.keep(room_id, people["alice"], True)
    links.keep(room_id, people["bob"], True)
    links.leave(room_id, people["alice"])
    with pytest.raises(Forbidden):
        links.keep(room_id, people["carol"], True)
    with pytest.raises(Forbidden):
        links.reopen(room_id, people["carol"])
    with pytest.raises(NotFound):
        links.reopen(str(uuid.uuid4()), people["alice"])
    assert db.session.get(Room, room_id).status == "ended"
    assert db.session.get(User, people["carol"]).active_room_id is None


def test_an_ended_link_not_kept_by_both_stays_read_only(people):
    room_id = match(people["alice"], people["bob"]).id
    links.keep(room_id, people["alice"], True)
    links.leave(room_id, people["bob"])
    with pytest.raises(Conflict):
        links.reopen(room_id, people["alice"])
    with pytest.raises(Conflict):
        store_message(room_id, people["alice"], str(uuid.uuid4()), text="still there?")
    # It may still be kept after it ended; then either can reopen it.
    links.keep(room_id, people["bob"], True)
    assert links.reopen(room_id, people["bob"]).room.active


def test_reopening_keeps_the_id_history_and_seq(people):
    alice, bob = people["alice"], people["bob"]
    room_id = match(alice, bob).id
    for text in ("one", "two"):
        store_message(room_id, alice, str(uuid.uuid4()), text=text)
    links.keep(room_id, alice, True)
    links.keep(room_id, bob, True)
    links.leave(room_id, bob)

    reopened = links.reopen(room_id, alice).room
    assert reopened.id == room_id and reopened.active and reopened.last_seq == 2
    assert reopened.ended_at is None and reopened.end_reason is None and reopened.kept
    assert {u.active_room_id for u in db.session.query(User).filter(User.id.in_([alice, bob]))} == {room_id}
    assert [m["text"] for m in rooms.join(room_id, bob)["messages"]] == ["one", "two"]
    assert store_message(room_id, bob, str(uuid.uuid4()), text="three").message["seq"] == 3
    # Reopening it again while it is open changes nothing.
    assert links.reopen(room_id, bob).room.last_seq == 3


def test_reopen_is_refused_while_either_is_in_another_link(people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    kept = match(alice, bob).id
    links.keep(kept, alice, True)
    links.keep(kept, bob, True)
    links.leave(kept, alice)
    other = match(bob, carol).id
    for who in (alice, bob):
        with pytest.raises(Conflict):
            links.reopen(kept, who)
    db.session.expire_all()
    assert db.session.get(Room, kept).status == "ended"
    assert db.session.get(User, alice).active_room_id is None
    assert db.session.get(User, bob).active_room_id == other


def test_reopen_takes_both_out_of_the_match_queue(people):
    alice, bob = people["alice"], people["bob"]
    room_id = match(alice, bob).id
    links.keep(room_id, alice, True)
    links.keep(room_id, bob, True)
    links.leave(room_id, alice)
    assert matching.start(bob)[0] == "waiting"
    reopened = links.reopen(room_id, alice)
    assert reopened.cancelled == [bob]
    assert db.session.get(MatchTicket, bob) is None


def test_a_block_ends_a_kept_link_and_removes_both_keeps(people):
    alice, bob = people["alice"], people["bob"]
    room_id = match(alice, bob).id
    links.keep(room_id, alice, True)
    links.keep(room_id, bob, True)
    blocked = safety.block(alice, bob)
    assert blocked.ended.ended_now and blocked.ended.room.status == "ended"
    changed = blocked.shared
    assert [room.id for room in changed] == [room_id] and changed[0].kept_by() == []
    for who in (alice, bob):
        with pytest.raises(Forbidden):
            links.reopen(room_id, who)
    with pytest.raises(Forbidden):
        links.keep(room_id, bob, True)


# --- Socket.IO -----------------------------------------------------------------------------

def _keep_both(alice, bob, room_id):
    for client in (alice, bob):
        ack = client.emit("link:keep", {"room_id": room_id, "keep": True}, callback=True)
        assert ack["ok"], ack
    return ack["room"]


def test_link_keep_tells_both_members(sock):
    alice, bob, room_id, _ids = link_test_clients(sock)
    alice.get_received(), bob.get_received()
    ack = alice.emit("link:keep", {"room_id": room_id, "keep": True}, callback=True)
    assert ack["ok"] and ack["room"]["kept"] is False and len(ack["room"]["kept_by"]) == 1
    assert [u["room"]["kept_by"] for u in received(bob, "room:updated")] == [ack["room"]["kept_by"]]
    room = bob.emit("link:keep", {"room_id": room_id, "keep": True}, callback=True)["room"]
    assert room["kept"] is True
    assert [u["room"]["kept"] for u in received(alice, "room:updated")] == [False, True]


@pytest.mark.parametrize("payload", [None, {}, {"room_id": "nope", "keep": True},
                                     {"room_id": str(uuid.uuid4()), "keep": "yes"}])
def test_link_keep_with_a_bad_payload_is_a_bad_request(sock, payload):
    alice = sock("alice")
    ack = alice.emit("link:keep", payload, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request"


def test_a_stranger_cannot_keep_or_reopen_over_socket_io(sock):
    alice, bob, room_id, _ids = link_test_clients(sock)
    _keep_both(alice, bob, room_id)
    alice.emit("room:leave", {"room_id": room_id}, callback=True)
    eve = sock("eve")
    for event, payload in (("link:keep", {"room_id": room_id, "keep": True}), ("link:reopen", {"room_id": room_id})):
        ack = eve.emit(event, payload, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
    assert not received(eve, "room:updated")


def test_reopen_over_socket_io_continues_the_seq_and_blocks_new_matching(sock):
    alice, bob, room_id, _ids = link_test_clients(sock)
    assert send_text(alice, room_id, "before")["message"]["seq"] == 1
    _keep_both(alice, bob, room_id)
    alice.emit("room:leave", {"room_id": room_id}, callback=True)
    alice.get_received(), bob.get_received()

    ack = bob.emit("link:reopen", {"room_id": room_id}, callback=True)
    assert ack["ok"] and ack["room"]["id"] == room_id and ack["room"]["status"] == "active"
    assert [u["room"]["status"] for u in received(alice, "room:updated")] == ["active"]
    assert [u["room"]["status"] for u in received(bob, "room:updated")] == ["active"]
    assert send_text(alice, room_id, "after")["message"]["seq"] == 2
    joined = bob.emit("room:join", {"room_id": room_id}, callback=True)
    assert [m["text"] for m in joined["messages"]] == ["before", "after"]
    again = alice.emit("match:start", {}, callback=True)
    assert again["ok"] is False and again["error"]["code"] == "conflict" and again["error"]["room"]["id"] == room_id


def test_reopening_a_link_not_kept_is_a_conflict(sock):
    alice, bob, room_id, _ids = link_test_clients(sock)
    alice.emit("link:keep", {"room_id": room_id, "keep": True}, callback=True)
    alice.emit("room:leave", {"room_id": room_id}, callback=True)
    ack = alice.emit("link:reopen", {"room_id": room_id}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "conflict"
    assert send_text(alice, room_id)["error"]["code"] == "conflict"


def test_a_block_ends_a_kept_link_for_socket_clients(app, sock):
    alice, bob, room_id, _ids = link_test_clients(sock)
    _keep_both(alice, bob, room_id)
    alice.get_received(), bob.get_received()
    with app.app_context():
        bob_id = db.session.query(User.id).filter_by(username="bob").scalar()
    http = app.test_client()
    AuthActions(http).login("alice")
    blocked = http.post(f"/api/users/{bob_id}/block", headers={"X-CSRFToken": AuthActions(http).csrf_token()})
    assert blocked.status_code == 200
    to_bob = received_by_event(bob)
    assert [ended["reason"] for ended in to_bob.get("room:ended", [])] == ["blocked"]
    updated = [update["room"] for update in to_bob.get("room:updated", [])]
    assert updated and updated[-1]["kept_by"] == [] and updated[-1]["status"] == "ended"
    ack = bob.emit("link:reopen", {"room_id": room_id}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"


def test_a_block_after_a_kept_link_ended_removes_both_keeps(app, sock):
    alice, bob, room_id, _ids = link_test_clients(sock)
    _keep_both(alice, bob, room_id)
    bob.emit("room:leave", {"room_id": room_id}, callback=True)
    with app.app_context():
        alice_id = db.session.query(User.id).filter_by(username="alice").scalar()
    http = app.test_client()
    AuthActions(http).login("bob")
    assert http.post(f"/api/users/{alice_id}/block",
                     headers={"X-CSRFToken": AuthActions(http).csrf_token()}).status_code == 200
    ack = alice.emit("link:reopen", {"room_id": room_id}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
    with app.app_context():
        assert db.session.get(Room, room_id).kept_by() == []


# --- nobody is ever in two rooms, on SQLite and PostgreSQL -----------------------------------

def _race_reopen_against_matching(app, rounds=6):
    """Alice reopens her kept link with Bob while Bob is being matched with Carol, at once."""
    from heartlink.domain import accounts

    from support import PASSWORD

    with app.app_context():
        ids = {name: accounts.create_user(f"{name}{uuid.uuid4().hex[:6]}", PASSWORD, vouched=True).id
               for name in ("alice", "bob", "carol")}
    return [_race_once(app, ids, reverse=bool(round_ % 2)) for round_ in range(rounds)]


def _race_once(app, ids, reverse):
    """One round: which of the two got Bob, "reopened" or "matched"."""
    import threading

    with app.app_context():
        room_id = match(ids["alice"], ids["bob"]).id
        links.keep(room_id, ids["alice"], True)
        links.keep(room_id, ids["bob"], True)
        links.leave(room_id, ids["alice"])
        assert matching.start(ids["carol"])[0] == "waiting"
    start = threading.Barrier(2)
    results = {}

    def run(name, action):
        with app.app_context():
            start.wait()
            try:
                results[name] = action()
            except Conflict:
                results[name] = "conflict"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=("reopen", lambda: links.reopen(room_id, ids["alice"]).room.id)),
               threading.Thread(target=run, args=("match", lambda: matching.start(ids["bob"])[0]))]
    if reverse:
        threads.reverse()  # either may get there first
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with app.app_context():
        active = db.session.query(Room).filter(Room.status == "active").all()
        bobs = [room for room in active if ids["bob"] in room.member_ids()]
        assert len(bobs) == 1, results  # in exactly one link: the reopened one or the new match
        assert db.session.get(User, ids["bob"]).active_room_id == bobs[0].id
        for room in active:
            links.end(room.id, None, "left")
        matching.cancel(ids["carol"])
        return "reopened" if bobs[0].id == room_id else "matched"


def test_reopen_and_matching_never_put_anyone_in_two_rooms(app):
    assert len(_race_reopen_against_matching(app)) == 6


def test_keep_and_reopen_on_postgresql(postgres_url, tmp_path):
    with app_over(postgres_url, UPLOAD_DIR=str(tmp_path / "uploads")) as app:
        assert len(_race_reopen_against_matching(app)) == 6
        with app.app_context():
            alice, bob = (db.session.query(User.id).filter(User.username.like(f"{name}%")).scalar()
                          for name in ("alice", "bob"))
            room_id = match(alice, bob).id
            links.keep(room_id, alice, True)
            links.keep(room_id, bob, True)
            unkept = safety.block(bob, alice).shared  # this link and the kept ones of the race
            assert room_id in [room.id for room in unkept] and all(not room.kept_by() for room in unkept)
            with pytest.raises(Forbidden):
                links.reopen(room_id, alice)

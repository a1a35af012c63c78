"""The domain without sockets: accounts, matching, rooms, messages."""
import threading
import uuid
from datetime import timedelta

import pytest

from heartlink.domain import accounts, links, matching, messages, presence, rooms
from heartlink.entry import schemas
from heartlink.errors import BadRequest, Conflict, Forbidden, NotFound
from heartlink.extensions import db
from heartlink.models import Block, Connection, MatchTicket, Message, Room, TicketLanguage, User, WorkerBeat, utcnow

from support import match, store_message, store_text


def _users(*names):
    return [accounts.create_user(name, "correct-horse-battery", vouched=True).id for name in names]


# --- accounts -------------------------------------------------------------------------------

def test_usernames_are_unique_without_regard_to_case(in_app):
    accounts.create_user("Alice", "correct-horse-battery")
    with pytest.raises(Conflict):
        accounts.create_user("alice", "another-password")


@pytest.mark.parametrize("username", ["ab", "a" * 33, "has space", "émile", "semi;colon"])
def test_bad_usernames_are_refused(in_app, username):
    with pytest.raises(BadRequest):
        accounts.create_user(username, "correct-horse-battery")


def test_short_passwords_are_refused_and_passwords_are_hashed_with_argon2(in_app):
    with pytest.raises(BadRequest):
        accounts.create_user("alice", "short")
    user = accounts.create_user("alice", "correct-horse-battery")
    assert user.password_hash.startswith("$argon2id$")
    assert accounts.authenticate("ALICE", "correct-horse-battery").id == user.id
    assert accounts.authenticate("alice", "wrong-password") is None
    assert accounts.authenticate("nobody", "correct-horse-battery") is None


def test_tokens_name_their_user_and_forgeries_name_nobody(in_app):
    (alice,) = _users("alice")
    issued = accounts.issue_token(db.session.get(User, alice))
    assert accounts.user_for_token(issued["token"]).id == alice
    assert issued["expires_at"].endswith("Z")
    assert accounts.user_for_token(issued["token"][:-2] + "xx") is None
    assert accounts.user_for_token("") is None


def test_bulk_create_makes_many_accounts_and_keeps_existing_ones(in_app):
    _users("load1")
    assert accounts.bulk_create_users("load", 500, "correct-horse-battery") == 499
    assert db.session.query(User).count() == 500
    assert accounts.authenticate("load500", "correct-horse-battery") is not None


# --- matching -------------------------------------------------------------------------------

def test_the_first_person_waits_and_the_second_is_paired_with_them(in_app):
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    assert sorted(room.member_ids()) == sorted([alice, bob])
    assert db.session.query(MatchTicket).count() == 0
    assert {u.active_room_id for u in db.session.query(User)} == {room.id}


def test_people_are_paired_first_come_first_served(in_app):
    alice, bob, carol = _users("alice", "bob", "carol")
    matching.start(alice)
    matching.start(bob)  # pairs with alice
    assert matching.start(carol)[0] == "waiting"


def test_nobody_is_paired_with_themself_and_asking_twice_keeps_one_place(in_app):
    (alice,) = _users("alice")
    assert matching.start(alice)[0] == "waiting"
    assert matching.start(alice)[0] == "waiting"
    assert db.session.query(MatchTicket).count() == 1


def test_a_person_in_an_active_link_gets_conflict_with_that_room(in_app):
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    with pytest.raises(Conflict) as raised:
        matching.start(alice)
    assert raised.value.details["room"]["id"] == room.id


def test_blocked_people_are_never_paired(in_app):
    alice, bob = _users("alice", "bob")
    db.session.add(Block(blocker_id=bob, blocked_id=alice))
    db.session.commit()
    matching.start(alice)
    assert matching.start(bob)[0] == "waiting"


def test_the_last_partner_goes_to_the_back_of_the_queue(in_app):
    alice, bob, carol = _users("alice", "bob", "carol")
    links.leave(match(alice, bob).id, alice)
    now = utcnow()
    matching.start(bob, now=now)  # bob has waited longest...
    db.session.add(MatchTicket(user_id=carol, created_at=now + timedelta(seconds=1), open_at=now,
                               expires_at=now + timedelta(minutes=5), languages=["en"]))
    db.session.add(TicketLanguage(user_id=carol, language="en"))
    db.session.commit()
    state, room = matching.start(alice, now=now + timedelta(seconds=2))  # ...but was alice's last partner
    assert state == "matched" and carol in room.member_ids()


def test_the_last_partner_is_paired_again_if_nobody_else_waits(in_app):
    alice, bob = _users("alice", "bob")
    links.leave(match(alice, bob).id, alice)
    matching.start(bob)
    state, room = matching.start(alice)
    assert state == "matched" and bob in room.member_ids()


def test_codes_pair_only_people_with_the_same_code(in_app):
    alice, bob, carol = _users("alice", "bob", "carol")
    assert matching.start(alice, "SECRET1")[0] == "waiting"
    assert matching.start(bob)[0] == "waiting"
    assert matching.start(carol, "OTHER22")[0] == "waiting"
    state, room = matching.start(db.session.get(User, _users("dave")[0]).id, "SECRET1")
    assert state == "matched" and alice in room.member_ids()


def test_waiting_expires_and_is_reported_once(in_app, app):
    alice, bob = _users("alice", "bob")
    matching.start(alice)
    matching.start(bob, "CODE1234")
    later = utcnow() + timedelta(seconds=app.config["MATCH_TIMEOUT"] + 1)
    assert sorted(matching.expire_waiting(later)) == sorted([alice, bob])
    assert matching.expire_waiting(later) == []


def test_racing_match_requests_never_put_a_person_in_two_rooms(app):
    """Eight people ask at once from eight threads (SQLite serialises the writes)."""
    with app.app_context():
        ids = _users(*[f"racer{i}" for i in range(8)])
    barrier = threading.Barrier(len(ids))
    errors = []

    def ask(user_id):
        with app.app_context():
            barrier.wait()
            try:
                matching.start(user_id)
            except Exception as error:  # noqa: BLE001 - collected for the assertion below
                errors.append(error)

    threads = [threading.Thread(target=ask, args=(uid,)) for uid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        assert errors == []
        linked = db.session.query(Room).all()
        members = [uid for room in linked for uid in room.member_ids()]
        assert len(members) == len(set(members)) == 2 * len(linked)
        waiting = {t.user_id for t in db.session.query(MatchTicket)}
        assert waiting.isdisjoint(members)
        assert len(waiting) + len(members) == len(ids)


# --- rooms and messages ---------------------------------------------------------------------

def test_only_the_two_members_may_open_a_room(in_app):
    alice, bob, eve = _users("alice", "bob", "eve")
    room = match(alice, bob)
    with pytest.raises(Forbidden):
        rooms.join(room.id, eve)
    with pytest.raises(NotFound):
        rooms.join(str(uuid.uuid4()), alice)
    with pytest.raises(Forbidden):
        store_text(room.id, eve)
    assert db.session.query(Message).count() == 0


def test_seq_is_per_room_gapless_and_ordered(in_app):
    alice, bob, carol, dave = _users("alice", "bob", "carol", "dave")
    one, two = match(alice, bob), match(carol, dave)
    seqs = [store_text(one.id, alice).message["seq"] for _ in range(3)] + [store_text(one.id, bob).message["seq"]]
    assert seqs == [1, 2, 3, 4]
    assert store_text(two.id, dave).message["seq"] == 1


def test_a_resent_client_id_returns_the_stored_message_and_stores_nothing(in_app):
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    client_id = str(uuid.uuid4())
    first = store_message(room.id, alice, client_id, "text", "once")
    again = store_message(room.id, alice, client_id, "text", "once")
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.message["id"] == first.message["id"]
    assert db.session.query(Message).count() == 1


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 4001])
def test_text_must_be_1_to_4000_characters_after_trimming(in_app, text):
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    with pytest.raises(BadRequest):
        store_text(room.id, alice, text)
    assert store_text(room.id, alice, "  " + "x" * 4000 + "  ").message["text"] == "  " + "x" * 4000 + "  "


def test_leaving_ends_the_link_for_both_and_keeps_history(in_app):
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    store_text(room.id, bob, "before")
    ended = links.leave(room.id, alice)
    assert ended.ended_now and ended.room.status == "ended"
    assert (ended.room.ended_by, ended.room.end_reason) == (alice, "left")
    assert links.leave(room.id, bob).ended_now is False
    with pytest.raises(Conflict):
        store_text(room.id, bob, "after")
    assert [m["text"] for m in rooms.join(room.id, bob)["messages"]] == ["before"]
    assert matching.start(alice)[0] == "waiting"


def test_catch_up_returns_exactly_the_messages_after_since_seq(in_app):
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    for index in range(10):
        store_text(room.id, alice, f"m{index}")
    joined = rooms.join(room.id, bob, since_seq=7)
    assert [m["seq"] for m in joined["messages"]] == [8, 9, 10]
    assert joined["room"]["unread"] == 10
    assert joined["receipts"][str(bob)] == {"delivered_seq": 0, "read_seq": 0}


def test_answers_of_long_messages_stop_at_their_text_budget_and_page_on(in_app, monkeypatch):
    """200 of the longest messages made one catch-up answer of 8 MB; an answer now stops at
    ANSWER_TEXT_BUDGET characters of text, and paging with has_more still yields every message
    once, in order, whichever way one pages."""
    monkeypatch.setattr(rooms, "ANSWER_TEXT_BUDGET", 10_000)
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    for index in range(12):
        store_text(room.id, alice, f"{index:02d}" + "x" * 3_000)
    seen, since, answers = [], 0, 0
    while True:
        joined = rooms.join(room.id, bob, since_seq=since)
        assert 1 <= len(joined["messages"]) <= 3  # 3 x 3,002 fits in 10,000; a 4th would not
        seen += [m["seq"] for m in joined["messages"]]
        since, answers = seen[-1], answers + 1
        if not joined["has_more"]:
            break
    assert seen == list(range(1, 13)) and answers == 4
    latest = rooms.join(room.id, bob)
    assert [m["seq"] for m in latest["messages"]] == [10, 11, 12] and latest["has_more"]
    older = rooms.history(room.id, bob, before_seq=10)
    assert [m["seq"] for m in older["messages"]] == [7, 8, 9] and older["has_more"]


def test_a_message_is_stored_with_at_most_200_characters_of_padding(in_app):
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    padded = "\n" * 100 + "y" * messages.MAX_TEXT + " " * 100
    assert store_text(room.id, alice, padded).message["text"] == padded
    with pytest.raises(BadRequest):
        schemas.parse(schemas.MessageSend, {"room_id": room.id, "client_id": str(uuid.uuid4()), "kind": "text",
                                            "text": padded + " "})


def test_history_pages_backwards_at_most_100(in_app):
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    for index in range(120):
        store_text(room.id, alice, f"m{index}")
    page = rooms.history(room.id, bob, before_seq=None, limit=500)
    assert len(page["messages"]) == 100 and page["has_more"]
    assert page["messages"][0]["seq"] == 21 and page["messages"][-1]["seq"] == 120
    older = rooms.history(room.id, bob, before_seq=21, limit=100)
    assert [m["seq"] for m in older["messages"]] == list(range(1, 21)) and not older["has_more"]


def test_my_rooms_come_newest_activity_first_with_last_message_and_unread(in_app):
    alice, bob, carol = _users("alice", "bob", "carol")
    first = match(alice, bob)
    store_text(first.id, bob, "old news")
    links.leave(first.id, alice)
    second = match(alice, carol)
    store_text(second.id, carol, "one")
    store_text(second.id, carol, "two")
    listed = rooms.rooms_of(alice)
    assert [r["id"] for r in listed] == [second.id, first.id]
    assert listed[0]["last_message"]["text"] == "two" and listed[0]["unread"] == 2
    assert listed[1]["status"] == "ended"


def test_idle_links_are_ended_by_cleanup(in_app, app):
    alice, bob = _users("alice", "bob")
    room = match(alice, bob)
    later = utcnow() + timedelta(hours=app.config["LINK_IDLE_HOURS"] + 1)
    ended = links.end_idle(later)
    assert [e.room.id for e in ended] == [room.id] and ended[0].room.end_reason == "idle"


def test_presence_goes_offline_only_after_the_grace_period(in_app, app):
    (alice,) = _users("alice")
    assert presence.socket_connected("sid-1", alice, "w1") is True
    assert presence.socket_connected("sid-2", alice, "w1") is False
    presence.socket_disconnected("sid-1")
    presence.socket_disconnected("sid-2")
    assert presence.went_offline(grace_seconds=60) == []
    assert presence.went_offline(grace_seconds=0, now=utcnow() + timedelta(seconds=1)) == [alice]
    assert db.session.get(User, alice).online is False


def test_the_sockets_of_a_worker_that_stopped_beating_are_forgotten(in_app):
    (alice,) = _users("alice")
    presence.socket_connected("sid-1", alice, "w1")
    presence.worker_beat("w1", stale_after=30)
    later = utcnow() + timedelta(seconds=20)
    presence.worker_beat("w2", stale_after=30, now=later)
    assert db.session.query(Connection).count() == 1  # w1 beat 20 s ago: still alive
    presence.worker_beat("w2", stale_after=30, now=later + timedelta(seconds=20))
    assert db.session.query(Connection).count() == 0
    assert {w.id for w in db.session.query(WorkerBeat)} == {"w2"}

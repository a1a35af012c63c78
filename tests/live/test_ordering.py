"""Messages of one room reach every socket in seq order, with no gap below the highest
seq a socket holds: the rule in heartlink/live/ordering.py, and the same seen end to end."""

from heartlink import create_app
from heartlink.domain import accounts, matching
from heartlink.live.ordering import RoomOrder

from support import PASSWORD, burst_from_both_sides, config_for, received_seqs, store_text


def _room_with(count):
    alice, bob = (accounts.create_user(name, PASSWORD, vouched=True).id for name in ("alice", "bob"))
    matching.start(alice)
    _state, room = matching.start(bob)
    stored = [store_text(room.id, alice, f"m{n}").message for n in range(count)]
    return room.id, stored


def _seqs(admitted):
    return [message["seq"] for message, _skip in admitted]


def test_the_next_seq_is_delivered_at_once_and_a_repeat_is_dropped(in_app):
    room_id, stored = _room_with(3)
    order = RoomOrder(in_app)
    order.seen(room_id, 0)
    assert _seqs(order.admit(stored[0], "sid-a")) == [1]
    assert order.admit(stored[0], "sid-a") == []
    assert order.admit(stored[1], "sid-a") == [(stored[1], "sid-a")]


def test_a_message_ahead_of_a_gap_brings_the_missing_ones_first_and_they_are_not_repeated(in_app):
    room_id, stored = _room_with(5)
    order = RoomOrder(in_app)
    order.seen(room_id, 1)
    admitted = order.admit(stored[4], "sid-b")
    assert _seqs(admitted) == [2, 3, 4, 5]
    # The missing ones go to every socket (their senders have them in their acks already);
    # the one that arrived keeps its own skip.
    assert [skip for _message, skip in admitted] == [None, None, None, "sid-b"]
    assert admitted[0][0]["text"] == "m1"
    for late in stored[1:4]:
        assert order.admit(late, "sid-a") == []


def test_when_the_database_cannot_fill_a_gap_the_message_that_arrived_still_goes_out(in_app, tmp_path, caplog):
    room_id, stored = _room_with(4)
    # The worker's database is away: a file in a folder that does not exist cannot be opened.
    order = RoomOrder(create_app(config_for(tmp_path / "away" / "heartlink.db")))
    order.seen(room_id, 1)
    assert _seqs(order.admit(stored[3], "sid-b")) == [4]  # clients see the gap and catch up
    assert "seqs 2..3 could not be read" in caplog.text
    assert order.admit(stored[1], None) == []  # a late copy is still not repeated


def test_a_room_first_seen_by_a_message_starts_from_it(in_app):
    room_id, stored = _room_with(2)
    order = RoomOrder(in_app)
    assert _seqs(order.admit(stored[1], None)) == [2]
    assert order.admit(stored[0], None) == []


def test_opening_a_room_does_not_move_what_was_delivered_back(in_app):
    room_id, stored = _room_with(3)
    order = RoomOrder(in_app)
    order.seen(room_id, 0)
    order.admit(stored[0], None)
    order.seen(room_id, 3)  # known already: delivery goes on from seq 1
    assert _seqs(order.admit(stored[1], None)) == [2]


def test_a_burst_from_both_people_reaches_every_other_socket_in_seq_order(live_server, linked):
    alice, bob, room_id = linked()
    alice_elsewhere, bob_elsewhere = live_server.connect("alice"), live_server.connect("bob")
    alice.room_id = room_id
    acked = burst_from_both_sides(alice, bob)
    assert acked == list(range(1, 61))
    for watcher in (alice_elsewhere, bob_elsewhere):
        assert received_seqs(watcher, 60) == list(range(1, 61))
    # The senders' own sockets get the other person's messages, in order.
    for sender in (alice, bob):
        seqs = received_seqs(sender, 30)
        assert seqs == sorted(seqs) and len(set(seqs)) == 30
    for client in (alice, bob, alice_elsewhere, bob_elsewhere):
        client.disconnect()

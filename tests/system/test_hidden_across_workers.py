"""Delete for me with two `python app.py` workers on PostgreSQL and Redis: the person's tab on the
other worker hears `message:hidden`, their partner hears nothing, and the catch-up that tab makes
after it carries the stub (no gap)."""
import pytest

from support import two_workers_sharing


@pytest.fixture
def two_workers(postgres_url, redis_url, tmp_path):
    with two_workers_sharing(postgres_url, redis_url, tmp_path) as servers:
        yield servers


def test_my_tab_on_the_other_worker_loses_the_message_and_my_partner_keeps_it(two_workers, linked):
    w1, w2 = two_workers
    alice, bob, room_id = linked(w1, across=w2)  # alice on w1, bob on w2
    alice_on_w2 = w2.connect("alice")
    first = bob.send_text(room_id, "keep")["message"]
    hidden = bob.send_text(room_id, "hide me")["message"]
    alice_on_w2.wait_for("message:new", lambda data: data["message"]["id"] == hidden["id"])
    heard_by_the_hiding_socket = []
    alice.on("message:hidden", heard_by_the_hiding_socket.append)

    ack = alice.ask("message:hide", {"room_id": room_id, "message_id": hidden["id"]})
    assert ack == {"ok": True, "room_id": room_id, "message_id": hidden["id"], "seq": hidden["seq"]}
    told = alice_on_w2.wait_for("message:hidden")
    assert told == {"room_id": room_id, "message_id": hidden["id"], "seq": hidden["seq"]}

    last = bob.send_text(room_id, "after")["message"]  # a marker: anything about the hiding came before it
    for client in (alice, alice_on_w2):
        client.wait_for("message:new", lambda data: data["message"]["id"] == last["id"])
    assert bob.drain("message:hidden") == []
    assert heard_by_the_hiding_socket == []  # it has the ack

    caught_up = alice_on_w2.ask("room:join", {"room_id": room_id, "since_seq": first["seq"]})["messages"]
    assert [(m["seq"], m.get("hidden", False)) for m in caught_up] == [(hidden["seq"], True), (last["seq"], False)]
    assert [m["text"] for m in bob.ask("room:join", {"room_id": room_id})["messages"]] == ["keep", "hide me", "after"]

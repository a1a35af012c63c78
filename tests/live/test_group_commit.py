"""Sends stored together (messages.store, as the writer batches them): each draft is
settled on its own merits, seqs stay gapless per room, and nothing is stored twice."""
import re
import uuid

import pytest

from heartlink import wire
from heartlink.domain import accounts, links, messages, moderation
from heartlink.errors import Conflict, NotFound, Restricted
from heartlink.extensions import db
from heartlink.live import announce, writer
from heartlink.models import Message
from heartlink.worker.database import for_driver

from support import PASSWORD, match, store_message


def _linked(first, second):
    """Two new people in a link: (first's id, second's id, room_id)."""
    a, b = (accounts.create_user(name, PASSWORD, vouched=True).id for name in (first, second))
    return a, b, match(a, b).id


def _draft(room_id, sender, text="hi", client_id=None, reply_to=None):
    return messages.draft(room_id, sender, client_id or str(uuid.uuid4()), "text", text, reply_to)


def test_a_batch_over_two_rooms_gives_each_room_gapless_seqs_in_arrival_order(in_app):
    alice, bob, one = _linked("alice", "bob")
    carol, dave, two = _linked("carol", "dave")
    drafts = [_draft(one, alice, "a1"), _draft(two, carol, "c1"), _draft(one, bob, "b1"), _draft(two, dave, "d1"),
              _draft(one, alice, "a2")]
    new = messages.store(drafts)
    assert new == drafts
    assert [(d.sent.message["room_id"], d.sent.message["seq"], d.sent.message["text"]) for d in drafts] == [
        (one, 1, "a1"), (two, 1, "c1"), (one, 2, "b1"), (two, 2, "d1"), (one, 3, "a2")]
    stored = {(m.room_id, m.seq): m.text for m in db.session.query(Message)}
    assert stored == {(one, 1): "a1", (one, 2): "b1", (one, 3): "a2", (two, 1): "c1", (two, 2): "d1"}
    # What the writer broadcasts is what a later read gives.
    first = db.session.get(Message, drafts[0].sent.message["id"])
    assert wire.stored_message(first) == drafts[0].sent.message


def test_a_client_id_twice_in_a_batch_or_already_stored_is_stored_once(in_app):
    alice, bob, room_id = _linked("alice", "bob")
    earlier = store_message(room_id, alice, client_id := str(uuid.uuid4()), "text", "earlier")
    again = _draft(room_id, alice, "earlier", client_id)
    twin_id = str(uuid.uuid4())
    twins = [_draft(room_id, bob, "twin", twin_id), _draft(room_id, bob, "twin", twin_id)]
    fresh = _draft(room_id, alice, "fresh")
    messages.store([again, *twins, fresh])
    assert again.sent.duplicate and again.sent.message["id"] == earlier.message["id"]
    assert [t.sent.duplicate for t in twins] == [False, True]
    assert twins[0].sent.message["id"] == twins[1].sent.message["id"]
    assert fresh.sent.message["seq"] == 3
    assert sorted(seq for (seq,) in db.session.query(Message.seq)) == [1, 2, 3]


def test_one_bad_draft_does_not_spoil_the_others(in_app):
    alice, bob, open_room = _linked("alice", "bob")
    carol, dave, ended_room = _linked("carol", "dave")
    to_ended = _draft(ended_room, carol, "too late")
    links.leave(ended_room, dave)
    bad_reply = _draft(open_room, alice, "re: nothing", reply_to=10**9)
    good = _draft(open_room, bob, "fine")
    messages.store([to_ended, bad_reply, good])
    with pytest.raises(Conflict):
        to_ended.outcome()
    with pytest.raises(NotFound):
        bad_reply.outcome()
    assert good.outcome().message["seq"] == 1
    assert db.session.query(Message).count() == 1


def test_a_batch_that_fails_as_a_whole_is_stored_draft_by_draft(in_app, monkeypatch):
    alice, bob, room_id = _linked("alice", "bob")
    drafts = [_draft(room_id, alice, "one"), _draft(room_id, bob, "two")]
    real = messages.fetch_all
    calls = []

    def fails_for_a_batch(session, sql, params, **kwargs):
        if sql.startswith("INSERT INTO messages"):
            rows = sum(1 for name in params if re.fullmatch(r"r\d+", name))  # :r<n> is row n's room_id
            calls.append(rows)
            if rows > 1:
                raise RuntimeError("the batch met trouble")
        return real(session, sql, params, **kwargs)

    monkeypatch.setattr(messages, "fetch_all", fails_for_a_batch)
    messages.store(drafts)
    assert calls == [2, 1, 1]
    assert [d.outcome().message["seq"] for d in drafts] == [1, 2]


def test_a_message_that_fails_to_go_out_keeps_no_other_from_going_out(in_app, monkeypatch, caplog):
    alice, bob, room_id = _linked("alice", "bob")
    drafts = [_draft(room_id, alice, "one"), _draft(room_id, bob, "two"), _draft(room_id, alice, "three")]
    broadcast = []

    def message_new(member_ids, message, skip_sid=None):
        if message["text"] == "one":
            raise RuntimeError("the queue met trouble")
        broadcast.append(message["seq"])

    monkeypatch.setattr(announce, "message_new", message_new)
    writer.Writer(in_app).store_batch([(draft, None, None) for draft in drafts])
    assert broadcast == [2, 3]
    assert [d.outcome().message["seq"] for d in drafts] == [1, 2, 3]  # stored, so acked
    assert "broadcasting message 1 of room" in caplog.text


def test_the_send_paths_statements_bind_positionally_in_each_drivers_style():
    sql = "UPDATE t SET n = n + :count WHERE id = :id AND note LIKE '5%' AND kind::text = :kind AND id = :id"
    assert for_driver(sql, "qmark") == (
        "UPDATE t SET n = n + ? WHERE id = ? AND note LIKE '5%' AND kind::text = ? AND id = ?",
        ("count", "id", "kind", "id"))
    assert for_driver(sql, "pyformat") == (
        "UPDATE t SET n = n + %s WHERE id = %s AND note LIKE '5%%' AND kind::text = %s AND id = %s",
        ("count", "id", "kind", "id"))
    with pytest.raises(ValueError):
        for_driver(sql, "numeric")


def test_a_batch_refuses_the_sends_of_someone_banned_since_and_stores_the_rest(in_app):
    """The send handler does not read the standing: the batch does, once for all its senders."""
    alice, bob, one = _linked("alice", "bob")
    carol, _dave, two = _linked("carol", "dave")
    moderation.ban(carol, "Threats.", moderation.CLI, reason="Threats.")
    kept, refused = _draft(one, alice, "still fine"), _draft(two, carol, "after the ban")

    messages.store([kept, refused])
    assert kept.sent.message["text"] == "still fine"
    with pytest.raises(Restricted) as error:
        refused.outcome()
    assert (error.value.details["standing"], error.value.details["reason"]) == ("banned", "Threats.")
    assert [m.text for m in db.session.query(Message)] == ["still fine"]

"""Delete for me (messages.hide): a member hides a message of their link for themself only;
every read of theirs leaves it out, their partner's reads are unchanged. On SQLite and PostgreSQL."""
import pytest
from sqlalchemy import event

from heartlink.domain import accounts, links, messages, rooms
from heartlink.errors import Forbidden, NotFound
from heartlink.extensions import db
from heartlink.models import HiddenMessage

from support import PASSWORD, match, store_text


@pytest.fixture
def link(either_database):
    """Alice and Bob in a link with three messages, and Eve outside it: (room_id, ids, sent)."""
    ids = {name: accounts.create_user(name, PASSWORD, vouched=True).id for name in ("alice", "bob", "eve")}
    room = match(ids["alice"], ids["bob"])
    sent = [store_text(room.id, ids["alice"], "one").message, store_text(room.id, ids["bob"], "two").message,
            store_text(room.id, ids["bob"], "three").message]
    return room.id, ids, sent


def _listed(room_id, user_id, **kwargs):
    return rooms.join(room_id, user_id, **kwargs)["messages"]


def test_a_member_hides_a_partners_message_for_themself_only(link):
    room_id, ids, sent = link
    hidden = messages.hide(room_id, ids["alice"], sent[1]["id"])
    assert (hidden.room_id, hidden.message_id, hidden.seq, hidden.now) == (room_id, sent[1]["id"], 2, True)

    mine = _listed(room_id, ids["alice"])
    assert [m["seq"] for m in mine] == [1, 2, 3]  # seqs stay gapless: the hidden one is a stub
    assert mine[1] == {"id": sent[1]["id"], "room_id": room_id, "seq": 2, "hidden": True}
    assert [m.get("text") for m in _listed(room_id, ids["bob"])] == ["one", "two", "three"]


def test_a_member_hides_their_own_message_and_the_partner_still_sees_it(link):
    room_id, ids, sent = link
    messages.hide(room_id, ids["alice"], sent[0]["id"])
    assert _listed(room_id, ids["alice"])[0].get("hidden") is True
    assert _listed(room_id, ids["bob"])[0]["text"] == "one"


def test_hiding_twice_changes_nothing(link):
    room_id, ids, sent = link
    assert messages.hide(room_id, ids["bob"], sent[0]["id"]).now is True
    again = messages.hide(room_id, ids["bob"], sent[0]["id"])
    assert (again.now, again.seq) == (False, 1)
    assert db.session.query(HiddenMessage).count() == 1


def test_only_a_member_may_hide_and_only_a_message_of_that_link(link, either_database):
    room_id, ids, sent = link
    with pytest.raises(Forbidden):
        messages.hide(room_id, ids["eve"], sent[0]["id"])
    with pytest.raises(NotFound):
        messages.hide(room_id, ids["alice"], 10**9)
    other = match(ids["eve"], accounts.create_user("carol", PASSWORD, vouched=True).id)
    elsewhere = store_text(other.id, ids["eve"], "not yours").message
    with pytest.raises(NotFound):
        messages.hide(room_id, ids["alice"], elsewhere["id"])
    assert db.session.query(HiddenMessage).count() == 0


def test_an_ended_link_and_a_tombstone_may_still_be_hidden(link):
    room_id, ids, sent = link
    messages.delete(room_id, ids["bob"], sent[2]["id"])
    links.leave(room_id, ids["alice"])
    assert messages.hide(room_id, ids["alice"], sent[2]["id"]).now
    assert messages.hide(room_id, ids["alice"], sent[0]["id"]).now
    assert [m.get("hidden", False) for m in _listed(room_id, ids["alice"])] == [True, False, True]


def test_catch_up_and_history_pages_carry_stubs_in_place(link):
    room_id, ids, sent = link
    messages.hide(room_id, ids["alice"], sent[1]["id"])
    caught_up = _listed(room_id, ids["alice"], since_seq=1)
    assert [(m["seq"], m.get("hidden", False)) for m in caught_up] == [(2, True), (3, False)]
    page = rooms.history(room_id, ids["alice"], before_seq=3)["messages"]
    assert [(m["seq"], m.get("hidden", False)) for m in page] == [(1, False), (2, True)]
    assert "text" not in page[1]
    assert [m["text"] for m in rooms.history(room_id, ids["bob"])["messages"]] == ["one", "two", "three"]


def test_the_rooms_list_shows_the_newest_message_not_hidden_and_counts_no_hidden_unread(link):
    room_id, ids, sent = link
    (listed,) = rooms.rooms_of(ids["alice"])
    assert (listed["last_message"]["seq"], listed["unread"]) == (3, 2)
    messages.hide(room_id, ids["alice"], sent[2]["id"])
    (listed,) = rooms.rooms_of(ids["alice"])
    assert (listed["last_message"]["text"], listed["unread"]) == ("two", 1)
    assert rooms.join(room_id, ids["alice"])["room"]["unread"] == 1
    messages.hide(room_id, ids["alice"], sent[1]["id"])
    messages.hide(room_id, ids["alice"], sent[0]["id"])
    (listed,) = rooms.rooms_of(ids["alice"])
    assert (listed["last_message"], listed["unread"]) == (None, 0)
    (theirs,) = rooms.rooms_of(ids["bob"])
    assert theirs["last_message"]["text"] == "three"


def test_the_rooms_list_reads_last_messages_in_one_query_however_many_rooms(link):
    """No per-room or per-message lookups: the statements are the same for one link or five."""
    room_id, ids, sent = link

    def statements():
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            rooms.rooms_of(ids["alice"])
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    messages.hide(room_id, ids["alice"], sent[2]["id"])
    one = statements()
    for n in range(4):
        links.leave(rooms.rooms_of(ids["alice"])[0]["id"], ids["alice"])
        other = match(ids["alice"], accounts.create_user(f"peer{n}", PASSWORD, vouched=True).id)
        hidden = store_text(other.id, ids["alice"], "x").message
        messages.hide(other.id, ids["alice"], hidden["id"])
    assert statements() == one

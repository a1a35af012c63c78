"""Search in a link's history (heartlink/domain/search.py): members only, newest first a page at a
time, never a deleted message nor an edit's old text, hostile queries refused or taken as plain
words, Chinese found without spaces. On SQLite (FTS5) and on PostgreSQL (GIN on a tsvector)."""
import uuid

import flask_migrate
import pytest
from sqlalchemy import delete, update

from heartlink.domain import accounts, messages, search
from heartlink.errors import BadRequest, Forbidden, NotFound
from heartlink.extensions import db
from heartlink.models import Message
from heartlink.worker.database import write_transaction

from support import PASSWORD, match, store_text


@pytest.fixture
def people(either_database):
    """Alice and Bob in a link, Carol and Dan in another, Eve in none: (room ids, ids by name)."""
    ids = {name: accounts.create_user(name, PASSWORD, vouched=True).id for name in ("alice", "bob", "carol",
                                                                                    "dan", "eve")}
    ours = match(ids["alice"], ids["bob"]).id
    theirs = match(ids["carol"], ids["dan"]).id
    return ours, theirs, ids


def _seqs(found):
    return [result["seq"] for result in found["results"]]


def _find(room_id, user_id, query, **page):
    return search.search(room_id, user_id, query, **page)


def test_only_the_two_members_can_search_their_link(people):
    ours, theirs, ids = people
    store_text(ours, ids["alice"], "our secret picnic")
    store_text(theirs, ids["carol"], "their picnic")
    assert [r["text"] for r in _find(ours, ids["bob"], "picnic")["results"]] == ["our secret picnic"]
    assert [r["text"] for r in _find(ours, ids["alice"], "picnic")["results"]] == ["our secret picnic"]
    for outsider in ("carol", "eve"):  # the other link's member, and someone in no link
        with pytest.raises(Forbidden):
            _find(ours, ids[outsider], "picnic")
    with pytest.raises(NotFound):
        _find(str(uuid.uuid4()), ids["alice"], "picnic")


def test_results_come_newest_first_a_page_at_a_time(people):
    ours, _theirs, ids = people
    for index in range(45):
        store_text(ours, ids["alice"] if index % 2 else ids["bob"], f"apple number {index}")
        store_text(ours, ids["bob"], "something else")
    first = _find(ours, ids["alice"], "apple")
    assert len(first["results"]) == 20 and first["has_more"] is True
    assert _seqs(first) == sorted(_seqs(first), reverse=True)
    assert first["results"][0]["text"] == "apple number 44"
    second = _find(ours, ids["alice"], "apple", before_seq=first["next_before_seq"])
    third = _find(ours, ids["alice"], "apple", before_seq=second["next_before_seq"], limit=50)
    assert len(second["results"]) == 20 and len(third["results"]) == 5
    assert third["has_more"] is False and third["next_before_seq"] is None
    every = _seqs(first) + _seqs(second) + _seqs(third)
    assert every == sorted(every, reverse=True) and len(set(every)) == 45
    assert third["results"][-1]["text"] == "apple number 0"
    small = _find(ours, ids["alice"], "apple", limit=1)
    assert len(small["results"]) == 1 and small["next_before_seq"] == small["results"][0]["seq"]
    result = first["results"][0]
    assert set(result) == {"id", "seq", "sender_id", "kind", "created_at", "text", "snippet"}
    assert result["sender_id"] == ids["bob"] and result["kind"] == "text" and result["created_at"].endswith("Z")


def test_an_edit_is_found_by_its_new_text_and_a_deleted_message_not_at_all(people):
    ours, _theirs, ids = people
    edited = store_text(ours, ids["alice"], "meet at the lighthouse").message["id"]
    gone = store_text(ours, ids["alice"], "the lighthouse key is under the mat").message["id"]
    store_text(ours, ids["bob"], "which lighthouse?")
    messages.edit(ours, ids["alice"], edited, "meet at the harbour")
    messages.delete(ours, ids["alice"], gone)
    assert [r["text"] for r in _find(ours, ids["bob"], "lighthouse")["results"]] == ["which lighthouse?"]
    assert [r["id"] for r in _find(ours, ids["bob"], "harbour")["results"]] == [edited]
    assert _find(ours, ids["bob"], "mat")["results"] == []


def test_a_message_deleted_for_me_is_not_found_by_me_but_by_my_partner(people):
    ours, _theirs, ids = people
    hidden = store_text(ours, ids["bob"], "the lighthouse at dawn").message["id"]
    messages.hide(ours, ids["alice"], hidden)
    assert _find(ours, ids["alice"], "lighthouse")["results"] == []
    assert [r["id"] for r in _find(ours, ids["bob"], "lighthouse")["results"]] == [hidden]


def test_messages_made_tombstones_or_removed_are_not_found(people):
    """A deleted account's messages become tombstones (own_data), retention removes rows."""
    ours, _theirs, ids = people
    tombstone = store_text(ours, ids["alice"], "volcano one").message["id"]
    removed = store_text(ours, ids["alice"], "volcano two").message["id"]
    kept = store_text(ours, ids["bob"], "volcano three").message["id"]
    with write_transaction() as session:
        session.execute(update(Message).where(Message.id == tombstone).values(deleted=True, text=None))
        session.execute(delete(Message).where(Message.id == removed))
    assert [r["id"] for r in _find(ours, ids["bob"], "volcano")["results"]] == [kept]


def test_words_are_found_at_the_start_of_words_in_any_order_and_case(people):
    ours, _theirs, ids = people
    hello = store_text(ours, ids["alice"], "Hello World, see you at the Café").message["id"]
    store_text(ours, ids["bob"], "shell game")
    assert [r["id"] for r in _find(ours, ids["bob"], "hel")["results"]] == [hello]
    assert [r["id"] for r in _find(ours, ids["bob"], "WORLD hello")["results"]] == [hello]
    assert _find(ours, ids["bob"], "hello nowhere")["results"] == []
    found = _find(ours, ids["bob"], "café")["results"]
    assert [r["id"] for r in found] == [hello]
    assert found[0]["snippet"] == {"text": "Hello World, see you at the Café", "ranges": [[28, 32]]}
    assert _find(ours, ids["bob"], "wor hel")["results"][0]["snippet"]["ranges"] == [[0, 3], [6, 9]]
    if db.session.get_bind().dialect.name == "sqlite":  # FTS5's remove_diacritics (docs/decisions.md)
        assert [r["id"] for r in _find(ours, ids["bob"], "cafe")["results"]] == [hello]


def test_chinese_is_found_inside_a_run_of_characters(people):
    ours, _theirs, ids = people
    dinner = store_text(ours, ids["alice"], "我们明天去吃饭吧").message["id"]
    store_text(ours, ids["bob"], "今天不行")
    found = _find(ours, ids["bob"], "明天")["results"]
    assert [r["id"] for r in found] == [dinner]
    assert found[0]["snippet"]["ranges"] == [[2, 4]]
    assert [r["id"] for r in _find(ours, ids["bob"], "吃饭 明天")["results"]] == [dinner]
    assert _find(ours, ids["bob"], "后天")["results"] == []
    mixed = store_text(ours, ids["alice"], "周末 hiking 好吗").message["id"]
    assert [r["id"] for r in _find(ours, ids["bob"], "hiking 周末")["results"]] == [mixed]


@pytest.mark.parametrize("query", ['"', "*", "(*) ^ -", "( )", "'; -- =", "%", "_", "\\", ":", "^"])
def test_a_query_without_a_word_is_refused(people, query):
    ours, _theirs, ids = people
    with pytest.raises(BadRequest) as refused:
        _find(ours, ids["alice"], query)
    assert refused.value.details == {"field": "q"}


def test_too_long_a_query_is_refused(people):
    ours, _theirs, ids = people
    with pytest.raises(BadRequest):
        _find(ours, ids["alice"], "a" * (search.MAX_QUERY + 1))
    with pytest.raises(BadRequest):
        _find(ours, ids["alice"], " ".join("w" * (search.MAX_WORDS + 1)))
    assert _find(ours, ids["alice"], "a" * search.MAX_QUERY)["results"] == []


@pytest.mark.parametrize("query", ['"gate', "gate*", "NEAR gate", "gate OR", "text: gate", "room_id : gate",
                                   "gate' OR 'not'='not", "gate -- ;", "{gate}", "gate^", "gate AND NOT",
                                   "NEAR(gate not)"])
def test_query_syntax_in_what_is_typed_is_taken_as_plain_words(people, query):
    ours, theirs, ids = people
    gate = store_text(ours, ids["alice"], "near the gate or not, and text room_id").message["id"]
    store_text(ours, ids["alice"], "a gate somewhere else")
    store_text(theirs, ids["carol"], "near the gate or not, and text room_id")
    found = _find(ours, ids["bob"], query)["results"]
    assert gate in [r["id"] for r in found]
    assert all(r["id"] != gate or r["snippet"]["ranges"] for r in found)


def test_like_characters_in_chinese_queries_match_themselves(people):
    ours, _theirs, ids = people
    store_text(ours, ids["alice"], "百分之百")
    exact = store_text(ours, ids["alice"], "百分 100 好").message["id"]
    assert [r["id"] for r in _find(ours, ids["bob"], "百分 100%")["results"]] == [exact]


def test_a_long_message_shows_a_snippet_around_its_match(people):
    ours, _theirs, ids = people
    text = "filler " * 300 + "the treasure is here " + "more " * 200
    store_text(ours, ids["alice"], text)
    result = _find(ours, ids["bob"], "treasure")["results"][0]
    assert result["text"] == text
    snippet = result["snippet"]
    assert snippet["text"].startswith("…") and snippet["text"].endswith("…")
    [[start, end]] = snippet["ranges"]
    assert snippet["text"][start:end] == "treasure"
    assert len(snippet["text"]) <= search.SNIPPET + 2


def test_marks_count_characters_that_are_not_in_the_basic_plane(either_database):
    parsed = search.parse("cake")
    assert search.marks("🎂🎂 Cake!", parsed) == [[3, 7]]
    assert search.marks("STRASSE straße", search.parse("straße")) == [[0, 7], [8, 14]]


def test_the_migration_indexes_the_messages_stored_before_it(people):
    """Upgrading a database that already has messages makes them searchable."""
    ours, _theirs, ids = people
    store_text(ours, ids["alice"], "an old message about penguins")
    db.session.commit()
    db.session.remove()
    flask_migrate.downgrade(revision="bf265a495814")
    store_text(ours, ids["bob"], "penguins again, before search existed")
    db.session.commit()
    db.session.remove()
    flask_migrate.upgrade()
    found = _find(ours, ids["alice"], "penguins")["results"]
    assert [r["text"] for r in found] == ["penguins again, before search existed", "an old message about penguins"]
    store_text(ours, ids["alice"], "penguins after")
    assert len(_find(ours, ids["alice"], "penguins")["results"]) == 3

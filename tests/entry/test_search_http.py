"""GET /api/rooms/<id>/search over HTTP: members only, paged, its query checked, rate limited; on
SQLite and on PostgreSQL."""
import uuid

import pytest

from heartlink.domain import accounts, search
from heartlink.extensions import db

from support import PASSWORD, AuthActions, app_over, match, store_text


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, app, tmp_path):
    """(app, room id, signed-in HTTP clients by name): Alice and Bob linked, Carol and Dan linked,
    Eve in no link; 30 messages in Alice and Bob's link."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        with app_over(url, UPLOAD_DIR=str(tmp_path / "uploads"), RATE_SEARCH=(5, 60)) as pg:
            yield _people(pg)
        return
    app.config["RATE_SEARCH"] = (5, 60)
    yield _people(app)


def _people(app):
    with app.app_context():
        ids = {name: accounts.create_user(name, PASSWORD, vouched=True).id
               for name in ("alice", "bob", "carol", "dan", "eve")}
        room = match(ids["alice"], ids["bob"]).id
        match(ids["carol"], ids["dan"])
        for index in range(30):
            store_text(room, ids["alice"], f"kite {index} flies" if index % 3 == 0 else f"nothing {index}")
        db.session.remove()
    clients = {}
    for name in ids:
        clients[name] = app.test_client()
        AuthActions(clients[name]).login(name)
    return app, room, clients


def test_a_member_finds_messages_newest_first_and_pages_back(served):
    _app, room, clients = served
    first = clients["bob"].get(f"/api/rooms/{room}/search?q=KIT&limit=4")
    assert first.status_code == 200
    page = first.get_json()
    assert [r["text"] for r in page["results"]] == ["kite 27 flies", "kite 24 flies", "kite 21 flies",
                                                    "kite 18 flies"]
    assert page["has_more"] is True and page["next_before_seq"] == page["results"][-1]["seq"]
    assert page["results"][0]["snippet"] == {"text": "kite 27 flies", "ranges": [[0, 3]]}
    rest = clients["bob"].get(f"/api/rooms/{room}/search?q=kit&before_seq={page['next_before_seq']}&limit=50")
    assert [r["text"] for r in rest.get_json()["results"]][-1] == "kite 0 flies"
    assert rest.get_json()["has_more"] is False and rest.get_json()["next_before_seq"] is None


def test_anyone_but_the_members_is_refused(served):
    _app, room, clients = served
    for outsider in ("carol", "eve"):
        refused = clients[outsider].get(f"/api/rooms/{room}/search?q=kite")
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    missing = clients["alice"].get(f"/api/rooms/{uuid.uuid4()}/search?q=kite")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    anonymous = clients["alice"].application.test_client().get(f"/api/rooms/{room}/search?q=kite")
    assert anonymous.status_code == 401


@pytest.mark.parametrize("query", ["q=", "q=%20%20", "q=" + "a" * (search.MAX_QUERY + 1), "q=%22*%22", "q=kite&limit=0",
                                   "q=kite&limit=51", "q=kite&before_seq=-1", "q=kite&before_seq=x", ""])
def test_a_bad_query_is_a_coded_400_naming_its_field(served, query):
    _app, room, clients = served
    refused = clients["alice"].get(f"/api/rooms/{room}/search?{query}")
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "bad_request" and error["field"] in ("q", "limit", "before_seq") and error["message"]


def test_searching_is_rate_limited_per_person(served):
    _app, room, clients = served
    answers = [clients["alice"].get(f"/api/rooms/{room}/search?q=kite").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    assert clients["bob"].get(f"/api/rooms/{room}/search?q=kite").status_code == 200

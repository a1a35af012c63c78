"""HTTP: accounts, the API token, and the JSON endpoints."""
import io
import uuid

import pytest

from heartlink.domain import matching, messages
from heartlink.extensions import db
from heartlink.live import codec
from heartlink.models import User

from support import PASSWORD, bearer_headers, store_message


def test_register_signs_in_and_rejects_a_taken_name(client, auth):
    response = auth.register("Alice", display_name="Alice A")
    assert response.status_code == 302
    assert client.get("/api/me").get_json()["user"]["display_name"] == "Alice A"
    auth.logout()
    again = auth.register("alice")
    assert again.status_code == 409 and "taken" in again.get_data(as_text=True)


def test_forms_without_a_csrf_token_are_refused(client, make_user):
    """The sign-in and sign-up forms check their own token: without one the form comes back with
    a word on it (as for a wrong password), and nobody is signed in or created."""
    make_user("alice")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert "This page had expired" in response.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401
    created = client.post("/register", data={"username": "mallory", "password": PASSWORD})
    assert "This page had expired" in created.get_data(as_text=True)
    assert client.post("/api/token", json={"username": "mallory", "password": PASSWORD}).status_code == 401
    # Every other form is refused before it is read.
    assert client.post("/settings/password", data={"current_password": "x"}).status_code in (302, 401)


def test_login_and_logout(client, auth, make_user):
    make_user("alice")
    assert auth.login("alice", "wrong-password").status_code == 200
    assert client.get("/api/me").status_code == 401
    assert auth.login("alice").status_code == 302
    assert client.get("/api/me").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/api/me").status_code == 401


def test_the_session_cookie_is_httponly_and_samesite_lax(client, auth, make_user):
    make_user("alice")
    cookie = auth.login("alice").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_api_token_for_the_right_password_only(client, make_user):
    make_user("alice")
    ok = client.post("/api/token", json={"username": "alice", "password": PASSWORD})
    assert ok.status_code == 200 and set(ok.get_json()) == {"token", "expires_at"}
    wrong = client.post("/api/token", json={"username": "alice", "password": "nope-nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "unauthorized"
    bearer = {"Authorization": f"Bearer {ok.get_json()['token']}"}
    assert client.get("/api/me", headers=bearer).get_json()["user"]["username"] == "alice"


def test_rooms_and_history_are_for_members_only(app, client, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    make_user("eve")
    with app.app_context():
        matching.start(alice)
        _state, room = matching.start(bob)
        for index in range(5):
            store_message(room.id, alice, str(uuid.uuid4()), "text", f"m{index}")

    listed = client.get("/api/rooms", headers=bearer_headers(client, "bob")).get_json()["rooms"]
    assert [r["id"] for r in listed] == [room.id] and listed[0]["unread"] == 5
    page = client.get(f"/api/rooms/{room.id}/messages?before_seq=4&limit=2",
                      headers=bearer_headers(client, "bob")).get_json()
    assert [m["seq"] for m in page["messages"]] == [2, 3] and page["has_more"] is True
    stranger = client.get(f"/api/rooms/{room.id}/messages", headers=bearer_headers(client, "eve"))
    assert stranger.status_code == 403 and stranger.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/rooms", headers=bearer_headers(client, "eve")).get_json()["rooms"] == []
    missing = client.get(f"/api/rooms/{uuid.uuid4()}/messages", headers=bearer_headers(client, "eve"))
    assert missing.status_code == 404
    bad = client.get(f"/api/rooms/{room.id}/messages?limit=abc", headers=bearer_headers(client, "bob"))
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request"
    assert client.get("/api/rooms").status_code == 401


def test_history_down_to_a_seq_comes_in_one_answer_within_bounds(app, client, make_user, monkeypatch):
    """?from_seq= brings at least every message from that seq on below before_seq at once (a jump far back
    in a long chat), up to rooms.MAX_RANGE of the newest; members only, like any page."""
    from heartlink.domain import rooms
    monkeypatch.setattr(rooms, "MAX_RANGE", 150)
    alice, bob = make_user("alice"), make_user("bob")
    make_user("eve")
    with app.app_context():
        matching.start(alice)
        _state, room = matching.start(bob)
        messages.store([messages.draft(room.id, alice, str(uuid.uuid4()), "text", f"m{index}", None, None)
                        for index in range(1, 241)])
    bob_headers = bearer_headers(client, "bob")
    url = f"/api/rooms/{room.id}/messages"
    down = client.get(f"{url}?before_seq=201&from_seq=120", headers=bob_headers).get_json()
    assert [m["seq"] for m in down["messages"]] == list(range(120, 201)) and down["has_more"] is True
    # More than MAX_RANGE asked: the newest MAX_RANGE, and has_more to ask again from the oldest.
    far = client.get(f"{url}?before_seq=201&from_seq=1", headers=bob_headers).get_json()
    assert [m["seq"] for m in far["messages"]] == list(range(51, 201)) and far["has_more"] is True
    # Without before_seq: down from the newest; never less than an ordinary page.
    newest = client.get(f"{url}?from_seq=231", headers=bob_headers).get_json()
    assert [m["seq"] for m in newest["messages"]] == list(range(191, 241))
    # A from_seq above before_seq: the ordinary page.
    plain = client.get(f"{url}?before_seq=10&from_seq=50&limit=3", headers=bob_headers).get_json()
    assert [m["seq"] for m in plain["messages"]] == [7, 8, 9]
    last = client.get(f"{url}?before_seq=20&from_seq=1", headers=bob_headers).get_json()
    assert [m["seq"] for m in last["messages"]] == list(range(1, 20)) and last["has_more"] is False
    assert client.get(f"{url}?from_seq=1", headers=bearer_headers(client, "eve")).status_code == 403
    bad = client.get(f"{url}?from_seq=-1", headers=bob_headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request"


def test_cli_creates_and_lists_users_and_demo_people(app, runner):
    assert "created bob" in runner.invoke(args=["users", "create", "bob", "--password", PASSWORD]).output
    assert "taken" in runner.invoke(args=["users", "create", "BOB", "--password", PASSWORD]).output
    assert "alice" in runner.invoke(args=["demo"]).output
    assert "created 300 accounts" in runner.invoke(
        args=["users", "bulk-create", "--prefix", "load", "--count", "300", "--password", PASSWORD]).output
    listing = runner.invoke(args=["users", "list"]).output
    assert "bob" in listing and "alice" in listing and "load300" in listing
    with app.app_context():
        assert db.session.query(User).count() == 303  # bob, then alice and carol (demo keeps bob), then 300


def test_signing_in_starts_a_new_session(client, auth, make_user):
    make_user("alice")
    with client.session_transaction() as before:
        before["planted"] = "by someone else"  # what a fixated session would carry in
    token_before = auth.csrf_token()
    auth.login("alice")
    with client.session_transaction() as after:
        assert "planted" not in after and after.get("login_id")
    assert auth.csrf_token() != token_before


def test_http_errors_carry_the_code_of_their_status(client):
    """The status -> code table is read off errors.py's classes."""
    missing = client.get("/api/no-such-endpoint")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong_method = client.get("/api/token")  # POST only
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("body", ["[" * 50_000, '{"username": ' * 5_000, "[1, 2]", '"alice"', "not json"])
def test_a_token_request_that_is_not_a_json_object_is_a_bad_request(client, body):
    """Nesting past what the decoder allows was a RecursionError and a 500 with a traceback; any
    body that is not the object expected is a 400, and no password is verified for it."""
    answer = client.post("/api/token", data=body, content_type="application/json")
    assert answer.status_code == 400, answer.data[:200]
    assert answer.get_json()["error"]["code"] == "bad_request"


def test_the_json_codec_refuses_deep_nesting_as_malformed_json():
    """Socket.IO packets and HTTP bodies share the codec: too deep is a ValueError, like any bad JSON."""
    with pytest.raises(ValueError):
        codec.loads("[" * 50_000 + "]" * 50_000)
    nested, depth = codec.loads("[" * 500 + "]" * 500), 1
    while nested:
        nested, depth = nested[0], depth + 1
    assert depth == 500


class CountingStream(io.BytesIO):
    """A request body that counts what the server read of it."""

    def __init__(self, size):
        super().__init__(b"x" * size)
        self.taken = 0

    def read(self, *args):
        chunk = super().read(*args)
        self.taken += len(chunk)
        return chunk

    def readline(self, *args):
        line = super().readline(*args)
        self.taken += len(line)
        return line


@pytest.mark.parametrize("path", ["/api/rooms/x/attachments", "/api/me/avatar", "/api/reports", "/logout",
                                  "/settings/password"])
def test_an_anonymous_write_is_refused_before_its_body_is_read(client, path):
    """The CSRF check read (parsed) the whole body of any write before login_required refused it:
    26 MB from anyone cost the event loop up to 112 ms."""
    body = CountingStream(26 * 1024 * 1024)
    answer = client.post(path, input_stream=body, content_length=26 * 1024 * 1024,
                         content_type="multipart/form-data; boundary=b")
    assert answer.status_code in (302, 401), answer.status_code
    assert body.taken == 0


def test_an_upload_over_the_rate_is_refused_before_its_body_is_read(app, client, auth, make_user):
    """A signed-in page sends its CSRF token as a header: the check takes it from there, not from
    the form, so an upload over the rate limit is refused without its 25 MB being parsed."""
    make_user("alice")
    auth.login("alice")
    app.config["RATE_UPLOADS"] = (1, 60)
    token = auth.csrf_token()
    first = client.post("/api/rooms/x/attachments", data={"kind": "file"}, headers={"X-CSRFToken": token})
    assert first.status_code == 400, first.status_code  # no file: the one upload of the minute
    body = CountingStream(25 * 1024 * 1024)
    answer = client.post("/api/rooms/x/attachments", input_stream=body, content_length=25 * 1024 * 1024,
                         content_type="multipart/form-data; boundary=b", headers={"X-CSRFToken": token})
    assert answer.status_code == 429, answer.status_code
    assert body.taken == 0


@pytest.mark.parametrize(("path", "content_type"), [
    ("/api/reports", "application/json"), ("/api/me", "application/json"),
    ("/login", "application/x-www-form-urlencoded"), ("/api/token", "application/json"),
])
def test_a_body_that_is_not_an_upload_is_small(client, auth, make_user, path, content_type):
    """Every body but an upload's is at most MAX_BODY_BYTES, refused 413 before it is read."""
    make_user("alice")
    auth.login("alice")
    body = CountingStream(2 * 1024 * 1024)
    method = client.patch if path == "/api/me" else client.post
    answer = method(path, input_stream=body, content_length=2 * 1024 * 1024, content_type=content_type,
                    headers={"X-CSRFToken": auth.csrf_token()})
    assert answer.status_code == 413, answer.status_code
    assert body.taken == 0

"""A restricted person over HTTP: no token and no sign-in while suspended or banned (403
`restricted`), both back once the suspension is over, and appeals before any sign-in."""
import re
from datetime import timedelta

from sqlalchemy import update

from heartlink.domain import moderation
from heartlink.domain.moderation import CLI
from heartlink.extensions import db, socketio
from heartlink.models import Appeal, User, utcnow

from support import PASSWORD, AuthActions, bearer_headers


def _token(client, username, password=PASSWORD):
    return client.post("/api/token", json={"username": username, "password": password})


def _login_json(client, username, password=PASSWORD):
    """The sign-in form, sent by a client that asks for JSON answers."""
    return client.post("/login", headers={"Accept": "application/json"}, data={
        "username": username, "password": password, "csrf_token": AuthActions(client).csrf_token()})


def test_a_suspended_or_banned_person_gets_no_token_and_no_sign_in(app, client, make_user):
    bob, carol = make_user("bob"), make_user("carol")
    until = utcnow() + timedelta(days=7)
    with app.app_context():
        moderation.suspend(bob, until, "Insults.", CLI, reason="You insulted people.")
        moderation.ban(carol, "Threats.", CLI)

    refused = _token(client, "bob")
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert (error["code"], error["standing"], error["reason"]) == ("restricted", "suspended", "You insulted people.")
    assert error["until"] == until.isoformat(timespec="milliseconds") + "Z"
    assert f"{until:%Y-%m-%d %H:%M} UTC" in error["message"] and "appeal" in error["message"]
    banned = _token(client, "carol").get_json()["error"]
    assert (banned["code"], banned["standing"], banned["until"]) == ("restricted", "banned", None)
    assert _token(client, "bob", "not the password").status_code == 401  # a wrong password learns nothing

    page = AuthActions(client).login("bob")
    assert page.status_code == 403
    said = page.get_data(as_text=True)  # why and until when (tests/entry/test_moderation_console.py has the rest)
    assert re.search(r'data-testid="restricted-title"[^>]*>Your account is suspended</h2>', said)
    assert f"{until:%Y-%m-%d %H:%M} UTC</time>" in said and "You insulted people." in said
    assert client.get("/api/me").status_code == 401  # not signed in
    as_json = _login_json(client, "carol")
    assert as_json.status_code == 403 and as_json.get_json()["error"]["standing"] == "banned"


def test_token_and_sign_in_work_again_once_the_suspension_is_over(app, client, make_user):
    bob = make_user("bob")
    with app.app_context():
        moderation.suspend(bob, utcnow() + timedelta(days=1), "Insults.", CLI)
    assert _token(client, "bob").status_code == 403
    with app.app_context():  # a day goes by: the suspension's end is now in the past
        db.session.execute(update(User).where(User.id == bob).values(standing_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert _token(client, "bob").status_code == 200
    signed_in = AuthActions(client).login("bob")
    assert signed_in.status_code == 302 and client.get("/api/me").status_code == 200


def test_a_held_person_still_signs_in(app, client, make_user):
    dave = make_user("dave")
    with app.app_context():
        moderation.hold(dave, "Reported three times.", CLI)
    assert _token(client, "dave").status_code == 200


def test_an_appeal_needs_no_sign_in_and_comes_once_per_action(app, client, make_user):
    bob = make_user("bob")
    make_user("carol")
    with app.app_context():
        moderation.ban(bob, "Threats.", CLI)
    body = {"username": "bob", "password": PASSWORD, "text": "I was quoting a film."}
    sent = client.post("/api/appeals", json=body)  # no session, no CSRF token
    assert sent.status_code == 201 and sent.get_json()["state"] == "open"
    again = client.post("/api/appeals", json=body)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    wrong = client.post("/api/appeals", json={**body, "password": "not the password"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "unauthorized"
    active = client.post("/api/appeals", json={**body, "username": "carol"})
    assert active.status_code == 403 and active.get_json()["error"]["code"] == "forbidden"
    for bad in ({**body, "text": ""}, {**body, "text": "   "}, {**body, "text": 5}, {"username": "bob"}, []):
        answer = client.post("/api/appeals", json=bad)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_request", bad
    with app.app_context():
        (appeal,) = db.session.query(Appeal).all()
        assert (appeal.user_id, appeal.text, appeal.state) == (bob, "I was quoting a film.", "open")


def test_an_appeal_too_long_is_told_the_limit(app, client, make_user):
    bob = make_user("bob")
    with app.app_context():
        moderation.ban(bob, "Threats.", CLI)
    body = {"username": "bob", "password": PASSWORD}
    for length in (moderation.MAX_APPEAL + 1, moderation.MAX_APPEAL * 4 + 1):
        error = client.post("/api/appeals", json={**body, "text": "x" * length}).get_json()["error"]
        assert error["field"] == "text" and str(moderation.MAX_APPEAL) in error["message"].replace(",", ""), error


def test_appeals_are_limited_per_address(app, client, make_user):
    app.config["RATE_APPEALS"] = (2, 3600)
    make_user("bob")
    body = {"username": "bob", "password": "not the password", "text": "Sorry."}
    assert [client.post("/api/appeals", json=body).status_code for _ in range(2)] == [401, 401]
    limited = client.post("/api/appeals", json=body)
    assert limited.status_code == 429 and limited.get_json()["error"]["retry_after"] >= 1
    assert limited.headers["Retry-After"] == str(limited.get_json()["error"]["retry_after"])


def test_a_suspension_ends_the_sessions_and_tokens_the_person_already_has(app, client, make_user):
    bob = make_user("bob")
    headers = bearer_headers(client, "bob")
    AuthActions(client).login("bob")
    assert client.get("/api/me").status_code == 200 and client.get("/api/me", headers=headers).status_code == 200
    with app.app_context():
        moderation.suspend(bob, utcnow() + timedelta(days=7), "Insults.", CLI, reason="You insulted people.")

    by_token = client.get("/api/me", headers=headers)
    assert by_token.status_code == 403
    assert by_token.get_json()["error"] | {"message": None} == {
        "code": "restricted", "standing": "suspended", "reason": "You insulted people.", "message": None,
        "until": by_token.get_json()["error"]["until"]}
    by_cookie = client.get("/api/me")
    assert by_cookie.status_code == 403 and by_cookie.get_json()["error"]["standing"] == "suspended"
    page = client.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    sign_in_page = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Your account is suspended</h2>" in sign_in_page and "You insulted people." in sign_in_page
    assert 'data-testid="appeal-form"' in sign_in_page and 'data-username="bob"' in sign_in_page


def test_an_open_socket_of_a_banned_person_refuses_their_next_event_and_no_new_one_opens(app, sock):
    """The ban's broadcast is not needed for this: every event reads the standing from the database."""
    alice = sock("alice")
    with app.app_context():
        moderation.ban(User.query.filter_by(username="alice").one().id, "Threats.", CLI, reason="Threats.")

    refused = alice.emit("match:start", {}, callback=True)
    assert refused["ok"] is False
    assert (refused["error"]["code"], refused["error"]["standing"], refused["error"]["reason"]) == \
        ("restricted", "banned", "Threats.")
    http = app.test_client()
    AuthActions(http).login("alice")  # refused: the cookie stays signed out
    assert not socketio.test_client(app, flask_test_client=http).is_connected()

"""Sign-up's protections over HTTP: the date of birth (refused under the minimum age), the
sign-up challenge (missing, wrong, expired and replayed solutions are 400), and the question an
existing account without a date is asked at sign-in; the flask commands' --birth-date."""
import base64
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from heartlink import create_app
from heartlink.domain import accounts, age, challenges
from heartlink.extensions import db
from heartlink.models import UsedChallenge, User, utcnow

from support import ADULT, PASSWORD, config_for, solve


def _today():
    return utcnow().date()


def _user(app, username):
    with app.app_context():
        return accounts.find_user(username)


# --- the date of birth ---------------------------------------------------------------------------

def test_eighteen_today_signs_up_and_only_the_date_is_kept(app, client, auth):
    born = age.birthday(_today(), -18)
    response = auth.register("alice", birth_date=born.isoformat())
    assert response.status_code == 302 and response.headers["Location"] == "/"
    alice = _user(app, "alice")
    assert (alice.birth_date, alice.birth_vouched) == (born, False)
    assert client.get("/").status_code == 200  # never asked again


def test_a_day_under_eighteen_is_refused_with_a_clear_word(app, auth):
    born = age.birthday(_today(), -18) + timedelta(days=1)
    refused = auth.register("alice", birth_date=born.isoformat())
    assert refused.status_code == 400
    assert "You must be at least 18 years old to use Heart Link." in refused.get_data(as_text=True)
    assert 'data-testid="error-birth_date"' in refused.get_data(as_text=True)
    assert _user(app, "alice") is None


def test_no_date_of_birth_is_refused(app, auth):
    refused = auth.register("alice", birth_date=None)
    assert refused.status_code == 400 and "Enter your date of birth." in refused.get_data(as_text=True)
    assert _user(app, "alice") is None


def test_the_sign_up_page_asks_for_the_date_in_a_date_field_in_both_languages(client):
    html = client.get("/register").get_data(as_text=True)
    assert 'type="date"' in html and 'name="birth_date"' in html and "Date of birth" in html
    assert "<altcha-widget" in html and 'auto="onload"' in html and 'language="en"' in html
    chinese = client.get("/register", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "出生日期" in chinese and 'language="zh-cn"' in chinese


# --- the sign-up challenge -------------------------------------------------------------------------

def test_a_missing_solution_is_400(app, auth):
    refused = auth.register("alice", altcha=None)
    assert refused.status_code == 400 and 'data-testid="error-altcha"' in refused.get_data(as_text=True)
    assert _user(app, "alice") is None


def test_a_client_asking_for_json_gets_the_refusal_coded(app, client, auth):
    token = auth.csrf_token("/register")
    refused = client.post("/register", headers={"Accept": "application/json"}, data={
        "username": "alice", "password": PASSWORD, "birth_date": ADULT, "csrf_token": token})
    assert refused.status_code == 400
    assert refused.get_json()["error"] | {"message": None} == {
        "code": "bad_request", "field": "altcha", "reason": "missing", "message": None}
    # The form's own checks answer coded JSON too, naming their field.
    for field, data in (("birth_date", {"birth_date": "1990-02-30"}), ("username", {"username": "a!"}),
                        ("password", {"password": "short"}), ("csrf_token", {"csrf_token": "stale"})):
        body = {"username": "alice", "password": PASSWORD, "birth_date": ADULT, "csrf_token": token, **data}
        answer = client.post("/register", headers={"Accept": "application/json"}, data=body)
        assert answer.status_code == 400 and answer.get_json()["error"]["field"] == field, (field, answer.data)
        assert answer.get_json()["error"]["code"] == "bad_request" and answer.get_json()["error"]["message"]


@pytest.mark.parametrize("spoil", ["key", "signature", "garbage"])
def test_a_wrong_solution_is_400(app, auth, spoil):
    """The proof is the derived key (the counter only finds it): a key that is not the one the
    challenge's counter gives, or a challenge changed after it was signed, or no payload at all."""
    payload = json.loads(base64.b64decode(auth.challenge()))
    if spoil == "key":
        payload["solution"]["derivedKey"] = payload["challenge"]["parameters"]["keyPrefix"] + "00" * 16
    elif spoil == "signature":
        payload["challenge"]["parameters"]["expiresAt"] += 3600  # a longer life than was signed
    wrong = "not base64 at all" if spoil == "garbage" else base64.b64encode(json.dumps(payload).encode()).decode()
    assert auth.register("alice", altcha=wrong).status_code == 400
    assert _user(app, "alice") is None


def test_an_expired_solution_is_400(app, auth):
    lifetime = timedelta(seconds=app.config["SIGNUP_CHALLENGE_SECONDS"])
    with app.app_context():  # handed out longer ago than a challenge lives
        challenge = challenges.new_challenge(now=utcnow() - lifetime - timedelta(seconds=5))
    refused = auth.register("alice", altcha=solve(challenge))
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    assert _user(app, "alice") is None


def test_a_replayed_solution_is_400(app, client, auth):
    solution = auth.challenge()
    assert auth.register("alice", altcha=solution).status_code == 302
    auth.logout()
    replayed = auth.register("bob", altcha=solution)
    assert replayed.status_code == 400 and "already used" in replayed.get_data(as_text=True)
    assert _user(app, "bob") is None


def test_a_solution_for_another_secret_key_is_refused(app, auth, db_path):
    """The challenges are signed with a key derived from SECRET_KEY: a server with another one
    (there is no default) refuses them."""
    other = create_app(config_for(db_path, SECRET_KEY="another-secret-key"))
    foreign = solve(other.test_client().get("/api/signup/challenge").get_json())
    assert auth.register("alice", altcha=foreign).status_code == 400


def test_challenges_are_signed_pbkdf2_with_an_end_and_rate_limited_per_address(app, client):
    app.config["RATE_SIGNUP_CHALLENGE"] = (2, 60)
    first = client.get("/api/signup/challenge")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    parameters = first.get_json()["parameters"]
    assert parameters["algorithm"] == "PBKDF2/SHA-256" and parameters["expiresAt"] > utcnow().timestamp()
    assert first.get_json()["signature"]
    assert client.get("/api/signup/challenge").status_code == 200
    third = client.get("/api/signup/challenge")
    assert third.status_code == 429 and third.get_json()["error"]["code"] == "rate_limited"


def test_the_cleanup_forgets_spent_challenges_once_they_have_expired(app, auth, runner):
    assert auth.register("alice").status_code == 302
    with app.app_context():
        db.session.add(UsedChallenge(key="spent-long-ago", expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    assert "forgot 1 expired sign-up challenges" in runner.invoke(args=["rooms", "cleanup"]).output
    with app.app_context():
        assert db.session.execute(select(UsedChallenge.key)).scalars().all() != ["spent-long-ago"]
        assert len(db.session.execute(select(UsedChallenge.key)).scalars().all()) == 1


# --- an existing account without a date of birth ------------------------------------------------

def _existing(app, username):
    with app.app_context():
        return accounts.create_user(username, PASSWORD).id  # neither a date nor an operator's word


def test_an_existing_account_is_asked_once_at_sign_in_and_the_lobby_sends_it_there(app, client, auth):
    _existing(app, "carol")
    signed_in = auth.login("carol")
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/birth-date"
    lobby = client.get("/")
    assert lobby.status_code == 302 and lobby.headers["Location"] == "/birth-date?next=/"
    page = client.get("/birth-date?next=/settings").get_data(as_text=True)
    assert 'type="date"' in page and 'data-testid="birth-date-form"' in page
    answered = client.post("/birth-date?next=/settings", data={
        "birth_date": ADULT, "csrf_token": auth.csrf_token("/birth-date")})
    assert answered.status_code == 302 and answered.headers["Location"] == "/settings"
    assert client.get("/").status_code == 200
    assert client.get("/birth-date").status_code == 302  # asked once
    assert _user(app, "carol").birth_date == date.fromisoformat(ADULT)


def test_an_existing_account_answering_under_the_age_is_suspended(app, client, auth):
    carol = _existing(app, "carol")
    auth.login("carol")
    young = age.birthday(_today(), -16).isoformat()
    answered = client.post("/birth-date", data={"birth_date": young, "csrf_token": auth.csrf_token("/birth-date")})
    assert answered.status_code == 302 and answered.headers["Location"] == "/login"
    assert client.get("/api/me").get_json()["error"]["code"] == "restricted"
    told = client.get("/login").get_data(as_text=True)  # why, until when, and the appeal
    assert 'data-testid="restricted"' in told and "aged 18 and over" in told
    again = client.post("/api/token", json={"username": "carol", "password": PASSWORD})
    assert again.status_code == 403 and again.get_json()["error"]["standing"] == "suspended"
    with app.app_context():
        user = db.session.get(User, carol)
        assert user.standing_until.date() == age.birthday(date.fromisoformat(young), 18)


def test_a_client_without_a_page_answers_over_json(app, client, auth):
    _existing(app, "carol")
    token = client.post("/api/token", json={"username": "carol", "password": PASSWORD}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    for wrong in ("1990-13-01", "01/04/1990"):
        refused = client.post("/api/me/birth-date", json={"birth_date": wrong}, headers=bearer)
        assert refused.status_code == 400 and "YYYY-MM-DD" in refused.get_json()["error"]["message"], wrong
    answered = client.post("/api/me/birth-date", json={"birth_date": ADULT}, headers=bearer)
    assert answered.status_code == 200 and answered.get_json()["user"]["username"] == "carol"
    assert client.post("/api/me/birth-date", json={"birth_date": ADULT}, headers=bearer).status_code == 409


# --- the operator's commands ---------------------------------------------------------------------

def test_flask_users_create_takes_a_birth_date_or_vouches(app, runner):
    assert "created alice" in runner.invoke(args=["users", "create", "alice", "--password", PASSWORD,
                                                  "--birth-date", ADULT]).output
    assert "created bob" in runner.invoke(args=["users", "create", "bob", "--password", PASSWORD]).output
    young = runner.invoke(args=["users", "create", "kid", "--password", PASSWORD,
                                "--birth-date", (age.birthday(_today(), -18) + timedelta(days=1)).isoformat()])
    assert young.exit_code != 0 and "at least 18" in young.output
    alice, bob = _user(app, "alice"), _user(app, "bob")
    assert (alice.birth_date, alice.birth_vouched) == (date.fromisoformat(ADULT), False)
    assert (bob.birth_date, bob.birth_vouched) == (None, True)
    assert _user(app, "kid") is None


def test_flask_users_bulk_create_takes_a_birth_date_or_vouches(app, runner):
    assert "created 3" in runner.invoke(args=["users", "bulk-create", "--prefix", "dated", "--count", "3",
                                              "--password", PASSWORD, "--birth-date", ADULT]).output
    assert "created 2" in runner.invoke(args=["users", "bulk-create", "--prefix", "load", "--count", "2",
                                              "--password", PASSWORD]).output
    young = runner.invoke(args=["users", "bulk-create", "--prefix", "kid", "--count", "2", "--password", PASSWORD,
                                "--birth-date", "2020-01-01"])
    assert young.exit_code != 0
    with app.app_context():
        rows = {user.username: (user.birth_date, user.birth_vouched) for user in db.session.query(User)}
    assert rows == {"dated1": (date.fromisoformat(ADULT), False), "dated2": (date.fromisoformat(ADULT), False),
                    "dated3": (date.fromisoformat(ADULT), False), "load1": (None, True), "load2": (None, True)}


def test_the_demo_people_are_vouched_for(app, runner):
    runner.invoke(args=["demo"])
    assert all(_user(app, name).birth_vouched for name in ("alice", "bob", "carol"))

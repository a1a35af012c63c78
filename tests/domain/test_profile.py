"""Profile and privacy: /api/me, the profile picture and who may see it, and the reciprocal
read-receipt and presence rules, for HTTP and Socket.IO clients alike."""
import io
import uuid

import pytest
from PIL import Image

from heartlink.domain import presence, privacy
from heartlink.extensions import db, socketio
from heartlink.live import announce
from heartlink.models import User

import media_samples as samples
from support import AuthActions, received, send_text


class Person:
    """One signed-in person: an HTTP client (cookie session) and a Socket.IO client on it."""

    def __init__(self, app, make_user, name):
        self.id = make_user(name)
        self.http = app.test_client()
        self.auth = AuthActions(self.http)
        self.auth.login(name)
        self.sock = socketio.test_client(app, flask_test_client=self.http)

    def patch(self, body, csrf=True):
        headers = {"X-CSRFToken": self.auth.csrf_token()} if csrf else {}
        return self.http.patch("/api/me", json=body, headers=headers)

    def upload(self, data, filename="me.jpg"):
        return self.http.post("/api/me/avatar", headers={"X-CSRFToken": self.auth.csrf_token()},
                              data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")

    def ask(self, event, payload):
        return self.sock.emit(event, payload, callback=True)


@pytest.fixture
def person(app, make_user):
    made = []

    def make(name):
        made.append(Person(app, make_user, name))
        return made[-1]

    yield make
    for one in made:
        if one.sock.is_connected():
            one.sock.disconnect()


@pytest.fixture
def pair(person):
    """Alice and Bob in a link; returns (alice, bob, room_id)."""
    alice, bob = person("alice"), person("bob")
    alice.ask("match:start", {})
    room_id = bob.ask("match:start", {})["room"]["id"]
    alice.sock.get_received(), bob.sock.get_received()
    return alice, bob, room_id


# --- /api/me -------------------------------------------------------------------------------

def test_me_has_the_user_and_the_settings(person):
    alice = person("alice")
    body = alice.http.get("/api/me").get_json()
    assert body["user"]["username"] == "alice" and body["user"]["avatar_url"] is None
    assert body["settings"] == {"read_receipts": True, "show_presence": True, "language": None, "interests": []}


def test_patch_me_changes_the_name_and_settings(person):
    alice = person("alice")
    body = alice.patch({"display_name": "  Nina 🌸 ", "read_receipts": False, "language": "zh"}).get_json()
    assert body["user"]["display_name"] == "Nina 🌸"
    assert body["settings"] == {"read_receipts": False, "show_presence": True, "language": "zh", "interests": []}
    assert alice.http.get("/api/me").get_json() == body
    # An empty name falls back to the username, as at sign-up; null language follows the browser.
    body = alice.patch({"display_name": "   ", "language": None}).get_json()
    assert body["user"]["display_name"] == "alice" and body["settings"]["language"] is None
    # Interests are kept as matching keeps them, for match:start to look for when it names none.
    body = alice.patch({"interests": [" Hiking ", "🎸", "hiking"]}).get_json()
    assert body["settings"]["interests"] == ["hiking", "🎸"]
    assert alice.patch({"interests": ["x" * 25]}).status_code == 400


@pytest.mark.parametrize(("chosen", "shown"), [
    ("Ali\x1b[31mce", "Ali[31mce"),  # ESC, which starts every terminal colour sequence
    ("Bob\u202eevil", "Bobevil"),  # right-to-left override
    ("C\x85\x9bC1", "CC1"),  # C1 controls
    ("Da\u200bve\u200d", "Dave"),  # zero-width characters
    ("\u3164\u3164", "alice"),  # Hangul fillers: a name that looks empty is none
    ("\u2800 \u034f", "alice"),  # the braille blank, the combining grapheme joiner
    ("Eve\ufe0f", "Eve"),  # a variation selector with nothing to restyle
    ("Fay ❤\ufe0f  and\u3000 1\ufe0f\u20e3", "Fay ❤\ufe0f and 1\ufe0f\u20e3"),  # emoji kept, spaces folded
])
def test_a_display_name_shows_only_what_it_draws(person, chosen, shown):
    """One rule for every name a person chooses (heartlink/text.chosen_name)."""
    alice = person("alice")
    assert alice.patch({"display_name": chosen}).get_json()["user"]["display_name"] == shown
    assert alice.http.get("/api/me").get_json()["user"]["display_name"] == shown


@pytest.mark.parametrize("body", [
    {"display_name": "x" * 65}, {"display_name": 7}, {"read_receipts": "no"}, {"show_presence": 1},
    {"language": "fr"}, ["display_name"], "name",
])
def test_bad_profile_changes_are_refused_and_change_nothing(person, body):
    alice = person("alice")
    before = alice.http.get("/api/me").get_json()
    response = alice.patch(body)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"
    assert alice.http.get("/api/me").get_json() == before


def test_patch_me_needs_the_csrf_token(person):
    alice = person("alice")
    assert alice.patch({"display_name": "Mallory"}, csrf=False).status_code == 400
    assert alice.http.get("/api/me").get_json()["user"]["display_name"] == "alice"


def test_a_new_name_reaches_the_partner_as_user_updated(pair):
    alice, bob, _room_id = pair
    alice.patch({"display_name": "Alice ❤"})
    updates = received(bob.sock, "user:updated")
    assert [u["user"]["display_name"] for u in updates] == ["Alice ❤"]
    assert [u["user"]["display_name"] for u in received(alice.sock, "user:updated")] == ["Alice ❤"]


def test_the_chosen_language_overrides_accept_language(person):
    alice = person("alice")
    english = {"Accept-Language": "en"}
    assert 'lang="en' in alice.http.get("/", headers=english).get_data(as_text=True)
    alice.patch({"language": "zh"})
    assert 'lang="zh' in alice.http.get("/", headers=english).get_data(as_text=True)
    missing = alice.http.get(f"/api/rooms/{uuid.uuid4()}/messages", headers=english)
    assert missing.get_json()["error"]["message"] == "没有这个心动连线。"


# --- the profile picture -------------------------------------------------------------------

def test_a_profile_picture_is_cleaned_squared_and_shown_to_the_partner(pair):
    alice, bob, _room_id = pair
    uploaded = alice.upload(samples.jpeg_with_gps_and_comment(size=(120, 80)))
    assert uploaded.status_code == 200
    url = uploaded.get_json()["user"]["avatar_url"]
    assert url.startswith(f"/api/users/{alice.id}/avatar")
    assert [u["user"]["avatar_url"] for u in received(bob.sock, "user:updated")] == [url]
    for viewer in (alice, bob):
        served = viewer.http.get(url)
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.headers["Cache-Control"].startswith("private")
        assert b"<script>" not in served.data and b"HeartPhone" not in served.data
        with Image.open(io.BytesIO(served.data)) as picture:
            assert picture.size == (80, 80) and not picture.getexif() and "comment" not in picture.info
    joined = bob.ask("room:join", {"room_id": _room_id})
    assert next(m for m in joined["room"]["members"] if m["id"] == alice.id)["avatar_url"] == url


def test_a_stranger_and_a_blocked_partner_get_404_for_the_picture(pair, person):
    alice, bob, _room_id = pair
    url = alice.upload(samples.png()).get_json()["user"]["avatar_url"]
    eve = person("eve")
    assert eve.http.get(url).status_code == 404
    assert eve.http.get(f"/api/users/{alice.id}/avatar").status_code == 404
    assert bob.http.get(url).status_code == 200
    # A block either way hides it: here Bob blocks Alice, and Alice's picture is gone for him too.
    assert bob.http.post(f"/api/users/{alice.id}/block",
                         headers={"X-CSRFToken": bob.auth.csrf_token()}).status_code == 200
    assert bob.http.get(url).status_code == 404
    assert alice.http.get(url).status_code == 200  # the owner always sees their own


def test_after_a_link_ends_the_picture_is_shown_only_if_the_link_is_kept(app, pair):
    alice, bob, room_id = pair
    url = alice.upload(samples.png()).get_json()["user"]["avatar_url"]
    bob.ask("link:keep", {"room_id": room_id, "keep": True})
    bob.ask("room:leave", {"room_id": room_id})
    assert bob.http.get(url).status_code == 404
    alice.ask("link:keep", {"room_id": room_id, "keep": True})
    assert bob.http.get(url).status_code == 200


def test_pictures_that_are_not_pictures_or_too_large_are_refused(person):
    alice = person("alice")
    not_a_picture = alice.upload(b"<svg onload=alert(1)></svg>", "x.svg")
    assert not_a_picture.status_code == 400 and not_a_picture.get_json()["error"]["code"] == "bad_request"
    bomb = alice.upload(samples.decompression_bomb(), "bomb.png")
    assert bomb.status_code == 413 and bomb.get_json()["error"]["code"] == "too_large"
    missing = alice.http.post("/api/me/avatar", headers={"X-CSRFToken": alice.auth.csrf_token()})
    assert missing.status_code == 400
    assert alice.http.get("/api/me").get_json()["user"]["avatar_url"] is None


def test_a_new_picture_replaces_the_old_and_delete_removes_it(pair):
    alice, bob, _room_id = pair
    first = alice.upload(samples.png()).get_json()["user"]["avatar_url"]
    second = alice.upload(samples.jpeg_with_gps_and_comment()).get_json()["user"]["avatar_url"]
    assert first != second and bob.http.get(second).status_code == 200
    gone = alice.http.delete("/api/me/avatar", headers={"X-CSRFToken": alice.auth.csrf_token()})
    assert gone.status_code == 200 and gone.get_json()["user"]["avatar_url"] is None
    assert bob.http.get(second).status_code == 404


# --- reciprocal read receipts --------------------------------------------------------------

def test_hiding_read_receipts_hides_them_both_ways(pair):
    alice, bob, room_id = pair
    alice.patch({"read_receipts": False})
    send_text(alice.sock, room_id, "from alice")
    send_text(bob.sock, room_id, "from bob")
    alice.sock.get_received(), bob.sock.get_received()

    # Alice reads Bob's message: Bob does not see it read (delivered stays); Alice sees her own mark.
    own = alice.ask("message:read", {"room_id": room_id, "up_to_seq": 2})
    assert own["receipt"]["read_seq"] == 2
    to_bob = received(bob.sock, "receipt")
    assert to_bob == [{"room_id": room_id, "user_id": alice.id, "delivered_seq": 2, "read_seq": None}]
    assert received(alice.sock, "receipt")[0]["read_seq"] == 2

    # Bob reads Alice's message: Alice, who hides hers, does not see his either; Bob sees his own.
    bob.ask("message:read", {"room_id": room_id, "up_to_seq": 2})
    to_alice = received(alice.sock, "receipt")
    assert to_alice == [{"room_id": room_id, "user_id": bob.id, "delivered_seq": 2, "read_seq": None}]
    assert received(bob.sock, "receipt")[0]["read_seq"] == 2

    # The same through room:join.
    alice_view = alice.ask("room:join", {"room_id": room_id})["receipts"]
    bob_view = bob.ask("room:join", {"room_id": room_id})["receipts"]
    assert alice_view[str(bob.id)] == {"delivered_seq": 2, "read_seq": None}
    assert alice_view[str(alice.id)]["read_seq"] == 2
    assert bob_view[str(alice.id)] == {"delivered_seq": 2, "read_seq": None}
    assert bob_view[str(bob.id)]["read_seq"] == 2

    # Turned back on, both see both again.
    alice.patch({"read_receipts": True})
    assert bob.ask("room:join", {"room_id": room_id})["receipts"][str(alice.id)]["read_seq"] == 2


def test_read_marks_seen_is_reciprocal(app, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    with app.app_context():
        assert privacy.read_marks_seen(alice, bob) and privacy.read_marks_seen(bob, alice)
        db.session.get(User, bob).read_receipts = False
        db.session.commit()
        assert not privacy.read_marks_seen(alice, bob) and not privacy.read_marks_seen(bob, alice)
        assert privacy.read_marks_seen(bob, bob)


# --- reciprocal presence -------------------------------------------------------------------

def test_presence_seen_by_is_reciprocal(app, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    with app.app_context():
        users = {u.id: u for u in db.session.query(User)}
        users[alice].online = users[bob].online = True
        db.session.commit()
        assert privacy.presence_seen_by(alice, users[bob])[0] is True
        users[alice].show_presence = False
        db.session.commit()
        assert privacy.presence_seen_by(bob, users[alice]) == (False, None)
        assert privacy.presence_seen_by(alice, users[bob]) == (False, None)
        assert privacy.presence_seen_by(alice, users[alice])[0] is True
        assert privacy.presence_seen_by(None, users[alice]) == (False, None)
        assert privacy.presence_audience(users[alice], [bob]) == []
        assert privacy.presence_audience(users[bob], [alice]) == []


def test_hiding_presence_hides_it_both_ways_for_socket_clients(app, pair):
    alice, bob, room_id = pair

    def member(view, user_id):
        return next(m for m in view["room"]["members"] if m["id"] == user_id)

    assert member(bob.ask("room:join", {"room_id": room_id}), alice.id)["online"] is True
    alice.patch({"show_presence": False})
    # The partner is told at once, and Alice is told that she no longer sees him.
    to_bob = received(bob.sock, "user:updated")
    assert [(u["user"]["online"], u["user"]["last_seen"]) for u in to_bob] == [(False, None)]
    about_bob = [u["user"] for u in received(alice.sock, "user:updated") if u["user"]["id"] == bob.id]
    assert [(u["online"], u["last_seen"]) for u in about_bob] == [(False, None)]
    for viewer, other in ((bob, alice), (alice, bob)):
        seen = member(viewer.ask("room:join", {"room_id": room_id}), other.id)
        assert (seen["online"], seen["last_seen"]) == (False, None)
        listed = viewer.http.get("/api/rooms").get_json()["rooms"][0]
        assert next(m for m in listed["members"] if m["id"] == other.id)["online"] is False
    assert member(alice.ask("room:join", {"room_id": room_id}), alice.id)["online"] is True

    # Presence events stop both ways.
    with app.app_context():
        announce.presence(presence.news(alice.id))
        announce.presence(presence.news(bob.id))
    assert received(bob.sock, "presence") == [] and received(alice.sock, "presence") == []


def test_a_former_partner_hears_of_profile_changes_but_never_sees_presence(pair):
    """After a link ended (not kept) both stay in each other's list and hear of a new name, but
    neither a profile change nor switching one's own presence off and on again carries the
    other's presence."""
    alice, bob, room_id = pair
    assert alice.ask("room:leave", {"room_id": room_id})["ok"]
    alice.sock.get_received(), bob.sock.get_received()

    bob.patch({"display_name": "Bobby"})
    about_bob = received(alice.sock, "user:updated")
    assert [(u["user"]["display_name"], u["user"]["online"], u["user"]["last_seen"]) for u in about_bob] == [
        ("Bobby", False, None)]
    # Bob's own tabs still see Bob as he is.
    assert [u["user"]["online"] for u in received(bob.sock, "user:updated")] == [True]

    alice.patch({"show_presence": False})
    alice.patch({"show_presence": True})
    seen = [u["user"] for u in received(alice.sock, "user:updated") if u["user"]["id"] == bob.id]
    assert len(seen) == 2 and all((u["online"], u["last_seen"]) == (False, None) for u in seen)
    about_alice = received(bob.sock, "user:updated")
    assert about_alice and all((u["user"]["online"], u["user"]["last_seen"]) == (False, None) for u in about_alice)


def test_an_incoming_call_shows_the_caller_as_privacy_allows(pair):
    alice, bob, room_id = pair
    alice.patch({"show_presence": False})
    bob.sock.get_received()
    assert alice.ask("call:invite", {"room_id": room_id, "media": "audio"})["ok"]
    incoming = received(bob.sock, "call:incoming")
    assert incoming and incoming[0]["from"]["online"] is False and incoming[0]["from"]["last_seen"] is None


def test_a_blocked_person_gets_no_profile_updates(pair):
    alice, bob, _room_id = pair
    assert alice.http.post(f"/api/users/{bob.id}/block",
                           headers={"X-CSRFToken": alice.auth.csrf_token()}).status_code == 200
    bob.sock.get_received()
    alice.patch({"display_name": "New me"})
    assert received(bob.sock, "user:updated") == []


def test_profile_changes_are_rate_limited(app, person):
    app.config["RATE_PROFILE"] = (2, 60)
    alice = person("alice")
    assert [alice.patch({"display_name": f"A{n}"}).status_code for n in range(3)] == [200, 200, 429]
    assert alice.http.get("/api/me").get_json()["user"]["display_name"] == "A1"

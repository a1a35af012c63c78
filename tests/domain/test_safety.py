"""Safety: block, report, rate limits, who may touch what, sessions, headers."""
import time
import uuid

import pytest
import requests
import socketio as socketio_client
from limits.storage import memory as limits_storage_memory

from heartlink import create_app
from heartlink.errors import RateLimited
from heartlink.extensions import db
from heartlink.models import Attachment, Block, Call, Connection, Message, Reaction, Report, Room, RoomMember
from heartlink.worker import limits

import media_samples as samples
from support import PASSWORD, AuthActions, EventClient, bearer_headers, browser_session, eventually, received, send_text

# --- who may touch what ----------------------------------------------------------------------

def _state(app):
    """Everything a stranger's request could change."""
    with app.app_context():
        return (
            [(r.id, r.status, r.last_seq, r.active_call_id) for r in db.session.query(Room).order_by(Room.id)],
            [(m.room_id, m.user_id, m.delivered_seq, m.read_seq) for m in db.session.query(RoomMember)],
            [(m.id, m.text, m.deleted, m.edited_at) for m in db.session.query(Message).order_by(Message.id)],
            [(r.message_id, r.user_id, r.emoji) for r in db.session.query(Reaction)],
            [(c.id, c.state) for c in db.session.query(Call)],
            db.session.query(Attachment).count(), db.session.query(Report).count(),
        )


def test_a_stranger_is_forbidden_every_event_and_endpoint_and_nothing_changes(app, sock):
    alice, bob, eve = sock("alice"), sock("bob"), sock("eve")
    alice.emit("match:start", {}, callback=True)
    room_id = bob.emit("match:start", {}, callback=True)["room"]["id"]
    message = alice.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "mine"},
                         callback=True)["message"]
    call_id = alice.emit("call:invite", {"room_id": room_id, "media": "video"}, callback=True)["call_id"]
    http = {name: app.test_client() for name in ("alice", "eve")}
    for name, client in http.items():
        AuthActions(client).login(name)
    token = AuthActions(http["alice"]).csrf_token()
    picture = http["alice"].post(f"/api/rooms/{room_id}/attachments", headers={"X-CSRFToken": token},
                                 data={"kind": "image", "file": (__import__("io").BytesIO(samples.png()), "p.png")},
                                 content_type="multipart/form-data").get_json()
    before = _state(app)

    ref = {"room_id": room_id}
    on_message = {**ref, "message_id": message["id"]}
    events = [
        ("room:join", {**ref, "since_seq": 0}), ("room:leave", ref),
        ("message:send", {**ref, "client_id": str(uuid.uuid4()), "text": "x"}),
        ("message:delivered", {**ref, "up_to_seq": 1}), ("message:read", {**ref, "up_to_seq": 1}),
        ("message:edit", {**on_message, "text": "changed"}), ("message:delete", on_message),
        ("message:hide", on_message),
        ("message:react", {**on_message, "emoji": "😀"}), ("typing", {**ref, "typing": True}),
        ("call:invite", {**ref, "media": "audio"}), ("call:accept", {"call_id": call_id}),
        ("call:decline", {"call_id": call_id}), ("call:cancel", {"call_id": call_id}),
        ("call:hangup", {"call_id": call_id}), ("call:signal", {"call_id": call_id, "data": {"sdp": "x"}}),
    ]
    for event, payload in events:
        ack = eve.emit(event, payload, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", (event, ack)

    eve_token = AuthActions(http["eve"]).csrf_token()
    endpoints = [
        ("get", f"/api/rooms/{room_id}/messages", {}),
        ("post", f"/api/rooms/{room_id}/attachments",
         {"data": {"kind": "file", "file": (__import__("io").BytesIO(b"x"), "x.txt")},
          "content_type": "multipart/form-data"}),
        ("get", picture["url"], {}), ("get", picture["thumb_url"], {}),
        ("post", "/api/reports", {"json": {"room_id": room_id, "reason": "spam"}}),
    ]
    for method, url, kwargs in endpoints:
        response = getattr(http["eve"], method)(url, headers={"X-CSRFToken": eve_token}, **kwargs)
        assert response.status_code == 403, (method, url, response.status_code)
        assert response.get_json()["error"]["code"] == "forbidden"
    assert [e for e in eve.get_received() if e["name"] in ("message:new", "message:updated", "receipt")] == []
    assert _state(app) == before


def test_only_the_author_may_edit_or_delete_and_reactions_toggle(sock):
    alice, bob = sock("alice"), sock("bob")
    alice.emit("match:start", {}, callback=True)
    room_id = bob.emit("match:start", {}, callback=True)["room"]["id"]
    sent = alice.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "hi"},
                      callback=True)["message"]
    target = {"room_id": room_id, "message_id": sent["id"]}
    assert bob.emit("message:edit", {**target, "text": "bob was here"}, callback=True)["error"]["code"] == "forbidden"
    assert bob.emit("message:delete", target, callback=True)["error"]["code"] == "forbidden"
    edited = alice.emit("message:edit", {**target, "text": "hello"}, callback=True)["message"]
    assert edited["text"] == "hello" and edited["edited_at"]
    reacted = bob.emit("message:react", {**target, "emoji": "❤️"}, callback=True)["message"]
    assert list(reacted["reactions"]) == ["❤️"]
    assert bob.emit("message:react", {**target, "emoji": "abc"}, callback=True)["error"]["code"] == "bad_request"
    assert bob.emit("message:react", {**target, "emoji": "❤️"}, callback=True)["message"]["reactions"] == {}
    updates = [update["message"] for update in received(alice, "message:updated")]
    assert [u["text"] for u in updates][-1] == "hello" and len(updates) == 3
    gone = alice.emit("message:delete", target, callback=True)["message"]
    assert gone["deleted"] and gone["text"] is None


# --- block and report ------------------------------------------------------------------------

def test_blocking_ends_the_link_at_once_and_keeps_the_two_apart(app, sock, client):
    alice, bob = sock("alice"), sock("bob")
    alice.emit("match:start", {}, callback=True)
    room = bob.emit("match:start", {}, callback=True)["room"]
    bob_id = next(m["id"] for m in room["members"] if m["username"] == "bob")
    bob.get_received()
    blocked = client.post(f"/api/users/{bob_id}/block", headers=bearer_headers(client, "alice"))
    assert blocked.status_code == 200 and [b["username"] for b in blocked.get_json()["blocked"]] == ["bob"]
    ended = received(bob, "room:ended")
    assert ended and ended[0]["reason"] == "blocked"
    alice.emit("match:start", {}, callback=True)
    assert bob.emit("match:start", {}, callback=True)["state"] == "waiting"
    assert client.post("/api/users/999/block", headers=bearer_headers(client, "alice")).status_code == 404
    unblocked = client.delete(f"/api/users/{bob_id}/block", headers=bearer_headers(client, "alice"))
    assert unblocked.get_json()["blocked"] == []
    with app.app_context():
        assert db.session.query(Block).count() == 0


def test_a_report_keeps_its_snapshot_after_the_link_ends(app, sock, client, runner):
    alice, bob = sock("alice"), sock("bob")
    alice.emit("match:start", {}, callback=True)
    room_id = bob.emit("match:start", {}, callback=True)["room"]["id"]

    def say(person, text):
        return person.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": text},
                           callback=True)["message"]

    say(bob, "I know where you live.")
    rude = say(bob, "rude words")
    say(alice, "Stop.")
    filed = client.post("/api/reports", headers=bearer_headers(client, "alice"),
                        json={"room_id": room_id, "reason": "insults", "message_id": rude["id"]})
    assert filed.status_code == 201
    bad = client.post("/api/reports", headers=bearer_headers(client, "alice"), json={"room_id": room_id, "reason": ""})
    assert bad.status_code == 400
    bob.emit("message:delete", {"room_id": room_id, "message_id": rude["id"]}, callback=True)
    alice.emit("room:leave", {"room_id": room_id}, callback=True)
    with app.app_context():
        report = db.session.query(Report).one()
        # The quoted message and what led up to it, not what came after.
        assert report.reason == "insults" and report.message_id == rude["id"]
        assert [m["text"] for m in report.snapshot["messages"]] == ["I know where you live.", "rude words"]
    listing = runner.invoke(args=["reports", "list"]).output
    assert "insults" in listing and "rude words" in listing


# --- rate limits -----------------------------------------------------------------------------

def test_a_flood_gets_rate_limited_stays_connected_and_the_partner_keeps_chatting(linked):
    started = time.monotonic()
    a, b, room_id = linked()  # alice's one event so far: match:start
    limit, window = 30, 10  # HEARTLINK_RATE_MESSAGES default: 30 in any 10 s
    events_limit = 200  # HEARTLINK_RATE_EVENTS default: 200 events in any 10 s
    sends = [a.timed_ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": f"spam {i}"})
             for i in range(10 * limit)]
    accepted = [(sent, acked) for sent, acked, ack in sends if ack["ok"]]
    limited = [ack for _, _, ack in sends if not ack["ok"]]
    assert all(ack["ok"] for _, _, ack in sends[:limit])  # nothing counted before these
    assert limited and all(ack["error"]["code"] == "rate_limited" and ack["error"]["retry_after"] >= 1
                           for ack in limited)
    # The rule itself, however long the flood took: no `limit + 1` accepted sends within one window
    # (the server accepted each between its `sent` and `acked`)...
    for first, last in zip(accepted, accepted[limit:], strict=False):  # each with the one `limit` later
        assert last[1] - first[0] >= window
    # ...and a refusal only when a window was full: `limit` messages, or `events_limit` events.
    for index, (sent, _, ack) in enumerate(sends):
        if not ack["ok"]:
            recent = [acked for _, acked, _ in sends[:index] if acked > sent - window]
            recent_accepted = [acked for _, acked in accepted if sent - window < acked <= sent]
            assert len(recent_accepted) >= limit or 1 + len(recent) >= events_limit
    assert a.connected
    reply = b.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "still here"})
    assert reply["ok"]
    assert a.wait_for("message:new", lambda m: m["message"]["text"] == "still here")
    # Past RATE_EVENTS too, any further event is refused while the window holds `events_limit`
    # of them: match:start and the first sends all counted, so while they are all in the window...
    sent, _, join = a.timed_ask("room:join", {"room_id": room_id})
    if sent - started < window:
        assert join["error"]["code"] == "rate_limited"
    assert a.connected
    for client in (a, b):
        client.disconnect()


def test_a_burst_across_a_window_boundary_is_refused(app, monkeypatch):
    """At most N in any W seconds, wherever the windows would start: 30 sends just before
    a fixed window's end and 30 just after it are not 60."""
    clock = {"now": 1_000_009.9}
    fake_time = type("FakeTime", (), {"time": staticmethod(lambda: clock["now"])})
    monkeypatch.setattr(limits_storage_memory, "time", fake_time)
    monkeypatch.setattr(limits, "time", fake_time)
    app.config["RATE_MESSAGES"] = (30, 10)
    with app.app_context():
        for _ in range(30):
            limits.check("RATE_MESSAGES", "alice")
        clock["now"] += 0.2  # 1_000_010.1: a fixed window would have started afresh
        with pytest.raises(RateLimited) as refused:
            limits.check("RATE_MESSAGES", "alice")
        assert refused.value.details["retry_after"] == 10  # the first of the 30 leaves the window in 9.8 s
        limits.check("RATE_MESSAGES", "bob")  # per person
        clock["now"] += 9.85  # 1_000_019.95: the 30 are more than 10 s old
        for _ in range(30):
            limits.check("RATE_MESSAGES", "alice")
        with pytest.raises(RateLimited):
            limits.check("RATE_MESSAGES", "alice")


def test_wrong_passwords_back_off_for_that_username_and_address_only(app, client, auth, make_user):
    make_user("alice")
    app.config["LOGIN_BACKOFF_BASE"] = 600  # the wait outlasts the test, however slow the machine
    statuses = [auth.login("alice", "wrong-password").status_code for _ in range(7)]
    free = app.config["LOGIN_FREE_FAILURES"]
    assert statuses[:free + 1] == [200] * (free + 1) and statuses[free + 1:] == [429]
    assert auth.login("alice").status_code == 429  # from this address, even the right password waits
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert AuthActions(elsewhere).login("alice").status_code == 302  # Alice herself is not locked out


def test_token_requests_back_off_after_wrong_passwords(app, client, make_user):
    make_user("alice")
    app.config["LOGIN_BACKOFF_BASE"] = 600
    codes = [client.post("/api/token", json={"username": "alice", "password": "nope-nope"}).status_code
             for _ in range(app.config["LOGIN_FREE_FAILURES"] + 2)]
    assert codes[:-1] == [401] * (len(codes) - 1) and codes[-1] == 429
    assert client.post("/api/token", json={"username": "alice"}).get_json()["error"]["code"] == "rate_limited"


# --- sessions --------------------------------------------------------------------------------

def _cookie_socket(server, http):
    client = EventClient()
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    client.connect(server.url, headers={"Cookie": cookie})
    return client


def test_logging_out_closes_that_sign_ins_sockets_at_once(live_server):
    live_server.make_user("alice")
    http, token = browser_session(live_server, "alice")
    tab = _cookie_socket(live_server, http)
    elsewhere = live_server.connect("alice")  # another device, signed in with a token
    http.post(live_server.url + "/logout", data={"csrf_token": token})
    assert tab.closed.wait(5)
    assert not tab.connected
    assert elsewhere.connected and elsewhere.ask("match:cancel")["ok"]
    elsewhere.disconnect()


def test_changing_the_password_closes_every_socket_and_voids_old_tokens(live_server):
    alice_id = live_server.make_user("alice")
    http, token = browser_session(live_server, "alice")
    old_token = live_server.token("alice")
    device = live_server.connect("alice")
    changed = http.post(live_server.url + "/settings/password", allow_redirects=False, data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": "a-brand-new-secret"})
    assert changed.status_code == 302
    assert device.closed.wait(5)

    def open_sockets():
        with live_server.app.app_context():
            return db.session.query(Connection).filter_by(user_id=alice_id).count()

    eventually(lambda: open_sockets() == 0)  # forgotten, though its session no longer names anyone
    refused = EventClient()
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        refused.connect(live_server.url, auth={"token": old_token})
    me = requests.get(live_server.url + "/api/me", headers={"Authorization": f"Bearer {old_token}"})
    assert me.status_code == 401
    assert http.get(live_server.url + "/api/me").status_code == 200  # this browser stays signed in


def test_sockets_per_person_are_capped(live_server):
    live_server.make_user("alice")
    token = live_server.token("alice")
    tabs = [live_server.connect("alice", token) for _ in range(10)]
    refused = []
    extra = EventClient()
    extra.on("connect_error", lambda data: refused.append(data))
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        extra.connect(live_server.url, auth={"token": token})
    assert refused[0]["data"]["code"] == "rate_limited"
    tabs[0].disconnect()
    again = live_server.connect("alice", token)
    assert again.connected
    for tab in tabs[1:] + [again]:
        tab.disconnect()


def test_a_foreign_origin_with_a_valid_session_is_refused(live_server):
    live_server.make_user("alice")
    http, _token = browser_session(live_server, "alice")
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    hijack = socketio_client.Client(reconnection=False)
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        hijack.connect(live_server.url, transports=["websocket"], wait_timeout=5,
                       headers={"Cookie": cookie, "Origin": "http://evil.example"})
    polling = requests.get(live_server.url + "/socket.io/?EIO=4&transport=polling",
                           headers={"Cookie": cookie, "Origin": "http://evil.example"})
    assert polling.status_code == 400
    same_site = requests.get(live_server.url + "/socket.io/?EIO=4&transport=polling",
                             headers={"Cookie": cookie, "Origin": live_server.url})
    assert same_site.status_code == 200


# --- headers and secrets ---------------------------------------------------------------------

def test_pages_carry_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_app_refuses_to_start_in_production_without_a_secret_key():
    from config import Config

    production = type("Production", (Config,), {"ENV_NAME": "production", "SECRET_KEY": None})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(production)


def test_rate_limits_count_in_the_worker_while_redis_is_unreachable(app, caplog):
    """A queue configured but Redis gone: events are still limited (here, locally), never failed."""
    app.config["SOCKETIO_MESSAGE_QUEUE"] = "redis://127.0.0.1:1/0"  # nothing listens there
    app.config["RATE_MESSAGES"] = (3, 10)
    limits.init_app(app)
    with app.app_context():
        for _ in range(3):
            limits.check("RATE_MESSAGES", "alice")
        with pytest.raises(RateLimited):
            limits.check("RATE_MESSAGES", "alice")
    assert caplog.text.count("rate-limit counters unreachable") == 1


def test_what_a_person_stores_in_a_day_has_a_budget(app, linked_sockets):
    """Two accounts stored 8 MB in 30 s within the message rate (11.6 GB a day each). Text that a
    person stores (messages and edits) now comes out of a daily budget of characters; past it the
    ack says rate_limited with the time until the budget's day ends, and nothing is stored."""
    alice, bob, room_id = linked_sockets
    app.config["BUDGET_MESSAGE_TEXT"] = (10_000, 86_400)
    assert send_text(alice, room_id, "a" * 4_000)["ok"]
    sent = send_text(alice, room_id, "b" * 4_000)
    assert sent["ok"]
    refused = send_text(alice, room_id, "c" * 4_000)
    assert refused["ok"] is False and refused["error"]["code"] == "rate_limited"
    assert 86_000 < refused["error"]["retry_after"] <= 86_400
    edit = alice.emit("message:edit", {"room_id": room_id, "message_id": sent["message"]["id"], "text": "d" * 100},
                      callback=True)
    assert edit["error"]["code"] == "rate_limited"
    assert send_text(bob, room_id, "Bob has his own budget")["ok"]
    with app.app_context():
        assert [m.text[:1] for m in db.session.query(Message).order_by(Message.seq)] == ["a", "b", "B"]


def test_budgets_count_in_the_worker_while_redis_is_unreachable(app):
    app.config["SOCKETIO_MESSAGE_QUEUE"] = "redis://127.0.0.1:1/0"  # nothing listens there
    app.config["BUDGET_MESSAGE_TEXT"] = (100, 60)
    limits.init_app(app)
    with app.app_context():
        limits.spend("BUDGET_MESSAGE_TEXT", "alice", 60)
        limits.spend("BUDGET_MESSAGE_TEXT", "alice", 40)
        with pytest.raises(RateLimited):
            limits.spend("BUDGET_MESSAGE_TEXT", "alice", 1)
        limits.spend("BUDGET_MESSAGE_TEXT", "bob", 100)


def test_a_budget_is_one_for_every_worker_through_redis(app, redis_url):
    app.config["SOCKETIO_MESSAGE_QUEUE"] = redis_url
    app.config["SOCKETIO_CHANNEL"] = f"heartlink-test-{uuid.uuid4().hex}"
    app.config["BUDGET_MESSAGE_TEXT"] = (100, 60)
    with app.app_context():
        limits.init_app(app)  # one worker
        limits.spend("BUDGET_MESSAGE_TEXT", "alice", 70)
        limits.init_app(app)  # another, with counters of its own in memory but the same Redis
        with pytest.raises(RateLimited):
            limits.spend("BUDGET_MESSAGE_TEXT", "alice", 40)

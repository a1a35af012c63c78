"""The moderation console over HTTP and Socket.IO: a 404 for everyone but moderators, CSRF on every
action, decisions that change standing and write the audit row, a required note, the reads, appeals,
rate limits, live reports and decisions in the moderators' room, warnings a person acknowledges, and
the sign-in page of a restricted person."""
import io
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from heartlink.domain import attachments, links, moderation, safety
from heartlink.domain.moderation import CLI
from heartlink.extensions import db, socketio
from heartlink.live import announce
from heartlink.models import AccountWarning, ModerationEntry, Report, User, utcnow
from heartlink.worker import sweeper

import media_samples as samples
from support import PASSWORD, AuthActions, bearer_headers, match, received, received_by_event, store_message, store_text

NOTE = "Insults in two links."


def _signed_in(app, username):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def _csrf(client):
    """The CSRF token of the signed-in session, as the page has it in <meta name="csrf-token">."""
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def _body(answer):
    """An answer's body, without the page's CSRF token (signed with the time, so it changes by the second)."""
    return re.sub(rb'name="csrf-token" content="[^"]*"', b"", answer.get_data())


def _moderator(app, make_user, name="mod"):
    mod = make_user(name)
    with app.app_context():
        moderation.set_moderator(mod, True, CLI, "The first moderator.")
    return mod


def _report(app, reporter, reported, text="rude words", picture=False):
    """`reporter` and `reported` share a link (ended at once) and `reporter` reports it; the report's id."""
    with app.app_context():
        room = match(reporter, reported)
        store_text(room.id, reported, text)
        if picture:
            uploaded = attachments.upload(room.id, reported, "image", "p.png", io.BytesIO(samples.png((320, 240))))
            store_message(room.id, reported, str(uuid.uuid4()), "image", attachment_id=uploaded.id)
        links.leave(room.id, reporter)
        return safety.report(reporter, room.id, "insults").report.id


def _state(app, report_id):
    with app.app_context():
        return db.session.get(Report, report_id, populate_existing=True).state


def _entries(app, subject_id):
    with app.app_context():
        return db.session.execute(select(ModerationEntry).where(ModerationEntry.subject_id == subject_id)
                                  .order_by(ModerationEntry.id)).scalars().all()


def _user(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id, populate_existing=True)


# --- nobody but a moderator finds the console ---------------------------------------------------------

_READS = ["/moderation", "/moderation/log", "/moderation/log?user=bob", "/api/moderation/reports",
          "/api/moderation/people/{bob}", "/api/moderation/reports/{report}/evidence/1", "/api/moderation/appeals",
          "/api/moderation/log", "/api/moderation/decisions"]  # the last: a GET on a POST-only endpoint
_WRITES = ["/api/moderation/decisions", "/api/moderation/appeals/1/decision", "/moderation", "/moderation/log"]


def test_every_console_page_and_endpoint_is_a_404_for_anyone_but_a_moderator(app, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user, "held_mod")
    report = _report(app, alice, bob, picture=True)
    with app.app_context():
        moderation.hold(db.session.execute(select(User.id).where(User.username == "held_mod")).scalar(), NOTE, CLI)
    anonymous = app.test_client()
    signed_in = _signed_in(app, "alice")
    held_moderator = _signed_in(app, "held_mod")  # a moderator not in good standing decides nothing
    with_token = app.test_client()
    token = bearer_headers(with_token, "alice")
    for who, client, headers in (("anonymous", anonymous, {}), ("alice", signed_in, {"X-CSRFToken": _csrf(signed_in)}),
                                 ("held moderator", held_moderator, {"X-CSRFToken": _csrf(held_moderator)}),
                                 ("token", with_token, token)):
        unknown_page = client.get("/no-such-page", headers=headers)
        unknown_api = client.get("/api/no-such-endpoint", headers=headers)
        for path in _READS:
            answer = client.get(path.format(bob=bob, report=report), headers=headers)
            unknown = unknown_api if path.startswith("/api/") else unknown_page
            # The very answer an address nobody serves gets: the console does not say it exists.
            assert (answer.status_code, _body(answer)) == (404, _body(unknown)), (who, path)
        for path in _WRITES:
            for extra in ({}, headers):  # without and with the session's CSRF token
                answer = client.post(path, json={"action": "ban", "note": NOTE, "subject_id": bob}, headers=extra)
                unknown = unknown_api if path.startswith("/api/") else unknown_page
                assert (answer.status_code, _body(answer)) == (404, _body(unknown)), (who, path, extra)
    assert _state(app, report) == "open" and _user(app, bob).standing == "active"


def test_a_moderator_reaches_every_page_and_read(app, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user)
    report = _report(app, alice, bob, picture=True)
    mod = _signed_in(app, "mod")
    for path in _READS[:-1]:
        assert mod.get(path.format(bob=bob, report=report)).status_code == 200, path
    assert mod.get("/api/moderation/decisions").status_code == 405


# --- cross-site requests ------------------------------------------------------------------------------

def test_a_decision_without_the_session_s_csrf_token_or_from_another_site_is_refused(app, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user)
    report = _report(app, alice, bob)
    mod = _signed_in(app, "mod")
    body = {"action": "ban", "note": NOTE, "report_ids": [report]}
    for headers in ({}, {"X-CSRFToken": "forged-token"}, {"X-CSRFToken": _csrf(app.test_client())}):
        refused = mod.post("/api/moderation/decisions", json=body, headers=headers)
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "bad_request", headers
        appeal_refused = mod.post("/api/moderation/appeals/1/decision", json={"decision": "upheld", "note": NOTE},
                                  headers=headers)
        assert appeal_refused.status_code == 400, headers
    assert _state(app, report) == "open" and _user(app, bob).standing == "active"
    assert [entry.action for entry in _entries(app, bob)] == []


def test_a_decision_sent_from_another_site_s_page_is_refused_even_with_the_token(app, make_user):
    """Browsers send Origin with every cross-site request: only this site's (or an allowed one) may decide."""
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user)
    report = _report(app, alice, bob)
    mod = _signed_in(app, "mod")
    token = _csrf(mod)
    body = {"action": "dismiss", "note": NOTE, "report_ids": [report]}
    for origin in ("http://evil.example", "null", "http://localhost:8080"):
        refused = mod.post("/api/moderation/decisions", json=body, headers={"X-CSRFToken": token, "Origin": origin})
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden", origin
        assert mod.post("/api/moderation/appeals/1/decision", json={"decision": "upheld", "note": NOTE},
                        headers={"X-CSRFToken": token, "Origin": origin}).status_code == 403
    assert _state(app, report) == "open"
    app.config["ALLOWED_ORIGINS"] = ["http://localhost:8080"]  # HEARTLINK_ALLOWED_ORIGINS
    allowed = mod.post("/api/moderation/decisions", json=body,
                       headers={"X-CSRFToken": token, "Origin": "http://localhost:8080"})
    assert allowed.status_code == 200 and _state(app, report) == "dismissed"
    second = _report(app, alice, bob)
    same_site = mod.post("/api/moderation/decisions", json={**body, "report_ids": [second]},
                         headers={"X-CSRFToken": token, "Origin": "http://localhost"})
    assert same_site.status_code == 200 and _state(app, second) == "dismissed"


def test_over_https_a_decision_must_come_from_the_console_s_own_origin(app, make_user):
    """Over https the CSRF check also compares the Referer with the host (Flask-WTF's strict SSL
    mode): a request that another site's page makes is refused even with the right token."""
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user)
    report = _report(app, alice, bob)
    mod, https = app.test_client(), {"base_url": "https://heartlink.test"}
    login_page = mod.get("/login", **https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert mod.post("/login", data={"username": "mod", "password": PASSWORD, "csrf_token": token},
                    headers={"Referer": "https://heartlink.test/login"}, **https).status_code == 302
    console = mod.get("/moderation", **https).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', console).group(1)
    body = {"action": "dismiss", "note": NOTE, "report_ids": [report]}
    for referer in ("https://evil.example/moderation", "http://heartlink.test/moderation", None):
        headers = {"X-CSRFToken": token, **({"Referer": referer} if referer else {})}
        refused = mod.post("/api/moderation/decisions", json=body, headers=headers, **https)
        assert refused.status_code == 400, referer
    assert _state(app, report) == "open"
    same_site = mod.post("/api/moderation/decisions", json=body, **https,
                         headers={"X-CSRFToken": token, "Referer": "https://heartlink.test/moderation"})
    assert same_site.status_code == 200 and _state(app, report) == "dismissed"


# --- decisions ------------------------------------------------------------------------------------------

def test_a_moderator_s_decisions_change_standing_and_each_writes_its_audit_row(app, make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    mod = _moderator(app, make_user)
    first, second = _report(app, alice, bob), _report(app, carol, bob)
    client = _signed_in(app, "mod")
    headers = {"X-CSRFToken": _csrf(client)}

    before = utcnow()
    answer = client.post("/api/moderation/decisions", headers=headers, json={
        "action": "suspend", "note": NOTE, "reason": "You insulted people.", "subject_id": bob, "days": 7})
    assert answer.status_code == 200, answer.get_json()
    decision = answer.get_json()["decision"]
    assert (decision["subject_id"], decision["report_ids"], decision["standing"]) == (bob, [first, second], "suspended")
    person = _user(app, bob)
    assert (person.standing, person.standing_reason) == ("suspended", "You insulted people.")
    assert timedelta(days=7) <= person.standing_until - before < timedelta(days=7, minutes=1)
    (entry,) = _entries(app, bob)
    assert (entry.id, entry.action, entry.actor, entry.actor_id, entry.note, entry.report_ids) == (
        decision["action_id"], "suspend", "moderator", mod, NOTE, [first, second])
    assert _state(app, first) == _state(app, second) == "actioned"

    restored = client.post("/api/moderation/decisions", headers=headers,
                           json={"action": "restore", "note": "Appeal heard.", "subject_id": bob})
    assert restored.status_code == 200 and _user(app, bob).standing == "active"

    # One report, a suspension until a chosen moment (the console sends the moderator's local midnight).
    third = _report(app, alice, bob)
    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0).astimezone(timezone(timedelta(hours=8)))
    answer = client.post("/api/moderation/decisions", headers=headers, json={
        "action": "suspend", "note": NOTE, "report_ids": [third], "until": until.isoformat()})
    assert answer.status_code == 200
    assert _user(app, bob).standing_until == until.astimezone(UTC).replace(tzinfo=None)
    assert answer.get_json()["decision"]["until"] == until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    fourth = _report(app, alice, carol)
    assert client.post("/api/moderation/decisions", headers=headers,
                       json={"action": "warn", "note": "Please be kind.", "report_ids": [fourth]}).status_code == 200
    with app.app_context():
        assert [w["reason"] for w in moderation.pending_warnings(carol)] == ["Please be kind."]
    fifth = _report(app, make_user("dave"), carol)
    assert client.post("/api/moderation/decisions", headers=headers,
                       json={"action": "dismiss", "note": "Nothing wrong.", "report_ids": [fifth]}).status_code == 200
    assert _state(app, fifth) == "dismissed"
    assert [entry.action for entry in _entries(app, carol)] == ["warn", "dismiss"]
    # Decided already: a conflict, and nothing changes.
    again = client.post("/api/moderation/decisions", headers=headers,
                        json={"action": "ban", "note": NOTE, "report_ids": [fifth]})
    assert again.status_code == 409 and _user(app, carol).standing == "active"


@pytest.mark.parametrize("note", [None, "", "   \n ", "x" * 1001])
def test_every_decision_needs_a_note(app, make_user, note):
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user)
    report = _report(app, alice, bob)
    client = _signed_in(app, "mod")
    headers = {"X-CSRFToken": _csrf(client)}
    body = {"action": "ban", "report_ids": [report], **({"note": note} if note is not None else {})}
    refused = client.post("/api/moderation/decisions", headers=headers, json=body)
    assert refused.status_code == 400
    assert (refused.get_json()["error"]["code"], refused.get_json()["error"]["field"]) == ("bad_request", "note")
    appeal = client.post("/api/moderation/appeals/1/decision", headers=headers,
                         json={"decision": "upheld", **({"note": note} if note is not None else {})})
    assert appeal.status_code in (400, 404)  # a note is checked before the appeal is looked for, where it is given
    assert _state(app, report) == "open" and _user(app, bob).standing == "active"
    assert _entries(app, bob) == []


def test_a_decision_s_other_fields_are_checked(app, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user)
    report = _report(app, alice, bob)
    client = _signed_in(app, "mod")
    headers = {"X-CSRFToken": _csrf(client)}
    for body, field in (({"action": "delete"}, "action"),
                        ({"action": "suspend"}, "until"),  # neither days nor until
                        ({"action": "suspend", "days": 3}, "days"),
                        ({"action": "suspend", "days": 7, "until": "2099-01-01T00:00:00+00:00"}, "until"),
                        ({"action": "suspend", "until": "2099-01-01T00:00:00"}, "until"),  # no offset
                        ({"action": "suspend", "until": "2001-01-01T00:00:00Z"}, "until"),  # the past
                        ({"action": "suspend", "until": 4102444800}, "until"),  # a number, not a time
                        ({"action": "warn", "days": 7}, "until"),  # only a suspension has an end
                        ({"action": "ban", "until": "2099-01-01T00:00:00+00:00"}, "until"),
                        ({"action": "ban", "report_ids": ["1"]}, "report_ids.0"),
                        ({"action": "ban", "report_ids": None, "subject_id": None}, "report_ids")):
        full = {"note": NOTE, "report_ids": [report], **body}
        refused = client.post("/api/moderation/decisions", headers=headers, json=full)
        assert refused.status_code == 400 and refused.get_json()["error"]["field"] == field, (body, refused.get_json())
    # A body that is no JSON object is said to be so, not blamed on a field.
    as_json = {**headers, "Content-Type": "application/json"}
    for data in ("{not json", "[1, 2]", ""):
        refused = client.post("/api/moderation/decisions", headers=as_json, data=data)
        error = refused.get_json()["error"]
        assert refused.status_code == 400 and "field" not in error and "JSON object" in error["message"], data
    assert _state(app, report) == "open"


def test_decisions_are_limited_per_moderator(app, make_user):
    app.config["RATE_MODERATION"] = (2, 60)
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user)
    reports = [_report(app, alice, bob) for _ in range(3)]
    client = _signed_in(app, "mod")
    headers = {"X-CSRFToken": _csrf(client)}
    answers = [client.post("/api/moderation/decisions", headers=headers,
                           json={"action": "dismiss", "note": NOTE, "report_ids": [one]}) for one in reports]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].get_json()["error"]["retry_after"] >= 1 and _state(app, reports[2]) == "open"


# --- what the console reads --------------------------------------------------------------------------

def test_the_console_reads_reports_records_pictures_appeals_and_the_log(app, make_user):
    alice, bob, carol, dave = (make_user(name) for name in ("alice", "bob", "carol", "dave"))
    _moderator(app, make_user)
    older = _report(app, alice, carol)
    pictured = _report(app, alice, bob, picture=True)
    with app.app_context():
        moderation.hold(bob, NOTE, CLI, report_ids=[pictured])
        moderation.ban(dave, "Threats.", CLI)
    client = _signed_in(app, "mod")

    page = client.get("/api/moderation/reports?page=1&limit=1").get_json()
    assert [r["id"] for r in page["reports"]] == [pictured] and (page["total"], page["has_more"]) == (2, True)
    assert page["reports"][0]["reported"]["standing"] == "held"  # held people first
    assert client.get("/api/moderation/reports?page=2&limit=1").get_json()["reports"][0]["id"] == older
    assert client.get("/api/moderation/reports?page=0").status_code == 400

    quoted = [m for m in page["reports"][0]["snapshot"]["messages"] if m.get("evidence_item")]
    picture = client.get(f"/api/moderation/reports/{pictured}/evidence/{quoted[0]['evidence_item']}")
    assert picture.status_code == 200 and picture.mimetype == "image/png" and picture.data.startswith(b"\x89PNG")
    assert picture.headers["X-Content-Type-Options"] == "nosniff"
    assert picture.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "private" in picture.headers["Cache-Control"]
    assert client.get(f"/api/moderation/reports/{pictured}/evidence/9").status_code == 404

    record = client.get(f"/api/moderation/people/{bob}").get_json()
    assert (record["person"]["username"], record["links"], record["open_reports"], record["reporters_24h"]) == (
        "bob", 1, 1, 1)
    assert [action["action"] for action in record["actions"]] == ["hold"]
    assert client.get("/api/moderation/people/999999").status_code == 404
    # An id no database holds is an unknown path, not an overflow in the driver.
    huge = 2**64
    for path in (f"/api/moderation/people/{huge}", f"/api/moderation/reports/{huge}/evidence/1",
                 f"/api/moderation/reports/{pictured}/evidence/{huge}", "/api/moderation/people/0"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/api/moderation/appeals/{huge}/decision", json={"action": "uphold", "note": NOTE},
                       headers={"X-CSRFToken": _csrf(client)}).status_code == 404

    with app.app_context():
        appealed = moderation.appeal("dave", PASSWORD, "I was joking.")
    appeals = client.get("/api/moderation/appeals").get_json()["appeals"]
    assert [(a["id"], a["person"]["username"], a["action"]["action"]) for a in appeals] == [
        (appealed.appeal_id, "dave", "ban")]

    log = client.get("/api/moderation/log?limit=2").get_json()
    assert [entry["action"] for entry in log["entries"]] == ["ban", "hold"]
    rest = client.get(f"/api/moderation/log?limit=2&before_id={log['next_before_id']}").get_json()
    assert [entry["action"] for entry in rest["entries"]] == ["moderator_add"] and rest["next_before_id"] is None
    about_bob = client.get(f"/api/moderation/log?subject_id={bob}").get_json()["entries"]
    assert [entry["subject_username"] for entry in about_bob] == ["bob"]

    everyone = client.get("/moderation/log").get_data(as_text=True)
    assert everyone.count('data-testid="log-entry"') == 3 and "Threats." in everyone
    one = client.get("/moderation/log?user=dave").get_data(as_text=True)
    assert one.count('data-testid="log-entry"') == 1 and "Threats." in one and NOTE not in one
    nobody = client.get("/moderation/log?user=zed").get_data(as_text=True)
    assert 'data-testid="log-unknown"' in nobody and 'data-testid="log-entry"' not in nobody


def test_the_log_page_pages_back_fifty_at_a_time(app, make_user):
    bob = make_user("bob")
    _moderator(app, make_user)
    with app.app_context():
        for index in range(60):
            moderation.warn(bob, f"note {index}", CLI)
    client = _signed_in(app, "mod")
    first = client.get("/moderation/log?user=bob").get_data(as_text=True)
    assert first.count('data-testid="log-entry"') == 50 and "note 59" in first and "note 9<" not in first
    older = re.search(r'data-testid="log-older" href="([^"]+)"', first) or re.search(
        r'href="([^"]+)" data-testid="log-older"', first)
    rest = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert rest.count('data-testid="log-entry"') == 10 and "note 0<" in rest and 'data-testid="log-older"' not in rest


# --- appeals --------------------------------------------------------------------------------------------

def test_a_moderator_restores_a_person_who_appealed_or_upholds_the_decision(app, make_user):
    bob, carol = make_user("bob"), make_user("carol")
    mod = _moderator(app, make_user)
    with app.app_context():
        moderation.suspend(bob, utcnow() + timedelta(days=30), NOTE, CLI)
        moderation.ban(carol, "Threats.", CLI)
    anonymous = app.test_client()
    bobs = anonymous.post("/api/appeals", json={"username": "bob", "password": PASSWORD, "text": "Sorry."})
    carols = anonymous.post("/api/appeals", json={"username": "carol", "password": PASSWORD, "text": "Unfair."})
    client = _signed_in(app, "mod")
    headers = {"X-CSRFToken": _csrf(client)}

    restored = client.post(f"/api/moderation/appeals/{bobs.get_json()['id']}/decision", headers=headers,
                           json={"decision": "restored", "note": "A first time."})
    assert restored.status_code == 200 and restored.get_json()["decision"]["standing"] == "active"
    assert _user(app, bob).standing == "active"
    assert [(e.action, e.actor_id) for e in _entries(app, bob)] == [("suspend", None), ("appeal_restored", mod)]
    upheld = client.post(f"/api/moderation/appeals/{carols.get_json()['id']}/decision", headers=headers,
                         json={"decision": "upheld", "note": "Threats are never a joke."})
    assert upheld.status_code == 200 and upheld.get_json()["decision"]["standing"] is None
    assert _user(app, carol).standing == "banned"
    again = client.post(f"/api/moderation/appeals/{carols.get_json()['id']}/decision", headers=headers,
                        json={"decision": "restored", "note": "Changed my mind."})
    assert again.status_code == 409 and _user(app, carol).standing == "banned"
    assert client.get("/api/moderation/appeals").get_json()["appeals"] == []


# --- live: the moderators' room ---------------------------------------------------------------------------

def _socket(app, username):
    http = _signed_in(app, username)
    return socketio.test_client(app, flask_test_client=http), http


def test_moderators_hear_new_reports_appeals_and_decisions_and_nobody_else_does(app, make_user, runner):
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user)
    _moderator(app, make_user, "mod2")
    moderator, mod_http = _socket(app, "mod")
    other_moderator, _ = _socket(app, "mod2")
    with app.app_context():
        room = match(alice, bob)
        store_text(room.id, bob, "rude words")
    alice_socket, alice_http = _socket(app, "alice")
    received(alice_socket, "match:found")

    filed = alice_http.post("/api/reports", json={"room_id": room.id, "reason": "insults"},
                            headers={"X-CSRFToken": _csrf(alice_http)})
    assert filed.status_code == 201
    (heard,) = received(moderator, "moderation:report")
    report = heard["report"]
    assert (report["id"], report["reason"]) == (filed.get_json()["id"], "insults")
    assert report["reported"]["username"] == "bob"
    assert report["snapshot"]["messages"][-1]["text"] == "rude words"
    assert "moderation:report" not in received_by_event(alice_socket)

    # A decision in one console: every console hears it, the decider's too.
    received(other_moderator, "moderation:report")
    decided = mod_http.post("/api/moderation/decisions", headers={"X-CSRFToken": _csrf(mod_http)},
                            json={"action": "warn", "note": NOTE, "report_ids": [report["id"]]})
    assert decided.status_code == 200
    (heard,) = received(other_moderator, "moderation:decided")
    assert heard == decided.get_json()["decision"] and heard["report_ids"] == [report["id"]]
    assert "moderation:decided" not in received_by_event(alice_socket)

    # An appeal reaches the consoles too.
    with app.app_context():
        moderation.ban(bob, "Threats.", CLI)
    assert app.test_client().post("/api/appeals", json={"username": "bob", "password": PASSWORD,
                                                        "text": "Please."}).status_code == 201
    (heard,) = received(moderator, "moderation:appeal")
    assert (heard["appeal"]["person"]["username"], heard["appeal"]["text"]) == ("bob", "Please.")

    # No longer a moderator: their sockets leave the room at once.
    assert runner.invoke(args=["moderators", "remove", "mod2"]).exit_code == 0
    received(other_moderator, "moderation:report")
    alice_http.post("/api/reports", json={"room_id": room.id, "reason": "again"},
                    headers={"X-CSRFToken": _csrf(alice_http)})
    assert len(received(moderator, "moderation:report")) == 1
    assert received(other_moderator, "moderation:report") == []
    for client in (moderator, other_moderator, alice_socket):
        client.disconnect()


def test_a_moderator_s_sockets_are_in_the_room_only_while_in_good_standing(app, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    mod = _moderator(app, make_user)

    def heard_of_a_report():
        report = _report(app, alice, bob)
        with app.app_context():
            announce.report_filed(moderation.open_report(report))
        return bool(received(moderator, "moderation:report"))

    with app.app_context():
        announce.decided(moderation.hold(mod, NOTE, CLI))
    moderator, _ = _socket(app, "mod")  # connects while held: not in the room
    assert not heard_of_a_report()
    with app.app_context():
        announce.decided(moderation.restore(mod, "Held by mistake.", CLI))
    assert heard_of_a_report()  # restored: in the room, without connecting again
    with app.app_context():
        announce.decided(moderation.hold(mod, NOTE, CLI))
    assert not heard_of_a_report()
    moderator.disconnect()


def test_a_moderator_removed_where_no_message_queue_reaches_leaves_the_room_at_the_next_sweep(app, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    _moderator(app, make_user)
    mod2, mod3 = _moderator(app, make_user, "mod2"), _moderator(app, make_user, "mod3")
    staying, _ = _socket(app, "mod")
    removed, _ = _socket(app, "mod2")
    held, _ = _socket(app, "mod3")
    with app.app_context():
        # As `flask moderators remove` and `flask users hold` run in their own process without a
        # message queue: the database changes, and nothing reaches this worker's sockets.
        moderation.set_moderator(mod2, False, CLI, "No longer a moderator.")
        moderation.hold(mod3, NOTE, CLI)
        sweeper.sweep()
        report = _report(app, alice, bob)
        announce.report_filed(moderation.open_report(report))
    assert [heard["report"]["id"] for heard in received(staying, "moderation:report")] == [report]
    assert received(removed, "moderation:report") == [] and received(held, "moderation:report") == []
    for client in (staying, removed, held):
        client.disconnect()


# --- warnings, as the person sees them ------------------------------------------------------------------

def test_a_warning_is_on_the_page_until_its_person_acknowledges_it_in_any_tab(app, make_user):
    bob, carol = make_user("bob"), make_user("carol")
    with app.app_context():
        first = moderation.warn(bob, "Please be kind.", CLI)
        moderation.warn(carol, "Not yours.", CLI)
        carols = db.session.execute(select(AccountWarning.id).where(AccountWarning.user_id == carol)).scalar()
    client = _signed_in(app, "bob")
    page = client.get("/").get_data(as_text=True)
    assert "data-warnings=" in page and "Please be kind." in page
    assert [w["id"] for w in client.get("/api/me/warnings").get_json()["warnings"]] == [first.warning_id]
    other_tab, _ = _socket(app, "bob")

    headers = {"X-CSRFToken": _csrf(client)}
    assert client.post(f"/api/me/warnings/{carols}/acknowledge", headers=headers).status_code == 404
    assert client.post(f"/api/me/warnings/{first.warning_id}/acknowledge").status_code == 400  # no CSRF token
    done = client.post(f"/api/me/warnings/{first.warning_id}/acknowledge", headers=headers)
    assert done.status_code == 200 and done.get_json()["warning"]["acknowledged_at"]
    assert received(other_tab, "account:warning_acknowledged") == [{"id": first.warning_id}]
    assert client.get("/api/me/warnings").get_json()["warnings"] == []
    assert "Please be kind." not in client.get("/").get_data(as_text=True)
    assert app.test_client().post(f"/api/me/warnings/{first.warning_id}/acknowledge").status_code == 401
    other_tab.disconnect()


def test_the_app_page_of_a_moderator_links_to_the_console(app, make_user):
    make_user("alice")
    _moderator(app, make_user)
    assert 'data-testid="moderation-link"' in _signed_in(app, "mod").get("/").get_data(as_text=True)
    assert 'data-testid="moderation-link"' not in _signed_in(app, "alice").get("/").get_data(as_text=True)


# --- the sign-in page of a restricted person -------------------------------------------------------------

def test_the_sign_in_page_of_a_suspended_person_says_why_until_when_and_offers_an_appeal(app, client, make_user):
    bob, carol = make_user("bob"), make_user("carol")
    until = utcnow() + timedelta(days=7)
    with app.app_context():
        moderation.suspend(bob, until, NOTE, CLI, reason="You insulted <b>people</b>.")
        moderation.ban(carol, "Threats.", CLI)
    page = AuthActions(client).login("bob")
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    panel = re.search(r'<section class="restricted".*?</section>', html, re.S).group(0)
    assert 'data-standing="suspended"' in panel and "hidden" not in panel.split(">", 1)[0]
    assert f'<time datetime="{until.isoformat(timespec="milliseconds")}Z">' in panel
    assert "You insulted &lt;b&gt;people&lt;/b&gt;." in panel  # as text, never markup
    assert 'data-testid="appeal-form"' in panel and 'data-username="bob"' in panel
    # Only its script sends the appeal (JSON): the button waits for it, and a native send could only be a POST.
    assert 'data-testid="appeal-submit" disabled' in panel and 'method="post" data-testid="appeal-form"' in panel
    assert re.search(r'data-testid="sign-in-part"\s+hidden', html)
    banned = AuthActions(client).login("carol").get_data(as_text=True)
    assert 'data-standing="banned"' in banned and 'data-until=""' in banned and "Threats." in banned
    assert 'data-testid="restricted-until" hidden' in banned
    fresh = app.test_client().get("/login").get_data(as_text=True)  # anyone else: the sign-in form alone
    assert 'data-testid="restricted"' not in fresh and 'data-testid="appeal-password"' not in fresh
    assert not re.search(r'data-testid="sign-in-part"\s+hidden', fresh)


def test_once_appealed_the_sign_in_page_says_where_the_appeal_stands_instead_of_offering_another(
        app, client, make_user):
    bob = make_user("bob")
    with app.app_context():
        moderation.ban(bob, "Threats.", CLI)

    def panel():
        html = AuthActions(app.test_client()).login("bob").get_data(as_text=True)
        return re.search(r'<section class="restricted".*?</section>', html, re.S).group(0)

    assert re.search(r'data-testid="appeal-sent"\s+hidden', panel())  # the form, nothing sent yet
    with app.app_context():
        appealed = moderation.appeal("bob", PASSWORD, "I was joking.")
    waiting = panel()
    assert re.search(r'data-testid="appeal-form" novalidate\s+hidden', waiting)
    assert "You appealed on" in waiting and "A moderator will read your appeal" in waiting
    with app.app_context():
        moderation.decide_appeal(appealed.appeal_id, "upheld", NOTE, CLI)
    answered = panel()
    assert re.search(r'data-testid="appeal-form" novalidate\s+hidden', answered)
    assert "A moderator read your appeal on" in answered and "the decision stands" in answered
    with app.app_context():
        moderation.ban(bob, "Threats again.", CLI)  # a new decision: a new appeal may go against it
    assert re.search(r'data-testid="appeal-sent"\s+hidden', panel())


def test_a_suspended_person_sent_to_sign_in_by_their_page_sees_why_at_once(app, client, make_user):
    """Their cookie no longer signs them in, but still says who they are: the sign-in page tells them,
    and offers the appeal, without asking them to sign in first."""
    bob = make_user("bob")
    AuthActions(client).login("bob")
    with app.app_context():
        moderation.ban(bob, NOTE, CLI, reason="Threats against another person.")
    sent_away = client.get("/rooms/whatever")
    assert sent_away.status_code == 302 and sent_away.headers["Location"].startswith("/login")
    page = client.get(sent_away.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-standing="banned"' in html
    assert "Threats against another person." in html and 'value="bob" data-testid="appeal-username"' in html
    assert 'data-testid="flash-error"' not in html  # said once, in the panel
    with app.app_context():
        moderation.restore(bob, "Appeal heard.", CLI)
    assert 'data-testid="restricted"' not in client.get("/login").get_data(as_text=True)

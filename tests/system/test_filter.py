"""The blocked-terms filter and the links rule on a real server process (HEARTLINK_BLOCKED_TERMS
set to a file this module writes), through real Socket.IO clients and HTTP: the shared table of
cases, edits, captions, display names, the refusal counts in the moderators' record, the rate
limit before the filter, and SIGHUP reloading the list."""
import os
import signal
import uuid
from datetime import timedelta

import pytest
import requests

from heartlink.domain import moderation
from heartlink.extensions import db
from heartlink.models import Message, User

from filter_cases import BLOCKED_TERMS, CASES
from support import eventually, fresh_names

FLOOD_LIMIT = 100


@pytest.fixture(scope="module")
def terms_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("terms") / "blocked-terms.txt"
    path.write_text(BLOCKED_TERMS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def module_server_settings(terms_file):
    # Room for the table of cases in one window; the flood below goes past it.
    return {"HEARTLINK_BLOCKED_TERMS": str(terms_file), "HEARTLINK_RATE_MESSAGES": f"{FLOOD_LIMIT}/600"}


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


@pytest.fixture
def pair(server):
    """pair(aged=False) -> (first's name, a, b, room_id): two fresh people linked over websockets;
    the first one's account made two days ago when `aged` (before it connects: the socket keeps it)."""
    made = []

    def link(aged=False):
        first, second = fresh_names("filter")
        server.make_user(first)
        server.make_user(second)
        if aged:
            with server.app.app_context():
                user = db.session.execute(db.select(User).filter_by(username=first)).scalar_one()
                user.created_at -= timedelta(days=2)
                db.session.commit()
        a, b = server.connect(first), server.connect(second)
        made.extend((a, b))
        assert a.ask("match:start")["state"] == "waiting"
        room_id = b.ask("match:start")["room"]["id"]
        a.wait_for("match:found")
        return first, a, b, room_id

    yield link
    for client in made:
        if client.connected:
            client.disconnect()


def _refusals(server, username):
    with server.app.app_context():
        user_id = db.session.execute(db.select(User.id).filter_by(username=username)).scalar_one()
        return moderation.person_record(user_id)["refusals"]


def _stored_texts(server, room_id):
    with server.app.app_context():
        return [row.text for row in db.session.execute(
            db.select(Message).filter_by(room_id=room_id).order_by(Message.seq)).scalars()]


def test_every_case_through_message_send_from_a_new_account(server, pair):
    first, a, b, room_id = pair()
    passed, terms, links = [], 0, 0
    for text, blocked, link in CASES:
        ack = a.send_text(room_id, text)
        if blocked or link:
            assert not ack["ok"], text
            error = ack["error"]
            assert error["code"] == "filtered" and error["kind"] == ("term" if blocked else "link"), (text, error)
            assert "rules" in error["message"] or "links" in error["message"]
            assert text not in error["message"]  # never which term
            if not blocked:
                assert error["allowed_at"].endswith("Z")
                links += 1
            else:
                terms += 1
        else:
            assert ack["ok"], (text, ack)
            passed.append(ack["message"]["seq"])
    # Nothing refused was stored or took a seq; the partner heard only what passed.
    assert _stored_texts(server, room_id) == [text for text, blocked, link in CASES if not (blocked or link)]
    assert passed == list(range(passed[0], passed[0] + len(passed)))
    heard = [b.wait_for("message:new")["message"]["seq"] for _ in passed]
    assert heard == passed
    assert terms > 20 and links > 15
    assert _refusals(server, first) == {"term": terms, "link": links, "age": 0}


def test_an_account_older_than_a_day_sends_links_but_never_blocked_terms(server, pair):
    _first, a, _b, room_id = pair(aged=True)
    assert a.send_text(room_id, "see example.com and https://heart.example")["ok"]
    ack = a.send_text(room_id, "ＢＡＤ")
    assert ack["error"]["code"] == "filtered" and ack["error"]["kind"] == "term" and "allowed_at" not in ack["error"]


def test_an_edit_and_a_caption_are_refused_and_leave_nothing_changed(server, pair):
    first, a, _b, room_id = pair()
    sent = a.send_text(room_id, "hello")["message"]
    edited = a.ask("message:edit", {"room_id": room_id, "message_id": sent["id"], "text": "so b\u200bad"})
    assert edited["error"]["code"] == "filtered" and edited["error"]["kind"] == "term"
    edited = a.ask("message:edit", {"room_id": room_id, "message_id": sent["id"], "text": "go to example。com"})
    assert edited["error"]["code"] == "filtered" and edited["error"]["kind"] == "link"
    assert _stored_texts(server, room_id) == ["hello"]

    token = server.token(first)
    response = requests.post(f"{server.url}/api/rooms/{room_id}/attachments",
                             headers={"Authorization": f"Bearer {token}"},
                             data={"kind": "file"}, files={"file": ("notes.txt", b"some notes")})
    assert response.status_code == 201, response.text
    attachment_id = response.json()["id"]
    # A file name the partner would read is held to the same list.
    refused = requests.post(f"{server.url}/api/rooms/{room_id}/attachments",
                            headers={"Authorization": f"Bearer {token}"},
                            data={"kind": "file"}, files={"file": ("so-ＢＡＤ.txt", b"some notes")})
    assert refused.status_code == 422 and refused.json()["error"]["kind"] == "term", refused.text
    ack = a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": "file",
                                 "attachment_id": attachment_id, "text": "free money inside"})
    assert ack["error"]["code"] == "filtered" and ack["error"]["kind"] == "term"
    assert _stored_texts(server, room_id) == ["hello"]
    # The upload is still free for the send that follows.
    ack = a.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": "file",
                                 "attachment_id": attachment_id, "text": "my notes"})
    assert ack["ok"], ack
    assert _refusals(server, first) == {"term": 3, "link": 1, "age": 0}


def test_a_display_name_with_a_blocked_term_is_refused_over_http(server):
    username, _other = fresh_names("name")
    server.make_user(username, "Heart")
    headers = {"Authorization": f"Bearer {server.token(username)}"}
    for name in ("Ｂad Person", "坏蛋小王"):
        response = requests.patch(f"{server.url}/api/me", headers=headers, json={"display_name": name})
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "filtered" and error["kind"] == "term" and "Bad" not in error["message"]
    # A name is no message: links are for the messages rule; "class" holds no "ass".
    response = requests.patch(f"{server.url}/api/me", headers=headers, json={"display_name": "Classy"})
    assert response.status_code == 200 and response.json()["user"]["display_name"] == "Classy"
    assert _refusals(server, username) == {"term": 2, "link": 0, "age": 0}


def test_the_message_rate_limit_comes_before_the_filter(server, pair):
    """A flood of refused messages: the first RATE_MESSAGES are refused and counted, the rest
    are rate limited before the filter reads them (and not counted)."""
    first, a, _b, room_id = pair()
    codes = [a.send_text(room_id, f"spam {index}")["error"]["code"] for index in range(FLOOD_LIMIT + 10)]
    assert codes == ["filtered"] * FLOOD_LIMIT + ["rate_limited"] * 10
    assert _refusals(server, first)["term"] == FLOOD_LIMIT


def test_sighup_reloads_the_list_on_the_running_worker(server, pair, terms_file):
    _first, a, _b, room_id = pair()
    assert a.send_text(room_id, "zorblax")["ok"]
    terms_file.write_text(BLOCKED_TERMS + "zorblax\n/(/\n", encoding="utf-8")
    logged = server.log_path.stat().st_size
    os.kill(server.process.pid, signal.SIGHUP)
    eventually(lambda: "blocked terms: 8 loaded" in server.logged_since(logged), timeout=20, what="the reload")
    assert "line 11 skipped: not a valid regex" in server.logged_since(logged)
    ack = a.send_text(room_id, "ZORBLAX!")
    assert ack["error"]["code"] == "filtered" and ack["error"]["kind"] == "term"
    assert server.process.poll() is None

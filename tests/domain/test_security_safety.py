"""What one ordinary account can no longer do to others: list accounts, track a
blocker or an old partner, fill the disk with reports or uploads, spoof file names,
forge lines in the moderator's terminal, or react with invisible characters."""
import json
import threading
import uuid

import pytest

from heartlink.domain import presence
from heartlink.extensions import db
from heartlink.lib import media
from heartlink.live import announce
from heartlink.models import Attachment, Block, Connection, Report

from support import PASSWORD, AuthActions, app_over, bearer_headers, link_test_clients, received, upload

# --- enumeration ------------------------------------------------------------------------------

def test_block_and_unblock_cannot_list_accounts_or_show_presence(app, sock, client, make_user):
    alice, bob, room_id, ids = link_test_clients(sock)
    stranger = make_user("carol")
    headers = bearer_headers(client, "alice")
    # Someone never linked with answers exactly like an id nobody has.
    for target in (stranger, 999_999):
        for method in (client.post, client.delete):
            answer = method(f"/api/users/{target}/block", headers=headers)
            assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    with app.app_context():
        assert db.session.query(Block).count() == 0
    blocked = client.post(f"/api/users/{ids['bob']}/block", headers=headers).get_json()["blocked"]
    assert blocked == [{"id": ids["bob"], "username": "bob", "display_name": "bob",
                        "blocked_at": blocked[0]["blocked_at"]}]
    listed = client.get("/api/blocks", headers=headers).get_json()["blocked"]
    assert all("online" not in person and "last_seen" not in person for person in listed)
    assert client.delete(f"/api/users/{ids['bob']}/block", headers=headers).get_json() == {"blocked": []}


def test_blocks_are_rate_limited(app, sock, client):
    _a, _b, _room, ids = link_test_clients(sock)
    headers = bearer_headers(client, "alice")
    limit = app.config["RATE_BLOCKS"][0]
    codes = [client.post(f"/api/users/{ids['bob']}/block", headers=headers).status_code for _ in range(limit + 1)]
    assert codes[:limit] == [200] * limit and codes[limit] == 429


# --- presence ---------------------------------------------------------------------------------

def test_presence_goes_only_to_an_active_partner_with_no_block(app, sock, make_user):
    alice, bob, room_id, ids = link_test_clients(sock)
    with app.app_context():
        assert presence.audience(ids["bob"]) == [ids["alice"]]
        db.session.add(Block(blocker_id=ids["alice"], blocked_id=ids["bob"]))  # a block, link not yet ended
        db.session.commit()
        assert presence.audience(ids["bob"]) == [] and presence.audience(ids["alice"]) == []
        db.session.query(Block).delete()
        db.session.commit()
    alice.emit("room:leave", {"room_id": room_id}, callback=True)
    alice.get_received()
    with app.app_context():
        assert presence.audience(ids["bob"]) == []
        announce.presence(presence.news(ids["bob"]))  # bob comes or goes: his old partner hears nothing
    assert received(alice, "presence") == []


def test_a_blocked_person_no_longer_sees_the_blockers_presence(app, sock, client):
    alice, bob, room_id, ids = link_test_clients(sock)
    client.post(f"/api/users/{ids['bob']}/block", headers=bearer_headers(client, "alice"))
    bob.get_received()
    with app.app_context():
        announce.presence(presence.news(ids["alice"]))
    assert received(bob, "presence") == []
    rooms = client.get("/api/rooms", headers=bearer_headers(client, "bob")).get_json()["rooms"]
    alice_there = next(m for m in rooms[0]["members"] if m["id"] == ids["alice"])
    assert alice_there["online"] is False and alice_there["last_seen"] is None


def test_ended_links_show_no_presence_in_the_room_list_or_room_view(app, sock, client):
    alice, bob, room_id, ids = link_test_clients(sock)
    live = client.get("/api/rooms", headers=bearer_headers(client, "alice")).get_json()["rooms"][0]
    assert next(m for m in live["members"] if m["id"] == ids["bob"])["online"] is True
    alice.emit("room:leave", {"room_id": room_id}, callback=True)
    ended = client.get("/api/rooms", headers=bearer_headers(client, "alice")).get_json()["rooms"][0]
    bob_there = next(m for m in ended["members"] if m["id"] == ids["bob"])
    me = next(m for m in ended["members"] if m["id"] == ids["alice"])
    assert bob_there["online"] is False and bob_there["last_seen"] is None and me["online"] is True
    joined = alice.emit("room:join", {"room_id": room_id}, callback=True)["room"]
    assert next(m for m in joined["members"] if m["id"] == ids["bob"])["last_seen"] is None


# --- reports ----------------------------------------------------------------------------------

def test_reports_are_rate_limited_bounded_and_budgeted(app, sock, client):
    """100 reports of 50 padded messages grew the database by 302 MB; now each report's
    copy is bounded, reports are rate limited, and a day's budget per person holds."""
    alice, bob, room_id, ids = link_test_clients(sock)
    app.config["RATE_MESSAGES"] = (1000, 10)
    app.config["RATE_EVENTS"] = (1000, 10)
    padding = "\U0001F600" * 3999  # stored as \\u escapes: 12 bytes a character
    for _ in range(30):
        assert bob.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": padding},
                        callback=True)["ok"]
    headers = bearer_headers(client, "alice")
    limit = app.config["RATE_REPORTS"][0]
    codes = [client.post("/api/reports", headers=headers, json={"room_id": room_id, "reason": "spam"}).status_code
             for _ in range(limit + 1)]
    assert codes == [201] * limit + [429]
    with app.app_context():
        for report in db.session.query(Report):
            assert len(json.dumps(report.snapshot).encode()) <= app.config["REPORT_SNAPSHOT_BYTES"] + 2048
            assert len(report.snapshot["messages"]) <= app.config["REPORT_SNAPSHOT_MESSAGES"]
            assert report.snapshot["messages"][-1]["text"].startswith("\U0001F600")
    app.config["RATE_REPORTS"] = (1000, 600)
    app.config["REPORTS_PER_DAY"] = limit + 2
    codes = [client.post("/api/reports", headers=headers, json={"room_id": room_id, "reason": "spam"}).status_code
             for _ in range(3)]
    assert codes == [201, 201, 429]
    with app.app_context():
        assert db.session.query(Report).count() == limit + 2


def test_report_text_loses_control_and_bidi_characters_and_the_cli_prints_it_escaped(app, sock, client, runner):
    alice, bob, room_id, ids = link_test_clients(sock)
    bob.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()),
                              "text": "hi\x1b[2J\x1b[31m\nFORGED report #999\u202e"}, callback=True)
    reason = "rude\x1b]0;owned\x07\u202eevil\u200b\x85 words\nsecond line"
    assert client.post("/api/reports", headers=bearer_headers(client, "alice"),
                       json={"room_id": room_id, "reason": reason}).status_code == 201
    with app.app_context():
        stored = db.session.query(Report).one().reason
    assert stored == "rude]0;ownedevil words\nsecond line"
    output = runner.invoke(args=["reports", "list"]).output
    assert "\x1b" not in output and "\u202e" not in output and "\x07" not in output and "\x85" not in output
    assert not any(line.startswith("FORGED") or line.startswith("second line") for line in output.splitlines())
    assert "\\x1b[2J" in output and "\\u202e" in output


# --- uploads ----------------------------------------------------------------------------------

def test_file_names_cannot_spoof_their_extension_or_hide_characters(app, sock):
    _alice, _bob, room_id, _ids = link_test_clients(sock)
    http = app.test_client()
    AuthActions(http).login("alice")
    names = {
        "invoice\u202egpj.exe": "invoicegpj.exe",
        "a\u200bb\u200dc\u2066d\u2069e\ufeff.txt": "abcde.txt",
        "c1\x85\x9bcontrol.txt": "c1control.txt",
        "tab\there.txt": "tabhere.txt",
        "\u202e": "file",
        "\u3164\u2800\u034f.txt": "txt",
        "photo.jpg" + " " * 100 + ".exe": "photo.jpg .exe",
        "pic\ufe0f\u3164ture.png": "picture.png",
    }
    for given, expected in names.items():
        answer = upload(http, room_id, b"plain bytes", "file", given)
        assert answer.status_code == 201 and answer.get_json()["filename"] == expected, (given, answer.get_json())


def test_uploads_over_the_daily_budget_get_413(app, sock):
    _alice, _bob, room_id, _ids = link_test_clients(sock)
    http = app.test_client()
    AuthActions(http).login("alice")
    app.config["UPLOAD_BUDGET_BYTES"] = 2500
    assert upload(http, room_id, b"x" * 1000, "file", "one.bin").status_code == 201
    assert upload(http, room_id, b"x" * 1000, "file", "two.bin").status_code == 201
    over = upload(http, room_id, b"x" * 1000, "file", "three.bin")
    assert over.status_code == 413
    assert over.get_json()["error"]["code"] == "too_large" and over.get_json()["error"]["budget"] == 2500


# --- reactions --------------------------------------------------------------------------------

@pytest.mark.parametrize("emoji", ["!", "...", "\u200d", "\ufe0f", "\u200b", "\u202e", "a", "😀😀", "😀 ", "1", "🇫"])
def test_a_reaction_must_be_one_emoji(sock, emoji):
    alice, bob, room_id, _ids = link_test_clients(sock)
    sent = alice.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "text": "hi"},
                      callback=True)["message"]
    target = {"room_id": room_id, "message_id": sent["id"]}
    refused = bob.emit("message:react", {**target, "emoji": emoji}, callback=True)
    assert refused["ok"] is False and refused["error"]["code"] == "bad_request"
    for fine in ("👍🏽", "❤️", "👨‍👩‍👧", "🇫🇷", "1️⃣"):
        assert bob.emit("message:react", {**target, "emoji": fine}, callback=True)["ok"]


def test_uploads_at_once_cannot_each_find_the_budget_unspent(app, sock, monkeypatch):
    """30 uploads at once against a budget of 5: the budget was checked before the decode and
    the row written after it, so every upload found it unspent. Now the row is reserved with
    the check, one person's uploads one at a time, and only what fits is stored."""
    _alice, _bob, room_id, _ids = link_test_clients(sock)
    app.config["UPLOAD_BUDGET_BYTES"] = 5 * 1000
    # Every upload that got past the budget waits here until all 30 have (or 3 s pass), so
    # that all of them are between the budget check and the stored row at the same moment.
    past_the_check = threading.Barrier(30, timeout=3)
    probe = media.probe_video  # what a "file" upload is looked at with, between check and row

    def probe_when_all_are_past_the_check(data):
        try:
            past_the_check.wait()
        except threading.BrokenBarrierError:
            pass
        return probe(data)

    monkeypatch.setattr(media, "probe_video", probe_when_all_are_past_the_check)
    clients = []
    for _ in range(30):
        http = app.test_client()
        AuthActions(http).login("alice")
        clients.append(http)
    statuses = []

    def send(http, index):
        statuses.append(upload(http, room_id, b"x" * 1000, "file", f"part{index}.bin").status_code)

    threads = [threading.Thread(target=send, args=(http, index)) for index, http in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201] * 5 + [413] * 25
    with app.app_context():
        stored = db.session.query(Attachment).all()
        assert len(stored) == 5 and sum(attachment.size for attachment in stored) == 5000


def test_the_sockets_per_person_cap_holds_for_connects_at_once_on_postgresql(postgres_url, tmp_path):
    """Count-then-insert under READ COMMITTED let 100 connects at once across two workers leave
    20 sockets against a cap of 10; the count and the insert are now one person's at a time."""
    from heartlink.domain import accounts
    from heartlink.errors import RateLimited

    with app_over(postgres_url, UPLOAD_DIR=str(tmp_path / "uploads"), MAX_SOCKETS_PER_USER=10) as app:
        with app.app_context():
            user_id = accounts.create_user("alice", PASSWORD, vouched=True).id
        start = threading.Barrier(40, timeout=30)
        outcomes = []

        def connect(index):
            with app.app_context():
                start.wait()
                try:
                    presence.socket_connected(f"sid-{index}", user_id, f"w{index % 2}")
                    outcomes.append("connected")
                except RateLimited:
                    outcomes.append("refused")
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=connect, args=(index,)) for index in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(outcomes) == ["connected"] * 10 + ["refused"] * 30
        with app.app_context():
            assert db.session.query(Connection).filter_by(user_id=user_id).count() == 10

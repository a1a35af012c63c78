"""A person's own data over HTTP: the export (a zip streamed as it is written) holds what they see
and only their own uploads; deleting the account leaves "Deleted account"'s tombstones to the partner."""
import io
import json
import zipfile
from datetime import timedelta

import pytest

from heartlink.domain import accounts, moderation, own_data
from heartlink.errors import Conflict
from heartlink.extensions import db
from heartlink.models import Attachment, ModerationEntry, User, utcnow

import media_samples as samples
from support import PASSWORD, AuthActions, upload


def _picture_message(client, room_id, filename):
    answer = upload(client, room_id, samples.png(), "image", filename)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _send(sock, room_id, kind="text", text=None, attachment_id=None):
    import uuid

    ack = sock.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": kind,
                                     "text": text, "attachment_id": attachment_id}, callback=True)
    assert ack["ok"], ack
    return ack["message"]


@pytest.fixture
def chatted(app, sock):
    """Alice and Bob linked on sockets (and HTTP clients), each with a text and a picture sent;
    Alice deleted one of her texts. (alice_http, bob_http, room_id, sockets)."""
    alice, bob = sock("alice"), sock("bob")
    assert alice.emit("match:start", {}, callback=True)["state"] == "waiting"
    room_id = bob.emit("match:start", {}, callback=True)["room"]["id"]
    clients = {}
    for name in ("alice", "bob"):
        clients[name] = app.test_client()
        AuthActions(clients[name]).login(name)
    _send(alice, room_id, text="hello from alice")
    gone = _send(alice, room_id, text="regretted")
    assert alice.emit("message:delete", {"room_id": room_id, "message_id": gone["id"]}, callback=True)["ok"]
    _send(bob, room_id, text="hi alice ✨")
    mine = _picture_message(clients["alice"], room_id, "alice-cat.png")
    _send(alice, room_id, "image", attachment_id=mine["id"])
    theirs = _picture_message(clients["bob"], room_id, "bob-dog.png")
    _send(bob, room_id, "image", attachment_id=theirs["id"])
    return clients["alice"], clients["bob"], room_id, (alice, bob), mine, theirs


def _export(client):
    answer = client.get("/api/me/export")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "application/zip"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="heartlink-')
    return zipfile.ZipFile(io.BytesIO(answer.data))


def test_the_export_holds_every_link_as_the_person_sees_it_and_only_their_own_uploads(chatted):
    alice_http, _bob_http, room_id, _sockets, mine, theirs = chatted
    archive = _export(alice_http)
    names = archive.namelist()
    assert names[:2] == ["account.json", "links.json"]
    uploads = [name for name in names if name.startswith("uploads/")]
    assert uploads == [f"uploads/{mine['id'][:8]}-alice-cat.png"]
    assert archive.read(uploads[0]) == alice_http.get(mine["url"]).data
    assert not any(theirs["id"][:8] in name for name in names)

    account = json.loads(archive.read("account.json"))
    assert account["account"]["username"] == "alice" and account["account"]["settings"]["read_receipts"] is True
    (link,) = json.loads(archive.read("links.json"))
    assert link["id"] == room_id
    shown = alice_http.get(f"/api/rooms/{room_id}/messages?limit=100").get_json()["messages"]
    assert link["messages"] == shown
    assert [m["text"] for m in link["messages"]] == ["hello from alice", None, "hi alice ✨", None, None]
    assert link["messages"][1]["deleted"] is True


def test_exports_are_rate_limited(chatted, app):
    alice_http = chatted[0]
    app.config["RATE_EXPORT"] = (2, 3600)
    assert alice_http.get("/api/me/export").status_code == 200
    assert alice_http.get("/api/me/export").status_code == 200
    refused = alice_http.get("/api/me/export")
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"


def _delete(client, password):
    token = AuthActions(client).csrf_token("/")
    return client.delete("/api/me", json={"password": password}, headers={"X-CSRFToken": token})


def test_deleting_an_account_leaves_tombstones_and_frees_the_name_a_month_later(chatted, app):
    alice_http, bob_http, room_id, (alice_sock, bob_sock), mine, _theirs = chatted
    with app.app_context():
        alice_id = accounts.find_user("alice").id
        moderation.warn(alice_id, "be kind", moderation.CLI)
        audit = db.session.query(ModerationEntry).count()
        upload_path = own_data.attachments._path(mine["id"])
    assert upload_path.exists()

    wrong = _delete(alice_http, "not my password")
    assert wrong.status_code == 401
    deleted = _delete(alice_http, PASSWORD)
    assert deleted.status_code == 200 and deleted.get_json() == {"deleted": True}

    assert not alice_sock.is_connected()
    assert alice_http.get("/api/me").status_code == 401  # signed out
    assert AuthActions(app.test_client()).login("alice").status_code == 200  # the form again: refused
    assert app.test_client().post("/api/token", json={"username": "alice", "password": PASSWORD}).status_code == 401
    assert not upload_path.exists()

    history = bob_http.get(f"/api/rooms/{room_id}/messages").get_json()["messages"]
    from_alice = [m for m in history if m["sender_id"] == alice_id]
    assert from_alice and all(m["deleted"] and m["text"] is None and m["attachment"] is None for m in from_alice)
    assert [m["text"] for m in history if m["sender_id"] != alice_id] == ["hi alice ✨", None]
    room = next(r for r in bob_http.get("/api/rooms").get_json()["rooms"] if r["id"] == room_id)
    partner = next(member for member in room["members"] if member["id"] == alice_id)
    assert partner == {"id": alice_id, "username": "", "display_name": "Deleted account", "avatar_url": None,
                       "online": False, "last_seen": None, "deleted": True}
    assert room["status"] == "ended"
    updates = [args[0]["user"] for name, args in ((r["name"], r["args"]) for r in bob_sock.get_received())
               if name == "user:updated"]
    assert updates[-1]["display_name"] == "Deleted account"

    with app.app_context():
        assert db.session.query(ModerationEntry).count() == audit  # the audit log keeps what it holds
        assert db.session.query(Attachment).filter_by(uploader_id=alice_id).count() == 0
        with pytest.raises(Conflict):
            accounts.create_user("Alice", PASSWORD)  # reserved
        assert own_data.free_usernames(now=utcnow() + timedelta(days=29)) == 0
        assert own_data.free_usernames(now=utcnow() + timedelta(days=31)) == 1
        assert accounts.create_user("Alice", PASSWORD).id != alice_id
        assert db.session.get(User, alice_id).deleted_at is not None

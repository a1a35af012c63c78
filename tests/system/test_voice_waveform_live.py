"""A voice note's waveform on the real server (eventlet), over SQLite and PostgreSQL: the
decode runs off the event loop, so others are answered while it runs, and what it measured
is stored and sent with the note."""
import os
import threading
import uuid
from pathlib import Path

import pytest
import requests

import media_samples as samples
from support import LiveServer, eventually

HOOK = Path(__file__).parent / "hold_waveform"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, db_path):
    return db_path if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def test_others_are_answered_while_a_waveform_is_decoded_and_it_is_stored(database, tmp_path):
    hold = tmp_path / "hold"
    os.mkfifo(hold)
    pythonpath = os.pathsep.join(filter(None, [str(HOOK), os.environ.get("PYTHONPATH")]))
    server = LiveServer(database, tmp_path, PYTHONPATH=pythonpath, HOLD_WAVEFORM=str(hold))
    released = False
    try:
        alice_id, bob_id = server.make_user("alice"), server.make_user("bob")
        room_id = server.link(alice_id, bob_id)
        tokens = {name: server.token(name) for name in ("alice", "bob")}
        headers = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
        order, answers = [], {}

        def send_note():
            answers["upload"] = requests.post(
                f"{server.url}/api/rooms/{room_id}/attachments", headers=headers["alice"], timeout=60,
                data={"kind": "voice"}, files={"file": ("note.webm", samples.spoken_note(), "audio/webm")})
            order.append("upload answered")

        uploading = threading.Thread(target=send_note)
        uploading.start()
        eventually(lambda: Path(str(hold) + ".entered").exists(), timeout=30, what="the decode started")
        # The decode is held in the middle: the worker still answers someone else.
        rooms = requests.get(f"{server.url}/api/rooms", headers=headers["bob"], timeout=30)
        assert rooms.status_code == 200
        order.append("rooms answered")
        os.close(os.open(hold, os.O_WRONLY))  # let the decode go on
        released = True
        uploading.join(60)
        assert order == ["rooms answered", "upload answered"]
        note = answers["upload"].json()
        assert answers["upload"].status_code == 201 and len(note["waveform"]) == 64

        alice = server.connect("alice", tokens["alice"])
        try:
            sent = alice.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": "voice",
                                              "attachment_id": note["id"]})
            assert sent["ok"] and sent["message"]["attachment"]["waveform"] == note["waveform"]
        finally:
            alice.disconnect()
        history = requests.get(f"{server.url}/api/rooms/{room_id}/messages", headers=headers["bob"], timeout=30)
        assert [m["attachment"]["waveform"] for m in history.json()["messages"]] == [note["waveform"]]
    finally:
        if not released:
            try:
                os.close(os.open(hold, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        server.close()

"""A voice note's waveform: measured once from its real sound at upload, stored with the
attachment, and sent with it in the upload's answer, live messages and history; over SQLite and
PostgreSQL."""
import base64
import uuid

import pytest

from heartlink.domain import attachments
from heartlink.errors import Forbidden
from heartlink.extensions import db, socketio
from heartlink.lib import media
from heartlink.models import Attachment

import media_samples as samples
from support import app_over, received, upload

QUIET_THEN_LOUD = ((1.0, 0.08), (1.0, 0.8))


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, db_path, tmp_path):
    """The test's app (and so linked_http's people) over SQLite, then over PostgreSQL."""
    url = f"sqlite:///{db_path}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    with app_over(url, UPLOAD_DIR=str(tmp_path / "uploads")) as app:
        yield app


def _halves(bars):
    return sum(bars[:32]) / 32, sum(bars[32:]) / 32


@pytest.mark.parametrize("fmt,codec,name", [("webm", "libopus", "note.webm"), ("ogg", "libopus", "note.ogg"),
                                            ("mp4", "aac", "note.m4a")])
def test_a_voice_note_gets_64_bars_and_its_loud_part_is_higher(linked_http, fmt, codec, name):
    room_id, clients, _ = linked_http
    body = upload(clients["alice"], room_id, samples.spoken_note(QUIET_THEN_LOUD, fmt, codec), "voice", name)
    assert body.status_code == 201, body.get_json()
    bars = body.get_json()["waveform"]
    assert len(bars) == media.WAVEFORM_BARS == 64 and all(isinstance(b, int) and 0 <= b <= 255 for b in bars)
    quiet, loud = _halves(bars)
    assert loud > 3 * quiet and max(bars[32:]) >= 240


def test_the_waveform_is_measured_once_and_sent_with_live_messages_and_history(linked_http, app, monkeypatch):
    room_id, clients, ids = linked_http
    measured = []
    real = media.waveform
    monkeypatch.setattr(media, "waveform", lambda *args: measured.append(1) or real(*args))
    note = upload(clients["alice"], room_id, samples.spoken_note(), "voice", "note.webm").get_json()
    with app.app_context():
        stored = db.session.get(Attachment, note["id"])
        assert len(stored.waveform) <= 88 and list(base64.b64decode(stored.waveform)) == note["waveform"]
    alice = socketio.test_client(app, flask_test_client=clients["alice"])
    bob = socketio.test_client(app, flask_test_client=clients["bob"])
    sent = alice.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": "voice",
                                       "attachment_id": note["id"]}, callback=True)
    assert sent["ok"] and sent["message"]["attachment"]["waveform"] == note["waveform"]
    live = received(bob, "message:new")[-1]["message"]["attachment"]
    assert live["waveform"] == note["waveform"]
    history = clients["bob"].get(f"/api/rooms/{room_id}/messages").get_json()
    assert [m["attachment"]["waveform"] for m in history["messages"]] == [note["waveform"]]
    assert measured == [1]
    # Not for anyone outside the link.
    assert clients["eve"].get(f"/api/rooms/{room_id}/messages").status_code in (403, 404)
    assert upload(clients["eve"], room_id, samples.spoken_note(), "voice").status_code == 403


def test_a_note_whose_sound_does_not_decode_is_kept_without_a_waveform(linked_http):
    """The byte-built samples have a valid container but no real opus frames: the note
    passes the probe as before, and has no waveform (the page draws flat bars)."""
    room_id, clients, _ = linked_http
    for note, name in ((samples.webm_opus(2500), "n.webm"), (samples.ogg_opus(3000), "n.ogg")):
        body = upload(clients["alice"], room_id, note, "voice", name)
        assert body.status_code == 201 and body.get_json()["waveform"] is None
        assert body.get_json()["duration_ms"] >= 2480


def test_the_decode_is_bounded_by_length_time_and_format():
    note = samples.spoken_note(((2.0, 0.5),))
    assert len(media.waveform(note, "audio/webm", 5000, 5)) == 64
    # Longer sound than the limit allows (a container may lie about its length): none.
    assert media.waveform(note, "audio/webm", 500, 5) is None
    # Out of time: none (the deadline is checked before every packet).
    assert media.waveform(note, "audio/webm", 5000, 0) is None
    # Only the demuxer the probe found, never a guess from the bytes.
    assert media.waveform(note, "audio/ogg", 5000, 5) is None
    assert media.waveform(note, "text/plain", 5000, 5) is None
    assert media.waveform(b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 4, "audio/webm", 5000, 5) is None


def test_silence_stays_flat_and_low():
    bars = media.waveform(samples.spoken_note(((1.0, 0.0),)), "audio/webm", 5000, 5)
    assert bars is not None and max(bars) <= 5


def test_a_stranger_never_gets_the_attachment(linked_http, app):
    room_id, clients, ids = linked_http
    note = upload(clients["alice"], room_id, samples.spoken_note(), "voice").get_json()
    assert clients["eve"].get(note["url"]).status_code == 403
    with app.app_context():
        with pytest.raises(Forbidden):
            attachments.for_member(note["id"], ids["eve"])


def test_only_the_codecs_browsers_record_in_are_decoded():
    """FLAC in ogg and ALAC in mp4 are sound FFmpeg reads, but not what a browser records: not decoded."""
    assert media.waveform(samples.spoken_note(((1.0, 0.5),), fmt="ogg", codec="flac"), "audio/ogg", 5000, 5) is None
    assert media.waveform(samples.spoken_note(((1.0, 0.5),), fmt="mp4", codec="alac"), "audio/mp4", 5000, 5) is None

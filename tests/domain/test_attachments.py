"""Uploads: pictures cleaned of metadata, voice notes checked by their bytes, files
served as downloads, and every attachment URL for the two members only."""
import io
import uuid
from datetime import timedelta

import pytest
from PIL import Image

from heartlink.domain import attachments
from heartlink.extensions import db, socketio
from heartlink.models import Attachment, utcnow

import media_samples as samples
from support import AuthActions, upload


def test_a_picture_loses_gps_exif_and_its_script_comment(linked_http):
    room_id, clients, _ = linked_http
    original = samples.jpeg_with_gps_and_comment()
    # The control: a plain re-save keeps the comment, so the check below can fail.
    resaved = io.BytesIO()
    with Image.open(io.BytesIO(original)) as plain:
        plain.save(resaved, format="JPEG", comment=plain.info["comment"])
    assert b"<script>" in resaved.getvalue() and b"<script>" in original

    uploaded = upload(clients["alice"], room_id, original, "image", "holiday.jpg")
    assert uploaded.status_code == 201
    body = uploaded.get_json()
    assert body["mime"] == "image/jpeg" and (body["width"], body["height"]) == (64, 48)
    served = clients["bob"].get(body["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" not in served.data and b"HeartPhone" not in served.data
    with Image.open(io.BytesIO(served.data)) as clean:
        assert not clean.getexif() and "comment" not in clean.info
    thumb = clients["bob"].get(body["thumb_url"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


def test_a_rotated_photo_keeps_its_orientation(linked_http):
    room_id, clients, _ = linked_http
    body = upload(clients["alice"], room_id, samples.two_tone_jpeg_rotated(), "image", "r.jpg").get_json()
    assert (body["width"], body["height"]) == (100, 200)
    with Image.open(io.BytesIO(clients["bob"].get(body["url"]).data)) as upright:
        assert upright.size == (100, 200)
        top, bottom = upright.getpixel((50, 20)), upright.getpixel((50, 180))
    assert top[0] > 200 and top[2] < 60  # red above
    assert bottom[2] > 200 and bottom[0] < 60  # blue below


def test_a_png_named_txt_is_still_a_picture_and_text_named_jpg_is_not(linked_http):
    room_id, clients, _ = linked_http
    named_txt = upload(clients["alice"], room_id, samples.png(), "image", "notes.txt")
    assert named_txt.status_code == 201 and named_txt.get_json()["mime"] == "image/png"
    fake = upload(clients["alice"], room_id, b"just some words, honest\n" * 10, "image", "photo.jpg")
    assert fake.status_code == 400 and fake.get_json()["error"]["code"] == "bad_request"


def test_a_decompression_bomb_is_refused(linked_http):
    room_id, clients, _ = linked_http
    bomb = samples.decompression_bomb()
    assert len(bomb) < 100_000
    refused = upload(clients["alice"], room_id, bomb, "image", "bomb.png")
    assert refused.status_code == 413 and refused.get_json()["error"]["code"] == "too_large"


def test_uploads_over_the_limits_get_413(linked_http, app):
    room_id, clients, _ = linked_http
    app.config.update(FILE_MAX_BYTES=1000, IMAGE_MAX_BYTES=500)
    assert upload(clients["alice"], room_id, b"x" * 1001, "file").status_code == 413
    assert upload(clients["alice"], room_id, samples.png((64, 64)) + b"\0" * 500, "image").status_code == 413
    assert upload(clients["alice"], room_id, b"x" * 1000, "file").status_code == 201
    app.config.update(VOICE_MAX_MS=2000)
    assert upload(clients["alice"], room_id, samples.ogg_opus(3000), "voice").status_code == 413
    huge = clients["alice"].post(f"/api/rooms/{room_id}/attachments",
                                 headers={"X-CSRFToken": AuthActions(clients["alice"]).csrf_token()},
                                 data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                                 content_type="application/octet-stream")
    assert huge.status_code == 413 and huge.get_json()["error"]["code"] == "too_large"


def test_voice_notes_in_webm_and_ogg_opus_are_accepted_with_their_duration(linked_http):
    room_id, clients, _ = linked_http
    webm = upload(clients["alice"], room_id, samples.webm_opus(2500), "voice", "note.webm")
    assert webm.status_code == 201
    assert webm.get_json()["mime"] == "audio/webm" and abs(webm.get_json()["duration_ms"] - 2500) <= 20
    ogg = upload(clients["alice"], room_id, samples.ogg_opus(3000), "voice", "note.ogg")
    assert ogg.status_code == 201
    assert ogg.get_json()["mime"] == "audio/ogg" and ogg.get_json()["duration_ms"] == 3000
    served = clients["bob"].get(ogg.get_json()["url"])
    assert served.mimetype == "audio/ogg" and served.data == samples.ogg_opus(3000)


@pytest.mark.parametrize("data", [bytes(range(256)) * 8, b"OggS" + b"\0" * 100, b"\x1a\x45\xdf\xa3\x80" * 20,
                                  samples.webm_opus(1000, codec=b"V_VP8")])
def test_random_bytes_are_not_a_voice_note(linked_http, data):
    room_id, clients, _ = linked_http
    refused = upload(clients["alice"], room_id, data, "voice", "note.webm")
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "bad_request"


def test_files_are_served_as_downloads_with_a_sanitised_name(linked_http):
    room_id, clients, _ = linked_http
    body = upload(clients["alice"], room_id, b"<html><script>alert(1)</script>", "file",
                   '../../etc/<报告>\x07.html').get_json()
    assert body["filename"] == "_报告_.html" and body["mime"] == "application/octet-stream"
    served = clients["bob"].get(body["url"])
    assert served.status_code == 200 and served.mimetype == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_video_clip_is_recognised_for_inline_playing(linked_http):
    room_id, clients, _ = linked_http
    clip = samples.webm_opus(1000, codec=b"V_VP8")
    assert upload(clients["alice"], room_id, clip, "file", "clip.webm").get_json()["mime"] == "video/webm"


@pytest.mark.parametrize(("name", "clip", "mime"), [
    ("clip.webm", samples.webm_opus(1000, codec=b"V_VP8", video_size=(640, 360)), "video/webm"),
    ("clip.mp4", samples.mp4_clip(640, 360), "video/mp4"),
])
def test_a_video_clip_carries_its_size_so_the_page_reserves_its_box(linked_http, name, clip, mime):
    room_id, clients, _ = linked_http
    attachment = upload(clients["alice"], room_id, clip, "file", name).get_json()
    assert (attachment["mime"], attachment["width"], attachment["height"]) == (mime, 640, 360)


def test_a_clip_without_a_size_or_another_file_has_none(linked_http):
    room_id, clients, _ = linked_http
    for data, name in ((samples.webm_opus(1000, codec=b"V_VP8"), "clip.webm"), (b"just text", "notes.txt"),
                       (samples.webm_opus(1000, codec=b"V_VP8", video_size=(0, 360)), "zero.webm")):
        attachment = upload(clients["alice"], room_id, data, "file", name).get_json()
        assert (attachment["width"], attachment["height"]) == (None, None), name


def test_a_stranger_gets_403_on_every_attachment_url_and_404_for_no_such_id(linked_http):
    room_id, clients, _ = linked_http
    picture = upload(clients["alice"], room_id, samples.jpeg_with_gps_and_comment(), "image").get_json()
    voice = upload(clients["alice"], room_id, samples.ogg_opus(), "voice").get_json()
    file = upload(clients["alice"], room_id, b"hello", "file").get_json()
    for url in (picture["url"], picture["thumb_url"], voice["url"], file["url"]):
        assert clients["eve"].get(url).status_code == 403, url
        assert clients["bob"].get(url).status_code == 200, url
    assert clients["bob"].get(f"/api/attachments/{uuid.uuid4()}").status_code == 404
    assert clients["bob"].get(f"/api/attachments/{voice['id']}/thumb").status_code == 404
    upload_by_eve = upload(clients["eve"], room_id, b"hello", "file")
    assert upload_by_eve.status_code == 403
    anonymous = upload(clients["alice"].application.test_client(), room_id, b"x", "file")
    assert anonymous.status_code in (400, 401)


def test_uploads_live_outside_static(linked_http, app):
    room_id, clients, ids = linked_http
    body = upload(clients["alice"], room_id, b"hello", "file").get_json()
    with app.app_context():
        _attachment, stored = attachments.for_member(body["id"], ids["alice"])
        assert stored.exists() and app.static_folder not in str(stored.resolve())


def test_a_message_carries_its_attachment_once_and_only_its_uploader_may_send_it(linked_http, app):
    room_id, clients, _ = linked_http
    picture = upload(clients["alice"], room_id, samples.png(), "image").get_json()
    alice = socketio.test_client(app, flask_test_client=clients["alice"])
    bob = socketio.test_client(app, flask_test_client=clients["bob"])
    send = lambda client, **extra: client.emit("message:send", {  # noqa: E731
        "room_id": room_id, "client_id": str(uuid.uuid4()), **extra}, callback=True)
    assert send(bob, kind="image", attachment_id=picture["id"])["error"]["code"] == "forbidden"
    assert send(alice, kind="file", attachment_id=picture["id"])["error"]["code"] == "bad_request"
    assert send(alice, kind="image")["error"]["code"] == "bad_request"
    sent = send(alice, kind="image", attachment_id=picture["id"], text="look")
    assert sent["ok"] and sent["message"]["attachment"]["id"] == picture["id"] and sent["message"]["text"] == "look"
    assert send(alice, kind="image", attachment_id=picture["id"])["error"]["code"] == "bad_request"
    deleted = alice.emit("message:delete", {"room_id": room_id, "message_id": sent["message"]["id"]}, callback=True)
    assert deleted["message"]["deleted"] and deleted["message"]["attachment"] is None
    assert clients["bob"].get(picture["url"]).status_code == 404


def test_cleanup_removes_uploads_no_message_refers_to(linked_http, app, runner):
    room_id, clients, ids = linked_http
    kept = upload(clients["alice"], room_id, samples.png(), "image").get_json()
    orphan = upload(clients["alice"], room_id, b"never sent", "file").get_json()
    with app.app_context():
        kept_file = attachments.for_member(kept["id"], ids["alice"])[1]
        orphan_file = attachments.for_member(orphan["id"], ids["alice"])[1]
    alice = socketio.test_client(app, flask_test_client=clients["alice"])
    alice.emit("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": "image",
                                "attachment_id": kept["id"]}, callback=True)
    with app.app_context():
        assert attachments.remove_orphans() == 0  # still inside the grace period
        assert attachments.remove_orphans(utcnow() + timedelta(hours=2)) == 1
        assert db.session.get(Attachment, orphan["id"]) is None
        assert not orphan_file.exists() and kept_file.exists()

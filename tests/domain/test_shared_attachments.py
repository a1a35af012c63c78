"""A link's shared items (the partner panel's tabs, the media viewer's pages): pictures and clips,
files, voice notes, newest first, paged by seq, for the two members only, never a deleted
message's upload. On SQLite and on PostgreSQL."""
import io
import uuid

import pytest

from heartlink.domain import accounts, attachments, messages
from heartlink.errors import BadRequest, Forbidden

import media_samples as samples
from support import PASSWORD, match, store_message, store_text


def _send(room_id, sender_id, kind, data, filename, caption=None):
    uploaded = attachments.upload(room_id, sender_id, kind, filename, io.BytesIO(data))
    return store_message(room_id, sender_id, str(uuid.uuid4()), kind, text=caption,
                         attachment_id=uploaded.id).message


@pytest.fixture
def shared_link(either_database):
    """Ann and Ben's link: pictures, a clip, files, voice notes and texts in between; and Cat."""
    ann, ben, cat = (accounts.create_user(name, PASSWORD, vouched=True).id for name in ("ann", "ben", "cat"))
    room_id = match(ann, ben).id
    sent = {"picture": [], "clip": [], "file": [], "voice": []}
    for index in range(3):
        sent["picture"].append(_send(room_id, ann if index % 2 else ben, "image", samples.png(), f"p{index}.png",
                                     caption=f"picture {index}"))
        store_text(room_id, ann, f"text {index}")
    sent["clip"].append(_send(room_id, ben, "file", samples.mp4_clip(), "clip.mp4"))
    sent["file"].append(_send(room_id, ann, "file", b"just text", "notes.txt"))
    sent["voice"].append(_send(room_id, ben, "voice", samples.ogg_opus(), "voice.ogg"))
    sent["picture"].append(_send(room_id, ann, "image", samples.png(), "last.png"))
    return room_id, {"ann": ann, "ben": ben, "cat": cat}, sent


def test_each_kind_lists_its_own_items_newest_first_with_sender_time_and_caption(shared_link):
    room_id, ids, sent = shared_link
    media = attachments.shared(room_id, ids["ann"], "media")
    expected = sorted(sent["picture"] + sent["clip"], key=lambda message: -message["seq"])
    assert [item["seq"] for item in media["items"]] == [message["seq"] for message in expected]
    assert media["has_more"] is False and media["next_before"] is None
    first = next(item for item in media["items"] if item["seq"] == sent["picture"][0]["seq"])
    assert first == {key: sent["picture"][0][key]
                     for key in ("seq", "id", "sender_id", "created_at", "text", "attachment")}
    assert first["text"] == "picture 0" and first["attachment"]["kind"] == "image"
    assert first["attachment"]["url"] == f"/api/attachments/{first['attachment']['id']}"

    clip = next(item for item in media["items"] if item["attachment"]["kind"] == "file")
    assert clip["attachment"]["mime"] == "video/mp4"
    files = attachments.shared(room_id, ids["ben"], "files")["items"]
    assert [item["attachment"]["filename"] for item in files] == ["notes.txt"]
    voice = attachments.shared(room_id, ids["ben"], "voice")["items"]
    assert [(item["attachment"]["kind"], item["sender_id"]) for item in voice] == [("voice", ids["ben"])]


def test_pages_follow_the_cursor_down_to_the_oldest_without_gaps_or_repeats(shared_link):
    room_id, ids, sent = shared_link
    seen, before = [], None
    while True:
        page = attachments.shared(room_id, ids["ann"], "media", before=before, limit=2)
        assert len(page["items"]) <= 2
        seen += [item["seq"] for item in page["items"]]
        if not page["has_more"]:
            assert page["next_before"] is None
            break
        before = page["next_before"]
        assert before == page["items"][-1]["seq"]
    assert seen == sorted((message["seq"] for message in sent["picture"] + sent["clip"]), reverse=True)
    # A cursor in the middle starts just below it; past the oldest, an empty page.
    middle = seen[2]
    below = attachments.shared(room_id, ids["ann"], "media", before=middle)["items"]
    assert [item["seq"] for item in below] == seen[3:]
    assert attachments.shared(room_id, ids["ann"], "media", before=seen[-1]) == {
        "items": [], "has_more": False, "next_before": None}


def test_from_one_item_the_newer_ones_are_read_upwards_page_by_page(shared_link):
    room_id, ids, sent = shared_link
    ordered = sorted(message["seq"] for message in sent["picture"] + sent["clip"])
    seen, after = [], ordered[0]
    while True:
        page = attachments.shared(room_id, ids["ben"], "media", after=after, limit=2)
        got = [item["seq"] for item in page["items"]]
        assert got == sorted(got, reverse=True)  # newest first, as every page
        seen = got + seen
        if not page["has_more"]:
            assert page["next_after"] is None
            break
        after = page["next_after"]
        assert after == got[0]
    assert seen == sorted(ordered[1:], reverse=True)
    with pytest.raises(BadRequest):
        attachments.shared(room_id, ids["ben"], "media", before=5, after=1)


def test_a_deleted_message_s_attachment_is_never_listed(shared_link):
    room_id, ids, sent = shared_link
    picture = sent["picture"][1]
    messages.delete(room_id, picture["sender_id"], picture["id"])
    listed = [item["id"] for item in attachments.shared(room_id, ids["ann"], "media")["items"]]
    assert picture["id"] not in listed and len(listed) == 4
    voice = sent["voice"][0]
    messages.delete(room_id, voice["sender_id"], voice["id"])
    assert attachments.shared(room_id, ids["ben"], "voice")["items"] == []


def test_an_item_deleted_for_me_leaves_my_lists_not_my_partner_s(shared_link):
    room_id, ids, sent = shared_link
    picture = sent["picture"][0]
    messages.hide(room_id, ids["ann"], picture["id"])
    assert picture["id"] not in [item["id"] for item in attachments.shared(room_id, ids["ann"], "media")["items"]]
    assert picture["id"] in [item["id"] for item in attachments.shared(room_id, ids["ben"], "media")["items"]]


def test_only_the_two_members_see_a_link_s_items_and_the_kind_is_checked(shared_link):
    room_id, ids, _ = shared_link
    with pytest.raises(Forbidden):
        attachments.shared(room_id, ids["cat"], "media")
    with pytest.raises(BadRequest):
        attachments.shared(room_id, ids["ann"], "pictures")


def test_an_upload_not_yet_sent_is_not_shared(shared_link):
    room_id, ids, _ = shared_link
    attachments.upload(room_id, ids["ann"], "image", "draft.png", io.BytesIO(samples.png()))
    assert len(attachments.shared(room_id, ids["ben"], "media")["items"]) == 5


def test_the_endpoint_answers_members_pages_and_refuses_strangers_and_bad_queries(linked_http, app):
    room_id, clients, ids = linked_http
    with app.app_context():
        for index in range(3):
            _send(room_id, ids["alice"], "image", samples.png(), f"p{index}.png", caption=f"p{index}")
    url = f"/api/rooms/{room_id}/attachments"
    first = clients["bob"].get(f"{url}?kind=media&limit=2")
    assert first.status_code == 200
    body = first.get_json()
    assert [item["text"] for item in body["items"]] == ["p2", "p1"] and body["has_more"] is True
    rest = clients["bob"].get(f"{url}?kind=media&before={body['next_before']}").get_json()
    assert [item["text"] for item in rest["items"]] == ["p0"] and rest["has_more"] is False
    newer = clients["bob"].get(f"{url}?kind=media&after={rest['items'][0]['seq']}&limit=1").get_json()
    assert [item["text"] for item in newer["items"]] == ["p1"] and newer["next_after"] == newer["items"][0]["seq"]
    assert clients["alice"].get(f"{url}?kind=voice").get_json()["items"] == []

    stranger = clients["eve"].get(f"{url}?kind=media")
    assert stranger.status_code == 403 and stranger.get_json()["error"]["code"] == "forbidden"
    assert clients["eve"].get(f"/api/rooms/{uuid.uuid4()}/attachments?kind=media").status_code == 404
    for query in ("", "?kind=photos", "?kind=media&limit=0", "?kind=media&limit=101", "?kind=media&before=x",
                  "?kind=media&before=3&after=1"):
        bad = clients["bob"].get(url + query)
        assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request", query
    assert app.test_client().get(f"{url}?kind=media").status_code == 401

"""The browser: small things a newcomer notices: touch targets on a phone, "www." links, the list of
links ("typing…", "Draft:", a clip, a voice note and a caption named as such, live and after a reload),
the conflict text that is a sentence, one toolbar."""
import re

import pytest
import requests
from playwright.sync_api import expect

from browser_plugin import link_with_socket_partner, say, say_with_upload, server_log_on_failure, upload_as
from support import fresh_names

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _linked(server, watched, tag, partner_name="Bob Builder"):
    """`me` in the browser, linked with `partner`, a Socket.IO client: (page, partner, token, room id)."""
    me, partner = fresh_names(tag)
    return link_with_socket_partner(server, watched, me, partner, partner_name)


_SMALL_TARGETS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((element) => element.getClientRects().length && !element.closest("[hidden]"))
  .map((element) => ({ id: element.dataset.testid || element.className, box: element.getBoundingClientRect() }))
  .filter(({ box }) => box.width < 44 || box.height < 44)
  .map(({ id, box }) => `${id}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""

_CONTROLS = ("button, a.icon-button, .composer__send, .brand, .chat__back, [data-testid=file-download]")


def test_touch_targets_on_a_phone_are_at_least_44_px(server, open_page):
    with server_log_on_failure(server):
        watched = open_page(viewport=PHONE, has_touch=True, is_mobile=True)
        page, other, token, room_id = _linked(server, watched, "tt")
        say_with_upload(server, other, token, room_id, "file", "notes.txt", b"x" * 1500, "text/plain")
        expect(page.get_by_test_id("message-file")).to_be_visible()
        scope = ", ".join(f"{area} :is({_CONTROLS})" for area in (".chat__header", ".composer", ".messages"))
        small = page.evaluate(_SMALL_TARGETS, scope)
        assert small == [], "the chat: " + "; ".join(small)
        page.screenshot(path="/tmp/heartlink-chat-360-targets.png")
        page.get_by_test_id("chat-back").click()
        assert page.evaluate(_SMALL_TARGETS, f".sidebar__header :is({_CONTROLS})") == []
        page.get_by_test_id("settings-link").click()
        assert page.evaluate(_SMALL_TARGETS, f".settings-panel__header :is({_CONTROLS})") == []
        page.screenshot(path="/tmp/heartlink-settings-360-targets.png")
        other.disconnect()
        watched.assert_clean()


def test_a_picture_is_sharp_on_a_2x_phone_screen(server, open_page):
    from media_samples import png

    with server_log_on_failure(server):
        watched = open_page(viewport=PHONE, device_scale_factor=2, has_touch=True, is_mobile=True)
        page, other, token, room_id = _linked(server, watched, "px")
        response = requests.post(f"{server.url}/api/rooms/{room_id}/attachments",
                                 headers={"Authorization": f"Bearer {token}"}, data={"kind": "image"},
                                 files={"file": ("wide.png", png((1600, 1200)), "image/png")}, timeout=10)
        assert response.status_code == 201, response.text
        say(other, room_id, kind="image", attachment_id=response.json()["id"])
        picture = page.get_by_test_id("message-image").locator("img")
        expect(picture).to_have_js_property("complete", True)
        natural, shown = picture.evaluate("(img) => [img.naturalWidth, img.getBoundingClientRect().width]")
        assert shown > 200 and natural >= 2 * shown, (natural, shown)
        other.disconnect()
        watched.assert_clean()


def test_a_www_address_is_a_link_to_https_and_the_list_says_video_for_a_clip(server, open_page):
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page, other, token, room_id = _linked(server, watched, "ww")
        say(other, room_id, "See www.example.org/page?x=1, not a.www.b or www.foo.")
        links = page.get_by_test_id("message-link")
        expect(links).to_have_count(1)
        expect(links).to_have_text("www.example.org/page?x=1")
        expect(links).to_have_attribute("href", "https://www.example.org/page?x=1")
        from media_samples import webm_opus

        clip = webm_opus(1000, codec=b"V_VP8")
        say_with_upload(server, other, token, room_id, "file", "clip.webm", clip, "video/webm")
        preview = page.get_by_test_id("rooms-list").get_by_test_id("room-item").locator(".room-link__preview")
        expect(preview).to_have_text("🎬 Video")
        other.disconnect()
        watched.assert_clean()


def _to_the_list(page, viewport):
    """Leave the open link for the list, as a person does: the list is beside the chat on a wide
    screen ("New heart link" leaves the link), and on a phone the back arrow goes to it."""
    page.get_by_test_id("chat-back" if viewport == PHONE else "new-link").click()
    expect(page.get_by_test_id("lobby")).to_be_visible()
    _see_the_list(page)


def _see_the_list(page):
    """On a phone the list is under the lobby's card: scroll down to it."""
    page.get_by_test_id("rooms-list").scroll_into_view_if_needed()
    expect(page.get_by_test_id("rooms-list")).to_be_in_viewport()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_the_list_shows_typing_and_a_draft_left_in_another_link(server, open_page, viewport):
    with server_log_on_failure(server):
        watched = open_page(viewport=viewport)
        page, other, _token, room_id = _linked(server, watched, "dt")
        item = page.get_by_test_id("rooms-list").get_by_test_id("room-item")
        if viewport == DESKTOP:  # the list beside the open link says it live
            assert other.ask("typing", {"room_id": room_id, "typing": True})["ok"]
            expect(item.get_by_test_id("room-typing")).to_have_text("typing…")
            page.screenshot(path="/tmp/heartlink-list-typing-1280.png")
            assert other.ask("typing", {"room_id": room_id, "typing": False})["ok"]
            expect(item.get_by_test_id("room-typing")).to_have_count(0)
        # A draft stays in the send box of the open link, and shows in the list once I go elsewhere.
        page.get_by_test_id("composer-input").fill("half a thought")
        expect(item.get_by_test_id("room-draft")).to_have_count(0)
        _to_the_list(page, viewport)
        expect(item.get_by_test_id("room-draft")).to_have_text("Draft: half a thought")
        page.screenshot(path=f"/tmp/heartlink-list-draft-{viewport['width']}.png")
        # The partner types: "typing…" comes over the draft, live, and the draft is back when they stop.
        assert other.ask("typing", {"room_id": room_id, "typing": True})["ok"]
        expect(item.get_by_test_id("room-typing")).to_have_text("typing…")
        expect(item.get_by_test_id("room-draft")).to_have_count(0)
        page.screenshot(path=f"/tmp/heartlink-list-typing-over-draft-{viewport['width']}.png")
        assert other.ask("typing", {"room_id": room_id, "typing": False})["ok"]
        expect(item.get_by_test_id("room-draft")).to_have_text("Draft: half a thought")
        # After a reload the draft is still there (kept in this browser).
        page.reload()
        _see_the_list(page)
        expect(item.get_by_test_id("room-draft")).to_have_text("Draft: half a thought")
        item.click()
        expect(page.get_by_test_id("composer-input")).to_have_value("half a thought")
        expect(item.get_by_test_id("room-draft")).to_have_count(0)
        other.disconnect()
        watched.assert_clean()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_the_list_names_a_clip_a_voice_note_and_a_caption_live_and_after_a_reload(server, open_page, viewport):
    from media_samples import png, webm_opus

    with server_log_on_failure(server):
        watched = open_page(viewport=viewport)
        page, other, token, room_id = _linked(server, watched, "lv")
        _to_the_list(page, viewport)
        preview = page.get_by_test_id("rooms-list").get_by_test_id("room-item").locator(".room-link__preview")
        clip = webm_opus(1000, codec=b"V_VP8")
        sent = [
            (("file", "clip.webm", clip, "video/webm"), None, "🎬 Video"),
            (("voice", "note.webm", webm_opus(7000), "audio/webm"), None, "🎤 Voice note (0:07)"),
            (("image", "sunset.png", png((64, 48)), "image/png"), "the sunset", "📷 the sunset"),
            (("file", "trip.webm", clip, "video/webm"), "our trip", "🎬 our trip"),
            (("voice", "again.webm", webm_opus(2000), "audio/webm"), "listen", "🎤 listen"),
        ]
        for (kind, name, data, mime), caption, label in sent:
            attachment_id = upload_as(server, token, room_id, kind, name, data, mime)
            say(other, room_id, caption, kind=kind, attachment_id=attachment_id)
            expect(preview).to_have_text(label)  # live, from message:new
            page.reload()
            expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")
            _see_the_list(page)
            expect(preview).to_have_text(label)  # from GET /api/rooms
        page.screenshot(path=f"/tmp/heartlink-list-labels-{viewport['width']}.png")
        other.disconnect()
        watched.assert_clean()


def test_looking_again_while_linked_explains_in_a_sentence(server, open_page):
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page, other, _token, _room_id = _linked(server, watched, "cf")
        page.get_by_test_id("new-link").click()
        expect(page.get_by_test_id("active-link")).to_have_text("Continue with Bob Builder")
        page.get_by_test_id("find-link").click()
        text = page.get_by_test_id("conflict-text")
        expect(text).to_have_text(re.compile(r"^Your link with Bob Builder is still open\..+\.$"))
        expect(page.get_by_test_id("conflict-return")).to_be_visible()
        page.screenshot(path="/tmp/heartlink-conflict-1280.png")
        other.disconnect()
        watched.assert_clean()


def test_one_message_toolbar_at_a_time_when_the_pointer_and_the_focus_differ(server, open_page):
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page, other, _token, room_id = _linked(server, watched, "tb")
        for text in ("first", "second", "third"):
            say(other, room_id, text)
        messages = page.get_by_test_id("message")
        expect(messages).to_have_count(3)
        toolbars = page.locator(".message-actions:visible")
        page.get_by_test_id("composer-input").focus()
        for _ in range(10):  # back through the send box's tools into the list, where the newest message is
            page.keyboard.press("Shift+Tab")
            if page.evaluate("() => document.activeElement.dataset.testid") == "message":
                break
        expect(messages.nth(2)).to_be_focused()
        expect(toolbars).to_have_count(1)
        messages.nth(0).hover()
        expect(toolbars).to_have_count(1)
        expect(messages.nth(0).locator(".message-actions")).to_be_visible()
        page.mouse.move(1200, 40)  # the pointer leaves the list: the focused message shows its own again
        expect(messages.nth(2).locator(".message-actions")).to_be_visible()
        other.disconnect()
        watched.assert_clean()

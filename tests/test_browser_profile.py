"""The browser: the settings page (name, picture, privacy, language) and "Keep this link", against the
server contract of issue 11 (GET/PATCH /api/me, /api/me/avatar, link:keep, link:reopen)."""
import re

import pytest
from playwright.sync_api import expect

from browser_plugin import server_log_on_failure, sign_in
from media_samples import png
from support import fresh_names


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


_names = fresh_names


def _linked(server, watched, me, partner):
    server.make_user(me, "Alice Liddell")
    server.make_user(partner, "Bob Builder")
    page = sign_in(watched, server, me)
    other = server.connect(partner)
    assert other.ask("match:start")["state"] == "waiting"
    page.get_by_test_id("find-link").click()
    room_id = other.wait_for("match:found")["room"]["id"]
    expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
    return page, other, room_id


def test_settings_change_the_name_the_picture_privacy_and_language(server, open_page, tmp_path):
    me, partner = _names("st")
    with server_log_on_failure(server):
        watched = open_page()
        page, other, room_id = _linked(server, watched, me, partner)
        page.get_by_test_id("settings-link").click()
        expect(page.get_by_test_id("setting-read-receipts")).to_be_enabled()
        expect(page.get_by_test_id("setting-read-receipts")).to_be_checked()
        name = page.get_by_test_id("display-name")
        expect(name).to_have_value("Alice Liddell")
        name.fill("Alice 🌷")
        page.get_by_test_id("profile-save").click()
        expect(page.get_by_test_id("profile-status")).to_have_text("Saved.")
        updated = other.wait_for("user:updated")
        assert updated["user"]["display_name"] == "Alice 🌷"

        picture = tmp_path / "me.png"
        picture.write_bytes(png((80, 80)))
        page.get_by_test_id("avatar-input").set_input_files(str(picture))
        expect(page.get_by_test_id("profile-avatar").locator("img")).to_have_attribute(
            "src", re.compile(r"^/api/users/\d+/avatar"))
        expect(page.get_by_test_id("avatar-remove")).to_be_visible()
        assert other.wait_for("user:updated", lambda data: data["user"]["avatar_url"])["user"]["avatar_url"]

        page.get_by_test_id("setting-presence").uncheck()
        expect(page.get_by_test_id("privacy-status")).to_have_text("Saved.")
        page.reload()
        expect(page.get_by_test_id("setting-presence")).to_be_enabled()
        expect(page.get_by_test_id("setting-presence")).not_to_be_checked()
        # Hiding mine hides theirs: the partner shows no presence in the chat.
        page.goto(server.url + f"/rooms/{room_id}")
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(page.get_by_test_id("partner-presence")).not_to_have_text("online")

        # The language overrides Accept-Language; the page comes back in it.
        page.goto(server.url + "/settings")
        expect(page.get_by_test_id("setting-language")).to_be_enabled()
        page.get_by_test_id("setting-language").select_option("zh")
        expect(page.locator("h1")).to_have_text("设置")
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        other.disconnect()
        watched.assert_clean()


def test_keep_this_link_then_reopen_it_after_it_ended(server, open_page):
    me, partner = _names("kp")
    with server_log_on_failure(server):
        watched = open_page(viewport={"width": 1280, "height": 800})
        page, other, room_id = _linked(server, watched, me, partner)
        keep = page.get_by_test_id("keep-link")
        keep.click()
        expect(keep).to_have_attribute("aria-pressed", "true")
        assert other.wait_for("room:updated")["room"]["kept_by"]
        ack = other.ask("link:keep", {"room_id": room_id, "keep": True})
        assert ack["ok"] and ack["room"]["kept"] is True
        expect(page.get_by_test_id("chat")).to_have_attribute("data-kept", "both")
        assert other.ask("room:leave", {"room_id": room_id})["ok"]
        expect(page.get_by_test_id("room-ended")).to_be_visible()
        expect(page.get_by_test_id("kept-text")).to_contain_text("You both keep this link")
        expect(page.get_by_test_id("rooms-list").get_by_test_id("kept-tag")).to_be_visible()
        page.get_by_test_id("reopen-link").click()
        expect(page.get_by_test_id("room-ended")).to_be_hidden()
        expect(page.get_by_test_id("composer")).to_be_visible()
        page.get_by_test_id("composer-input").fill("we are back")
        page.get_by_test_id("composer-input").press("Enter")
        assert other.wait_for("message:new")["message"]["text"] == "we are back"
        other.disconnect()
        watched.assert_clean()

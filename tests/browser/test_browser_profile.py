"""The browser: the Settings panel (name, picture, privacy, language; the socket kept while it is open)
and "Keep this link", against the server contract (GET/PATCH /api/me, /api/me/avatar, link:keep, link:reopen)."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from browser_plugin import server_log_on_failure, sign_in
from media_samples import png
from support import PASSWORD, fresh_names


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
        page.reload()  # a reload keeps Settings open, with what the server holds
        expect(page.get_by_test_id("setting-presence")).to_be_enabled()
        expect(page.get_by_test_id("setting-presence")).not_to_be_checked()
        # Hiding mine hides theirs: the partner shows no presence in the chat.
        page.get_by_test_id("settings-close").click()
        expect(page.get_by_test_id("settings-panel")).to_be_hidden()
        expect(page).to_have_url(re.compile(rf"/rooms/{room_id}$"))
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(page.get_by_test_id("partner-presence")).not_to_have_text("online")

        # The language overrides Accept-Language; the page comes back in it, Settings still open.
        page.get_by_test_id("settings-link").click()
        expect(page.get_by_test_id("setting-language")).to_be_enabled()
        page.get_by_test_id("setting-language").select_option("zh")
        expect(page.get_by_test_id("settings-title")).to_have_text("设置")
        expect(page.get_by_test_id("settings-panel")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        other.disconnect()
        watched.assert_clean()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 360, "height": 740}],
                         ids=["1280", "360"])
def test_settings_is_a_panel_of_the_page_and_the_person_stays_reachable(server, open_page, viewport):
    me, partner = _names("sp" + str(viewport["width"]))
    with server_log_on_failure(server):
        watched = open_page(viewport=viewport)
        page, other, room_id = _linked(server, watched, me, partner)
        page.evaluate("window.__samePage = true")  # gone if the page were left
        if viewport["width"] < 700:
            page.get_by_test_id("chat-back").click()  # on a phone, Settings is reached from the list
        page.get_by_test_id("settings-link").click()
        panel = page.get_by_test_id("settings-panel")
        expect(panel).to_be_visible()
        expect(page.get_by_test_id("settings-title")).to_be_focused()
        expect(page.get_by_test_id("display-name")).to_have_value("Alice Liddell")
        # Back from the title: the panel's Back button, then never what the panel covers.
        covered = ".sidebar" if viewport["width"] > 700 else ".sidebar, .main"
        page.keyboard.press("Shift+Tab")
        expect(page.get_by_test_id("settings-close")).to_be_focused()
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("(covered) => !document.activeElement.closest(covered)", covered)

        # A message from the partner arrives and counts as unread; a call rings.
        ack = other.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": "text",
                                         "text": "Are you still there?"})
        assert ack["ok"], ack
        if viewport["width"] < 700:
            expect(page).to_have_title(re.compile(r"^\(1\) "))
        else:  # the chat stays beside the panel, and the message is read there
            expect(page.get_by_test_id("message-text")).to_have_text(["Are you still there?"])
        panel.evaluate("panel => Promise.all(panel.getAnimations().map((slide) => slide.finished))")
        page.screenshot(path=f"/tmp/heartlink-settings-panel-{viewport['width']}.png")  # once it slid in
        call = other.ask("call:invite", {"room_id": room_id, "media": "audio"})
        assert call["ok"], call
        expect(page.get_by_test_id("call-incoming")).to_be_visible()
        assert other.ask("call:cancel", {"call_id": call["call_id"]})["ok"]
        expect(page.get_by_test_id("call-incoming")).to_be_hidden()
        # For the partner the person is online, and never went offline.
        room = other.ask("room:join", {"room_id": room_id})["room"]
        assert [member["online"] for member in room["members"] if member["username"] == me] == [True]
        assert [event for event in other.drain("presence") if not event["online"]] == []

        # Escape closes it, focus goes back to the Settings button, and the page never reloaded.
        page.get_by_test_id("display-name").click()
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("settings-link")).to_be_focused()
        assert page.evaluate("window.__samePage") is True
        expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        # The browser's Back closes it too; /settings as an address opens the page with it open.
        page.get_by_test_id("settings-link").click()
        expect(panel).to_be_visible()
        page.go_back()
        expect(panel).to_be_hidden()
        page.goto(server.url + "/settings")
        expect(panel).to_be_visible()
        page.get_by_test_id("settings-close").click()
        expect(panel).to_be_hidden()
        expect(page).to_have_url(server.url + "/")
        other.disconnect()
        watched.assert_clean()


def test_the_password_form_of_settings_changes_the_password_and_comes_back_to_settings(server, open_page):
    me, partner = _names("pw")
    with server_log_on_failure(server):
        watched = open_page()
        page, other, _room_id = _linked(server, watched, me, partner)
        page.get_by_test_id("settings-link").click()
        page.get_by_test_id("current_password").fill(PASSWORD)
        page.get_by_test_id("new_password").fill("a-brand-new-secret")
        page.get_by_test_id("password-submit").click()
        expect(page).to_have_url(server.url + "/settings")
        expect(page.get_by_test_id("settings-panel")).to_be_visible()
        expect(page.get_by_test_id("flash-info")).to_have_text(
            "Your password was changed; other devices are signed out.")
        expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        page.get_by_test_id("current_password").fill("wrong-password-here")
        page.get_by_test_id("new_password").fill("another-new-secret")
        page.get_by_test_id("password-submit").click()
        expect(page.get_by_test_id("flash-error")).to_be_visible()
        expect(page.get_by_test_id("settings-panel")).to_be_visible()
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

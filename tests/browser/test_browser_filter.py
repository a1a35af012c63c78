"""The browser: what a person sees when the rules refuse what they wrote — the refusal next to
the message with its text kept (Edit puts it back in the box), a link from a new account with
the time it will be allowed, a refused edit that stays open, a refused name in Settings; in
English and Chinese, at 1280 and 360 px (screenshots in test-results/screenshots/)."""

import pytest
from playwright.sync_api import expect

from config import BASE_DIR

from browser_plugin import bubble, link_with_socket_partner, server_log_on_failure, type_and_send
from support import fresh_names

SCREENSHOTS = BASE_DIR / "test-results" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
LANGUAGES = {
    "en": {},
    "zh": {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}},
}
SAID = {
    "en": {"rules": "Not sent: it goes against Heart Link's rules.", "links": "new accounts can send links from",
           "name": "Not saved: that name goes against Heart Link's rules."},
    "zh": {"rules": "未发送：违反了 Heart Link 的规则。", "links": "新账号从",
           "name": "未保存：这个名字违反了 Heart Link 的规则。"},
}


@pytest.fixture(scope="module")
def module_server_settings(tmp_path_factory):
    terms = tmp_path_factory.mktemp("filter-browser") / "blocked-terms.txt"
    terms.write_text("bad\n坏蛋\n", encoding="utf-8")
    return {"HEARTLINK_BLOCKED_TERMS": str(terms)}


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_a_refused_message_shows_why_beside_it_and_keeps_its_text(server, open_page, viewport, language):
    me, partner = fresh_names("filt")
    said = SAID[language]
    with server_log_on_failure(server):
        watched = open_page(viewport=viewport, **LANGUAGES[language])
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner, partner_name="Nina")
        box = page.get_by_test_id("composer-input")

        type_and_send(page, "that is so ＢＡＤ")
        refused = bubble(page, "that is so ＢＡＤ")
        failure = refused.get_by_test_id("message-failure")
        expect(failure).to_have_attribute("data-refusal", "term")
        expect(failure).to_contain_text(said["rules"])
        expect(refused.get_by_test_id("retry")).to_have_count(0)  # it would be refused again

        type_and_send(page, "see my-page.com")
        link = bubble(page, "see my-page.com").get_by_test_id("message-failure")
        expect(link).to_have_attribute("data-refusal", "link")
        expect(link).to_contain_text(said["links"])
        page.screenshot(path=str(_shot(f"filter-{language}-{viewport['width']}")))

        # Edit takes the text back into the box, and its bubble goes.
        refused.get_by_test_id("edit-refused").click()
        expect(box).to_have_value("that is so ＢＡＤ")
        expect(refused).to_have_count(0)
        box.fill("that is so good")
        page.get_by_test_id("composer-send").click()
        heard = other.wait_for("message:new", lambda data: data["message"]["room_id"] == room_id)["message"]
        assert heard["text"] == "that is so good"  # the partner never heard the refused ones
        expect(bubble(page, "that is so good")).to_have_attribute("data-state", "sent")

        # A refused edit stays open with its new text.
        box.fill("")
        box.press("ArrowUp")
        expect(box).to_have_value("that is so good")
        box.fill("that is so bad")
        page.get_by_test_id("composer-send").click()
        expect(page.get_by_test_id("media-error")).to_have_text(said["rules"])
        expect(box).to_have_value("that is so bad")
        expect(bubble(page, "that is so good")).to_be_visible()
        page.screenshot(path=str(_shot(f"filter-edit-{language}-{viewport['width']}")))


def test_a_refused_display_name_is_said_in_settings_and_kept_in_its_box(server, open_page):
    me, partner = fresh_names("filtname")
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page, _other, _token, _room_id = link_with_socket_partner(server, watched, me, partner, partner_name="Nina")
        page.get_by_test_id("settings-link").click()
        name = page.get_by_test_id("display-name")
        expect(name).to_have_value("Alice Liddell")
        name.fill("Bad Alice")
        page.get_by_test_id("profile-save").click()
        expect(page.get_by_test_id("profile-status")).to_have_text(SAID["en"]["name"])
        expect(name).to_have_value("Bad Alice")
        page.screenshot(path=str(_shot("filter-name-en-1280")))


def _shot(name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"

"""The browser, by keyboard only: a dialog opened from "More options" gives the focus back to that
button when it closes, and the emoji picker opened from the keyboard takes the focus."""
import pytest
from playwright.sync_api import expect

from browser_plugin import focused, server_log_on_failure, sign_in, tab_to
from support import fresh_names


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _arrow_to(page, test_id, limit=10):
    for _ in range(limit):
        if focused(page) == test_id:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never reached {test_id}")


def _linked(server, watched):
    me, partner = fresh_names("kb")
    server.make_user(me, "Alice Liddell")
    server.make_user(partner, "Bob Builder")
    page = sign_in(watched, server, me)
    other = server.connect(partner)
    assert other.ask("match:start")["state"] == "waiting"
    tab_to(page, "find-link")
    page.keyboard.press("Enter")
    other.wait_for("match:found")
    expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
    return page, other


def test_escape_from_report_and_block_gives_the_focus_back_to_more_options(server, open_page):
    with server_log_on_failure(server):
        watched = open_page(viewport={"width": 1280, "height": 800})
        page, other = _linked(server, watched)
        tab_to(page, "room-menu")
        for item, dialog in (("menu-report", "report-dialog"), ("menu-block", "block-dialog")):
            page.keyboard.press("Enter")
            expect(page.get_by_test_id("room-menu-list")).to_be_visible()
            _arrow_to(page, item)
            page.keyboard.press("Enter")
            expect(page.get_by_test_id(dialog)).to_be_visible()
            page.keyboard.press("Escape")
            expect(page.get_by_test_id(dialog)).to_be_hidden()
            expect(page.get_by_test_id("room-menu")).to_be_focused()
        other.disconnect()
        watched.assert_clean()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 360, "height": 740}],
                         ids=["1280", "360"])
def test_the_emoji_picker_opened_by_keyboard_takes_the_focus_and_picks_by_keyboard(server, open_page, viewport):
    with server_log_on_failure(server):
        watched = open_page(viewport=viewport)
        page, other = _linked(server, watched)
        tab_to(page, "composer-emoji", backwards=True)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("emoji-popover")).to_be_visible()
        search = page.get_by_test_id("emoji-picker").get_by_role("combobox")
        expect(search).to_be_focused()
        # Escape closes it and the focus goes back to the button; again, and pick one with the keys.
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("emoji-popover")).to_be_hidden()
        expect(page.get_by_test_id("composer-emoji")).to_be_focused()
        page.keyboard.press("Enter")
        expect(search).to_be_focused()
        page.keyboard.type("thumbs up")
        # The picker takes the typed text in an idle callback, which also forgets the highlighted result:
        # an arrow pressed before that callback ran is undone by it. Idle callbacks run in the order asked,
        # so once one asked after the typing has run, the picker's has too.
        page.evaluate("() => new Promise((done) => requestIdleCallback(() => done()))")
        first = page.get_by_test_id("emoji-picker").get_by_role("option").first
        expect(first).to_have_attribute("title", "thumbs up")
        # The picker is in search mode once its results carry aria-selected; keys before that are lost.
        expect(first).to_have_attribute("aria-selected", "false")
        page.keyboard.press("ArrowDown")
        expect(first).to_have_attribute("aria-selected", "true")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("composer-input")).to_have_value("👍\ufe0f")
        other.disconnect()
        watched.assert_clean()

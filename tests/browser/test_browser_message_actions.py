"""The browser: a message's actions as a person uses them, at 1280 px with a mouse and at 360 px by
touch — copy, the full date and time (a time's title; over the actions a long press opens), delete
for me (gone here and in my other tab, not for my partner, still gone after a reload) beside delete
for everyone, and an ended link's copy and delete for me; in English and Chinese; axe in both themes."""
import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from config import BASE_DIR

from browser_plugin import (
    axe_clean,
    bubble,
    link_with_socket_partner,
    say,
    server_log_on_failure,
    still,
    tab_to,
    type_and_send,
)
from support import fresh_names

SCREENSHOTS = BASE_DIR / "test-results" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
CLIPBOARD = ["clipboard-read", "clipboard-write"]


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _open(open_page, width, **options):
    """A page at `width` in UTC, allowed the clipboard; at 360 px a touch phone."""
    touch = {"has_touch": True, "is_mobile": True} if width == 360 else {}
    return open_page(viewport=PHONE if width == 360 else DESKTOP, permissions=CLIPBOARD, timezone_id="UTC",
                     **touch, **options)


def _long_press(page, item):
    """A finger held on the message: pointerdown of a touch pointer, and no pointerup."""
    item.get_by_test_id("message-text").dispatch_event("pointerdown", {"pointerType": "touch", "bubbles": True})


def _open_actions(page, item, width):
    """The message's actions as a person opens them: a long press on a phone, the pointer on a desktop."""
    if width == 360:
        _long_press(page, item)
        expect(item).to_have_class(re.compile(r"\bmessage--actions-open\b"))
        # The finger lifts (a held press keeps the chat still until then).
        item.get_by_test_id("message-text").dispatch_event("pointerup", {"pointerType": "touch", "bubbles": True})
    else:
        item.hover()
    expect(item.get_by_test_id("message-actions")).to_be_visible()


def _press(item, width, testid):
    button = item.get_by_test_id(testid)
    button.tap() if width == 360 else button.click()


def _actions_offered(item):
    return item.get_by_test_id("message-actions").locator("button").evaluate_all(
        "(buttons) => buttons.map((button) => button.dataset.action)")


def _full_date_words(iso):
    """What the English full date holds: the weekday, the day, the month's name, the year and the time
    (the page is in UTC)."""
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return [when.strftime("%A"), str(when.day), when.strftime("%B"), str(when.year), when.strftime(":%M")]


def _screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _watch_toast(page):
    """Everything the toast says from now on, kept by the page: it clears itself after a moment, which
    a busy machine could let pass before a look at it."""
    return page.get_by_test_id("toast").evaluate_handle("""(toast) => {
      const said = [];
      new MutationObserver(() => toast.textContent && said.push(toast.textContent))
        .observe(toast, { childList: true, characterData: true, subtree: true });
      return said;
    }""")


def _toast_said(page, said, text):
    page.wait_for_function("([said, text]) => said.includes(text)", arg=[said, text])


@pytest.mark.parametrize("width", [1280, 360])
def test_copy_the_full_date_and_delete_for_me_or_for_everyone(server, open_page, width):
    me, partner = fresh_names(f"ma{width}")
    with server_log_on_failure(server):
        watched = _open(open_page, width, locale="en-GB")
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        kept = say(other, room_id, "Keep this one")
        theirs = say(other, room_id, "Copy me, then hide me")
        say(other, room_id, "A reply to it", reply_to=theirs["id"])
        item = bubble(page, "Copy me, then hide me")
        expect(item).to_have_attribute("data-state", "sent")
        expect(bubble(page, "A reply to it").get_by_test_id("reply-quote")).to_contain_text("Copy me, then hide me")

        # My other tab, in the same room.
        second = watched.context.new_page()
        second.goto(page.url)
        expect(second.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(bubble(second, "Copy me, then hide me")).to_be_visible()
        # Back to the first tab, as a person looks at one tab at a time: a tab behind another gets no
        # animation frames, and each of Playwright's "is it still" checks there waited for seconds.
        page.bring_to_front()

        # The time says the full date and time on hover (its title), in the person's locale.
        title = item.locator("time").get_attribute("title")
        for word in _full_date_words(theirs["created_at"]):
            assert word in title, (word, title)

        # Copy: the text is on the clipboard, and the page says so in a live region.
        _open_actions(page, item, width)
        if width == 360:  # a long press shows the full date over the actions
            info = item.get_by_test_id("message-info")
            expect(info).to_be_visible()
            expect(info).to_have_text(re.compile(r"^Sent .*" + re.escape(str(datetime.now().year))))
            _screenshot(page, "message-actions-long-press-360")
        said = _watch_toast(page)
        _press(item, width, "message-copy")
        _toast_said(page, said, "Copied")
        expect(page.get_by_test_id("toast")).to_have_attribute("role", "status")
        assert page.evaluate("navigator.clipboard.readText()") == "Copy me, then hide me"

        # Delete the partner's message for me: only "for me" is offered; it goes here and in my other tab.
        _open_actions(page, item, width)
        _press(item, width, "message-delete")
        dialog = page.get_by_test_id("confirm-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_test_id("confirm-ok")).to_have_text("Delete for me")
        expect(dialog.get_by_test_id("confirm-alternative")).to_be_hidden()
        dialog.get_by_test_id("confirm-ok").click()
        expect(item).to_have_count(0)
        expect(bubble(second, "Copy me, then hide me")).to_have_count(0)
        expect(bubble(page, "Keep this one")).to_be_visible()
        # A reply that quotes it keeps its quote, without the text.
        expect(bubble(page, "A reply to it").get_by_test_id("reply-quote")).to_contain_text("Deleted for you")
        # The partner still has it.
        joined = other.ask("room:join", {"room_id": room_id})
        assert [m.get("text") for m in joined["messages"]][-3:] == ["Keep this one", "Copy me, then hide me",
                                                                     "A reply to it"]
        # Still gone after a reload; the chat keeps going (the hidden message leaves no gap).
        page.reload()
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(bubble(page, "Keep this one")).to_be_visible()
        expect(bubble(page, "Copy me, then hide me")).to_have_count(0)
        say(other, room_id, "After the hidden one")
        expect(bubble(page, "After the hidden one")).to_be_visible()
        expect(bubble(page, "A reply to it").get_by_test_id("reply-quote")).to_contain_text("Deleted for you")
        assert kept["seq"] + 3 == int(bubble(page, "After the hidden one").get_attribute("data-seq"))

        # Delete my own message for everyone: the partner gets the tombstone.
        type_and_send(page, "Mine, for everyone")
        mine = bubble(page, "Mine, for everyone")
        expect(mine).to_have_attribute("data-state", "sent")
        _open_actions(page, mine, width)
        _press(mine, width, "message-delete")
        expect(dialog.get_by_test_id("confirm-alternative")).to_have_text("Delete for everyone")
        dialog.get_by_test_id("confirm-alternative").click()
        gone = other.wait_for("message:updated", lambda data: data["message"]["deleted"])["message"]
        expect(page.locator(f'[data-testid="message"][data-seq="{gone["seq"]}"]')
               .get_by_test_id("message-text")).to_have_text("This message was deleted.")
        expect(bubble(second, "This message was deleted.")).to_be_visible()
        _screenshot(page, f"message-actions-{width}")
        second.close()
        other.disconnect()
        watched.assert_clean()


@pytest.mark.parametrize("width", [1280, 360])
def test_an_ended_link_offers_copy_and_delete_for_me_only(server, open_page, width):
    me, partner = fresh_names(f"me{width}")
    with server_log_on_failure(server):
        watched = _open(open_page, width, locale="en-GB")
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        say(other, room_id, "Said before the end")
        type_and_send(page, "My last word")
        expect(bubble(page, "My last word")).to_have_attribute("data-state", "sent")
        assert other.ask("room:leave", {"room_id": room_id})["ok"]
        expect(page.get_by_test_id("room-ended")).to_be_visible()

        for text in ("Said before the end", "My last word"):
            item = bubble(page, text)
            _open_actions(page, item, width)
            assert _actions_offered(item) == ["copy", "delete"], text
            expect(item.get_by_test_id("reaction-bar")).to_have_count(0)
        if width == 1280:  # by keyboard: the message, its menu (Enter), Copy; the focus comes back to the message
            theirs = bubble(page, "Said before the end")
            page.mouse.move(1200, 40)
            tab_to(page, "message")  # the newest message is the one in the Tab order
            page.keyboard.press("ArrowUp")
            expect(theirs).to_be_focused()
            page.keyboard.press("Enter")
            expect(theirs.get_by_test_id("message-copy")).to_be_focused()
            said = _watch_toast(page)
            page.keyboard.press("Enter")
            _toast_said(page, said, "Copied")
            expect(theirs).to_be_focused()
            assert page.evaluate("navigator.clipboard.readText()") == "Said before the end"
        mine = bubble(page, "My last word")
        _open_actions(page, mine, width)
        _press(mine, width, "message-delete")
        dialog = page.get_by_test_id("confirm-dialog")
        expect(dialog.get_by_test_id("confirm-ok")).to_have_text("Delete for me")
        expect(dialog.get_by_test_id("confirm-alternative")).to_be_hidden()
        dialog.get_by_test_id("confirm-ok").click()
        expect(mine).to_have_count(0)
        page.reload()
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(bubble(page, "Said before the end")).to_be_visible()
        expect(bubble(page, "My last word")).to_have_count(0)
        other.disconnect()
        watched.assert_clean()


def test_the_chinese_page_says_the_full_date_in_chinese(server, open_page):
    me, partner = fresh_names("mz")
    with server_log_on_failure(server):
        watched = _open(open_page, 360, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        say(other, room_id, "你好")
        item = bubble(page, "你好")
        title = item.locator("time").get_attribute("title")
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", title), title
        _open_actions(page, item, 360)
        expect(item.get_by_test_id("message-info")).to_have_text(re.compile(r"^发送于 \d{4}年"))
        expect(item.get_by_test_id("message-copy")).to_have_attribute("aria-label", "复制")
        said = _watch_toast(page)
        item.get_by_test_id("message-copy").tap()
        _toast_said(page, said, "已复制")
        _open_actions(page, item, 360)  # held until the actions open
        item.get_by_test_id("message-delete").tap()
        expect(page.get_by_test_id("confirm-ok")).to_have_text("为我删除")
        page.get_by_test_id("confirm-cancel").click()
        other.disconnect()
        watched.assert_clean()


def test_a_tap_outside_open_actions_only_closes_them(server, open_page):
    """On a phone, the actions open under the bubble; a tap elsewhere closes them and does nothing else. It
    did more: the history closed up under the finger, and the tap became one on a reply's quote that had
    come under it (a jump far up the chat)."""
    me, partner = fresh_names("mt")
    with server_log_on_failure(server):
        watched = _open(open_page, 360)
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        first = say(other, room_id, "line 0")
        for index in range(1, 16):
            say(other, room_id, f"line {index}")
        say(other, room_id, "back to the start", reply_to=first["id"])
        for index in range(16, 20):
            say(other, room_id, f"line {index}")
        last = say(other, room_id, "the last one")
        newest = page.locator(f'[data-testid="message"][data-seq="{last["seq"]}"]')
        expect(newest).to_be_in_viewport()
        closed = newest.bounding_box()["height"]
        _open_actions(page, newest, 360)
        expect(newest.get_by_test_id("message-actions")).to_be_in_viewport()  # the chat followed them
        # The tap lands where the quote will be once the actions (and the reaction bar) have closed: the history
        # closes up by what they took, at the bottom of the chat.
        quote = bubble(page, "back to the start").get_by_test_id("reply-quote")
        still(page, quote)
        taken = newest.bounding_box()["height"] - closed
        box = quote.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + taken)
        expect(newest).not_to_have_class(re.compile(r"\bmessage--actions-open\b"))
        expect(page.locator(".message--flash")).to_have_count(0)
        expect(bubble(page, "line 0")).not_to_be_focused()
        # The next tap on the quote is one: it brings the message quoted.
        quote.tap()
        expect(bubble(page, "line 0")).to_be_focused()
        expect(bubble(page, "line 0")).to_be_in_viewport()
        other.disconnect()
        watched.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_with_the_actions_open(server, open_page, scheme):
    me, partner = fresh_names("mx" + scheme[0])
    with server_log_on_failure(server):
        watched = _open(open_page, 360, locale="en-GB", color_scheme=scheme)
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        say(other, room_id, "Look at my actions")
        item = bubble(page, "Look at my actions")
        _open_actions(page, item, 360)
        expect(item.get_by_test_id("message-info")).to_be_visible()
        item.get_by_test_id("message-copy").tap()
        expect(page.get_by_test_id("toast")).to_have_text("Copied")
        _open_actions(page, item, 360)
        axe_clean(page, f"actions open, copied ({scheme})")
        _screenshot(page, f"message-actions-{scheme}-360")
        item.get_by_test_id("message-delete").tap()
        expect(page.get_by_test_id("confirm-dialog")).to_be_visible()
        axe_clean(page, f"delete dialog ({scheme})")
        page.get_by_test_id("confirm-cancel").click()
        other.disconnect()
        watched.assert_clean()

"""The browser: search in the chat, as a person uses it. A long history (160 messages, stored by the
server), a word from long ago: results as one types with the match marked, more on demand, and the
oldest result shown in the chat, its context loaded, flashed and focused. At 1280 and 360 px, in
Chinese, and axe-clean in both themes."""
import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from heartlink.domain import messages

from browser_plugin import axe_clean, server_log_on_failure, sign_in
from support import fresh_names

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
HISTORY = 160
LIGHTHOUSE = range(5, HISTORY + 1, 5)  # seqs of the messages about the lighthouse: 32 of them


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _text(seq):
    if seq == 3:
        return "Bring the seashell you found 🐚"
    if seq == 7:
        return "我们明天去海边吧"
    if seq in LIGHTHOUSE:
        return f"Lighthouse visit number {seq}, see you there"
    return f"just chatting, message {seq}"


def _linked_with_history(server, tag):
    """Two people in a link whose 160 messages the server stored: (my username, room id)."""
    me, partner = fresh_names(tag)
    my_id = server.make_user(me, "Alice Liddell")
    partner_id = server.make_user(partner, "Nina")
    room_id = server.link(my_id, partner_id)
    with server.app.app_context():
        drafts = [messages.draft(room_id, my_id if seq % 2 else partner_id, str(uuid.uuid4()), "text", _text(seq))
                  for seq in range(1, HISTORY + 1)]
        messages.store(drafts)
        assert [one.seq for one in drafts] == list(range(1, HISTORY + 1))
    return me, room_id


def _open_room(server, watched, me, room_id):
    page = sign_in(watched, server, me)
    page.goto(f"{server.url}/rooms/{room_id}")
    expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
    expect(page.get_by_test_id("message").last).to_have_attribute("data-seq", str(HISTORY))
    return page


def _in_view(locator):
    return locator.evaluate("""(element) => {
      const box = element.getBoundingClientRect();
      const scroller = element.closest('[data-testid="messages-scroll"]').getBoundingClientRect();
      return box.bottom > scroller.top && box.top < scroller.bottom;
    }""")


def test_a_word_from_long_ago_is_found_paged_and_shown_in_the_chat(server, open_page):
    with server_log_on_failure(server):
        me, room_id = _linked_with_history(server, "sd")
        watched = open_page(viewport=DESKTOP)
        page = _open_room(server, watched, me, room_id)
        oldest = page.locator('[data-testid="message"][data-seq="5"]')
        expect(oldest).to_have_count(0)  # not among the latest page the chat loaded

        page.get_by_test_id("search-open").click()
        panel = page.get_by_test_id("search-panel")
        expect(panel).to_be_visible()
        expect(page.get_by_test_id("search-input")).to_be_focused()
        expect(page.get_by_test_id("chat")).to_be_visible()  # beside the chat, not over it
        page.get_by_test_id("search-input").press_sequentially("lighth", delay=30)
        results = page.get_by_test_id("search-result")
        expect(results).to_have_count(20)
        expect(results.first).to_have_attribute("data-seq", "160")
        expect(results.first.locator("mark")).to_have_text("Lighth")
        expect(results.first.get_by_test_id("search-result-text")).to_have_text(
            "Lighthouse visit number 160, see you there")
        expect(page.get_by_test_id("search-status")).to_have_text("The newest 20 messages found; older ones below")
        page.screenshot(path="/tmp/heartlink-search-1280.png")

        page.get_by_test_id("search-more").click()
        expect(results).to_have_count(len(LIGHTHOUSE))
        expect(page.get_by_test_id("search-more")).to_be_hidden()
        expect(page.get_by_test_id("search-status")).to_have_text(f"{len(LIGHTHOUSE)} messages found")
        assert [int(seq) for seq in results.evaluate_all("(all) => all.map((one) => one.dataset.seq)")] == \
            sorted(LIGHTHOUSE, reverse=True)

        results.last.click()
        expect(oldest).to_have_count(1)  # its context was loaded
        expect(oldest).to_contain_text("Lighthouse visit number 5")
        expect(oldest).to_have_class(re.compile(r"\bmessage--flash\b"))
        expect(oldest).to_be_focused()
        assert _in_view(oldest)
        expect(panel).to_be_visible()  # at 1280 px it stays open beside the chat
        page.screenshot(path="/tmp/heartlink-search-1280-shown.png")

        # What cannot be searched, and a server that cannot answer, are said in words.
        page.get_by_test_id("search-input").fill("***")
        expect(page.get_by_test_id("search-status")).to_have_text("Search for a word or a number.")
        expect(results).to_have_count(0)
        unavailable = "Heart Link cannot reach its database right now; try again in a moment."
        searches = re.compile(r"/search\?")
        page.route(searches, lambda route: route.fulfill(
            status=503, content_type="application/json",
            body=json.dumps({"error": {"code": "unavailable", "message": unavailable}})))
        page.get_by_test_id("search-input").fill("lighthouse")
        expect(page.get_by_test_id("search-status")).to_have_text(f"The search did not work: {unavailable}")
        expect(page.get_by_test_id("search-status")).to_have_attribute("data-kind", "error")
        page.unroute(searches)
        watched.problems[:] = [problem for problem in watched.problems if "status of 503" not in problem]
        # Escape closes, and the focus goes back.
        page.get_by_test_id("search-input").press("Escape")
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("search-open")).to_be_focused()
        page.keyboard.press("Control+Shift+F")
        expect(panel).to_be_visible()
        expect(page.get_by_test_id("search-input")).to_be_focused()
        watched.assert_clean()


def test_on_a_phone_search_covers_the_chat_and_closes_on_a_choice(server, open_page):
    with server_log_on_failure(server):
        me, room_id = _linked_with_history(server, "sp")
        watched = open_page(viewport=PHONE, has_touch=True, is_mobile=True)
        page = _open_room(server, watched, me, room_id)
        expect(page.get_by_test_id("search-open")).to_be_hidden()  # no room in the header: it is in ⋮
        page.get_by_test_id("room-menu").click()
        page.get_by_test_id("menu-search").click()
        panel = page.get_by_test_id("search-panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box["width"] == PHONE["width"] and box["x"] == 0, box  # over the chat
        page.get_by_test_id("search-input").fill("seash")
        results = page.get_by_test_id("search-result")
        expect(results).to_have_count(1)
        expect(results.locator("mark")).to_have_text("seash")
        expect(page.get_by_test_id("search-status")).to_have_text("1 message found")
        page.screenshot(path="/tmp/heartlink-search-360.png")
        results.first.click()
        expect(panel).to_be_hidden()
        shown = page.locator('[data-testid="message"][data-seq="3"]')
        expect(shown).to_contain_text("Bring the seashell you found")
        expect(shown).to_be_focused()
        assert _in_view(shown)
        # Shown, not opened: a tap chose it, so its actions stay closed until a long press.
        expect(shown.get_by_test_id("message-actions")).to_be_hidden()
        page.screenshot(path="/tmp/heartlink-search-360-shown.png")
        watched.assert_clean()


def test_the_chinese_page_searches_chinese_text(server, open_page):
    with server_log_on_failure(server):
        me, room_id = _linked_with_history(server, "sz")
        watched = open_page(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
                            viewport=DESKTOP)
        page = _open_room(server, watched, me, room_id)
        opener = page.get_by_test_id("search-open")
        expect(opener).to_have_attribute("aria-label", "在此聊天中搜索")
        opener.click()
        expect(page.get_by_test_id("search-panel").get_by_role("heading")).to_have_text("搜索消息")
        expect(page.get_by_test_id("search-status")).to_have_text("输入文字，在此聊天中查找。")
        page.get_by_test_id("search-input").fill("明天")
        results = page.get_by_test_id("search-result")
        expect(results).to_have_count(1)
        expect(results.locator("mark")).to_have_text("明天")
        expect(results.first.locator(".search-result__sender")).to_have_text("你")  # "You", in Chinese
        expect(page.get_by_test_id("search-status")).to_have_text("找到 1 条消息")
        page.get_by_test_id("search-input").fill("没有的词")
        expect(page.get_by_test_id("search-status")).to_have_text("没有找到消息")
        page.screenshot(path="/tmp/heartlink-search-zh-1280.png")
        watched.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_search_panel_passes_axe_in_both_themes(server, open_page, scheme):
    with server_log_on_failure(server):
        me, room_id = _linked_with_history(server, "sa" + scheme[0])
        watched = open_page(color_scheme=scheme, viewport=DESKTOP)
        page = _open_room(server, watched, me, room_id)
        page.get_by_test_id("search-open").click()
        page.get_by_test_id("search-input").fill("lighthouse")
        expect(page.get_by_test_id("search-result")).to_have_count(20)
        page.get_by_test_id("search-result").nth(1).hover()
        axe_clean(page, f"search at 1280 px ({scheme})")
        page.screenshot(path=f"/tmp/heartlink-search-{scheme}-1280.png")
        page.set_viewport_size(PHONE)
        expect(page.get_by_test_id("search-panel")).to_be_visible()
        axe_clean(page, f"search at 360 px ({scheme})")
        page.screenshot(path=f"/tmp/heartlink-search-{scheme}-360.png")
        watched.assert_clean()

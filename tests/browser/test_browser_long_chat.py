"""The browser: a long chat (hundreds of messages stored by the server, loaded by scrolling up) as a
person reads it — only what is near the view is in the page, the place is kept while older pages
load, the unread divider shows, a reply's quote jumps to a message far back (loaded or not), the
keyboard moves through every message, and a message coming in shows or counts as new."""
import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy.exc import OperationalError

from heartlink.domain import messages
from heartlink.extensions import db
from heartlink.models import Message, RoomMember

import support
from browser_plugin import server_log_on_failure, sign_in, still, tab_to
from support import fresh_names

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
COUNT = 600
DOM_BOUND = 3000  # elements in the whole document, with every message loaded


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _long_chat(server, count=COUNT, replies=(), unread=0):
    """Two people and their link with `count` messages ("message 1" … , every other one the
    partner's), stored at once by the server; `replies`: (replying seq, quoted seq) pairs, whose
    text is "reply to N". `unread`: the last this many of the partner's are unread by me.
    Returns (my name, the partner's name, the room's id)."""
    me, partner = fresh_names("long")
    my_id = server.make_user(me, "Alice Liddell")
    partner_id = server.make_user(partner, "Nina", joined_days_ago=30)
    room_id = server.link(my_id, partner_id)
    replying = dict(replies)
    with server.app.app_context():
        base = db.session.query(db.func.max(Message.seq)).filter(Message.room_id == room_id).scalar() or 0
        assert base == 0, "a new link starts with no message"
        batch = []

        def flush():
            messages.store(batch)
            batch.clear()

        for seq in range(1, count + 1):
            sender = partner_id if seq % 2 else my_id
            quoted = replying.get(seq)
            reply_to = None
            if quoted:
                flush()
                reply_to = db.session.query(Message.id).filter_by(room_id=room_id, seq=quoted).scalar()
            text = f"reply to {quoted}" if quoted else f"message {seq}"
            batch.append(messages.draft(room_id, sender, str(uuid.uuid4()), "text", text, reply_to, None))
        flush()
        theirs = [seq for seq in range(1, count + 1) if seq % 2]
        read = theirs[-unread] - 1 if unread else count
        support.eventually(lambda: _mark_read(room_id, my_id, read), timeout=20, what="the read mark stored")
    return me, partner, room_id


def _mark_read(room_id, user_id, seq):
    """Where I had read up to; False while the server holds SQLite's write lock (it retries)."""
    try:
        db.session.execute(db.update(RoomMember).where(RoomMember.room_id == room_id, RoomMember.user_id == user_id)
                           .values(read_seq=seq, delivered_seq=seq))
        db.session.commit()
        return True
    except OperationalError:
        db.session.rollback()
        return False


def _open(server, open_page, viewport, me, room_id):
    watched = open_page(viewport=viewport)
    page = sign_in(watched, server, me)
    page.get_by_test_id("room-item").first.click()
    expect(page).to_have_url(f"{server.url}/rooms/{room_id}")
    expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
    return watched, page


def _message(page, seq):
    return page.locator(f'[data-testid="message"][data-seq="{seq}"]')


def _elements(page):
    return page.evaluate("() => document.getElementsByTagName('*').length")


def _load_everything(page):
    """Scroll up as a person does until the history's start: each time at the top loads the page before."""
    older = page.get_by_test_id("load-older")
    scroller = page.get_by_test_id("messages-scroll")
    scroller.hover()
    for _ in range(300):
        if older.is_hidden():
            break
        page.mouse.wheel(0, -20000)
        page.wait_for_timeout(50)  # a person's next turn of the wheel; the loop waits on `older`
    expect(older).to_be_hidden()
    # On up to the first message.
    first = '[data-testid="message"][data-seq="1"]'
    for _ in range(100):
        if page.evaluate(f"() => document.querySelector('[data-testid=\"messages-scroll\"]').scrollTop === 0 "
                         f"&& Boolean(document.querySelector('{first}'))"):
            break
        page.mouse.wheel(0, -20000)
        page.wait_for_timeout(50)


@VIEWPORTS
def test_a_long_chat_keeps_the_page_small_and_the_place_while_older_pages_load(server, open_page, viewport):
    me, _partner, room_id = _long_chat(server, unread=3)
    with server_log_on_failure(server):
        watched, page = _open(server, open_page, viewport, me, room_id)
        # Opened at its unread messages: the divider before the 3rd-last of the partner's.
        divider = page.get_by_test_id("unread-divider")
        expect(divider).to_have_text("3 unread messages")
        expect(divider).to_be_in_viewport()
        expect(_message(page, COUNT - 5)).to_be_attached()

        # At the top, the page before comes, and what was on screen stays where it was.
        top_seq = page.evaluate("""() => {
          const scroller = document.querySelector('[data-testid="messages-scroll"]');
          scroller.scrollTop = 0;  // as a person scrolls to the top; the page before is asked for then
          const top = scroller.getBoundingClientRect().top;
          const first = [...scroller.querySelectorAll('[data-testid="message"]')]
            .find((item) => item.getBoundingClientRect().top >= top);
          window.__kept = { seq: first.dataset.seq, y: first.getBoundingClientRect().top };
          return Number(first.dataset.seq);
        }""")
        page.wait_for_function("""(seq) => Math.min(...[...document.querySelectorAll('[data-testid="message"]')]
          .map((item) => Number(item.dataset.seq))) < seq""", arg=top_seq)
        moved = page.evaluate("""() => {
          const item = document.querySelector(`[data-testid="message"][data-seq="${window.__kept.seq}"]`);
          return item.getBoundingClientRect().top - window.__kept.y;
        }""")
        assert abs(moved) <= 2, f"message {top_seq} moved {moved}px as the older page came"

        _load_everything(page)
        expect(_message(page, 1)).to_be_in_viewport()
        drawn = page.get_by_test_id("message").count()
        assert drawn < 150, f"{drawn} of {COUNT} messages in the page"
        assert _elements(page) < DOM_BOUND
        # Back down to the newest, across the whole history.
        page.get_by_test_id("jump-new").click()
        expect(_message(page, COUNT)).to_be_in_viewport()
        assert _elements(page) < DOM_BOUND
        watched.assert_clean()


@VIEWPORTS
def test_a_reply_jumps_to_a_message_far_back_whether_loaded_or_not(server, open_page, viewport):
    me, _partner, room_id = _long_chat(server, replies=[(COUNT, 7), (COUNT - 2, 300)])
    with server_log_on_failure(server):
        watched, page = _open(server, open_page, viewport, me, room_id)
        newest = _message(page, COUNT)
        expect(newest).to_be_in_viewport()
        # Message 7 is not loaded yet: the quote brings it, drawn, centred, flashed and focused. (Clicked
        # once the history has settled: the measured heights of what was just drawn may still move it.)
        quote = newest.get_by_test_id("reply-quote")
        still(page, quote)
        quote.click()
        target = _message(page, 7)
        expect(target).to_be_focused()
        expect(target).to_be_in_viewport()
        expect(target).to_have_class(re.compile(r"\bmessage--flash\b"))
        assert page.get_by_test_id("message").count() < 150
        # Down to the newest again; a quote of a loaded message far above the window.
        page.get_by_test_id("jump-new").click()
        expect(newest).to_be_in_viewport()
        expect(_message(page, 300)).not_to_be_attached()
        reply = _message(page, COUNT - 2)
        expect(reply.get_by_test_id("reply-quote")).to_contain_text("message 300")
        reply.get_by_test_id("reply-quote").click()
        expect(_message(page, 300)).to_be_focused()
        expect(_message(page, 300)).to_be_in_viewport()
        # The keyboard goes on from there.
        page.keyboard.press("ArrowDown")
        expect(_message(page, 301)).to_be_focused()
        # The same way in for other parts of the page (a search result): the event chat.js answers.
        page.evaluate("(detail) => document.dispatchEvent(new CustomEvent('heartlink:show-message', { detail }))",
                      {"roomId": room_id, "seq": 150})
        expect(_message(page, 150)).to_be_focused()
        expect(_message(page, 150)).to_be_in_viewport()
        watched.assert_clean()


@VIEWPORTS
def test_the_keyboard_moves_through_a_long_chat_past_the_drawn_window(server, open_page, viewport):
    me, _partner, room_id = _long_chat(server)
    with server_log_on_failure(server):
        watched, page = _open(server, open_page, viewport, me, room_id)
        _load_everything(page)
        page.get_by_test_id("jump-new").click()
        expect(_message(page, COUNT)).to_be_in_viewport()
        page.get_by_test_id("composer-input").click()
        tab_to(page, _message(page, COUNT), backwards=True)
        for _ in range(80):
            page.keyboard.press("ArrowUp")
        expect(_message(page, COUNT - 80)).to_be_focused()
        expect(_message(page, COUNT - 80)).to_be_in_viewport()
        expect(_message(page, COUNT)).not_to_be_attached()  # well out of the window by now
        for _ in range(5):
            page.keyboard.press("ArrowDown")
        expect(_message(page, COUNT - 75)).to_be_focused()
        # Scrolled a little by the wheel, the focused message keeps the focus though it leaves the view.
        page.get_by_test_id("messages-scroll").hover()
        page.mouse.wheel(0, 1500)
        page.wait_for_function("() => document.querySelector('[data-testid=\"messages-scroll\"]').scrollTop > 0")
        expect(_message(page, COUNT - 75)).not_to_be_in_viewport()
        expect(_message(page, COUNT - 75)).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(_message(page, COUNT - 74)).to_be_focused()
        page.keyboard.press("Home")
        expect(_message(page, 1)).to_be_focused()
        expect(_message(page, 1)).to_be_in_viewport()
        page.keyboard.press("End")
        expect(_message(page, COUNT)).to_be_focused()
        expect(_message(page, COUNT)).to_be_in_viewport()
        assert _elements(page) < DOM_BOUND
        watched.assert_clean()


@VIEWPORTS
def test_in_a_long_chat_a_new_message_shows_when_at_the_newest_and_counts_as_new_when_up(server, open_page, viewport):
    me, partner, room_id = _long_chat(server)
    with server_log_on_failure(server):
        watched, page = _open(server, open_page, viewport, me, room_id)
        page.get_by_test_id("load-older").click()  # 100 loaded: more than is drawn at once
        page.wait_for_function("() => !document.querySelector('[data-testid=\"load-older\"]').disabled")
        page.get_by_test_id("jump-new").click()
        expect(_message(page, COUNT)).to_be_in_viewport()
        other = server.connect(partner)
        other.send_text(room_id, "are you there?")
        expect(_message(page, COUNT + 1)).to_be_in_viewport()
        expect(page.get_by_test_id("jump-new")).to_be_hidden()

        page.get_by_test_id("messages-scroll").hover()
        page.mouse.wheel(0, -4000)
        expect(_message(page, COUNT + 1)).not_to_be_in_viewport()
        other.send_text(room_id, "still reading?")
        jump = page.get_by_test_id("jump-new")
        expect(jump).to_contain_text("1 new")
        jump.click()
        expect(_message(page, COUNT + 2)).to_be_in_viewport()
        expect(page.get_by_test_id("unread-divider")).to_have_text("1 unread message")
        expect(jump).to_be_hidden()
        other.disconnect()
        watched.assert_clean()

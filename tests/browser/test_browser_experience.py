"""The browser, as people used to WhatsApp and WeChat expect it: the phone layout, alerts, the dark
theme, the keyboard, drafts, the Chinese page, and axe-core's accessibility checks, with
screenshots of the main states at 360 and 1280 px (written to test-results/screenshots/)."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from config import BASE_DIR

from browser_plugin import (
    axe_clean,
    bubble,
    link_with_socket_partner,
    say,
    server_log_on_failure,
    sign_in,
    tab_to,
    upload_as,
)
from media_samples import png, webm_opus
from support import fresh_names

SCREENSHOTS = BASE_DIR / "test-results" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

# Records every notification the page shows (Chromium's headless notifications are not observable).
_RECORD_NOTIFICATIONS = """
window.__notifications = [];
if ("Notification" in window) {
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.__notifications.push({ title, body: options.body || "" });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
}
"""

# The page is in the background: document.hidden and visibilityState say so.
_HIDE_PAGE = """() => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _rich_history(server, page, other, token, room_id):
    """Text, a link, a picture, a file, a voice note and a missed call from the partner; a reply from me."""
    say(other, room_id, "Hello! 😀 See https://example.com/page?x=1.")
    for kind, name, data, mime in (("image", "cat.png", png((64, 48)), "image/png"),
                                   ("file", "notes.txt", b"x" * 1500, "text/plain"),
                                   ("voice", "voice.webm", webm_opus(), "audio/webm")):
        attachment_id = upload_as(server, token, room_id, kind, name, data, mime)
        ack = other.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": kind,
                                         "attachment_id": attachment_id})
        assert ack["ok"], ack
    call = other.ask("call:invite", {"room_id": room_id, "media": "audio"})
    assert call["ok"], call
    expect(page.get_by_test_id("call-incoming")).to_be_visible()
    assert other.ask("call:cancel", {"call_id": call["call_id"]})["ok"]
    expect(page.get_by_test_id("call-message")).to_have_count(1)
    expect(page.get_by_test_id("message")).to_have_count(4)
    page.get_by_test_id("composer-input").fill("Hi Nina, lovely to meet you")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.locator('[data-testid="message"][data-mine="true"]')).to_have_attribute(
        "data-receipt", re.compile("sent|delivered|read"))


def _screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _width(locator):
    return locator.evaluate("(element) => element.getBoundingClientRect().width")


# --- the phone layout -------------------------------------------------------------------------
def test_phone_header_keeps_the_partner_and_one_screen_at_a_time(server, open_page):
    me, partner = fresh_names("ph")
    with server_log_on_failure(server):
        watched = open_page(viewport=PHONE, has_touch=True, is_mobile=True)
        page, other, token, room_id = link_with_socket_partner(server, watched, me, partner)
        _rich_history(server, page, other, token, room_id)
        for width in (360, 390, 768, 1280):
            page.set_viewport_size({"width": width, "height": 740 if width < 1000 else 800})
            name, presence = page.get_by_test_id("partner-name"), page.get_by_test_id("partner-presence")
            expect(page.get_by_test_id("partner-avatar")).to_be_visible()
            expect(name).to_have_text("Nina 🌸")
            expect(presence).to_have_text("online")
            assert _width(page.get_by_test_id("partner-avatar")) >= 32
            assert _width(name) >= 60, f"the name is squeezed at {width} px"
            assert _width(page.locator(".chat__who")) >= 96, f"the name and presence are squeezed at {width} px"
            # The partner typing shows in the same place.
            other.ask("typing", {"room_id": room_id, "typing": True})
            # Visible first: the hidden line keeps the last typing text, so the text alone
            # could be the previous width's while this width's event is still on its way.
            expect(page.get_by_test_id("partner-typing")).to_be_visible()
            expect(page.get_by_test_id("partner-typing")).to_have_text("Nina 🌸 is typing…")
            assert _width(page.get_by_test_id("partner-typing")) >= 60
            other.ask("typing", {"room_id": room_id, "typing": False})
            expect(page.get_by_test_id("partner-typing")).to_be_hidden()
            if width <= 760:
                # One screen at a time: the list is gone while a chat is open; end link is in the menu.
                expect(page.get_by_test_id("rooms-list")).to_be_hidden()
                expect(page.get_by_test_id("end-link")).to_be_hidden()
                expect(page.get_by_test_id("chat-back")).to_be_visible()
            if width in (360, 1280):
                _screenshot(page, f"chat-{width}")
        page.set_viewport_size(PHONE)
        page.get_by_test_id("room-menu").click()
        expect(page.get_by_test_id("menu-end-link")).to_be_visible()
        expect(page.get_by_test_id("menu-keep")).to_be_visible()
        page.keyboard.press("Escape")
        page.get_by_test_id("chat-back").click()
        expect(page.get_by_test_id("rooms-list")).to_be_visible()
        expect(page.get_by_test_id("chat")).to_be_hidden()
        # Back lands on the list, at the link just left (below the finding card on a phone), focused.
        left = page.locator(f'[data-testid="room-item"][data-room-id="{room_id}"]')
        expect(left).to_be_in_viewport()
        expect(left).to_be_focused()
        _screenshot(page, "lobby-360")
        page.get_by_test_id("room-item").first.click()
        expect(page.get_by_test_id("chat")).to_be_visible()
        # Ending from the menu: a styled dialog; then the send box gives way to "Find a new heart link".
        page.get_by_test_id("room-menu").click()
        page.get_by_test_id("menu-end-link").click()
        dialog = page.get_by_test_id("confirm-dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_test_id("confirm-ok").click()
        expect(page.get_by_test_id("room-ended")).to_be_visible()
        expect(page.get_by_test_id("composer")).to_be_hidden()
        expect(page.get_by_test_id("find-again")).to_be_visible()
        _screenshot(page, "ended-360")
        page.set_viewport_size(DESKTOP)
        _screenshot(page, "ended-1280")
        # "Find a new heart link" shows the finding card, not the list.
        page.set_viewport_size(PHONE)
        page.get_by_test_id("find-again").click()
        expect(page.get_by_test_id("waiting")).to_be_in_viewport()
        # Stop looking (idle once the server said so): the module's other tests match on this server.
        page.get_by_test_id("cancel-find").click()
        expect(page.get_by_test_id("lobby-idle")).to_be_visible()
        other.disconnect()
        watched.assert_clean()


def test_on_a_phone_last_seen_shows_whole_and_the_shared_interests_give_way(server, open_page):
    me, partner = fresh_names("seen")
    server.make_user(me, "Alice Liddell")
    server.make_user(partner, "Nina", joined_days_ago=30)
    with server_log_on_failure(server):
        watched = open_page(viewport=PHONE, has_touch=True, is_mobile=True)
        page = sign_in(watched, server, me)
        other = server.connect(partner, token=server.token(partner))
        interests = ["hiking", "jazz", "board games"]
        assert other.ask("match:start", {"languages": ["en", "zh"], "interests": interests})["state"] == "waiting"
        page.get_by_test_id("match-interests").fill(", ".join(interests))
        page.get_by_test_id("find-link").click()
        other.wait_for("match:found")
        shared = page.get_by_test_id("shared-interests")
        expect(shared).to_have_text("You both like hiking, jazz, board games")
        presence = page.get_by_test_id("partner-presence")
        expect(presence).to_have_text("online")
        on_the_line = """(line) => line.getBoundingClientRect().bottom
          <= line.parentElement.getBoundingClientRect().bottom + 1"""
        assert shared.evaluate(on_the_line), "beside a short presence, the interests show (cut short)"
        _screenshot(page, "chat-header-online-360")
        other.disconnect()
        expect(presence).to_have_text("last seen just now")
        assert presence.evaluate("(line) => line.scrollWidth <= line.clientWidth"), "last seen is cut short"
        # The interests give way: too little room for a few words, so off the line (whole in its title).
        assert not shared.evaluate(on_the_line)
        expect(shared).to_have_attribute("title", "You both like hiking, jazz, board games")
        _screenshot(page, "chat-header-last-seen-360")
        page.set_viewport_size(DESKTOP)
        expect(page.get_by_test_id("partner-presence")).to_be_visible()
        page.wait_for_function(on_the_line, arg=shared.element_handle())  # room again on a wide screen
        _screenshot(page, "chat-header-last-seen-1280")
        watched.assert_clean()


# --- alerts ---------------------------------------------------------------------------------------
def test_a_message_to_a_hidden_page_shows_a_notification_and_counts_in_the_title(server, open_page):
    me, partner = fresh_names("nt")
    with server_log_on_failure(server):
        watched = open_page(permissions=["notifications"], init_scripts=[_RECORD_NOTIFICATIONS])
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner, "Bob Builder")
        page.evaluate(_HIDE_PAGE)
        say(other, room_id, "Are you there?")
        page.wait_for_function("window.__notifications.length > 0")
        notes = page.evaluate("window.__notifications")
        assert notes == [{"title": "Bob Builder", "body": "Are you there?"}]
        expect(page).to_have_title(re.compile(r"^\(1\) "))
        assert page.evaluate("document.documentElement.dataset.unreadBadge") == "1"
        assert page.evaluate("document.querySelector('link[rel=icon]').href").startswith("data:image/png")
        # Turned off in Settings: no more notifications.
        page.evaluate("localStorage.setItem('heartlink:notifications', 'off')")
        say(other, room_id, "Hello?")
        expect(page).to_have_title(re.compile(r"^\(2\) "))
        assert len(page.evaluate("window.__notifications")) == 1
        # On again: an incoming call while hidden shows one too.
        page.evaluate("localStorage.setItem('heartlink:notifications', 'on')")
        call = other.ask("call:invite", {"room_id": room_id, "media": "video"})
        page.wait_for_function("window.__notifications.length > 1")
        assert page.evaluate("window.__notifications[1]") == {"title": "Incoming video call", "body": "Bob Builder"}
        assert other.ask("call:cancel", {"call_id": call["call_id"]})["ok"]
        other.disconnect()
        watched.assert_clean()


# --- the dark theme ------------------------------------------------------------------------------
def test_the_dark_theme_follows_the_system_and_the_choice_in_settings(server, open_page):
    me, partner = fresh_names("dk")
    with server_log_on_failure(server):
        watched = open_page(color_scheme="dark", viewport=DESKTOP)
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        say(other, room_id, "Good evening 🌙")
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        background = page.evaluate("getComputedStyle(document.querySelector('.chat__scroll')).backgroundColor")
        assert background == "rgb(11, 20, 26)", background
        text = bubble(page, "Good evening 🌙").get_by_test_id("message-text")  # once the message has arrived
        ink = text.evaluate("(element) => getComputedStyle(element).color")
        assert ink == "rgb(233, 237, 239)", ink
        _screenshot(page, "chat-dark-1280")
        # A manual choice overrides the system, and stays after a reload.
        page.get_by_test_id("settings-link").click()
        page.get_by_test_id("theme-light").check()
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        page.get_by_test_id("settings-close").click()
        page.reload()
        expect(page).to_have_url(server.url + f"/rooms/{room_id}")
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        page.get_by_test_id("settings-link").click()
        page.get_by_test_id("theme-system").check()
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        other.disconnect()
        watched.assert_clean()


# --- drafts, links, Up to edit -------------------------------------------------------------------
def test_a_draft_survives_a_reload_links_are_safe_and_up_edits_the_last_message(server, open_page):
    me, partner = fresh_names("dr")
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        box = page.get_by_test_id("composer-input")
        box.fill("half a thought")
        page.reload()
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(box).to_have_value("half a thought")

        say(other, room_id, "look https://example.com/a?b=1, and javascript:alert(1) and <b>x</b>")
        link = page.get_by_test_id("message-link")
        expect(link).to_have_count(1)
        expect(link).to_have_attribute("href", "https://example.com/a?b=1")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        expect(link).to_have_text("https://example.com/a?b=1")
        expect(page.locator(".bubble b")).to_have_count(0)

        box.fill("typo hree")
        box.press("Enter")
        expect(page.locator('[data-testid="message"][data-mine="true"]')).to_have_attribute("data-state", "sent")
        expect(box).to_have_value("")
        box.press("ArrowUp")
        expect(page.get_by_test_id("compose-context")).to_have_attribute("data-mode", "edit")
        expect(box).to_have_value("typo hree")
        box.fill("typo here")
        box.press("Enter")
        expect(page.locator('[data-testid="message"][data-mine="true"]').get_by_test_id("message-edited")).to_be_visible()
        page.reload()
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(box).to_have_value("")  # sent: the draft is gone
        other.disconnect()
        watched.assert_clean()


def test_scrolled_up_a_new_message_shows_the_jump_button_and_the_unread_divider(server, open_page):
    me, partner = fresh_names("jp")
    with server_log_on_failure(server):
        watched = open_page(viewport={"width": 1280, "height": 500})
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        for index in range(8):  # tall ones: well under the rate limit, and more than a screen
            say(other, room_id, f"line {index}" + "\n." * 6)
        expect(page.get_by_test_id("message")).to_have_count(8)
        page.get_by_test_id("messages-scroll").evaluate("(element) => { element.scrollTop = 0; }")
        say(other, room_id, "are you still reading?")
        jump = page.get_by_test_id("jump-new")
        expect(jump).to_be_visible()
        expect(jump).to_contain_text("1 new")
        expect(page.get_by_test_id("unread-divider")).to_have_text("1 unread message")
        expect(page.get_by_test_id("announcer")).to_have_text("Nina 🌸: are you still reading?")
        jump.click()
        expect(jump).to_be_hidden()
        other.disconnect()
        watched.assert_clean()


# --- the keyboard -------------------------------------------------------------------------------
def test_keyboard_only_from_sign_in_to_a_reacted_and_replied_message(server, open_page):
    me, partner = fresh_names("kb")
    server.make_user(me, "Alice Liddell")
    server.make_user(partner, "Bob Builder")
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page = watched.page
        page.goto(server.url + "/login")
        # The username field takes the focus on its own; keys typed before that would be lost.
        expect(page.get_by_label("Username")).to_be_focused()
        page.keyboard.type(me)
        page.keyboard.press("Tab")
        page.keyboard.type("correct-horse-battery")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        other = server.connect(partner)
        assert other.ask("match:start")["state"] == "waiting"
        tab_to(page, "find-link")
        page.keyboard.press("Enter")
        room_id = other.wait_for("match:found")["room"]["id"]
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        say(other, room_id, "first")
        say(other, room_id, "second")
        expect(page.get_by_test_id("message")).to_have_count(2)
        # The page has read both (its unread divider and receipts are settled): nothing redraws
        # the messages under the keyboard from here on.
        other.wait_for("receipt", lambda receipt: receipt["read_seq"] == 2, timeout=30)

        # The text box has the focus; Shift+Tab reaches the message list: one message is in the Tab order.
        expect(page.get_by_test_id("composer-input")).to_be_focused()
        tab_to(page, "message", backwards=True)
        assert page.evaluate("document.activeElement.dataset.seq") == "2"
        page.keyboard.press("ArrowUp")
        assert page.evaluate("document.activeElement.dataset.seq") == "1"
        first = page.locator('[data-testid="message"][data-seq="1"]')
        # Enter opens its actions; the arrow keys move in them; the reaction bar is a menu too.
        page.keyboard.press("Enter")
        expect(first.get_by_test_id("message-react-open")).to_be_focused()
        page.keyboard.press("Enter")
        expect(first.get_by_test_id("quick-reaction").first).to_be_focused()
        page.keyboard.press("ArrowRight")  # ❤️
        page.keyboard.press("Enter")
        expect(first.get_by_test_id("reaction")).to_have_attribute("data-emoji", "❤️")
        other.wait_for("message:updated")
        expect(first).to_be_focused()  # redrawn with its reaction, the message keeps the focus
        # The menu key, then right to Reply.
        page.keyboard.press("ContextMenu")
        page.keyboard.press("ArrowRight")
        expect(first.get_by_test_id("message-reply")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("compose-context")).to_have_attribute("data-mode", "reply")
        expect(page.get_by_test_id("composer-input")).to_be_focused()
        page.keyboard.type("a reply by keyboard")
        page.keyboard.press("Enter")
        reply = other.wait_for("message:new")["message"]
        assert reply["text"] == "a reply by keyboard" and reply["reply_to"] is not None
        # Escape closes an open actions menu and gives the focus back to the message.
        tab_to(page, "message", backwards=True)
        expect(first).to_be_focused()  # the message last visited is the one in the Tab order
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        expect(first).to_be_focused()
        # The room menu by keyboard: arrows move, Escape closes.
        tab_to(page, "room-menu", backwards=True)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("menu-keep")).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(page.get_by_test_id("menu-end-link")).to_be_focused()
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("room-menu-list")).to_be_hidden()
        expect(page.get_by_test_id("room-menu")).to_be_focused()
        other.disconnect()
        watched.assert_clean()


# --- 简体中文 ---------------------------------------------------------------------------------------
_LATIN_WORDS = re.compile(r"[A-Za-z]{3,}")
# Names, and key names, which Chinese pages write as they are (Alt+N, Ctrl+Shift+F, Esc).
_ALLOWED = {"Bob", "Builder", "Alice", "Liddell", "English", "MOONLIGHT", "Nina", "Alt", "Ctrl", "Shift", "Esc"}


def _untranslated(page):
    """Visible text with English words in it (names and the language's own name aside)."""
    texts = page.evaluate("""() => {
      // What people wrote or named (messages, previews, file names) is theirs, not the page's; text marked
      // as another language (the lobby names each language in itself) is not the page's either.
      const USER_CONTENT = "script, style, [hidden], body [lang], .bubble__text, .room-link__preview, "
        + ".file-card, .reply-quote, .compose-context__text";
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const node = walker.currentNode;
        const element = node.parentElement;
        if (!element || !node.textContent.trim() || element.closest(USER_CONTENT)) continue;
        if (!element.getClientRects().length) continue;
        out.push(node.textContent.trim());
      }
      for (const element of document.querySelectorAll("[placeholder], [aria-label], [title]")) {
        if (!element.getClientRects().length || element.closest(USER_CONTENT)) continue;
        for (const name of ["placeholder", "aria-label", "title"]) {
          if (element.getAttribute(name)) out.push(element.getAttribute(name));
        }
      }
      return out;
    }""")
    return [text for text in texts if any(word not in _ALLOWED for word in _LATIN_WORDS.findall(text))
            and not text.startswith("@")]


def test_the_chinese_pages_have_no_untranslated_string(server, open_page):
    me, partner = fresh_names("zh")
    with server_log_on_failure(server):
        watched = open_page(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"}, viewport=DESKTOP)
        page = watched.page
        page.goto(server.url + "/login")
        assert _untranslated(page) == []
        page.goto(server.url + "/register")
        # The sign-up check's widget speaks the page's language too, once it has solved its challenge.
        expect(page.locator("altcha-widget [data-state]").first).to_have_attribute("data-state", "verified")
        assert _untranslated(page) == []
        page, other, token, room_id = link_with_socket_partner(server, watched, me, partner, "Bob Builder")
        _rich_history(server, page, other, token, room_id)
        page.locator('[data-testid="message"]').first.hover()
        assert _untranslated(page) == [], "chat"
        page.get_by_test_id("room-menu").click()
        assert _untranslated(page) == [], "room menu"
        page.keyboard.press("Escape")
        page.get_by_test_id("new-link").click()
        assert _untranslated(page) == [], "lobby"
        page.get_by_test_id("settings-link").click()
        expect(page.get_by_test_id("setting-read-receipts")).to_be_enabled()
        assert _untranslated(page) == [], "settings"
        _screenshot(page, "settings-zh-1280")
        other.disconnect()


# --- axe-core -------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation(server, open_page, scheme):
    me, partner = fresh_names("ax" + scheme[0])
    with server_log_on_failure(server):
        watched = open_page(color_scheme=scheme, viewport=DESKTOP)
        page = watched.page
        page.goto(server.url + "/login")
        axe_clean(page, f"sign-in ({scheme})")
        _screenshot(page, f"sign-in-{scheme}-1280")
        page.goto(server.url + "/register")  # with the sign-up check's widget, solved
        expect(page.locator("altcha-widget [data-state]").first).to_have_attribute("data-state", "verified")
        axe_clean(page, f"sign-up ({scheme})")
        _screenshot(page, f"sign-up-{scheme}-1280")
        page, other, token, room_id = link_with_socket_partner(server, watched, me, partner)
        _rich_history(server, page, other, token, room_id)
        # A file of mine (its size on my bubble's colour) and a reply of mine (a quote to click).
        page.get_by_test_id("attach-input").set_input_files(
            files=[{"name": "plan.txt", "mimeType": "text/plain", "buffer": b"x" * 2500}])
        page.get_by_test_id("tray-send").click()
        expect(page.locator('[data-testid="message"][data-mine="true"]').get_by_test_id("file-size")).to_be_visible()
        first = page.locator('[data-testid="message"]').first
        first.hover()
        first.get_by_test_id("message-reply").click()
        page.get_by_test_id("composer-input").fill("Lovely, thanks")
        page.get_by_test_id("composer-input").press("Enter")
        expect(page.locator('[data-testid="message"][data-mine="true"]').get_by_test_id("reply-quote")).to_be_visible()
        page.locator('[data-testid="message"]').first.hover()
        axe_clean(page, f"chat ({scheme})")
        _screenshot(page, f"chat-rich-{scheme}-1280")
        page.set_viewport_size(PHONE)
        axe_clean(page, f"chat at 360 px ({scheme})")
        _screenshot(page, f"chat-rich-{scheme}-360")
        page.set_viewport_size(DESKTOP)
        page.get_by_test_id("new-link").click()
        expect(page.get_by_test_id("lobby")).to_be_visible()
        axe_clean(page, f"lobby ({scheme})")
        _screenshot(page, f"lobby-{scheme}-1280")
        page.get_by_test_id("settings-link").click()
        expect(page.get_by_test_id("setting-read-receipts")).to_be_enabled()
        axe_clean(page, f"settings ({scheme})")
        _screenshot(page, f"settings-{scheme}-1280")
        page.set_viewport_size(PHONE)
        axe_clean(page, f"settings at 360 px ({scheme})")
        _screenshot(page, f"settings-{scheme}-360")
        other.disconnect()

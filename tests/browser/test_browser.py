"""The browser: two people sign in, find each other and chat, as a person would see it."""
import re

from playwright.sync_api import expect

from browser_plugin import bubble, server_log_on_failure, sign_in, type_and_send
from support import PASSWORD


def test_two_people_find_each_other_and_chat(live_server, open_page):
    with server_log_on_failure(live_server):
        _find_each_other_and_chat(live_server, open_page)


def _find_each_other_and_chat(live_server, open_page):
    live_server.make_user("alice", "Alice Liddell")
    live_server.make_user("bob", "Bob Builder")
    alice_tab, bob_tab = open_page(), open_page()
    alice = sign_in(alice_tab, live_server, "alice")
    bob = sign_in(bob_tab, live_server, "bob")

    alice.get_by_test_id("find-link").click()
    expect(alice.get_by_test_id("waiting")).to_be_visible()
    expect(alice.get_by_test_id("countdown")).to_have_text(re.compile(r"^\d+:\d\d$"))
    bob.get_by_test_id("find-link").click()

    room_url = re.compile(re.escape(live_server.url) + r"/rooms/[0-9a-f-]{36}$")
    expect(alice).to_have_url(room_url)
    expect(bob).to_have_url(room_url)
    assert alice.url == bob.url
    expect(alice.get_by_test_id("partner-name")).to_have_text("Bob Builder")
    expect(bob.get_by_test_id("partner-name")).to_have_text("Alice Liddell")
    expect(alice.get_by_test_id("rooms-list").get_by_test_id("room-item")).to_have_count(1)
    for page in (alice, bob):
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(page.get_by_test_id("chat-error")).to_be_hidden()

    type_and_send(alice, "Hello Bob <b>not bold</b>")
    sent = bubble(alice, "Hello Bob <b>not bold</b>")
    expect(sent).to_have_attribute("data-state", "sent")
    expect(sent).to_have_attribute("data-mine", "true")
    expect(sent).to_have_attribute("data-seq", "1")
    received = bubble(bob, "Hello Bob <b>not bold</b>")
    expect(received).to_be_visible()
    expect(received).to_have_attribute("data-mine", "false")
    expect(bob.locator(".bubble b")).to_have_count(0)  # text stays text

    bob.get_by_test_id("composer-input").fill("Hi Alice!")
    bob.get_by_test_id("composer-input").press("Enter")
    expect(bubble(bob, "Hi Alice!")).to_have_attribute("data-state", "sent")
    reply = bubble(alice, "Hi Alice!")
    expect(reply).to_have_attribute("data-seq", "2")
    expect(reply).to_have_attribute("data-mine", "false")
    expect(alice.get_by_test_id("message")).to_have_count(2)

    # Alice ends the link: both see it ended, the history stays, nobody can write.
    alice.get_by_test_id("end-link").click()
    alice.get_by_test_id("confirm-dialog").get_by_test_id("confirm-ok").click()  # a styled dialog, not confirm()
    for page in (alice, bob):
        expect(page.get_by_test_id("room-ended")).to_be_visible()
        expect(page.get_by_test_id("composer-input")).to_be_disabled()
        expect(page.get_by_test_id("message")).to_have_count(2)
    expect(bob.get_by_test_id("room-ended")).to_contain_text("Alice Liddell")

    alice_tab.assert_clean()
    bob_tab.assert_clean()


def _sign_up(watched, server, username, display_name):
    """Create an account through the sign-up form, reached from the sign-in page's link."""
    page = watched.page
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/login"))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("display_name").fill(display_name)
    page.get_by_test_id("password").fill("correct horse battery")
    page.get_by_test_id("birth_date").fill("1990-04-12")
    page.get_by_test_id("register-submit").click()
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")
    return page


def test_a_newcomer_signs_up_chats_signs_out_and_finds_the_link_again(live_server, open_page):
    """The first path every person takes, through the page's own controls only."""
    with server_log_on_failure(live_server):
        carol_tab, dave_tab = open_page(), open_page()
        carol = _sign_up(carol_tab, live_server, "carol_new", "Carol")
        dave = _sign_up(dave_tab, live_server, "dave_new", "Dave")

        carol.get_by_test_id("find-link").click()
        expect(carol.get_by_test_id("waiting")).to_be_visible()
        dave.get_by_test_id("find-link").click()
        for page in (carol, dave):
            expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        room_url = carol.url
        carol.get_by_test_id("composer-input").fill("Hi, I am new here")
        carol.get_by_test_id("composer-input").press("Enter")
        expect(bubble(dave, "Hi, I am new here")).to_be_visible()
        type_and_send(dave, "Welcome!")
        expect(bubble(carol, "Welcome!")).to_be_visible()

        # Sign out with the sidebar's button: the sign-in page, not the JSON answer of /api/logout.
        carol.get_by_test_id("logout").click()
        expect(carol).to_have_url(live_server.url + "/login")
        expect(carol.get_by_test_id("login-form")).to_be_visible()
        expect(carol.locator("body")).not_to_contain_text("signed_out")

        carol.get_by_test_id("username").fill("carol_new")
        carol.get_by_test_id("password").fill("correct horse battery")
        carol.get_by_test_id("login-submit").click()
        expect(carol.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        link = carol.get_by_test_id("rooms-list").get_by_test_id("room-item")
        expect(link).to_have_count(1)
        expect(link).to_contain_text("Dave")
        link.click()
        expect(carol).to_have_url(room_url)
        expect(carol.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(bubble(carol, "Hi, I am new here")).to_have_attribute("data-mine", "true")
        expect(bubble(carol, "Welcome!")).to_have_attribute("data-mine", "false")
        carol_tab.assert_clean()
        dave_tab.assert_clean()


def test_signing_out_in_one_tab_takes_the_other_tab_to_sign_in_and_back(live_server, open_page):
    """The other tab of a signed-out person sat on "Connection lost. Reconnecting…" (its socket was
    closed for good), and its own sign-out button led, through /login?next=/logout, to a 405 page.
    It now goes to the sign-in page by itself, and signing in there lands in the app."""
    with server_log_on_failure(live_server):
        live_server.make_user("erin", "Erin")
        first = open_page()
        page = sign_in(first, live_server, "erin")
        other = first.context.new_page()  # a second tab: the same cookies
        other.goto(live_server.url + "/")
        expect(other.get_by_test_id("app")).to_have_attribute("data-connection", "online")

        page.bring_to_front()  # back to the first tab (one behind another gets no animation frames)
        page.get_by_test_id("logout").click()
        expect(page).to_have_url(live_server.url + "/login")
        expect(other).to_have_url(re.compile(re.escape(live_server.url) + r"/login(\?next=%2F)?$"))
        other.get_by_test_id("username").fill("erin")
        other.get_by_test_id("password").fill(PASSWORD)
        other.get_by_test_id("login-submit").click()
        # Both tabs opened the sign-in page at about the same moment; the one opened first may
        # ask again (test_a_sign_in_page_gone_stale_in_another_tab_asks_again_not_an_error).
        expect(other.get_by_test_id("app").or_(other.get_by_test_id("flash-error"))).to_be_visible()
        if other.get_by_test_id("flash-error").is_visible():
            other.get_by_test_id("password").fill(PASSWORD)
            other.get_by_test_id("login-submit").click()
        expect(other).to_have_url(live_server.url + "/")
        expect(other.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        first.assert_clean()


def test_a_sign_in_page_gone_stale_in_another_tab_asks_again_not_an_error(live_server, open_page):
    """Two tabs of one browser open the sign-in page at once with no session (just signed out): each
    answer starts a session with its own CSRF token, the later cookie wins, and the other tab's form
    is stale. Sending it showed "That request did not look right" (400); it now shows the form again,
    the name kept, and the next try signs in."""
    with server_log_on_failure(live_server):
        live_server.make_user("fay", "Fay")
        tab = open_page()
        first = tab.page
        first.goto(live_server.url + "/login")
        tab.context.clear_cookies()  # as if both pages had been asked for before either answer came
        second = tab.context.new_page()
        second.goto(live_server.url + "/login")  # a new session, a new token: the first tab's is stale
        first.bring_to_front()
        first.get_by_test_id("username").fill("fay")
        first.get_by_test_id("password").fill(PASSWORD)
        first.get_by_test_id("login-submit").click()
        expect(first.get_by_test_id("flash-error")).to_have_text("This page had expired; please send it again.")
        expect(first.get_by_test_id("username")).to_have_value("fay")
        first.get_by_test_id("password").fill(PASSWORD)
        first.get_by_test_id("login-submit").click()
        expect(first).to_have_url(live_server.url + "/")
        expect(first.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        tab.assert_clean()

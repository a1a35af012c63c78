"""The browser, for safety: hostile text stays text, every page keeps to its CSP, blocking,
reporting, the blocked list in Settings, and rate limits the person can see."""
import re
import uuid

from playwright.sync_api import expect

from heartlink.extensions import db
from heartlink.models import Report

from browser_plugin import bubble, link_pages, server_log_on_failure, sign_in, type_and_send

PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    '"><svg onload=window.__xss=1>',
]

# Anything a payload could have turned into: an inline script (the page's own are files or
# JSON string tables), or an element with an event handler.
_INJECTED = """(scope) => [...document.querySelectorAll(`${scope} *`)]
  .filter((el) => (el.tagName === "SCRIPT" && !el.src && el.type !== "application/json")
                  || [...el.attributes].some((a) => a.name.startsWith("on")))
  .map((el) => el.outerHTML)"""


def matched(server, open_page, first, second):
    """Two people signed in, who find each other from the lobby; returns their pages."""
    tabs = open_page(), open_page()
    return tabs, link_pages(server, tabs, (first, second))


def _csrf(page):
    return page.locator('meta[name="csrf-token"]').get_attribute("content")


def _room_id(page):
    return page.url.rsplit("/", 1)[1]


# --- hostile input stays text ----------------------------------------------------------------

def test_html_in_messages_names_and_file_names_is_shown_as_text_and_runs_nothing(live_server, open_page):
    with server_log_on_failure(live_server):
        live_server.make_user("alice", "Alice")
        live_server.make_user("mallory", PAYLOADS[0])
        (alice_tab, mallory_tab), (alice, mallory) = matched(live_server, open_page, "alice", "mallory")
        room_id = _room_id(alice)

        # A hostile display name, where the partner sees it: header, intro, links list.
        expect(alice.get_by_test_id("partner-name")).to_have_text(PAYLOADS[0])
        expect(alice.get_by_test_id("chat-intro")).to_contain_text(PAYLOADS[0])
        expect(alice.get_by_test_id("rooms-list")).to_contain_text(PAYLOADS[0])
        expect(mallory.get_by_test_id("me-name")).to_have_text(PAYLOADS[0])

        # Hostile messages, typed into the composer.
        for payload in PAYLOADS:
            type_and_send(mallory, payload)
            expect(bubble(mallory, payload)).to_have_attribute("data-state", "sent")
        for page in (alice, mallory):
            expect(page.get_by_test_id("message")).to_have_count(len(PAYLOADS))
            texts = page.get_by_test_id("message-text")
            expect(texts).to_have_text(PAYLOADS)
            # Each text is one text node: no element was made of it.
            assert texts.evaluate_all("(els) => els.map((el) => el.children.length)") == [0] * len(PAYLOADS)

        # A file with a hostile name, uploaded through the page's session, sent as a message.
        hostile_name = "<img src=x onerror=window.__xss=1>&lt;b&gt;bold&lt;_b&gt;'.txt"
        uploaded = mallory.request.post(
            f"{live_server.url}/api/rooms/{room_id}/attachments", headers={"X-CSRFToken": _csrf(mallory)},
            multipart={"kind": "file", "file": {"name": hostile_name, "mimeType": "text/plain", "buffer": b"hello"}})
        assert uploaded.status == 201, uploaded.text()
        attachment = uploaded.json()
        stored_name = attachment["filename"]
        assert "&lt;b&gt;" in stored_name and "onerror=window.__xss=1" in stored_name
        device = live_server.connect("mallory")  # another device of Mallory's sends it
        ack = device.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": "file",
                                          "attachment_id": attachment["id"]})
        device.disconnect()
        assert ack["ok"], ack
        for page in (alice, mallory):
            expect(page.get_by_test_id("message")).to_have_count(len(PAYLOADS) + 1)
        history = alice.request.get(f"{live_server.url}/api/rooms/{room_id}/messages").json()
        assert history["messages"][-1]["attachment"]["filename"] == stored_name
        # Wherever the page shows the file name, it is the name as stored, letter for letter.
        for page in (alice, mallory):
            file_names = page.get_by_test_id("messages").get_by_test_id("file-name")  # the file card, if drawn
            if file_names.count():
                expect(file_names).to_have_text([stored_name])
                assert file_names.evaluate("(el) => el.children.length") == 0
            shown = page.get_by_test_id("messages").get_by_text(stored_name, exact=True)
            for index in range(shown.count()):
                expect(shown.nth(index)).to_have_text(stored_name)
            assert page.get_by_test_id("messages").get_by_text("<b>bold").count() == 0  # entities not decoded

        # A reload draws the history from room:join: still text.
        alice.reload()
        expect(alice.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(alice.get_by_test_id("message-text").first).to_have_text(PAYLOADS[0])
        expect(alice.get_by_test_id("partner-name")).to_have_text(PAYLOADS[0])

        for tab in (alice_tab, mallory_tab):
            assert tab.page.evaluate("typeof window.__xss") == "undefined"
            assert tab.page.evaluate(_INJECTED, "body") == []
            tab.assert_clean()


# --- every page keeps to its Content-Security-Policy ---------------------------------------------

def test_every_page_loads_without_csp_violations_or_console_errors(live_server, open_page):
    with server_log_on_failure(live_server):
        live_server.make_user("alice", "Alice")
        live_server.make_user("bob", "Bob")
        visitor = open_page()
        for path, test_id in (("/login", "login-submit"), ("/register", "username")):
            visitor.page.goto(live_server.url + path)
            expect(visitor.page.get_by_test_id(test_id)).to_be_visible()
            visitor.assert_clean()
        # The sign-up check's widget, its style sheet and its worker, all from /vendor/, solved a challenge.
        expect(visitor.page.locator('input[name="altcha"]')).not_to_have_value("")
        visitor.assert_clean()

        (alice_tab, bob_tab), (alice, _bob) = matched(live_server, open_page, "alice", "bob")
        alice.get_by_test_id("room-menu").click()  # the room menu and its dialogs too
        expect(alice.get_by_test_id("menu-report")).to_be_visible()
        alice.get_by_test_id("menu-report").click()
        expect(alice.get_by_test_id("report-dialog")).to_be_visible()
        alice.get_by_test_id("report-cancel").click()
        expect(alice.get_by_test_id("report-dialog")).to_be_hidden()
        alice.get_by_test_id("settings-link").click()
        expect(alice.get_by_test_id("blocked-empty")).to_be_visible()
        alice.get_by_test_id("settings-close").click()
        expect(alice.get_by_test_id("settings-panel")).to_be_hidden()
        alice.get_by_test_id("new-link").click()
        expect(alice.get_by_test_id("lobby")).to_be_visible()
        expect(alice.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        for tab in (alice_tab, bob_tab):
            tab.assert_clean()

        alice.goto(live_server.url + "/no-such-page")
        expect(alice.get_by_test_id("error-page")).to_be_visible()
        # Chromium logs the page's own 404 as a console error; only that one is expected.
        assert alice_tab.problems == [
            "console: Failed to load resource: the server responded with a status of 404 (NOT FOUND)"]
        alice_tab.problems = []
        alice_tab.assert_clean()


# --- blocking and reporting ---------------------------------------------------------------------

def test_reporting_a_message_and_blocking_from_the_room_menu(live_server, open_page):
    with server_log_on_failure(live_server):
        live_server.make_user("alice", "Alice")
        live_server.make_user("bob", "Bob")
        (alice_tab, bob_tab), (alice, bob) = matched(live_server, open_page, "alice", "bob")
        type_and_send(bob, "rude words")
        rude = bubble(alice, "rude words")
        expect(rude).to_be_visible()

        # Report that message from its context menu.
        rude.click(button="right")
        alice.get_by_test_id("menu-report-message").click()
        dialog = alice.get_by_test_id("report-dialog")
        expect(dialog.get_by_test_id("report-title")).to_have_text("Report Bob")
        expect(dialog.get_by_test_id("report-quote")).to_have_text("rude words")
        dialog.get_by_test_id("report-submit").click()
        expect(dialog.get_by_test_id("report-error")).to_be_visible()  # a reason is needed
        dialog.get_by_test_id("report-reason").fill("insults")
        dialog.get_by_test_id("report-submit").click()
        expect(dialog.get_by_test_id("report-confirmation")).to_have_text(re.compile("report was sent"))
        dialog.get_by_test_id("report-close").click()
        expect(dialog).to_be_hidden()
        with live_server.app.app_context():
            report = db.session.query(Report).one()
            assert report.reason == "insults" and report.message_id is not None
            assert [m["text"] for m in report.snapshot["messages"]] == ["rude words"]

        # Block from the room menu: the link ends on both pages, saying why.
        alice.get_by_test_id("room-menu").click()
        expect(alice.get_by_test_id("menu-block")).to_have_text("Block Bob")
        alice.get_by_test_id("menu-block").click()
        confirm = alice.get_by_test_id("block-dialog")
        expect(confirm.get_by_test_id("block-title")).to_have_text("Block Bob?")
        confirm.get_by_test_id("block-confirm").click()
        expect(confirm).to_be_hidden()
        # Bob is not told he was blocked, only that Alice ended the link.
        for page, text in ((alice, "you blocked Bob"), (bob, "Alice ended this heart link")):
            expect(page.get_by_test_id("room-ended")).to_be_visible()
            expect(page.get_by_test_id("room-ended-text")).to_contain_text(text)
            expect(page.get_by_test_id("chat")).to_have_attribute("data-end-reason", "blocked")
            expect(page.get_by_test_id("composer-input")).to_be_disabled()
        alice.get_by_test_id("room-menu").click()
        expect(alice.get_by_test_id("menu-block")).to_have_text("Unblock Bob")
        alice.keyboard.press("Escape")
        expect(alice.get_by_test_id("room-menu-list")).to_be_hidden()

        # Both look again: neither is paired with the other.
        alice.get_by_test_id("find-again").click()
        expect(alice.get_by_test_id("waiting")).to_be_visible()
        bob.get_by_test_id("find-again").click()
        expect(bob.get_by_test_id("waiting")).to_be_visible()
        expect(alice.get_by_test_id("waiting")).to_be_visible()
        assert alice.url == bob.url == live_server.url + "/"
        for tab in (alice_tab, bob_tab):
            tab.assert_clean()


def test_settings_lists_blocked_people_and_unblocks_them(live_server, open_page):
    with server_log_on_failure(live_server):
        alice_id = live_server.make_user("alice", "Alice")
        bob_id = live_server.make_user("bob", "Bob <b>Builder</b>")
        with live_server.app.app_context():  # one may block only someone one has shared a link with
            from heartlink.domain import links, matching

            matching.start(alice_id)
            links.leave(matching.start(bob_id)[1].id, bob_id)
        tab = open_page()
        alice = sign_in(tab, live_server, "alice")
        blocked = alice.request.post(f"{live_server.url}/api/users/{bob_id}/block",
                                     headers={"X-CSRFToken": _csrf(alice)})
        assert blocked.ok, blocked.text()

        alice.get_by_test_id("settings-link").click()
        expect(alice.get_by_test_id("settings-panel")).to_be_visible()
        people = alice.get_by_test_id("blocked-person")
        expect(people).to_have_count(1)
        expect(people.get_by_test_id("blocked-name")).to_have_text("Bob <b>Builder</b>")
        expect(people).to_contain_text("@bob")
        alice.screenshot(path="/tmp/heartlink-settings.png", full_page=True)
        people.get_by_test_id("unblock").click()
        expect(people).to_have_count(0)
        expect(alice.get_by_test_id("blocked-empty")).to_be_visible()
        assert alice.request.get(f"{live_server.url}/api/blocks").json()["blocked"] == []

        alice.reload()  # it stays unblocked
        expect(alice.get_by_test_id("blocked-empty")).to_be_visible()
        expect(alice.get_by_test_id("password-form")).to_be_visible()
        tab.assert_clean()


# --- rate limits ---------------------------------------------------------------------------------

def test_messages_past_the_rate_limit_wait_and_all_arrive_in_order_without_a_retry(open_page, serve):
    server = serve(HEARTLINK_RATE_MESSAGES="4/4")
    with server_log_on_failure(server):
        server.make_user("alice", "Alice")
        server.make_user("bob", "Bob")
        (alice_tab, bob_tab), (alice, bob) = matched(server, open_page, "alice", "bob")
        # At most 4 in any 4 s: ten written at once go past it. Nobody presses Retry.
        texts = [f"message {index}" for index in range(10)]
        for text in texts:
            type_and_send(alice, text)
        note = alice.get_by_test_id("chat-error")
        expect(note).to_have_text(re.compile(r"^You are sending fast: the next messages go out in \d+ s, in order\.$"))
        alice.screenshot(path="/tmp/heartlink-paced.png")
        for text in texts:
            expect(bubble(alice, text)).to_have_attribute("data-state", "sent", timeout=60_000)
        expect(note).to_be_hidden()
        expect(alice.get_by_test_id("retry")).to_have_count(0)
        theirs = bob.get_by_test_id("message").get_by_test_id("message-text")
        expect(theirs).to_have_text(texts)  # all of them, in the order written
        seqs = [int(bubble(alice, text).get_attribute("data-seq")) for text in texts]
        assert seqs == sorted(seqs), seqs
        for tab in (alice_tab, bob_tab):
            tab.assert_clean()

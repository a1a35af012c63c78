"""The browser: live signals between two people, as they would see them.

Typing shows in the partner's header; ticks go from sent to delivered to read (read only once
the partner has the message on screen); a message written while offline is shown pending,
survives a reload in the outbox kept in localStorage, and arrives exactly once.
"""
import re
from contextlib import contextmanager

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from browser_plugin import bubble, link_pages, server_log_on_failure

# What Chromium logs while its network is cut: failed socket.io polls and websocket handshakes.
_OFFLINE_NOISE = re.compile(
    r"^console: (Failed to load resource: net::ERR_INTERNET_DISCONNECTED"
    r"|WebSocket connection to 'ws://127\.0\.0\.1:\d+/socket\.io/\?EIO=4&transport=websocket[^']*' failed: "
    r"Error in connection establishment: net::ERR_INTERNET_DISCONNECTED)$"
)


@pytest.fixture
def server(serve):
    # A quick heartbeat, so a silently cut network is noticed within seconds.
    return serve(HEARTLINK_PING_INTERVAL=1, HEARTLINK_PING_TIMEOUT=1)


@contextmanager
def _offline(watched):
    """Cut the tab's network; the errors Chromium logs for that, and only those, are forgiven."""
    start = len(watched.problems)
    watched.context.set_offline(True)
    try:
        yield
    finally:
        watched.context.set_offline(False)
        watched.problems[start:] = [problem for problem in watched.problems[start:]
                                    if not _OFFLINE_NOISE.match(problem)]


def _server_history(server, username, room_id):
    response = requests.get(f"{server.url}/api/rooms/{room_id}/messages", params={"limit": 100},
                            headers={"Authorization": f"Bearer {server.token(username)}"}, timeout=10)
    response.raise_for_status()
    return response.json()["messages"]


def _outbox_saved(page):
    return page.evaluate("""() => Object.keys(localStorage)
        .filter((key) => key.startsWith("heartlink:outbox:"))
        .map((key) => JSON.parse(localStorage.getItem(key)))""")


def test_typing_ticks_and_a_message_written_offline(server, open_page):
    with server_log_on_failure(server):
        counts = _live_signals(server, open_page)
    print(f"\nlive signals: {counts}")


def _live_signals(server, open_page):
    server.make_user("alice", "Alice Liddell")
    server.make_user("bob", "Bob Builder")
    alice_tab, bob_tab = open_page(), open_page()
    typing_frames = []  # what Alice's page sends as `typing`, to see the throttle
    alice_tab.page.on("websocket", lambda ws: ws.on("framesent", lambda frame: typing_frames.extend(
        re.findall(r'^42\d*\["typing",\{[^}]*"typing":(true|false)', frame if isinstance(frame, str) else ""))))
    alice, bob = link_pages(server, (alice_tab, bob_tab), ("alice", "bob"))
    room_url = alice.url
    room_id = room_url.rsplit("/", 1)[1]
    for page in (alice, bob):
        expect(page.get_by_test_id("connection")).to_be_hidden()
    assert bob.evaluate("document.visibilityState") == "visible"

    # Presence: each sees the other online, in the header and as a dot in the links list.
    expect(bob.get_by_test_id("partner-presence")).to_have_text("online")
    expect(bob.get_by_test_id("room-item").locator(".presence-dot")).to_have_count(1)

    # Alice types: Bob's header says so, in place of her presence.
    alice.get_by_test_id("composer-input").press_sequentially("Hello Bob")
    expect(bob.get_by_test_id("partner-typing")).to_have_text("Alice Liddell is typing…")
    expect(bob.get_by_test_id("partner-presence")).to_be_hidden()
    assert typing_frames == ["true"]  # nine keys, one signal

    # Bob goes back to the lobby; Alice's message reaches his tab (delivered) but is not read.
    bob.get_by_test_id("new-link").click()
    expect(bob.get_by_test_id("lobby")).to_be_visible()
    alice.get_by_test_id("composer-input").press("Enter")
    first = bubble(alice, "Hello Bob")
    expect(first).to_have_attribute("data-receipt", "delivered")
    assert typing_frames == ["true", "false"]  # sending ends typing
    expect(bob.get_by_test_id("unread")).to_have_text("1")
    expect(bob).to_have_title("(1) Heart Link")
    expect(first).to_have_attribute("data-receipt", "delivered")  # still: not on Bob's screen
    first.evaluate("(bubble) => { bubble.dataset.seenBefore = 'yes'; }")  # the node, marked

    # Bob opens the room with the message on screen: Alice sees it read.
    bob.get_by_test_id("room-item").click()
    expect(bubble(bob, "Hello Bob")).to_be_visible()
    expect(bob.get_by_test_id("partner-typing")).to_be_hidden()
    expect(bob.get_by_test_id("partner-presence")).to_have_text("online")
    expect(first).to_have_attribute("data-receipt", "read")
    # The ticks changed in place: the same node (a tap on it is never lost to a redraw).
    expect(first).to_have_attribute("data-seen-before", "yes")
    expect(first.get_by_test_id("message-status")).to_have_attribute("aria-label", "Read")
    expect(bob).to_have_title("Heart Link")
    expect(bob.get_by_test_id("unread")).to_have_count(0)

    # Bob's network is cut. He writes; it waits, pending, and is kept in localStorage.
    offline_text = "Written while offline"
    with _offline(bob_tab):
        banner = bob.get_by_test_id("connection")
        expect(banner).to_have_attribute("data-state", "offline")
        expect(banner).to_be_visible()
        expect(bob.get_by_test_id("app")).to_have_attribute("data-connection", "offline")
        expect(alice.get_by_test_id("partner-presence")).to_contain_text("last seen")
        bob.get_by_test_id("composer-input").fill(offline_text)
        bob.get_by_test_id("composer-input").press("Enter")
        pending = bubble(bob, offline_text)
        expect(pending).to_have_attribute("data-state", "pending")
        expect(pending).to_have_attribute("data-receipt", "pending")
        expect(bob.get_by_test_id("connection-queue")).to_have_text("Waiting to send: 1")
        saved = _outbox_saved(bob)
        assert [entry["text"] for entry in saved] == [offline_text]
        client_id = saved[0]["client_id"]
        assert pending.get_attribute("data-client-id") == client_id
    # The network is back: the page reconnects, catches up and resends with the same client_id.
    expect(bob.get_by_test_id("connection")).to_be_hidden()
    delivered = bubble(bob, offline_text)
    expect(delivered).to_have_attribute("data-state", "sent")
    expect(delivered).to_have_attribute("data-receipt", "read")  # Alice's room is open on screen
    expect(bubble(alice, offline_text)).to_have_count(1)
    expect(alice.get_by_test_id("partner-presence")).to_have_text("online")
    assert _outbox_saved(bob) == []

    # Offline again: written, then the page is reloaded (which fails offline) and opened again
    # once the network is back. The outbox in localStorage sends it, with its first client_id.
    reload_text = "Written before a reload"
    with _offline(bob_tab):
        expect(bob.get_by_test_id("connection")).to_have_attribute("data-state", "offline")
        bob.get_by_test_id("composer-input").fill(reload_text)
        bob.get_by_test_id("composer-input").press("Enter")
        expect(bubble(bob, reload_text)).to_have_attribute("data-state", "pending")
        saved = _outbox_saved(bob)
        assert [entry["text"] for entry in saved] == [reload_text]
        # As if an earlier page had closed after the server stored its message but before the ack:
        # the restored entry is resent, answered `duplicate`, and shown once.
        bob.evaluate("""([clientId, roomId, text]) => localStorage.setItem(
            Object.keys(localStorage).find((key) => key.startsWith("heartlink:outbox:")).replace(/[^:]+$/, clientId),
            JSON.stringify({client_id: clientId, room_id: roomId, kind: "text", text,
                            created_at: "2000-01-01T00:00:00Z"}))""",
                     [client_id, room_id, offline_text])
        with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
            bob.reload()
    bob.goto(room_url)
    restored = bubble(bob, reload_text)
    expect(restored).to_have_attribute("data-client-id", saved[0]["client_id"])
    expect(restored).to_have_attribute("data-state", "sent")
    expect(bubble(alice, reload_text)).to_have_count(1)
    expect(restored).to_have_attribute("data-receipt", "read")
    assert _outbox_saved(bob) == []

    # Exactly once, on both screens and in the server's history.
    texts = ["Hello Bob", offline_text, reload_text]
    expect(bubble(bob, offline_text)).to_have_attribute("data-receipt", "read")
    history = _server_history(server, "alice", room_id)
    counts = {
        "sent": len(texts),
        "stored": {text: sum(message["text"] == text for message in history) for text in texts},
        "on_alice_page": {text: bubble(alice, text).count() for text in texts},
        "on_bob_page": {text: bubble(bob, text).count() for text in texts},
    }
    assert [message["text"] for message in history] == texts
    assert next(m for m in history if m["text"] == offline_text)["client_id"] == client_id
    assert next(m for m in history if m["text"] == reload_text)["client_id"] == saved[0]["client_id"]
    assert counts["on_alice_page"] == counts["on_bob_page"] == counts["stored"] == dict.fromkeys(texts, 1)
    expect(alice.get_by_test_id("message")).to_have_count(3)
    expect(bob.get_by_test_id("message")).to_have_count(3)
    counts["received"] = alice.get_by_test_id("message").count() - 1  # Bob's two offline messages
    counts["typing_frames"] = typing_frames
    counts["duplicated"] = sum(count - 1 for count in counts["stored"].values())

    alice_tab.assert_clean()
    bob_tab.assert_clean()
    return counts

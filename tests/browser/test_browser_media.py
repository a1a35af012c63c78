"""The browser: rich messages as people see them — emoji from the picker, a picture, a voice
note recorded with Chromium's fake microphone, reactions, replies, edits and deletions."""
import re

import pytest
from playwright.sync_api import expect

from browser_plugin import PageOpener, link_pages, server_log_on_failure
from media_samples import png


@pytest.fixture
def open_page(media_browser):
    """open_page(**context_options) -> WatchedPage in the fake-media Chromium (a beeping microphone)."""
    opener = PageOpener(media_browser)
    yield opener
    opener.close()


def _linked_pair(server, open_page):
    server.make_user("alice", "Alice Liddell")
    server.make_user("bob", "Bob Builder")
    alice_tab = open_page(permissions=["microphone"])
    bob_tab = open_page()
    link_pages(server, (alice_tab, bob_tab), ("alice", "bob"))
    return alice_tab, bob_tab


def _message(page, seq):
    return page.locator(f'[data-testid="message"][data-seq="{seq}"]')


def test_emoji_picture_and_voice_note_reach_the_partner(live_server, open_page):
    with server_log_on_failure(live_server):
        _emoji_picture_and_voice_note(live_server, open_page)


def _emoji_picture_and_voice_note(live_server, open_page):
    alice_tab, bob_tab = _linked_pair(live_server, open_page)
    alice, bob = alice_tab.page, bob_tab.page

    # An emoji from the picker (served by the app, styled under the strict CSP), alone: shown large.
    alice.get_by_test_id("composer-emoji").click()
    picker = alice.get_by_test_id("emoji-picker")
    first_emoji = picker.locator('[role="tabpanel"] [role="menuitem"]').first
    expect(first_emoji).to_be_visible()
    emoji = first_emoji.get_attribute("id").removeprefix("emo-")
    first_emoji.click()
    expect(alice.get_by_test_id("composer-input")).to_have_value(emoji)
    alice.keyboard.press("Escape")
    expect(alice.get_by_test_id("emoji-popover")).to_be_hidden()
    alice.get_by_test_id("composer-send").click()
    for page in (alice, bob):
        text = _message(page, 1).get_by_test_id("message-text")
        expect(text).to_have_text(emoji)
        expect(text).to_have_attribute("data-emoji-only", "1")

    # A picture through the file input, previewed in the tray, with an upload in progress shown on the way.
    alice.evaluate("""() => {
      window.__uploadSeen = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="upload-progress"]')) window.__uploadSeen = true;
      }).observe(document.querySelector('[data-testid="uploads"]'), { childList: true, subtree: true });
    }""")
    alice.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "meadow.png", "mimeType": "image/png", "buffer": png((640, 480))}])
    alice.get_by_test_id("tray-send").click()
    for page in (alice, bob):
        thumb = _message(page, 2).get_by_test_id("message-image").locator("img")
        expect(thumb).to_have_attribute("width", "280")
        expect(thumb).to_have_attribute("height", "210")  # the box is reserved before it loads
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert alice.evaluate("window.__uploadSeen")
    expect(alice.get_by_test_id("upload")).to_have_count(0)

    # A voice note: recorded from the fake microphone for about 1.5 s, then sent.
    alice.get_by_test_id("composer-record").click()
    expect(alice.get_by_test_id("recorder")).to_be_visible()
    expect(alice.get_by_test_id("recorder-time")).to_have_text("0:02", timeout=5000)  # 1.5 s and more
    alice.get_by_test_id("recorder-send").click()
    expect(alice.get_by_test_id("recorder")).to_be_hidden()
    voice = _message(bob, 3).get_by_test_id("voice-player")
    expect(voice).to_be_visible()
    duration_ms = int(voice.get_by_test_id("voice-progress").get_attribute("data-duration-ms"))
    assert 1000 <= duration_ms <= 6000, duration_ms
    expect(_message(alice, 3).get_by_test_id("voice-player")).to_be_visible()

    # Its first load fails (Bob's network dropped): the player says so, and Play tries again.
    dropped = []

    def drop_the_first_load(route):
        if dropped:
            route.continue_()
        else:
            dropped.append(route.request.url)
            route.abort("connectionreset")

    audio_url = "**" + voice.get_by_test_id("voice-audio").get_attribute("src")
    bob.route(audio_url, drop_the_first_load)
    with bob.expect_console_message(lambda message: "ERR_CONNECTION_RESET" in message.text) as reported:
        voice.get_by_test_id("voice-play").click()
    bob_tab.problems.remove(f"console: {reported.value.text}")  # the drop made here, not a fault
    expect(voice).to_have_attribute("data-failed", "true")
    expect(voice.get_by_test_id("voice-time")).to_have_text("Couldn't play")
    expect(voice.get_by_test_id("voice-play")).to_have_attribute("aria-label", "Retry")

    # Bob plays it: the audio really plays and moves on.
    voice.get_by_test_id("voice-play").click()
    expect(voice).to_have_attribute("data-playing", "true")
    assert len(dropped) == 1
    bob.unroute(audio_url)
    audio = voice.get_by_test_id("voice-audio").element_handle()
    bob.wait_for_function("(audio) => audio.currentTime > 0.2", arg=audio)

    # Alice reacts to it while Bob listens: his bubble is redrawn with the reaction, and the note
    # plays on. (Played slower here, so it is still playing when the reaction arrives.)
    audio.evaluate("(audio) => { audio.playbackRate = 0.1; }")
    heard = audio.evaluate("(audio) => audio.currentTime")
    said = _message(alice, 3)
    said.hover()
    said.get_by_test_id("message-react-open").click()
    said.get_by_test_id("quick-reaction").filter(has_text="❤️").click()
    expect(_message(bob, 3).get_by_test_id("reaction")).to_have_attribute("data-emoji", "❤️")
    expect(voice).to_have_attribute("data-playing", "true")
    bob.wait_for_function("([audio, heard]) => !audio.paused && audio.currentTime > heard + 0.05", arg=[audio, heard])

    # Bob opens the picture: the full-size image over the page.
    _message(bob, 2).get_by_test_id("message-image").click()
    lightbox = bob.get_by_test_id("lightbox")
    expect(lightbox).to_be_visible()
    full = lightbox.get_by_test_id("lightbox-image")
    bob.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=full.element_handle())
    assert full.evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [640, 480]
    assert not full.evaluate("(img) => img.currentSrc").endswith("/thumb")
    bob.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()

    alice.screenshot(path="/tmp/heartlink-media-alice.png")
    bob.screenshot(path="/tmp/heartlink-media-bob.png")
    alice_tab.assert_clean()
    bob_tab.assert_clean()


@pytest.fixture
def small_files_server(serve):
    """Files up to 2000 bytes, so "too large" is quick to reach."""
    return serve(HEARTLINK_FILE_MAX_BYTES=2000)


def test_reactions_replies_edits_deletions_files_and_upload_errors(small_files_server, open_page):
    with server_log_on_failure(small_files_server):
        _reactions_replies_edits_deletions(small_files_server, open_page)


def _reactions_replies_edits_deletions(server, open_page):
    server.make_user("alice", "Alice Liddell")
    server.make_user("bob", "Bob Builder")
    alice_tab = open_page()
    bob_tab = open_page(locale="zh-CN")  # Bob reads Heart Link in Chinese
    alice, bob = link_pages(server, (alice_tab, bob_tab), ("alice", "bob"))

    alice.get_by_test_id("composer-input").fill("Hello there")
    alice.get_by_test_id("composer-input").press("Enter")
    expect(_message(bob, 1).get_by_test_id("message-text")).to_have_text("Hello there")

    # Bob reacts from the quick bar; Alice adds the same reaction by clicking it.
    first = _message(bob, 1)
    first.hover()
    first.get_by_test_id("message-react-open").click()
    first.get_by_test_id("quick-reaction").filter(has_text="❤️").click()
    for page, mine in ((bob, "true"), (alice, "false")):
        reaction = _message(page, 1).get_by_test_id("reaction")
        expect(reaction).to_have_attribute("data-emoji", "❤️")
        expect(reaction.get_by_test_id("reaction-count")).to_have_text("1")
        expect(reaction).to_have_attribute("aria-pressed", mine)
    _message(alice, 1).get_by_test_id("reaction").click()
    for page in (alice, bob):
        expect(_message(page, 1).get_by_test_id("reaction-count")).to_have_text("2")

    # Bob replies to it; the quote leads back to the message.
    first.hover()
    first.get_by_test_id("message-reply").click()
    expect(bob.get_by_test_id("compose-context")).to_have_attribute("data-mode", "reply")
    expect(bob.get_by_test_id("compose-context-text")).to_have_text("Hello there")
    bob.get_by_test_id("composer-input").fill("Hi Alice!")
    bob.get_by_test_id("composer-input").press("Enter")
    expect(bob.get_by_test_id("compose-context")).to_be_hidden()
    quote = _message(alice, 2).get_by_test_id("reply-quote")
    expect(quote).to_contain_text("Hello there")
    expect(quote).to_contain_text("You")
    quote.click()
    expect(_message(alice, 1)).to_have_class(re.compile(r"\bmessage--flash\b"))

    # Alice edits her message: both see the new text, marked edited, and the quote follows.
    _message(alice, 1).hover()
    _message(alice, 1).get_by_test_id("message-edit").click()
    expect(alice.get_by_test_id("compose-context")).to_have_attribute("data-mode", "edit")
    expect(alice.get_by_test_id("composer-input")).to_have_value("Hello there")
    alice.get_by_test_id("composer-input").fill("Hello everyone")
    alice.get_by_test_id("composer-input").press("Enter")
    for page in (alice, bob):
        expect(_message(page, 1).get_by_test_id("message-text")).to_have_text("Hello everyone")
        expect(_message(page, 1).get_by_test_id("message-edited")).to_be_visible()
        expect(_message(page, 2).get_by_test_id("reply-quote")).to_contain_text("Hello everyone")
    expect(alice.get_by_test_id("message")).to_have_count(2)  # an edit is not a new message

    # ...then deletes it: a tombstone for both, reactions gone.
    _message(alice, 1).hover()
    _message(alice, 1).get_by_test_id("message-delete").click()
    alice.get_by_test_id("confirm-dialog").get_by_test_id("confirm-alternative").click()  # "Delete for everyone"
    expect(_message(alice, 1).get_by_test_id("message-text")).to_have_text("This message was deleted.")
    expect(_message(bob, 1).get_by_test_id("message-text")).to_have_text("此消息已被删除。")
    for page in (alice, bob):
        expect(_message(page, 1).get_by_test_id("reactions")).to_have_count(0)

    # A file: name, readable size and a download link.
    alice.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"x" * 1500}])
    expect(alice.get_by_test_id("tray-file")).to_contain_text("notes.txt")
    alice.get_by_test_id("tray-send").click()
    card = _message(bob, 3).get_by_test_id("message-file")
    expect(card.get_by_test_id("file-name")).to_have_text("notes.txt")
    expect(card.get_by_test_id("file-size")).to_have_text(re.compile(r"^1[.,]5\s?(kB|KB|千字节)"))
    expect(card.get_by_test_id("file-download")).to_have_attribute("download", "notes.txt")

    # Errors, in the person's language, in the tray before anything is uploaded: not a picture, too large.
    bob.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "fake.png", "mimeType": "image/png", "buffer": b"this is not a picture at all"}])
    expect(bob.get_by_test_id("tray-refused")).to_contain_text("fake.png 不是图片。")
    expect(bob.get_by_test_id("tray-send")).to_be_disabled()
    bob.get_by_test_id("tray-cancel").click()
    expect(bob.get_by_test_id("media-tray")).to_be_hidden()
    alice.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"x" * 2001}])
    expect(alice.get_by_test_id("tray-refused")).to_contain_text("big.bin is too large")
    alice.keyboard.press("Escape")
    expect(alice.get_by_test_id("upload")).to_have_count(0)
    expect(alice.get_by_test_id("message")).to_have_count(3)

    # The picker in Chinese (its own data file and labels), also under the CSP.
    bob.get_by_test_id("composer-emoji").click()
    picker = bob.get_by_test_id("emoji-picker")
    expect(picker.locator("input#search")).to_have_attribute("placeholder", "搜索")
    emoji = picker.locator('[role="tabpanel"] [role="menuitem"]').nth(2)
    unicode = emoji.get_attribute("id").removeprefix("emo-")
    emoji.click()
    expect(bob.get_by_test_id("composer-input")).to_have_value(unicode)

    alice.screenshot(path="/tmp/heartlink-media-alice-2.png")
    bob.screenshot(path="/tmp/heartlink-media-bob-2.png")
    alice_tab.assert_clean()
    bob_tab.assert_clean()

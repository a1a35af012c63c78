"""The browser: the chat as a person follows it — it stays on the newest message while media load,
"Keep this link" between two people, hidden presence, and a message over the length limit."""
import base64

import pytest
import requests
from playwright.sync_api import expect

from browser_plugin import (
    bubble,
    link_pages,
    link_with_socket_partner,
    say,
    say_with_upload,
    server_log_on_failure,
    still,
)
from media_samples import png
from support import fresh_names

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

# A real clip (320x240 VP8 webm) recorded by the browser itself from a canvas, so it plays and
# its player takes the clip's size when it loads.
# Each frame is handed to the recorder (captureStream(0) + requestFrame) and given time to be
# encoded, rather than paced by animation frames: a page that is not in front gets none, and the
# recorder then wrote a 110-byte clip with no frame in it.
_RECORD_CLIP = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = 240;
  const paint = canvas.getContext("2d");
  const stream = canvas.captureStream(0);
  const [track] = stream.getVideoTracks();
  const recorder = new MediaRecorder(stream, { mimeType: "video/webm;codecs=vp8" });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start();
  for (let frame = 0; frame < 8; frame += 1) {
    paint.fillStyle = `hsl(${frame * 40}, 80%, 50%)`;
    paint.fillRect(0, 0, 320, 240);
    track.requestFrame();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  recorder.stop();
  await stopped;
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}"""


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _link_with_socket_partner(server, watched, me, partner):
    return link_with_socket_partner(server, watched, me, partner, partner_name="Nina")


# --- the chat follows the newest message while media load -----------------------------------
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_chat_stays_on_the_newest_message_while_a_clip_and_pictures_load(server, open_page, viewport):
    me, partner = fresh_names("pin")
    with server_log_on_failure(server):
        watched = open_page(viewport=viewport)
        clip = base64.b64decode(watched.page.evaluate(_RECORD_CLIP))  # on the test's own page, in front
        assert len(clip) > 1_000, f"the browser recorded a clip of {len(clip)} bytes"
        page, other, token, room_id = _link_with_socket_partner(server, watched, me, partner)
        my_id = page.get_by_test_id("app").evaluate("(app) => JSON.parse(app.dataset.me).id")

        say(other, room_id, text="look at this")
        for _ in range(2):
            say_with_upload(server, other, token, room_id, "file", "clip.webm", clip, "video/webm")
        for size in ((640, 480), (480, 640)):
            say_with_upload(server, other, token, room_id, "image", "meadow.png", png(size), "image/png")
        expect(page.get_by_test_id("message-video")).to_have_count(2)
        for video in page.get_by_test_id("message-video").element_handles():
            page.wait_for_function("(video) => video.readyState >= 1 && video.videoWidth === 320", arg=video)
        for image in page.get_by_test_id("message-image").locator("img").element_handles():
            page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image)

        last = None
        for index in range(6):
            last = say(other, room_id, text=f"and then {index}")
        newest = bubble(page, "and then 5")
        expect(newest).to_be_in_viewport()
        expect(page.get_by_test_id("jump-new")).to_be_hidden()
        # The partner sees their messages read, though the person never scrolled.
        other.wait_for("receipt", lambda data: data["user_id"] == my_id and data["read_seq"] >= last["seq"])

        # Scrolled up (no new message): "scroll to the newest" is offered, and takes them back.
        page.get_by_test_id("messages-scroll").hover()
        page.mouse.wheel(0, -5000)
        page.wait_for_function("() => document.querySelector('[data-testid=\"messages-scroll\"]').scrollTop === 0")
        jump = page.get_by_test_id("jump-new")
        expect(jump).to_be_visible()
        expect(jump).to_have_attribute("aria-label", "Scroll to the newest message")
        page.screenshot(path=f"/tmp/heartlink-clip-{viewport['width']}.png")
        jump.click()
        for index in range(4):
            say(other, room_id, text=f"while jumping {index}")
        expect(bubble(page, "while jumping 3")).to_be_in_viewport()
        expect(jump).to_be_hidden()
        say(other, room_id, text="after the jump")
        expect(bubble(page, "after the jump")).to_be_in_viewport()
        expect(jump).to_be_hidden()
        page.screenshot(path=f"/tmp/heartlink-pinned-{viewport['width']}.png")
        other.disconnect()
        watched.assert_clean()


# --- "Keep this link" between two people ----------------------------------------------------
def test_a_small_scroll_up_stays_where_the_person_left_it(server, open_page):
    """Scrolled up by less than the margin within which the chat follows new messages, the view went back
    down when the scroll ended: a picture pressed just after such a scroll moved from under the pointer
    and the click was lost (seen in a test that clicked a picture the scroll had just revealed)."""
    me, partner = fresh_names("nudge")
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page, other, _token, room_id = _link_with_socket_partner(server, watched, me, partner)
        for index in range(20):
            say(other, room_id, text=f"line {index}")
        expect(bubble(page, "line 19")).to_be_in_viewport()
        scroller = page.get_by_test_id("messages-scroll")
        bottom = scroller.evaluate("(element) => element.scrollTop")
        assert bottom > 100, "the chat is long enough to scroll"

        # A nudge of the wheel, 30 px up; the page tells when the scroll has ended and two frames passed.
        scroller.evaluate("""(element) => {
          window.__nudged = new Promise((done) => element.addEventListener("scrollend",
            () => requestAnimationFrame(() => requestAnimationFrame(done)), { once: true }));
        }""")
        scroller.hover()
        page.mouse.wheel(0, -30)
        page.evaluate("() => window.__nudged")
        assert scroller.evaluate("(element) => element.scrollTop") < bottom - 10
        # Still close enough to follow: a new message brings the view down to it.
        say(other, room_id, text="the newest")
        expect(bubble(page, "the newest")).to_be_in_viewport()
        other.disconnect()
        watched.assert_clean()


_GROW_THE_HISTORY = """(pixels) => new Promise((done) => {
  // What a picture finishing loading at the foot of the chat does: the history grows.
  const history = document.querySelector('[data-testid="messages"]');
  history.style.minHeight = `${history.getBoundingClientRect().height + pixels}px`;
  requestAnimationFrame(() => requestAnimationFrame(done)); // the resize has been seen and answered
})"""


def test_a_press_holds_the_chat_still_and_it_follows_the_newest_once_released(server, open_page):
    """While pinned to the newest message, the chat follows whatever grows; during a press it waits:
    content moved under the pointer made the release land elsewhere (a reply's quote pressed as a
    narrow screen's hover opened the actions under the last message: its click went to the bubble)."""
    me, partner = fresh_names("press")
    with server_log_on_failure(server):
        watched = open_page(viewport=PHONE)  # a narrow window, with a mouse
        page, other, _token, room_id = _link_with_socket_partner(server, watched, me, partner)
        first = say(other, room_id, text="line 0")
        for index in range(1, 20):
            say(other, room_id, text=f"line {index}")
        say(other, room_id, text="back to the start", reply_to=first["id"])
        reply = bubble(page, "back to the start")
        expect(reply).to_be_in_viewport()
        scroller = page.get_by_test_id("messages-scroll")
        at_bottom = "(element) => element.scrollHeight - element.scrollTop - element.clientHeight <= 1"

        # Pressed on the newest message while the history grows: nothing moves until the release, then
        # the chat is at the newest again.
        text = reply.get_by_test_id("message-text")
        still(page, text)
        box = text.bounding_box()
        page.mouse.move(box["x"] + 5, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.evaluate(_GROW_THE_HISTORY, 80)
        assert text.bounding_box()["y"] == box["y"]
        page.mouse.up()
        page.wait_for_function(at_bottom, arg=scroller.element_handle())

        # Pressed (a text being selected) as a message comes: the same, the message shown once released.
        page.evaluate("() => { document.querySelector('[data-testid=\"messages\"]').style.minHeight = ''; }")
        page.wait_for_function(at_bottom, arg=scroller.element_handle())
        still(page, text)
        box = text.bounding_box()
        page.mouse.down()
        say(other, room_id, text="while pressed")
        expect(bubble(page, "while pressed")).to_be_attached()
        assert text.bounding_box()["y"] == box["y"]
        page.mouse.up()
        expect(bubble(page, "while pressed")).to_be_in_viewport()
        page.wait_for_function(at_bottom, arg=scroller.element_handle())

        # Pressed on the reply's quote while the history grows: the release is on the quote, which
        # brings its message.
        quote = reply.get_by_test_id("reply-quote")
        still(page, quote)
        box = quote.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.evaluate(_GROW_THE_HISTORY, 160)
        assert quote.bounding_box()["y"] == box["y"]
        page.mouse.up()
        expect(bubble(page, "line 0")).to_be_focused()
        expect(bubble(page, "line 0")).to_be_in_viewport()
        assert not scroller.evaluate(at_bottom)
        other.disconnect()
        watched.assert_clean()


def _two_people(server, open_page, viewport, prefix):
    me, partner = fresh_names(prefix)
    server.make_user(me, "Alice Liddell")
    server.make_user(partner, "Bob Builder")
    tabs = (open_page(viewport=viewport), open_page(viewport=viewport))
    return tabs, link_pages(server, tabs, (me, partner))


def _press_keep(page, viewport):
    """The header's button on a wide screen, the ⋮ menu's item on a phone."""
    if viewport is DESKTOP:
        page.get_by_test_id("keep-link").click()
    else:
        page.get_by_test_id("room-menu").click()
        page.get_by_test_id("menu-keep").click()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_keeping_a_link_invites_the_partner_who_keeps_it_too(server, open_page, viewport):
    with server_log_on_failure(server):
        tabs, (alice, bob) = _two_people(server, open_page, viewport, "kp")
        _press_keep(alice, viewport)
        invitation = bob.get_by_test_id("keep-banner")
        expect(invitation).to_be_visible()
        expect(invitation).to_contain_text("Alice Liddell wants to keep this link. Keep it too?")
        waiting = alice.get_by_test_id("keep-banner")
        expect(waiting.get_by_test_id("keep-banner-text")).to_have_text("Kept ✓ — waiting for Bob Builder")
        expect(waiting.get_by_test_id("keep-too")).to_be_hidden()
        if viewport is DESKTOP:
            expect(alice.get_by_test_id("keep-link")).to_have_text("Kept ✓")
        bob.screenshot(path=f"/tmp/heartlink-keep-invited-{viewport['width']}.png")
        alice.screenshot(path=f"/tmp/heartlink-keep-waiting-{viewport['width']}.png")

        invitation.get_by_test_id("keep-too").click()
        for page in (alice, bob):
            expect(page.get_by_test_id("chat")).to_have_attribute("data-kept", "both")
            expect(page.get_by_test_id("keep-banner")).to_be_hidden()
        for tab in tabs:
            tab.assert_clean()


def test_after_a_block_keeping_is_offered_to_neither(server, open_page):
    with server_log_on_failure(server):
        tabs, (alice, bob) = _two_people(server, open_page, DESKTOP, "kb")
        alice.get_by_test_id("keep-link").click()
        expect(bob.get_by_test_id("keep-too")).to_be_visible()
        bob.get_by_test_id("room-menu").click()
        bob.get_by_test_id("menu-block").click()
        bob.get_by_test_id("block-confirm").click()
        for page in (alice, bob):
            expect(page.get_by_test_id("room-ended")).to_be_visible()
            expect(page.get_by_test_id("keep-banner")).to_be_hidden()
            expect(page.get_by_test_id("keep-link")).to_be_hidden()
            page.get_by_test_id("room-menu").click()
            expect(page.get_by_test_id("menu-block")).to_be_visible()
            expect(page.get_by_test_id("menu-keep")).to_be_hidden()
            page.keyboard.press("Escape")
        alice.reload()  # as the server says it on a new page too
        expect(alice.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(alice.get_by_test_id("keep-link")).to_be_hidden()
        for tab in tabs:
            tab.assert_clean()


# --- hidden presence shows nothing ----------------------------------------------------------
def test_hidden_presence_shows_nothing_rather_than_offline(server, open_page):
    me, partner = fresh_names("pr")
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page, other, token, _room_id = _link_with_socket_partner(server, watched, me, partner)
        presence = page.get_by_test_id("partner-presence")
        expect(presence).to_have_text("online")

        def privacy(show):
            response = requests.patch(f"{server.url}/api/me", json={"show_presence": show},
                                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert response.status_code == 200, response.text

        privacy(False)  # the partner hides their presence: not "offline", nothing
        expect(presence).to_have_text("")
        expect(presence).to_be_hidden()
        expect(page.get_by_test_id("partner-name")).to_have_text("Nina")
        page.screenshot(path="/tmp/heartlink-presence-hidden.png")
        privacy(True)
        expect(presence).to_have_text("online")

        # Blocked: the link ends, and the partner's presence is no longer shown at all.
        page.get_by_test_id("room-menu").click()
        page.get_by_test_id("menu-block").click()
        page.get_by_test_id("block-confirm").click()
        expect(page.get_by_test_id("room-ended")).to_be_visible()
        expect(presence).to_have_text("")
        expect(presence).to_be_hidden()
        page.reload()
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        expect(presence).to_be_hidden()
        other.disconnect()
        watched.assert_clean()


# --- a message over the length limit --------------------------------------------------------
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_pasted_text_over_the_limit_is_counted_and_refused_never_cut(server, open_page, viewport):
    me, partner = fresh_names("ln")
    with server_log_on_failure(server):
        watched = open_page(viewport=viewport, permissions=["clipboard-read", "clipboard-write"])
        page, other, _token, room_id = _link_with_socket_partner(server, watched, me, partner)
        box = page.get_by_test_id("composer-input")
        count = page.get_by_test_id("composer-count")
        box.fill("short")
        expect(count).to_be_hidden()  # far from the limit: no count

        # The person pastes 5,000 characters: all of them stay, and the count says it is too long.
        long_text = ("Heart Link 💕 " * 400)[:5000]
        page.evaluate("(text) => navigator.clipboard.writeText(text)", long_text)
        box.fill("")
        box.focus()
        page.keyboard.press("Control+V")
        expect(box).to_have_value(long_text)
        length = len(long_text.strip())
        expect(count).to_have_text(f"{length:,} / 4,000")
        expect(count).to_have_attribute("data-over", "true")
        page.get_by_test_id("composer-send").click()
        error = page.get_by_test_id("chat-error")
        expect(error).to_have_text(
            f"This message has {length:,} characters; a message has at most 4,000. Shorten it to send it.")
        page.screenshot(path=f"/tmp/heartlink-too-long-{viewport['width']}.png")
        expect(box).to_have_value(long_text)  # nothing sent, nothing lost
        expect(page.get_by_test_id("message")).to_have_count(0)

        # Shortened to the limit, it goes whole.
        fitting = long_text[:4000]
        box.fill(fitting)
        expect(error).to_be_hidden()
        expect(count).to_have_attribute("data-over", "false")
        page.get_by_test_id("composer-send").click()
        stored = other.wait_for("message:new", lambda data: data["message"]["room_id"] == room_id)["message"]
        assert stored["text"] == fitting
        expect(box).to_have_value("")
        expect(count).to_be_hidden()
        other.disconnect()
        watched.assert_clean()

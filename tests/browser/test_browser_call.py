"""The browser: a video call between two matched people, with Chromium's fake camera and
microphone, as each of them sees it; and what happens when the camera is not allowed."""
import re

import pytest
from playwright.sync_api import expect

from browser_plugin import PageOpener, link_pages, server_log_on_failure, sign_in

# Test-only: keeps every RTCPeerConnection the page makes, so the test can read its state and stats.
_KEEP_PEERS = """
(() => {
  const Native = window.RTCPeerConnection;
  const made = [];
  Object.defineProperty(window, "__testPeers", { value: made });
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); made.push(this); }
  };
})();
"""

# Test-only: the person refuses the camera and microphone.
_REFUSE_MEDIA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""

_INBOUND_VIDEO_FRAMES = """async () => {
  const pc = window.__testPeers.at(-1);
  const stats = await pc.getStats();
  let frames = 0;
  stats.forEach((entry) => {
    if (entry.type === "inbound-rtp" && entry.kind === "video") frames = entry.framesDecoded || 0;
  });
  return frames;
}"""


@pytest.fixture
def open_call_page(media_browser):
    """open_call_page(refuse_media=False) -> WatchedPage allowed the camera and microphone."""
    opener = PageOpener(media_browser, init_scripts=(_KEEP_PEERS,))

    def open_(refuse_media=False):
        return opener(init_scripts=(_REFUSE_MEDIA,) if refuse_media else (),
                      permissions=["camera", "microphone"])

    yield open_
    opener.close()


def _linked(server, open_call_page, refuse=()):
    """Alice and Bob signed in and matched, both looking at their room."""
    server.make_user("alice", "Alice Liddell")
    server.make_user("bob", "Bob Builder")
    tabs = {name: open_call_page(refuse_media=name in refuse) for name in ("alice", "bob")}
    alice, bob = link_pages(server, (tabs["alice"], tabs["bob"]), ("alice", "bob"))
    for page in (alice, bob):
        expect(page.get_by_test_id("call-video")).to_be_enabled()
        expect(page.get_by_test_id("call-audio")).to_be_enabled()
    return tabs, alice, bob


def _frames(page):
    return page.evaluate(_INBOUND_VIDEO_FRAMES)


def _wait_for_frames_beyond(page, count):
    page.wait_for_function(f"async () => (await ({_INBOUND_VIDEO_FRAMES})()) > {int(count)}", polling=200)


def test_a_video_call_connects_shows_both_videos_and_leaves_its_line(live_server, open_call_page):
    with server_log_on_failure(live_server):
        _video_call(live_server, open_call_page)


def _video_call(server, open_call_page):
    tabs, alice, bob = _linked(server, open_call_page)

    alice.get_by_test_id("call-video").click()
    alice_view = alice.get_by_test_id("call-view")
    expect(alice_view).to_have_attribute("data-phase", "ringing")
    expect(alice.get_by_test_id("call-status")).to_have_text("Ringing…")
    expect(alice.get_by_test_id("call-video")).to_be_disabled()

    overlay = bob.get_by_test_id("call-incoming")
    expect(overlay).to_be_visible()
    expect(bob.get_by_test_id("call-incoming-name")).to_have_text("Alice Liddell")
    expect(bob.get_by_test_id("call-incoming-kind")).to_have_text("Incoming video call")
    expect(overlay).to_have_attribute("data-ringtone", "playing")
    bob.screenshot(path="/tmp/heartlink-call-incoming.png")

    bob.get_by_test_id("call-accept").click()
    expect(overlay).to_be_hidden()
    expect(overlay).to_have_attribute("data-ringtone", "stopped")
    bob_view = bob.get_by_test_id("call-view")
    for page, view in ((alice, alice_view), (bob, bob_view)):
        expect(view).to_have_attribute("data-connection-state", "connected", timeout=20_000)
        expect(view).to_have_attribute("data-phase", "active")
        expect(page.get_by_test_id("call-duration")).to_have_text(re.compile(r"^\d+:\d\d$"))
        assert page.evaluate("window.__testPeers.at(-1).connectionState") == "connected"
        # The partner's camera really arrives: a live remote track, decoded frames that keep coming.
        assert page.evaluate("""() => {
          const video = document.querySelector('[data-testid="call-remote-video"]');
          const track = video.srcObject && video.srcObject.getVideoTracks()[0];
          return Boolean(track) && track.readyState === "live";
        }""")
        _wait_for_frames_beyond(page, 0)
        _wait_for_frames_beyond(page, _frames(page))
        page.wait_for_function("""() => {
          const video = document.querySelector('[data-testid="call-remote-video"]');
          return video.videoWidth > 0 && !video.paused;
        }""")
        expect(view).not_to_have_attribute("data-frames-decoded", "0")
        # One's own picture: small, muted, mirrored.
        local = page.get_by_test_id("call-local-video")
        expect(local).to_be_visible()
        assert local.evaluate("(video) => video.muted && getComputedStyle(video).transform.startsWith('matrix(-1')")
    alice.screenshot(path="/tmp/heartlink-call-active.png")

    # Mute and camera off are toggles.
    alice.get_by_test_id("call-mute").click()
    expect(alice.get_by_test_id("call-mute")).to_have_attribute("aria-pressed", "true")
    assert alice.evaluate("document.querySelector('[data-testid=\"call-local-video\"]').srcObject"
                          ".getAudioTracks().every((track) => !track.enabled)")
    alice.get_by_test_id("call-camera").click()
    expect(alice.get_by_test_id("call-camera")).to_have_attribute("aria-pressed", "true")
    expect(bob_view).to_have_attribute("data-partner-video", "off")
    alice.get_by_test_id("call-camera").click()
    expect(bob_view).to_have_attribute("data-partner-video", "on")

    alice.get_by_test_id("call-hangup").click()
    expect(bob.get_by_test_id("call-status")).to_have_text(re.compile(r"^Call ended · \d+:\d\d$"))
    expect(bob_view).to_have_attribute("data-connection-state", "closed")
    for page in (alice, bob):
        line = page.get_by_test_id("call-message")
        expect(line).to_have_count(1)
        expect(line).to_have_attribute("data-outcome", "ended")
        expect(line.get_by_test_id("call-message-title")).to_have_text("Video call")
        expect(line.get_by_test_id("call-message-detail")).to_have_text(re.compile(r"^\d+:\d\d$"))
        # The call view goes away by itself; the camera is off again.
        expect(page.get_by_test_id("call-view")).to_be_hidden()
        assert page.evaluate("window.__testPeers.at(-1).connectionState") == "closed"
        expect(page.get_by_test_id("call-video")).to_be_enabled()
    expect(alice.get_by_test_id("rooms-list")).to_contain_text("Video call ·")
    bob.screenshot(path="/tmp/heartlink-call-line.png")

    tabs["alice"].assert_clean()
    tabs["bob"].assert_clean()


def test_a_refused_camera_says_so_and_the_call_goes_no_further(live_server, open_call_page):
    with server_log_on_failure(live_server):
        tabs, alice, bob = _linked(live_server, open_call_page, refuse=("bob",))

        # Bob refuses when he calls: he is told why, and Alice's page never rings.
        bob.get_by_test_id("call-video").click()
        expect(bob.get_by_test_id("call-error-text")).to_contain_text("may not use your camera and microphone")
        expect(bob.get_by_test_id("call-view")).to_have_attribute("data-phase", "error")
        bob.screenshot(path="/tmp/heartlink-call-refused.png")
        bob.get_by_test_id("call-close").click()
        expect(bob.get_by_test_id("call-view")).to_be_hidden()

        # Alice calls, Bob accepts but refuses the microphone: the call is declined cleanly.
        alice.get_by_test_id("call-audio").click()
        expect(bob.get_by_test_id("call-incoming-kind")).to_have_text("Incoming voice call")
        bob.get_by_test_id("call-accept").click()
        expect(bob.get_by_test_id("call-error-text")).to_contain_text("may not use your microphone")
        expect(bob.get_by_test_id("call-incoming")).to_have_attribute("data-ringtone", "stopped")
        expect(alice.get_by_test_id("call-status")).to_have_text("Bob Builder declined the call")
        for page in (alice, bob):
            line = page.get_by_test_id("call-message")
            expect(line).to_have_count(1)
            expect(line).to_have_attribute("data-outcome", "declined")
            expect(line.get_by_test_id("call-message-title")).to_have_text("Voice call")
        expect(alice.get_by_test_id("call-view")).to_be_hidden()
        expect(bob.get_by_test_id("call-view")).to_be_visible()  # the message stays until read
        assert alice.get_by_test_id("call-incoming").is_hidden()

        tabs["alice"].assert_clean()
        tabs["bob"].assert_clean()


def test_an_unanswered_call_stops_ringing_and_shows_as_missed(open_call_page, serve):
    server = serve(HEARTLINK_CALL_RING_TIMEOUT=1)
    with server_log_on_failure(server):
        tabs, alice, bob = _linked(server, open_call_page)
        alice.get_by_test_id("call-video").click()
        overlay = bob.get_by_test_id("call-incoming")
        expect(overlay).to_have_attribute("data-ringtone", "playing")
        expect(overlay).to_be_hidden()
        expect(overlay).to_have_attribute("data-ringtone", "stopped")
        expect(alice.get_by_test_id("call-status")).to_have_text("No answer")
        expect(bob.get_by_test_id("call-message-title")).to_have_text("Missed video call")
        expect(bob.get_by_test_id("call-message")).to_have_class(re.compile(r"call-line--missed"))
        expect(alice.get_by_test_id("call-message-detail")).to_have_text("No answer")
        tabs["alice"].assert_clean()
        tabs["bob"].assert_clean()


def test_a_voice_call_has_sound_only_and_a_cancelled_one_shows_as_missed(live_server, open_call_page):
    with server_log_on_failure(live_server):
        tabs, alice, bob = _linked(live_server, open_call_page)

        # Alice gives up while it rings: Bob's ringing stops, he sees a missed call.
        alice.get_by_test_id("call-audio").click()
        expect(alice.get_by_test_id("call-view")).to_have_attribute("data-phase", "ringing")
        expect(alice.get_by_test_id("call-view")).to_have_attribute("data-ringback", "playing")
        expect(bob.get_by_test_id("call-incoming")).to_have_attribute("data-ringtone", "playing")
        alice.screenshot(path="/tmp/heartlink-call-ringing.png")
        alice.get_by_test_id("call-hangup").click()
        expect(bob.get_by_test_id("call-incoming")).to_be_hidden()
        expect(bob.get_by_test_id("call-incoming")).to_have_attribute("data-ringtone", "stopped")
        expect(bob.get_by_test_id("call-message-title")).to_have_text("Missed voice call")
        expect(alice.get_by_test_id("call-message-detail")).to_have_text("Cancelled")
        expect(alice.get_by_test_id("call-view")).to_be_hidden()

        # Again, answered: sound flows both ways, no camera anywhere; Bob hangs up.
        alice.get_by_test_id("call-audio").click()
        bob.get_by_test_id("call-accept").click()
        for page in (alice, bob):
            view = page.get_by_test_id("call-view")
            expect(view).to_have_attribute("data-connection-state", "connected", timeout=20_000)
            expect(view).to_have_attribute("data-media", "audio")
            expect(page.get_by_test_id("call-camera")).to_be_hidden()
            expect(page.get_by_test_id("call-avatar")).to_be_visible()
            assert page.evaluate("""() => {
              const stream = document.querySelector('[data-testid="call-remote-video"]').srcObject;
              return stream.getAudioTracks().some((track) => track.readyState === "live")
                && !stream.getVideoTracks().length;
            }""")
            page.wait_for_function("""async () => {
              const stats = await window.__testPeers.at(-1).getStats();
              let bytes = 0;
              stats.forEach((entry) => {
                if (entry.type === "inbound-rtp" && entry.kind === "audio") bytes = entry.bytesReceived;
              });
              return bytes > 0;
            }""", polling=200)
        bob.screenshot(path="/tmp/heartlink-call-voice.png")
        bob.get_by_test_id("call-hangup").click()
        expect(alice.get_by_test_id("call-status")).to_have_text(re.compile(r"^Call ended · \d+:\d\d$"))
        for page in (alice, bob):
            expect(page.get_by_test_id("call-message").last).to_have_attribute("data-outcome", "ended")
            title = page.get_by_test_id("call-message").last.get_by_test_id("call-message-title")
            expect(title).to_have_text("Voice call")
        tabs["alice"].assert_clean()
        tabs["bob"].assert_clean()


def test_calling_until_a_device_of_the_callee_rings_then_ringing(live_server, open_call_page):
    with server_log_on_failure(live_server):
        tabs, alice, bob = _linked(live_server, open_call_page)
        room_url = bob.url
        tabs["bob"].context.close()  # Bob has no socket left anywhere

        alice.get_by_test_id("call-audio").click()
        view = alice.get_by_test_id("call-view")
        expect(view).to_have_attribute("data-phase", "ringing")  # the server has the invitation
        expect(alice.get_by_test_id("call-status")).to_have_text("Calling…")
        alice.screenshot(path="/tmp/heartlink-call-calling.png")
        alice.get_by_test_id("call-hangup").click()
        expect(alice.get_by_test_id("call-message-detail")).to_have_text("Cancelled")

        # Bob is back: his page rings, and Alice's turns to "Ringing…".
        again = open_call_page()
        bob = sign_in(again, live_server, "bob")
        bob.goto(room_url)
        expect(bob.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
        alice.get_by_test_id("call-audio").click()
        expect(bob.get_by_test_id("call-incoming")).to_be_visible()
        expect(alice.get_by_test_id("call-status")).to_have_text("Ringing…")
        alice.get_by_test_id("call-hangup").click()
        expect(bob.get_by_test_id("call-incoming")).to_be_hidden()
        tabs["alice"].assert_clean()
        again.assert_clean()

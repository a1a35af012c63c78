"""The browser: a voice note recorded with Chromium's fake microphone, with its live waveform,
pause and resume; the partner sees the waveform the server measured, plays it, changes the
speed and seeks by keyboard and pointer; at 1280 and 360 px, in both themes (axe-core) and in
Chinese."""

import pytest
from playwright.sync_api import expect

from config import BASE_DIR

from browser_plugin import PageOpener, axe_clean, link_pages, server_log_on_failure
from support import fresh_names

SCREENSHOTS = BASE_DIR / "test-results" / "screenshots"
SIZES = {"1280": {"width": 1280, "height": 800}, "360": {"width": 360, "height": 740}}

@pytest.fixture(scope="module")
def server(module_server):
    return module_server


@pytest.fixture
def open_page(media_browser):
    opener = PageOpener(media_browser)
    yield opener
    opener.close()


def _screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _frames(page, count=12):
    """Let the page draw `count` animation frames."""
    page.evaluate("""(count) => new Promise((done) => {
      const step = () => (--count <= 0 ? done() : requestAnimationFrame(step));
      requestAnimationFrame(step);
    })""", count)


def _pair(server, open_page, size, **options):
    me, partner = fresh_names("vo")
    server.make_user(me, "Alice Liddell")
    server.make_user(partner, "Bob Builder")
    alice_tab = open_page(permissions=["microphone"], viewport=size, **options)
    bob_tab = open_page(viewport=size, **options)
    alice, bob = link_pages(server, (alice_tab, bob_tab), (me, partner))
    return alice_tab, bob_tab, alice, bob


def _record_with_a_pause(page, axe_label=None, screenshot=None):
    """Record from the fake microphone: the live waveform moves; paused, the time and the bars
    stand still; resumed, they go on; then send."""
    page.get_by_test_id("composer-record").click()
    recorder = page.get_by_test_id("recorder")
    expect(recorder).to_be_visible()
    wave = page.get_by_test_id("recorder-wave")
    page.wait_for_function("(wave) => wave.dataset.levels !== ''", arg=wave.element_handle())
    first = wave.get_attribute("data-levels")
    page.wait_for_function("([wave, first]) => wave.dataset.levels !== first", arg=[wave.element_handle(), first])
    # The fake microphone beeps: some bar is well above silence.
    page.wait_for_function("(wave) => wave.dataset.levels.split(',').some((level) => Number(level) > 20)",
                           arg=wave.element_handle())
    time = page.get_by_test_id("recorder-time")
    page.wait_for_function("(time) => Number(time.dataset.elapsedMs) >= 1000", arg=time.element_handle())
    _time_shown(page)
    if screenshot:
        _screenshot(page, screenshot)
    # Everything of the recorder on the screen, the page not widened by it.
    width = page.viewport_size["width"]
    for part in ("recorder-cancel", "recorder-wave", "recorder-time", "recorder-pause", "recorder-send"):
        box = page.get_by_test_id(part).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["width"] > 0, (part, box, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_test_id("recorder-pause").click()
    expect(recorder).to_have_attribute("data-paused", "true")
    expect(page.get_by_test_id("recorder-pause")).to_have_attribute("aria-pressed", "true")
    held, levels = time.get_attribute("data-elapsed-ms"), wave.get_attribute("data-levels")
    _frames(page)
    assert time.get_attribute("data-elapsed-ms") == held and wave.get_attribute("data-levels") == levels
    if axe_label:
        axe_clean(page, axe_label)

    page.get_by_test_id("recorder-pause").click()
    expect(recorder).to_have_attribute("data-paused", "false")
    page.wait_for_function("([time, held]) => Number(time.dataset.elapsedMs) > Number(held)",
                           arg=[time.element_handle(), held])
    assert _time_shown(page) > float(held)
    page.get_by_test_id("recorder-send").click()
    expect(recorder).to_be_hidden()
    expect(page.get_by_test_id("composer-input")).to_be_focused()  # typing goes on where it was

    # Escape drops a recording, as it closes the tray or the viewer.
    page.get_by_test_id("composer-record").click()
    expect(recorder).to_be_visible()
    page.keyboard.press("Escape")
    expect(recorder).to_be_hidden()
    expect(page.get_by_test_id("composer-input")).to_be_focused()


def _time_shown(page):
    """The recorder's time (m:ss) is the elapsed time it was drawn from, whatever that is by now (a busy
    machine records longer between two looks). Returns the elapsed ms."""
    text, ms = page.get_by_test_id("recorder-time").evaluate(
        "(time) => [time.textContent, Number(time.dataset.elapsedMs)]")
    total = int(ms / 1000 + 0.5)  # Math.round, as formatMs
    assert text == f"{total // 60}:{total % 60:02d}", (text, ms)
    return ms


def _play_speed_and_seek(page):
    voice = page.locator('[data-testid="message"][data-seq="1"]').get_by_test_id("voice-player")
    expect(voice).to_be_visible()
    wave = voice.get_by_test_id("voice-progress")
    expect(wave).to_have_attribute("data-waveform", "server")
    expect(wave.locator(".voice__level")).to_have_count(64)
    expect(wave).to_have_attribute("role", "slider")
    duration_s = int(wave.get_attribute("aria-valuemax"))
    assert 1 <= duration_s <= 6, duration_s
    audio = voice.get_by_test_id("voice-audio").element_handle()

    voice.get_by_test_id("voice-play").click()
    expect(voice).to_have_attribute("data-playing", "true")
    # Held where it got to, checked in the page as it plays: a short note at 2x could otherwise end
    # (and go back to its start) on a busy machine before the bars are looked at.
    page.wait_for_function("(audio) => audio.currentTime > 0.1 && (audio.pause(), true)", arg=audio)
    expect(voice).to_have_attribute("data-playing", "false")
    # The bars filled as it played.
    page.wait_for_function("(wave) => Number(wave.dataset.played) > 0", arg=wave.element_handle())
    speed = voice.get_by_test_id("voice-speed")
    assert page.evaluate("(audio) => audio.playbackRate", audio) == 1
    speed.click()
    expect(speed).to_have_attribute("data-speed", "1.5")
    assert page.evaluate("(audio) => audio.playbackRate", audio) == 1.5
    speed.click()
    expect(speed).to_have_attribute("data-speed", "2")
    assert page.evaluate("(audio) => audio.playbackRate", audio) == 2
    assert page.evaluate("localStorage.getItem('heartlink:voice-speed')") == "2"

    # The keyboard: Home, an arrow (a second on), End.
    wave.focus()
    page.keyboard.press("Home")
    expect(wave).to_have_attribute("aria-valuenow", "0")
    page.keyboard.press("ArrowRight")
    expect(wave).to_have_attribute("aria-valuenow", "1")
    assert 0.9 <= page.evaluate("(audio) => audio.currentTime", audio) <= 1.1
    page.keyboard.press("End")
    expect(wave).to_have_attribute("data-played", "64")
    page.keyboard.press("Home")
    expect(wave).to_have_attribute("data-played", "0")
    # A click halfway along the bars: halfway through the note.
    box = wave.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("(wave) => Math.abs(Number(wave.dataset.played) - 32) <= 2", arg=wave.element_handle())
    speed.click()
    expect(speed).to_have_attribute("data-speed", "1")
    return voice


@pytest.mark.parametrize("width", ["1280", "360"])
def test_a_voice_note_recorded_paused_sent_and_played_with_its_waveform(server, open_page, width):
    with server_log_on_failure(server):
        alice_tab, bob_tab, alice, bob = _pair(server, open_page, SIZES[width])
        _record_with_a_pause(alice, screenshot=f"voice-recorder-{width}")
        voice = _play_speed_and_seek(bob)
        _screenshot(bob, f"voice-player-{width}")
        box = voice.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= SIZES[width]["width"]
        # The sender's own bubble shows the same bars.
        mine = alice.locator('[data-testid="message"][data-seq="1"]').get_by_test_id("voice-progress")
        expect(mine).to_have_attribute("data-waveform", "server")
        alice_tab.assert_clean()
        bob_tab.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_on_the_recorder_and_the_player(server, open_page, scheme):
    with server_log_on_failure(server):
        for width in ("1280", "360"):
            _alice_tab, _bob_tab, alice, bob = _pair(server, open_page, SIZES[width], color_scheme=scheme)
            expect(alice.locator("html")).to_have_attribute("data-theme", scheme)
            _record_with_a_pause(alice, axe_label=f"recorder paused ({scheme}, {width})")
            voice = bob.locator('[data-testid="message"][data-seq="1"]').get_by_test_id("voice-player")
            expect(voice).to_be_visible()
            axe_clean(bob, f"voice player ({scheme}, {width})")
            _screenshot(bob, f"voice-player-{scheme}-{width}")


def test_the_recorder_and_player_speak_chinese_and_keep_still_for_reduced_motion(server, open_page):
    with server_log_on_failure(server):
        zh = {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"},
              "reduced_motion": "reduce"}
        _alice_tab, _bob_tab, alice, bob = _pair(server, open_page, SIZES["360"], **zh)
        alice.get_by_test_id("composer-record").click()
        # No gliding bars nor a pulsing dot; the bars still change, once a second.
        wave = alice.get_by_test_id("recorder-wave")
        alice.wait_for_function("(wave) => wave.dataset.levels !== ''", arg=wave.element_handle())
        assert alice.evaluate("""() => [
          getComputedStyle(document.querySelector('.recorder__level')).transitionDuration,
          getComputedStyle(document.querySelector('.recorder__dot')).animationName]""") == ["0s", "none"]
        expect(alice.get_by_test_id("recorder-pause")).to_have_attribute("aria-label", "暂停录音")
        alice.wait_for_function("(time) => Number(time.dataset.elapsedMs) >= 1000",
                                arg=alice.get_by_test_id("recorder-time").element_handle())
        _time_shown(alice)
        alice.get_by_test_id("recorder-pause").click()
        expect(alice.get_by_test_id("recorder-pause")).to_have_attribute("aria-label", "继续录音")
        _screenshot(alice, "voice-recorder-zh-360")
        alice.get_by_test_id("recorder-pause").click()
        expect(alice.get_by_test_id("recorder-label")).to_have_text("正在录音")
        alice.wait_for_function("(time) => Number(time.dataset.elapsedMs) >= 1500",
                                arg=alice.get_by_test_id("recorder-time").element_handle())
        _time_shown(alice)
        alice.get_by_test_id("recorder-send").click()
        voice = bob.locator('[data-testid="message"][data-seq="1"]').get_by_test_id("voice-player")
        speed = voice.get_by_test_id("voice-speed")
        expect(speed).to_have_text("1倍")
        expect(speed).to_have_attribute("aria-label", "播放速度：1倍")
        wave = voice.get_by_test_id("voice-progress")
        expect(wave).to_have_attribute("aria-label", "语音消息播放位置")
        assert " / " in wave.get_attribute("aria-valuetext")
        speed.click()
        expect(speed).to_have_text("1.5倍")
        _screenshot(bob, "voice-player-zh-360")

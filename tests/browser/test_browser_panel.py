"""The browser: the partner panel (the partner's name in the chat header opens it) with the shared
interests and the link's pictures and clips, files and voice notes by tab; the media viewer opened
from it or from a picture in the chat, stepping with the arrow keys, its buttons and a swipe; the
partner veiled before the reveal; axe in both themes; the Chinese page."""
import re

import pytest
from playwright.sync_api import expect

from browser_plugin import ROOM_URL, axe_clean, focused, say, server_log_on_failure, sign_in, still, upload_as
from media_samples import mp4_clip, png, webm_opus
from support import fresh_names

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _link(server, watched, me, partner, partner_name="Nina"):
    """`me` in the browser and `partner` on a socket meet over a shared interest (hiking)."""
    server.make_user(me, "Alice Liddell")
    server.make_user(partner, partner_name, joined_days_ago=30)
    page = sign_in(watched, server, me)
    token = server.token(partner)
    other = server.connect(partner, token=token)
    assert other.ask("match:start", {"languages": ["en", "zh"], "interests": ["hiking", "jazz"]})["state"] == "waiting"
    page.get_by_test_id("match-interests").fill("Hiking, chess")
    page.get_by_test_id("find-link").click()
    room_id = other.wait_for("match:found")["room"]["id"]
    expect(page).to_have_url(re.compile(re.escape(server.url) + ROOM_URL))
    expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
    return page, other, token, room_id


def _share(server, page, other, token, room_id, file_name="notes.txt"):
    """Nina sends two pictures; I send one from the page; Nina sends a clip, a file and a voice note.
    Returns the seqs of the pictures and the clip, oldest first."""
    seqs = []
    for index, size in enumerate(((64, 48), (80, 60))):
        attachment_id = upload_as(server, token, room_id, "image", f"p{index}.png", png(size), "image/png")
        seqs.append(say(other, room_id, f"picture {index}", kind="image", attachment_id=attachment_id)["seq"])
    page.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "mine.png", "mimeType": "image/png", "buffer": png((96, 72))}])
    page.get_by_test_id("tray-send").click()  # it waits in the preview tray until sent
    mine = page.locator('[data-testid="message"][data-mine="true"]').get_by_test_id("message-image")
    expect(mine).to_be_visible()
    stored = page.locator('[data-testid="message"][data-mine="true"]').last
    expect(stored).to_have_attribute("data-seq", re.compile(r"^\d+$"))  # acked: its seq is known
    seqs.append(int(stored.get_attribute("data-seq")))
    for kind, name, data, mime in (("file", "clip.mp4", mp4_clip(), "video/mp4"),
                                   ("file", file_name, b"x" * 1500, "text/plain"),
                                   ("voice", "voice.webm", webm_opus(), "audio/webm")):
        sent = say(other, room_id, kind=kind, attachment_id=upload_as(server, token, room_id, kind, name, data, mime))
        if name == "clip.mp4":
            seqs.append(sent["seq"])
    expect(page.get_by_test_id("message")).to_have_count(6)
    return seqs


def _viewer_at(page, seq):
    expect(page.get_by_test_id("lightbox")).to_have_attribute("data-seq", str(seq))


def _swipe(page, dx):
    """A finger moving across the viewer's picture, as pointer events (what the viewer listens to)."""
    page.get_by_test_id("viewer-stage").evaluate("""(stage, dx) => {
      const box = stage.getBoundingClientRect();
      const x = box.left + box.width / 2, y = box.top + box.height / 2;
      const at = (type, clientX) => stage.dispatchEvent(new PointerEvent(type, {
        bubbles: true, pointerId: 7, pointerType: "touch", isPrimary: true, clientX, clientY: y }));
      at("pointerdown", x);
      at("pointermove", x + dx / 2);
      at("pointerup", x + dx);
    }""", dx)


def test_the_partner_panel_shows_interests_and_shared_items_and_the_viewer_steps_through_them(server, open_page):
    me, partner = fresh_names("pp")
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP, color_scheme="light")
        page, other, token, room_id = _link(server, watched, me, partner)
        seqs = _share(server, page, other, token, room_id)

        # The name in the header opens the panel beside the chat.
        name = page.get_by_test_id("partner-button")
        expect(name).to_have_text("Nina")
        name.click()
        panel = page.get_by_test_id("partner-panel")
        expect(panel).to_be_visible()
        expect(name).to_have_attribute("aria-expanded", "true")
        expect(panel.get_by_test_id("panel-name")).to_have_text("Nina")
        expect(panel.get_by_test_id("panel-username")).to_have_text(f"@{partner}")
        expect(panel.get_by_test_id("panel-veiled-note")).to_be_hidden()
        expect(panel.get_by_test_id("panel-interest")).to_have_text(["hiking"])
        chat_box = page.get_by_test_id("chat").bounding_box()
        panel_box = panel.bounding_box()
        assert chat_box["x"] + chat_box["width"] <= panel_box["x"] + 1, (chat_box, panel_box)  # beside, not over

        # The tabs: three pictures and a clip, one file, one voice note; arrow keys move between tabs.
        media = panel.get_by_test_id("panel-media")
        expect(panel.get_by_test_id("panel-tab-media")).to_have_attribute("aria-selected", "true")
        expect(media.get_by_test_id("panel-media-item")).to_have_count(4)
        assert media.get_by_test_id("panel-media-item").evaluate_all(
            "(tiles) => tiles.map((tile) => Number(tile.dataset.seq))") == sorted(seqs, reverse=True)
        panel.get_by_test_id("panel-tab-media").focus()
        page.keyboard.press("ArrowRight")
        expect(panel.get_by_test_id("panel-tab-files")).to_be_focused()
        expect(panel.get_by_test_id("panel-tab-files")).to_have_attribute("aria-selected", "true")
        expect(panel.get_by_test_id("panel-files")).to_be_visible()
        expect(media).to_be_hidden()
        files = panel.get_by_test_id("panel-file-item")
        expect(files).to_have_count(1)
        expect(files).to_contain_text("notes.txt")
        with page.expect_download() as download:
            files.click()
        assert download.value.suggested_filename == "notes.txt"
        panel.get_by_test_id("panel-tab-files").focus()
        page.keyboard.press("ArrowRight")
        expect(panel.get_by_test_id("panel-tab-voice")).to_have_attribute("aria-selected", "true")
        notes = panel.get_by_test_id("panel-voice-item")
        expect(notes).to_have_count(1)
        # It plays here with the chat's player: its waveform, seeking and speed (the sample's bytes are a
        # recording's shape, not sound Chromium decodes: that it plays is test_browser_voice.py's recorded note).
        expect(notes.get_by_test_id("voice-progress")).to_have_attribute("role", "slider")
        expect(notes.get_by_test_id("voice-speed")).to_be_visible()
        voice = notes.get_by_test_id("voice-audio")
        assert voice.evaluate("async (audio) => (await fetch(audio.src)).headers.get('content-type')") == "audio/webm"
        page.keyboard.press("End")
        expect(panel.get_by_test_id("panel-tab-voice")).to_be_focused()
        page.keyboard.press("Home")
        expect(panel.get_by_test_id("panel-tab-media")).to_have_attribute("aria-selected", "true")
        axe_clean(page, "partner panel (light)")

        # The oldest picture opens the viewer; the arrow keys and the buttons step through all four.
        oldest = media.locator(f'[data-seq="{seqs[0]}"]')
        oldest.click()
        viewer = page.get_by_test_id("lightbox")
        expect(viewer).to_be_visible()
        _viewer_at(page, seqs[0])
        expect(viewer.get_by_test_id("viewer-sender")).to_have_text("Nina")
        expect(viewer.get_by_test_id("viewer-time")).not_to_be_empty()
        expect(viewer.get_by_test_id("viewer-caption")).to_have_text("picture 0")
        expect(viewer.get_by_test_id("viewer-counter")).to_have_text("1 of 4")
        expect(viewer.get_by_test_id("viewer-prev")).to_be_disabled()
        page.keyboard.press("ArrowRight")
        _viewer_at(page, seqs[1])
        expect(viewer.get_by_test_id("viewer-caption")).to_have_text("picture 1")
        viewer.get_by_test_id("viewer-next").click()
        _viewer_at(page, seqs[2])
        expect(viewer.get_by_test_id("viewer-sender")).to_have_text("You")
        expect(viewer.get_by_test_id("viewer-caption")).to_be_hidden()
        full = viewer.get_by_test_id("lightbox-image")
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=full.element_handle())
        assert full.evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [96, 72]
        page.keyboard.press("ArrowRight")
        _viewer_at(page, seqs[3])
        clip = viewer.get_by_test_id("viewer-video")
        expect(clip).to_be_visible()
        expect(clip).to_have_attribute("controls", "")
        expect(viewer.get_by_test_id("viewer-counter")).to_have_text("4 of 4")
        expect(viewer.get_by_test_id("viewer-next")).to_be_disabled()
        page.keyboard.press("ArrowRight")  # the last: nothing further
        _viewer_at(page, seqs[3])
        download_link = viewer.get_by_test_id("lightbox-download")
        expect(download_link).to_have_attribute("href", re.compile(r"^/api/attachments/"))
        expect(download_link).to_have_attribute("download", "clip.mp4")
        page.keyboard.press("ArrowLeft")
        _viewer_at(page, seqs[2])

        # The focus stays in the viewer: Tab from the last control comes back to the first.
        for _ in range(8):
            page.keyboard.press("Tab")
            assert viewer.evaluate("(viewer) => viewer.contains(document.activeElement)")
        axe_clean(page, "viewer (light)")

        # Dark theme: the viewer and the panel.
        page.emulate_media(color_scheme="dark")
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        axe_clean(page, "viewer (dark)")
        page.screenshot(path="/tmp/heartlink-viewer-dark.png")

        # Escape closes the viewer, and the focus is back on the picture that opened it; again, the panel.
        page.keyboard.press("Escape")
        expect(viewer).to_be_hidden()
        expect(oldest).to_be_focused()
        axe_clean(page, "partner panel (dark)")
        page.screenshot(path="/tmp/heartlink-panel-dark.png")
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        assert focused(page) == "partner-button"
        expect(name).to_have_attribute("aria-expanded", "false")

        # A picture in the chat opens the same viewer, which steps on through the link's media. The chat
        # has just taken back the panel's width: its bubbles rewrap, so the picture is clicked once still.
        picture = page.locator(f'[data-testid="message"][data-seq="{seqs[1]}"]').get_by_test_id("message-image")
        still(page, picture)
        picture.click()
        _viewer_at(page, seqs[1])
        viewer.get_by_test_id("viewer-prev").click()
        _viewer_at(page, seqs[0])
        viewer.get_by_test_id("lightbox-close").click()
        expect(viewer).to_be_hidden()
        # A clip plays where it is in the chat; its button opens it in the viewer, among the pictures.
        opener = page.locator(f'[data-testid="message"][data-seq="{seqs[3]}"]').get_by_test_id("message-video-open")
        opener.click()
        _viewer_at(page, seqs[3])
        expect(viewer.get_by_test_id("viewer-video")).to_be_visible()
        page.keyboard.press("ArrowLeft")
        _viewer_at(page, seqs[2])
        page.keyboard.press("Escape")
        expect(opener).to_be_focused()
        watched.assert_clean()
        other.disconnect()


def test_on_a_phone_the_panel_takes_the_screen_and_a_swipe_steps_the_viewer(server, open_page):
    me, partner = fresh_names("ps")
    with server_log_on_failure(server):
        watched = open_page(viewport=PHONE, has_touch=True, is_mobile=True)
        page, other, token, room_id = _link(server, watched, me, partner)
        seqs = _share(server, page, other, token, room_id)
        page.get_by_test_id("partner-button").click()
        panel = page.get_by_test_id("partner-panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert (box["x"], box["width"]) == (0, PHONE["width"]), box
        assert box["height"] >= PHONE["height"] - 1, box
        tiles = panel.get_by_test_id("panel-media-item")
        expect(tiles).to_have_count(4)
        tiles.locator(f'xpath=self::*[@data-seq="{seqs[1]}"]').tap()
        viewer = page.get_by_test_id("lightbox")
        _viewer_at(page, seqs[1])
        _swipe(page, -120)  # finger to the left: the next
        _viewer_at(page, seqs[2])
        _swipe(page, -120)
        _viewer_at(page, seqs[3])
        _swipe(page, 150)  # to the right: back
        _viewer_at(page, seqs[2])
        _swipe(page, 20)  # too short to be a swipe
        _viewer_at(page, seqs[2])
        axe_clean(page, "viewer at 360 px")
        page.screenshot(path="/tmp/heartlink-viewer-360.png")
        viewer.get_by_test_id("lightbox-close").tap()
        expect(viewer).to_be_hidden()
        axe_clean(page, "partner panel at 360 px")
        page.screenshot(path="/tmp/heartlink-panel-360.png")
        panel.get_by_test_id("partner-panel-close").tap()
        expect(panel).to_be_hidden()
        watched.assert_clean()
        other.disconnect()


def test_before_the_reveal_the_panel_shows_initials_and_the_veiled_picture(serve, open_page):
    server = serve(HEARTLINK_REVEAL_AFTER="10")
    me, partner = fresh_names("pv")
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page, other, _token, room_id = _link(server, watched, me, partner, "Nina Simone")
        page.get_by_test_id("partner-button").click()
        panel = page.get_by_test_id("partner-panel")
        expect(panel.get_by_test_id("panel-name")).to_have_text("NS")
        expect(panel.get_by_test_id("panel-username")).to_be_hidden()
        expect(panel.get_by_test_id("panel-avatar")).to_have_attribute("data-veiled", "true")
        expect(panel.get_by_test_id("panel-veiled-note")).to_contain_text("10 messages")
        expect(panel).not_to_contain_text("Nina")
        expect(panel).not_to_contain_text(partner)
        expect(panel.get_by_test_id("panel-empty-media")).to_be_visible()
        # Report and block are there too: the ⋮ menu's own dialogs.
        expect(panel.get_by_test_id("panel-block")).to_have_text("Block NS")
        panel.get_by_test_id("panel-report").click()
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("report-dialog")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("report-dialog")).to_be_hidden()
        watched.assert_clean()
        other.disconnect()


def test_a_long_history_of_pictures_is_read_page_by_page_both_ways(serve, open_page):
    server = serve(HEARTLINK_RATE_UPLOADS="100/60", HEARTLINK_RATE_MESSAGES="100/10")  # 34 pictures at once
    me, partner = fresh_names("pl")
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        page, other, token, room_id = _link(server, watched, me, partner)
        count = 34  # past a page of 30, in the panel and in the viewer
        seqs = [say(other, room_id, kind="image", attachment_id=upload_as(
            server, token, room_id, "image", f"p{n}.png", png((40 + n, 30)), "image/png"))["seq"] for n in range(count)]
        expect(page.locator('[data-testid="message"]').last).to_have_attribute("data-seq", str(seqs[-1]))

        # The panel: a page, then "Show more" for the rest.
        page.get_by_test_id("partner-button").click()
        tiles = page.get_by_test_id("panel-media-item")
        expect(tiles).to_have_count(30)
        page.get_by_test_id("panel-more-media").click()
        expect(tiles).to_have_count(count)
        expect(page.get_by_test_id("panel-more-media")).to_be_hidden()

        # From the oldest, the viewer reads newer pages as it goes, up to the newest.
        tiles.last.click()
        viewer = page.get_by_test_id("lightbox")
        _viewer_at(page, seqs[0])
        for seq in seqs[1:]:
            page.keyboard.press("ArrowRight")
            _viewer_at(page, seq)
        expect(viewer.get_by_test_id("viewer-next")).to_be_disabled()
        expect(viewer.get_by_test_id("viewer-counter")).to_have_text(f"{count} of {count}")
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("partner-panel")).to_be_hidden()

        # From the newest picture in the chat, older pages, down to the oldest.
        page.locator(f'[data-testid="message"][data-seq="{seqs[-1]}"]').get_by_test_id("message-image").click()
        _viewer_at(page, seqs[-1])
        for seq in reversed(seqs[:-1]):
            page.keyboard.press("ArrowLeft")
            _viewer_at(page, seq)
        expect(viewer.get_by_test_id("viewer-prev")).to_be_disabled()
        expect(viewer.get_by_test_id("viewer-counter")).to_have_text(f"1 of {count}")
        watched.assert_clean()
        other.disconnect()


_LATIN_WORDS = re.compile(r"[A-Za-z]{2,}")
_ALLOWED = {"Bob", "Builder", "Alice", "Liddell", "Alt", "kB", "MB", "GB"}  # names; units' symbols


def _untranslated(page, scope):
    """Visible text and names in `scope` (a selector) with English words in them; what people wrote or
    named (a name's initials, their interests) is theirs, not the page's."""
    texts = page.evaluate("""(scope) => {
      const USER_CONTENT = "[hidden], .avatar, .partner-panel__interest, .viewer__caption";
      const out = [];
      for (const root of document.querySelectorAll(scope)) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
          const element = walker.currentNode.parentElement;
          if (!element || !walker.currentNode.textContent.trim() || element.closest(USER_CONTENT)) continue;
          if (element.getClientRects().length) out.push(walker.currentNode.textContent.trim());
        }
        for (const element of root.querySelectorAll("[aria-label], [title]")) {
          if (!element.getClientRects().length) continue;
          for (const name of ["aria-label", "title"]) {
            if (element.getAttribute(name)) out.push(element.getAttribute(name));
          }
        }
      }
      return out;
    }""", scope)
    return [text for text in texts if any(word not in _ALLOWED for word in _LATIN_WORDS.findall(text))
            and not text.startswith("@")]


def test_the_panel_and_the_viewer_speak_chinese(server, open_page):
    me, partner = fresh_names("pz")
    with server_log_on_failure(server):
        watched = open_page(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"}, viewport=DESKTOP)
        page, other, token, room_id = _link(server, watched, me, partner, "Bob Builder")
        seqs = _share(server, page, other, token, room_id, file_name="笔记")
        page.get_by_test_id("partner-button").click()
        panel = page.get_by_test_id("partner-panel")
        expect(panel.get_by_test_id("panel-media-item")).to_have_count(4)
        expect(panel.get_by_test_id("panel-tab-media")).to_have_text("媒体")
        assert _untranslated(page, '[data-testid="partner-panel"]') == [], "panel"
        for tab in ("files", "voice"):
            panel.get_by_test_id(f"panel-tab-{tab}").click()
            assert _untranslated(page, '[data-testid="partner-panel"]') == [], tab
        panel.get_by_test_id("panel-tab-media").click()
        panel.locator(f'[data-seq="{seqs[0]}"]').click()
        viewer = page.get_by_test_id("lightbox")
        expect(viewer.get_by_test_id("viewer-counter")).to_have_text("第 1 个，共 4 个")
        assert _untranslated(page, '[data-testid="lightbox"]') == [], "viewer"
        viewer.get_by_test_id("viewer-next").click()
        _viewer_at(page, seqs[1])
        assert _untranslated(page, '[data-testid="lightbox"]') == [], "viewer"
        other.disconnect()

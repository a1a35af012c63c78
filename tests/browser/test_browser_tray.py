"""The browser: pictures and files wait in a tray before they go (as in WhatsApp Web) — several at
once, each with its own caption, one removed, what cannot go named there and never sent, Escape
discards — at 1280 and 360 px, in Chinese, and axe-clean in both themes."""
import pytest
from playwright.sync_api import expect

from browser_plugin import axe_clean, focused, link_with_socket_partner, server_log_on_failure
from media_samples import png, webm_opus
from support import fresh_names

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
FILE_MAX = 4000

# Counts the object URLs the page makes and lets go of, to see that the tray gives back each one.
_COUNT_OBJECT_URLS = """
window.__objectUrls = new Set();
const made = URL.createObjectURL.bind(URL);
const freed = URL.revokeObjectURL.bind(URL);
URL.createObjectURL = (thing) => { const url = made(thing); window.__objectUrls.add(url); return url; };
URL.revokeObjectURL = (url) => { window.__objectUrls.delete(url); freed(url); };
"""


@pytest.fixture(scope="module")
def module_server_settings(tmp_path_factory):
    terms = tmp_path_factory.mktemp("tray-browser") / "blocked-terms.txt"
    terms.write_text("bad\n", encoding="utf-8")
    return {"HEARTLINK_FILE_MAX_BYTES": FILE_MAX, "HEARTLINK_BLOCKED_TERMS": str(terms)}


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _picture(name, size=(640, 480)):
    return {"name": name, "mimeType": "image/png", "buffer": png(size)}


def _linked(server, open_page, tag, viewport, **options):
    me, partner = fresh_names(tag)
    watched = open_page(viewport=viewport, init_scripts=(_COUNT_OBJECT_URLS,), **options)
    page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
    return watched, page, other, room_id


def _item(tray, name):
    thumb = tray.page.locator(f'[data-testid="tray-thumb"][title^="{name}"]')
    return tray.get_by_test_id("tray-item").filter(has=thumb)


@VIEWPORTS
def test_several_pictures_wait_in_the_tray_one_is_removed_and_each_goes_with_its_caption(server, open_page, viewport):
    with server_log_on_failure(server):
        watched, page, other, room_id = _linked(server, open_page, "tr", viewport)
        page.get_by_test_id("composer-input").fill("for you")
        page.get_by_test_id("composer-attach").click()  # the chooser is answered by set_input_files
        page.get_by_test_id("attach-input").set_input_files(files=[
            _picture("a.png"), _picture("b.png", (320, 240)), _picture("c.png", (480, 640)),
            {"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"x" * (FILE_MAX + 1)},
            {"name": "fake.png", "mimeType": "image/png", "buffer": b"this is not a picture at all"},
        ])
        tray = page.get_by_test_id("media-tray")
        expect(tray).to_be_visible()
        expect(tray.get_by_test_id("tray-item")).to_have_count(5)
        # The first is shown large, with what was typed in the box as its caption.
        expect(tray.get_by_test_id("tray-title")).to_have_text("a.png")
        picture = tray.get_by_test_id("tray-picture")
        page.wait_for_function("(img) => img.complete && img.naturalWidth === 640", arg=picture.element_handle())
        expect(tray.get_by_test_id("tray-caption")).to_have_value("for you")
        expect(tray.get_by_test_id("tray-caption")).to_be_focused()

        # What cannot go is named in the tray: too large (known by its size), not a picture (it does not decode).
        expect(_item(tray, "fake.png").get_by_test_id("tray-thumb")).to_have_attribute("data-refused", "true")
        _item(tray, "big.bin").get_by_test_id("tray-thumb").click()
        expect(tray.get_by_test_id("tray-refused")).to_contain_text("big.bin is too large")
        expect(tray.get_by_test_id("tray-caption")).to_be_disabled()
        _item(tray, "fake.png").get_by_test_id("tray-thumb").click()
        expect(tray.get_by_test_id("tray-refused")).to_have_text("⚠️fake.png is not a picture.")

        # b.png is removed; c.png gets a caption of its own.
        _item(tray, "b.png").get_by_test_id("tray-remove").click()
        expect(tray.get_by_test_id("tray-item")).to_have_count(4)
        _item(tray, "c.png").get_by_test_id("tray-thumb").click()
        expect(tray.locator('[data-testid="tray-thumb"][aria-current="true"]')).to_have_attribute("title", "c.png")
        page.wait_for_function("(img) => img.complete && img.naturalWidth === 480",
                               arg=tray.get_by_test_id("tray-picture").element_handle())
        expect(tray.get_by_test_id("tray-caption")).to_have_value("")
        tray.get_by_test_id("tray-caption").fill("the lake")
        _item(tray, "a.png").get_by_test_id("tray-thumb").click()
        expect(tray.get_by_test_id("tray-caption")).to_have_value("for you")  # each keeps its own
        expect(tray.get_by_test_id("tray-send")).to_have_attribute("aria-label", "Send 2")
        page.screenshot(path=f"/tmp/heartlink-tray-{viewport['width']}.png")

        # Enter in a caption sends them all, in order, each with its caption.
        tray.get_by_test_id("tray-caption").press("Enter")
        expect(tray).to_be_hidden()
        first = other.wait_for("message:new")["message"]
        second = other.wait_for("message:new")["message"]
        assert [first["kind"], first["attachment"]["filename"], first["text"]] == ["image", "a.png", "for you"]
        assert [second["kind"], second["attachment"]["filename"], second["text"]] == ["image", "c.png", "the lake"]
        assert second["seq"] == first["seq"] + 1
        mine = page.locator('[data-testid="message"][data-mine="true"]')
        expect(mine).to_have_count(2)
        expect(mine.nth(0).get_by_test_id("message-text")).to_have_text("for you")
        expect(mine.nth(1).get_by_test_id("message-text")).to_have_text("the lake")
        expect(page.get_by_test_id("upload")).to_have_count(0)  # nothing refused was uploaded
        expect(page.get_by_test_id("composer-input")).to_have_value("")  # the box's text went as the caption
        expect(page.get_by_test_id("composer-input")).to_be_focused()
        page.wait_for_function("() => window.__objectUrls.size === 0")  # every preview given back
        page.screenshot(path=f"/tmp/heartlink-tray-sent-{viewport['width']}.png")
        other.disconnect()
        watched.assert_clean()


@VIEWPORTS
def test_escape_discards_the_tray_the_focus_stays_inside_and_at_most_ten_go_at_once(server, open_page, viewport):
    with server_log_on_failure(server):
        watched, page, other, _room_id = _linked(server, open_page, "te", viewport)
        page.get_by_test_id("composer-input").fill("not yet")
        page.get_by_test_id("attach-input").set_input_files(files=[_picture(f"p{n}.png", (32, 32)) for n in range(12)])
        tray = page.get_by_test_id("media-tray")
        expect(tray.get_by_test_id("tray-item")).to_have_count(10)
        expect(tray.get_by_test_id("tray-notice")).to_have_text("At most 10 at once. Not added: 2.")
        # "Add more" while full: nothing more comes in, and the tray says why.
        page.get_by_test_id("attach-input").set_input_files(files=[_picture("more.png", (32, 32))])
        expect(tray.get_by_test_id("tray-item")).to_have_count(10)
        expect(tray.get_by_test_id("tray-notice")).to_have_text("At most 10 at once. Not added: 1.")

        # Tab goes round inside the dialog; the thumbnails are buttons on the way.
        seen = set()
        for _ in range(30):
            page.keyboard.press("Tab")
            assert page.evaluate("() => document.activeElement.closest('[data-testid=media-tray]') !== null")
            seen.add(focused(page))
        assert {"tray-cancel", "tray-caption", "tray-thumb", "tray-remove", "tray-add", "tray-send"} <= seen

        page.keyboard.press("Escape")
        expect(tray).to_be_hidden()
        expect(page.get_by_test_id("composer-input")).to_have_value("not yet")  # the text stays to be sent
        expect(page.get_by_test_id("composer-input")).to_be_focused()
        expect(page.get_by_test_id("upload")).to_have_count(0)
        expect(page.get_by_test_id("message")).to_have_count(0)
        page.wait_for_function("() => window.__objectUrls.size === 0")

        # Cancel, and removing the last one, discard too.
        page.get_by_test_id("attach-input").set_input_files(files=[_picture("one.png", (32, 32))])
        tray.get_by_test_id("tray-cancel").click()
        expect(tray).to_be_hidden()
        page.get_by_test_id("attach-input").set_input_files(files=[
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"some notes"}])
        expect(tray.get_by_test_id("tray-file")).to_contain_text("notes.txt")
        tray.get_by_test_id("tray-remove").click()
        expect(tray).to_be_hidden()
        expect(page.get_by_test_id("message")).to_have_count(0)
        other.disconnect()
        watched.assert_clean()


@VIEWPORTS
def test_a_caption_the_rules_refuse_keeps_its_picture_from_the_partner_and_the_others_go(server, open_page, viewport):
    with server_log_on_failure(server):
        watched, page, other, _room_id = _linked(server, open_page, "tf", viewport)
        page.get_by_test_id("attach-input").set_input_files(files=[_picture("one.png"), _picture("two.png")])
        tray = page.get_by_test_id("media-tray")
        tray.get_by_test_id("tray-caption").fill("so bad")
        _item(tray, "two.png").get_by_test_id("tray-thumb").click()
        tray.get_by_test_id("tray-caption").fill("so good")
        tray.get_by_test_id("tray-send").click()
        heard = other.wait_for("message:new")["message"]
        assert [heard["attachment"]["filename"], heard["text"]] == ["two.png", "so good"]
        refused = page.locator('[data-testid="message"][data-state="failed"]')
        expect(refused.get_by_test_id("message-failure")).to_have_attribute("data-refusal", "term")
        expect(refused.get_by_test_id("message-failure")).to_contain_text("Not sent")
        expect(refused.get_by_test_id("message-text")).to_have_text("so bad")
        expect(page.locator('[data-testid="message"][data-mine="true"]')).to_have_count(2)
        page.screenshot(path=f"/tmp/heartlink-tray-refused-caption-{viewport['width']}.png")
        assert other.drain("message:new") == []  # the refused one never reached the partner
        other.disconnect()
        watched.assert_clean()


_DROP_AND_PASTE = """([kind, names]) => {
  const files = new DataTransfer();
  for (const name of names) files.items.add(new File(["some words in " + name], name, { type: "text/plain" }));
  if (kind === "drop") {
    const chat = document.querySelector('[data-testid="chat"]');
    for (const type of ["dragenter", "dragover", "drop"]) {
      chat.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: files }));
    }
  } else {
    const paste = new ClipboardEvent("paste", { bubbles: true, cancelable: true, clipboardData: files });
    document.activeElement.dispatchEvent(paste);
  }
}"""


@VIEWPORTS
def test_dropped_and_pasted_files_join_the_tray_and_a_failed_upload_is_retried(server, open_page, viewport):
    with server_log_on_failure(server):
        watched, page, other, room_id = _linked(server, open_page, "td", viewport)
        page.evaluate(_DROP_AND_PASTE, ["drop", ["one.txt", "two.txt"]])
        tray = page.get_by_test_id("media-tray")
        expect(tray.get_by_test_id("tray-item")).to_have_count(2)
        expect(tray.get_by_test_id("tray-caption")).to_be_focused()
        page.evaluate(_DROP_AND_PASTE, ["paste", ["three.txt"]])  # pasted into the caption: one more
        expect(tray.get_by_test_id("tray-item")).to_have_count(3)
        expect(tray.get_by_test_id("tray-title")).to_have_text("three.txt")

        # The first upload is cut off: its line says so, the others go, and Retry sends it after them.
        cut = []

        def cut_the_first(route):
            if cut:
                route.continue_()
            else:
                cut.append(route.request.url)
                route.abort("connectionreset")

        uploads = f"**/api/rooms/{room_id}/attachments"
        page.route(uploads, cut_the_first)
        with page.expect_console_message(lambda message: "ERR_CONNECTION_RESET" in message.text) as reported:
            tray.get_by_test_id("tray-send").click()
        watched.problems.remove(f"console: {reported.value.text}")  # the cut made here, not a fault
        failed = page.get_by_test_id("upload").filter(has=page.get_by_test_id("upload-error"))
        expect(failed).to_contain_text("one.txt")
        # A routed request waits for its handler, which runs only while this thread is in a Playwright call:
        # wait here until every upload has been through it (a done upload's line goes), and unroute before
        # Retry, so the partner's waits below never hold a request back.
        expect(page.get_by_test_id("upload")).to_have_count(1)
        page.unroute(uploads)
        names = [other.wait_for("message:new")["message"]["attachment"]["filename"] for _ in range(2)]
        assert names == ["two.txt", "three.txt"]
        failed.get_by_test_id("upload-retry").click()
        expect(page.get_by_test_id("upload")).to_have_count(0)
        assert other.wait_for("message:new")["message"]["attachment"]["filename"] == "one.txt"

        # Refused by the server for what the file is: its reason, and no Retry (it would be refused again).
        def refuse(route):
            route.fulfill(status=400, content_type="application/json",
                          body='{"error": {"code": "bad_request", "message": "That file cannot be sent."}}')

        page.route(uploads, refuse)
        page.evaluate(_DROP_AND_PASTE, ["drop", ["four.txt"]])
        with page.expect_console_message(lambda message: "status of 400" in message.text) as reported:
            tray.get_by_test_id("tray-send").click()
        watched.problems.remove(f"console: {reported.value.text}")
        expect(page.get_by_test_id("upload-error")).to_have_text("That file cannot be sent.")
        expect(page.get_by_test_id("upload-retry")).to_have_count(0)
        page.get_by_test_id("upload-cancel").click()  # Dismiss
        expect(page.get_by_test_id("upload")).to_have_count(0)
        page.unroute(uploads)
        page.screenshot(path=f"/tmp/heartlink-tray-retried-{viewport['width']}.png")
        other.disconnect()
        watched.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_open_tray_passesaxe_clean(server, open_page, scheme):
    with server_log_on_failure(server):
        watched, page, other, _room_id = _linked(server, open_page, "ta" + scheme[0], DESKTOP, color_scheme=scheme)
        clip = webm_opus(1000, codec=b"V_VP8", video_size=(320, 180))
        page.get_by_test_id("attach-input").set_input_files(files=[
            _picture("a.png"), {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"some notes"},
            {"name": "clip.webm", "mimeType": "video/webm", "buffer": clip},
            {"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"x" * (FILE_MAX + 1)}])
        tray = page.get_by_test_id("media-tray")
        expect(tray.get_by_test_id("tray-item")).to_have_count(4)
        axe_clean(page, f"tray ({scheme})")
        _item(tray, "notes.txt").get_by_test_id("tray-thumb").click()  # a file: its card
        expect(tray.get_by_test_id("tray-file")).to_contain_text("notes.txt")
        _item(tray, "clip.webm").get_by_test_id("tray-thumb").click()  # a clip: a player
        expect(tray.get_by_test_id("tray-video")).to_have_attribute("controls", "")
        axe_clean(page, f"tray with a clip ({scheme})")
        page.screenshot(path=f"/tmp/heartlink-tray-{scheme}-1280.png")
        page.set_viewport_size(PHONE)
        _item(tray, "big.bin").get_by_test_id("tray-thumb").click()
        axe_clean(page, f"tray at 360 px ({scheme})")
        page.screenshot(path=f"/tmp/heartlink-tray-{scheme}-360.png")
        other.disconnect()
        watched.assert_clean()


def test_the_tray_speaks_chinese(server, open_page):
    with server_log_on_failure(server):
        watched, page, other, _room_id = _linked(server, open_page, "tz", PHONE, locale="zh-CN")
        too_big = {"name": "x.bin", "mimeType": "application/octet-stream", "buffer": b"x" * (FILE_MAX + 1)}
        page.get_by_test_id("composer-input").fill("你好")
        page.get_by_test_id("attach-input").set_input_files(
            files=[too_big] + [_picture(f"p{n}.png", (32, 32)) for n in range(11)])
        tray = page.get_by_test_id("media-tray")
        expect(tray.get_by_test_id("tray-refused")).to_contain_text("x.bin 太大：最多")
        expect(tray.get_by_test_id("tray-notice")).to_have_text("一次最多 10 个。未加入：2 个。")
        expect(tray.get_by_test_id("tray-caption")).to_have_attribute("placeholder", "添加说明")
        expect(tray.get_by_test_id("tray-send")).to_have_attribute("aria-label", "发送 9 个")
        expect(tray.get_by_test_id("tray-thumb").first).to_have_attribute("aria-label", "x.bin：无法发送")
        expect(tray.get_by_test_id("tray-remove").nth(1)).to_have_attribute("aria-label", "移除 p0.png")
        expect(tray.get_by_test_id("tray-cancel")).to_have_attribute("aria-label", "取消")
        expect(tray.get_by_test_id("tray-add")).to_have_attribute("aria-label", "添加更多")
        page.screenshot(path="/tmp/heartlink-tray-zh-360.png")
        # The box's text is the caption of the first one that can go, not of the refused one.
        expect(tray.get_by_test_id("tray-caption")).to_have_value("")
        _item(tray, "p0.png").get_by_test_id("tray-thumb").click()
        expect(tray.get_by_test_id("tray-caption")).to_have_value("你好")
        other.disconnect()
        watched.assert_clean()

"""The browser: the emoji picker draws its emoji, and its category tabs, with the bubbles' bundled colour
emoji font (static/css/emoji-font.css), so it shows colour emoji on a system without a colour emoji font
(this machine has none: `fc-list | grep -i emoji` is empty)."""
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from browser_plugin import server_log_on_failure, sign_in
from support import fresh_names

BUNDLED = "Heart Link Emoji"


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _coloured_share(png_bytes):
    """The share of pixels with a clear colour (not white, grey or black): an empty box has none."""
    data = Image.open(io.BytesIO(png_bytes)).convert("RGB").tobytes()
    pixels = [data[index:index + 3] for index in range(0, len(data), 3)]
    return sum(1 for pixel in pixels if max(pixel) - min(pixel) > 60) / len(pixels)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 360, "height": 740}],
                         ids=["1280", "360"])
def test_the_picker_and_its_tabs_draw_emoji_with_the_bundled_colour_font(server, open_page, viewport):
    me, partner = fresh_names("em" + str(viewport["width"]))
    with server_log_on_failure(server):
        server.make_user(me, "Alice Liddell")
        server.make_user(partner, "Bob Builder")
        watched = open_page(viewport=viewport)
        page = sign_in(watched, server, me)
        other = server.connect(partner)
        assert other.ask("match:start")["state"] == "waiting"
        page.get_by_test_id("find-link").click()
        other.wait_for("match:found")
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")

        page.get_by_test_id("composer-emoji").click()
        picker = page.get_by_test_id("emoji-picker")
        first_emoji = picker.locator('[role="tabpanel"] [role="menuitem"]').first
        first_tab = picker.locator('[role="tab"] .nav-emoji').first
        expect(first_emoji).to_be_visible()
        expect(first_tab).to_be_visible()
        for element in (first_emoji, first_tab):
            family = element.evaluate("element => getComputedStyle(element).fontFamily")
            assert family.startswith(f'"{BUNDLED}"'), family
        statuses = page.evaluate("""async (family) => {
          await document.fonts.ready;
          const faces = [...document.fonts].filter((face) => face.family.replace(/"/g, "") === family);
          return faces.map((face) => face.status);
        }""", BUNDLED)
        assert statuses == ["loaded"], statuses
        # What is drawn is a colour picture, not an empty box.
        for element in (first_emoji, first_tab):
            share = _coloured_share(element.screenshot())
            assert share > 0.05, share
        page.screenshot(path=f"/tmp/heartlink-emoji-picker-{viewport['width']}.png")
        other.disconnect()
        watched.assert_clean()

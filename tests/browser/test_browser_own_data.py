"""The browser: "Download my data" and "Delete my account" in Settings (GET /api/me/export, DELETE /api/me),
and how the two look at 360 and 1280 px in English and Chinese."""
import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from config import BASE_DIR

from browser_plugin import link_with_socket_partner, say, server_log_on_failure, sign_in, type_and_send
from support import PASSWORD, fresh_names

SCREENSHOTS = BASE_DIR / "test-results" / "screenshots"


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def test_download_my_data_gives_the_zip_of_what_the_person_sees(server, open_page, tmp_path):
    me, partner = fresh_names("ex")
    with server_log_on_failure(server):
        watched = open_page(accept_downloads=True)
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        say(other, room_id, "hello from the partner")
        type_and_send(page, "my own words")
        other.wait_for("message:new", lambda data: data["message"]["text"] == "my own words")
        page.get_by_test_id("settings-link").click()
        with page.expect_download() as download:
            page.get_by_test_id("export-link").click()
        saved = Path(tmp_path / "export.zip")
        download.value.save_as(saved)
        assert re.fullmatch(rf"heartlink-{me}-\d{{4}}-\d\d-\d\d\.zip", download.value.suggested_filename)
        with zipfile.ZipFile(saved) as archive:
            assert json.loads(archive.read("account.json"))["account"]["username"] == me
            (link,) = json.loads(archive.read("links.json"))
        assert link["id"] == room_id
        assert [m["text"] for m in link["messages"]] == ["hello from the partner", "my own words"]
        watched.assert_clean()


def test_delete_my_account_asks_first_then_signs_out_and_the_partner_sees_deleted_account(server, open_page):
    me, partner = fresh_names("del")
    with server_log_on_failure(server):
        watched = open_page()
        page, other, _token, room_id = link_with_socket_partner(server, watched, me, partner)
        type_and_send(page, "soon gone")
        other.wait_for("message:new", lambda data: data["message"]["text"] == "soon gone")
        page.get_by_test_id("settings-link").click()

        page.get_by_test_id("delete-account").click()  # no password yet: said so, nothing asked
        expect(page.get_by_test_id("delete-status")).to_have_text("Enter your password to delete your account.")
        page.get_by_test_id("delete-password").fill("not my password")
        page.get_by_test_id("delete-account").click()
        dialog = page.get_by_test_id("confirm-dialog")
        expect(dialog).to_be_visible()
        expect(page.get_by_test_id("confirm-title")).to_have_text("Delete your account for good?")
        expect(page.get_by_test_id("confirm-text")).to_contain_text("“Deleted account”")
        expect(page.get_by_test_id("confirm-text")).to_contain_text("reserved for 30 days")
        page.get_by_test_id("confirm-cancel").click()
        expect(dialog).to_be_hidden()
        page.get_by_test_id("delete-account").click()
        page.get_by_test_id("confirm-ok").click()
        expect(page.get_by_test_id("delete-status")).to_have_text("Your password is not right.")

        page.get_by_test_id("delete-password").fill(PASSWORD)
        page.get_by_test_id("delete-account").click()
        page.get_by_test_id("confirm-ok").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        gone = other.wait_for("user:updated", lambda data: data["user"].get("deleted"))
        assert gone["user"]["display_name"] == "Deleted account"
        tombstone = other.wait_for("message:updated")["message"]
        assert tombstone["deleted"] and tombstone["text"] is None
        page.goto(server.url + "/")
        expect(page).to_have_url(re.compile(r"/login"))  # every sign-in ended


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_data_section_at_both_widths(server, open_page, locale):
    (me,) = fresh_names("shot")[:1]
    server.make_user(me, "Alice Liddell")
    with server_log_on_failure(server):
        for width, height in ((1280, 800), (360, 740)):
            watched = open_page(locale=locale, viewport={"width": width, "height": height})
            page = sign_in(watched, server, me)
            page.get_by_test_id("settings-link").click()
            section = page.get_by_test_id("delete-section")
            section.scroll_into_view_if_needed()
            expect(page.get_by_test_id("export-link")).to_be_visible()
            expect(page.get_by_test_id("delete-account")).to_be_visible()
            if locale == "zh-CN":
                expect(page.get_by_test_id("export-link")).to_have_text("下载我的数据")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"settings-your-data-{locale}-{width}.png"))
            page.get_by_test_id("delete-password").fill("x")
            page.get_by_test_id("delete-account").click()
            expect(page.get_by_test_id("confirm-dialog")).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / f"settings-delete-confirm-{locale}-{width}.png"))
            page.get_by_test_id("confirm-cancel").click()
            watched.assert_clean()

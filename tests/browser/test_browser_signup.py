"""Signing up in Chromium: the sign-up challenge's widget (ALTCHA, served by the app) solves its
challenge by itself, so a person only fills the form and presses the button, with the mouse or the
keyboard, in English or Chinese; and the date-of-birth question an existing account is asked once.
Screenshots of both pages at 360 and 1280 px land in test-results/screenshots/."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from config import BASE_DIR
from heartlink.domain import accounts, age
from heartlink.extensions import db
from heartlink.models import User, utcnow

from browser_plugin import server_log_on_failure, sign_in, tab_to
from support import ADULT, PASSWORD, fresh_names

SCREENSHOTS = BASE_DIR / "test-results" / "screenshots"
ZH = {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}}
WIDTHS = {360: {"width": 360, "height": 740}, 1280: {"width": 1280, "height": 800}}


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _checked(page):
    """The widget has solved its challenge: the form now carries the solution."""
    expect(page.locator("altcha-widget [data-state]").first).to_have_attribute("data-state", "verified")
    expect(page.locator('input[name="altcha"]')).not_to_have_value("")


def _fill(page, username):
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("birth_date").fill(ADULT)


@pytest.mark.parametrize("width", [1280, 360])
def test_a_person_signs_up_by_filling_the_form_and_pressing_the_button(server, open_page, width):
    me, _ = fresh_names("su")
    with server_log_on_failure(server):
        watched = open_page(viewport=WIDTHS[width])
        page = watched.page
        page.goto(server.url + "/register")
        _fill(page, me)
        # Pressed at once, whether the widget has finished or not: the form waits for it.
        page.get_by_test_id("register-submit").click()
        expect(page).to_have_url(server.url + "/")
        expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        watched.assert_clean()  # the widget and its worker within the CSP
    with server.app.app_context():
        assert accounts.find_user(me).birth_date.isoformat() == ADULT


def test_the_widget_speaks_chinese(server, open_page):
    with server_log_on_failure(server):
        watched = open_page(viewport=WIDTHS[1280], **ZH)
        page = watched.page
        page.goto(server.url + "/register")
        _checked(page)
        expect(page.get_by_test_id("signup-check")).to_contain_text("已验证：你是真人")
        watched.assert_clean()


def test_the_form_goes_with_the_keyboard_alone(server, open_page):
    me, _ = fresh_names("kb")
    with server_log_on_failure(server):
        watched = open_page(viewport=WIDTHS[1280], locale="en-US")
        page = watched.page
        page.goto(server.url + "/register")
        expect(page.get_by_test_id("username")).to_be_focused()
        page.keyboard.type(me)
        for _ in range(2):  # the display name (left empty), the password
            page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Tab")
        expect(page.get_by_test_id("birth_date")).to_be_focused()
        page.keyboard.type("04011990")  # month, day, year: each part moves on to the next when full
        checkbox = page.locator("altcha-widget input[type=checkbox]")
        tab_to(page, checkbox)  # the widget's own checkbox comes after the date, then the button
        expect(checkbox).to_be_checked()
        page.keyboard.press("Tab")
        expect(page.get_by_test_id("register-submit")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(server.url + "/")
        watched.assert_clean()
    with server.app.app_context():
        assert accounts.find_user(me).birth_date.isoformat() == ADULT


def test_someone_under_the_age_is_told_why_and_signed_up_nowhere(server, open_page):
    me, _ = fresh_names("yo")
    with server_log_on_failure(server):
        page = open_page(viewport=WIDTHS[1280]).page
        page.goto(server.url + "/register")
        _fill(page, me)
        young = age.birthday(utcnow().date(), -18) + timedelta(days=1)
        page.get_by_test_id("birth_date").fill(young.isoformat())
        page.get_by_test_id("register-submit").click()
        expect(page.get_by_test_id("error-birth_date")).to_have_text(
            "You must be at least 18 years old to use Heart Link.")
        _checked(page)  # a fresh check for the next try
    with server.app.app_context():
        assert accounts.find_user(me) is None


@pytest.mark.parametrize(("language", "width"), [("en", 1280), ("en", 360), ("zh", 1280), ("zh", 360)])
def test_the_sign_up_page_in_screenshots(server, open_page, language, width):
    with server_log_on_failure(server):
        watched = open_page(viewport=WIDTHS[width], **(ZH if language == "zh" else {}))
        page = watched.page
        page.goto(server.url + "/register")
        _checked(page)
        _screenshot(page, f"register-{language}-{width}")
        watched.assert_clean()


@pytest.mark.parametrize(("language", "width"), [("en", 1280), ("zh", 360)])
def test_an_existing_account_answers_the_question_once_and_reaches_the_lobby(server, open_page, language, width):
    me, _ = fresh_names("ex")
    with server.app.app_context():
        accounts.create_user(me, PASSWORD)  # made before the rule: no date, no operator's word
    with server_log_on_failure(server):
        watched = open_page(viewport=WIDTHS[width], **(ZH if language == "zh" else {}))
        page = watched.page
        page.goto(server.url + "/login")
        page.get_by_test_id("username").fill(me)
        page.get_by_test_id("password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page).to_have_url(server.url + "/birth-date")
        _screenshot(page, f"birth-date-{language}-{width}")
        page.goto(server.url + "/")  # the lobby sends them back to the question
        expect(page.get_by_test_id("birth-date-form")).to_be_visible()
        page.get_by_test_id("birth_date").fill(ADULT)
        page.get_by_test_id("birth-date-submit").click()
        expect(page).to_have_url(server.url + "/")
        expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        watched.assert_clean()


def test_a_page_opened_before_the_question_goes_to_it_when_the_person_looks_for_a_link(server, open_page):
    """A lobby already open when its account came to need a date of birth (the rule arrived with a
    deploy): match:start is refused `forbidden` with `needs: "birth_date"`, and the page goes to the question."""
    me, _ = fresh_names("op")
    with server.app.app_context():
        user = accounts.create_user(me, PASSWORD, vouched=True)
    with server_log_on_failure(server):
        watched = open_page(viewport=WIDTHS[1280])
        page = sign_in(watched, server, me)
        with server.app.app_context():
            db.session.execute(update(User).where(User.id == user.id).values(birth_vouched=False))
            db.session.commit()
        page.get_by_test_id("find-link").click()
        expect(page).to_have_url(server.url + "/birth-date?next=/")
        expect(page.get_by_test_id("birth-date-form")).to_be_visible()

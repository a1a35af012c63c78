"""The browser, for trust and safety: a moderator works the queue in the console (a report arrives
live, the evidence with its picture, the record with a refusal by the protections, a suspension with a
note), the suspended person is told why and until when, appeals from the sign-in page (once), is restored
and signs in again; a warning the person sees live and on every load until they acknowledge it; two
consoles, and a moderator who no longer is; the console and the log on a phone; both languages; axe.
Screenshots go to test-results/screenshots/ and /tmp/console-shots/."""
import re
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from config import BASE_DIR
from heartlink.domain import links, moderation

from browser_plugin import (
    axe_clean,
    bubble,
    link_with_socket_partner,
    say_with_upload,
    server_log_on_failure,
    sign_in,
    tab_to,
    type_and_send,
)
from media_samples import png
from support import PASSWORD, fresh_names

SHOTS = [BASE_DIR / "test-results" / "screenshots", Path("/tmp/console-shots")]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
# Chinese in the dark theme: both themes of the console get their axe check too.
LANGUAGES = {
    "en": {},
    "zh": {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}, "color_scheme": "dark"},
}
# The words each language's page shows, where a test reads them.
WORDS = {
    "en": {"suspended": "Your account is suspended", "until": "Until ", "sent": "Your appeal was sent on",
           "waiting": "A moderator will read your appeal", "warning": "A warning from the moderators"},
    "zh": {"suspended": "你的账号已被暂停", "until": "截止到 ", "sent": "你的申诉已于",
           "waiting": "管理员会阅读你的申诉", "warning": "来自管理员的警告"},
}

NOTE = "Insults and an unwanted picture, reported with evidence."  # the moderator's, in the log
TOLD = "You insulted your partner and sent an unwanted picture."  # what the person is told
APOLOGY = "I was angry, and I am sorry. It will not happen again."
WARNING = "Never ask people you meet here for their address."


@pytest.fixture(scope="module")
def server(module_server):
    return module_server


def _moderator(server, username, display_name):
    user_id = server.make_user(username, display_name)
    with server.app.app_context():
        moderation.set_moderator(user_id, True, moderation.CLI, "A moderator for the test.")
    return user_id


def _report(server, token, room_id, reason):
    """The reporter files a report through the API, as the page's report dialog does."""
    answer = requests.post(f"{server.url}/api/reports", headers={"Authorization": f"Bearer {token}"},
                           json={"room_id": room_id, "reason": reason}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _shot(page, name):
    """The whole page, from its top."""
    page.evaluate("window.scrollTo(0, 0)")
    for folder in SHOTS:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page, label):
    """Nothing wider than the screen: the page never scrolls sideways."""
    wider = page.evaluate("""() => {
      const width = document.documentElement.clientWidth;
      return [document.documentElement.scrollWidth - width,
              [...document.querySelectorAll("body *")].filter((el) => el.getClientRects().length
                && el.getBoundingClientRect().right > width + 1).slice(0, 5).map((el) => el.outerHTML.slice(0, 120))];
    }""")
    assert wider[0] <= 0 and wider[1] == [], f"{label}: {wider}"


_LATIN_WORDS = re.compile(r"[A-Za-z]{3,}")


def _untranslated(page, allowed):
    """Visible text and labels with English words in them, apart from names people chose and their words."""
    texts = page.evaluate("""() => {
      const THEIRS = "script, style, [hidden], .card__quote, .evidence__text, .history__note, .card__name, "
        + ".restricted__reason, .standing-dialog__quote, .log__note, .log__who, .history__who, input, textarea";
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const element = walker.currentNode.parentElement;
        if (!element || !walker.currentNode.textContent.trim() || element.closest(THEIRS)) continue;
        if (!element.getClientRects().length) continue;
        out.push(walker.currentNode.textContent.trim());
      }
      for (const element of document.querySelectorAll("[placeholder], [aria-label], [title], img[alt]")) {
        if (!element.getClientRects().length || element.closest("[hidden]")) continue;
        for (const name of ["placeholder", "aria-label", "title", "alt"]) {
          if (element.getAttribute(name)) out.push(element.getAttribute(name));
        }
      }
      return out;
    }""")
    allowed = {*allowed, "UTC", "GMT"}  # a time zone's name, as the browser writes it
    return [text for text in texts if any(word not in allowed for word in _LATIN_WORDS.findall(text))]


def _clean_but(watched, *statuses):
    """No console error, uncaught exception or CSP violation, except the browser's own line for
    answers the test asked for (a sign-in refused with 403, a decision refused with 404)."""
    expected = [f"status of {status}" for status in statuses]
    watched.assert_clean(allowed=lambda problem: problem.startswith("console: Failed to load resource")
                         and any(status in problem for status in expected))


def _report_card(page, username):
    return page.get_by_test_id("report").filter(has=page.get_by_test_id("report-name").get_by_text(f"@{username}"))


# --- the whole loop -------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_moderator_suspends_from_the_live_queue_and_restores_after_the_appeal(server, open_page, language):
    words = WORDS[language]
    mod_name, offender = fresh_names("mq" + language)
    reporter = f"rp{uuid.uuid4().hex[:8]}"
    _moderator(server, mod_name, "Mia Moderator")
    with server_log_on_failure(server):
        # The moderator opens the console from Settings, as a moderator would.
        mod_tab = open_page(viewport=DESKTOP, **LANGUAGES[language])
        console = sign_in(mod_tab, server, mod_name)
        console.get_by_test_id("settings-link").click()
        console.get_by_test_id("moderation-link").click()
        expect(console).to_have_url(server.url + "/moderation")
        expect(console.get_by_test_id("console")).to_have_attribute("data-connection", "online")
        expect(console.get_by_test_id("reports-count")).not_to_have_text("")
        console.evaluate("window.__sameConsole = true")  # gone if the page ever reloads

        # Another person's link: they write something rude; the partner sends a picture and reports them.
        person_tab = open_page(viewport=DESKTOP, **LANGUAGES[language])
        page, partner, token, room_id = link_with_socket_partner(server, person_tab, offender, reporter,
                                                                 "Rita Reporter")
        type_and_send(page, "You are an idiot.")
        # A new account's link is refused by the protections, and counted in the person's record.
        type_and_send(page, "Come to www.example.com")
        expect(bubble(page, "Come to www.example.com").get_by_test_id("message-failure")).to_have_attribute(
            "data-refusal", "link")
        say_with_upload(server, partner, token, room_id, "image", "unwanted.png", png((160, 120)), "image/png")
        expect(page.get_by_test_id("message")).to_have_count(3)  # the refused one stays, saying why
        report_id = _report(server, token, room_id, "Insults, then a picture I did not want.")

        # It appears in the console by itself.
        card = _report_card(console, offender)
        expect(card).to_have_count(1)
        assert console.evaluate("window.__sameConsole === true")
        expect(card.get_by_test_id("report-reason")).to_have_text("Insults, then a picture I did not want.")
        card.get_by_test_id("report-open").click()
        expect(card.get_by_test_id("report-open")).to_have_attribute("aria-expanded", "true")
        expect(card.get_by_test_id("evidence")).to_contain_text("You are an idiot.")
        picture = card.get_by_test_id("evidence-picture")
        expect(picture).to_have_js_property("complete", True)
        assert picture.evaluate("(img) => img.naturalWidth") > 0
        expect(card.get_by_test_id("record-links")).to_have_text("1")
        expect(card.get_by_test_id("record-24h")).to_have_text("1")
        expect(card.get_by_test_id("record-refused-link")).to_have_text("1")
        expect(card.get_by_test_id("record-refused-term")).to_have_text("0")

        # Suspend for 7 days, with a note (without one, the form says so and nothing happens).
        card.get_by_test_id("action-suspend").check()
        expect(card.get_by_test_id("days-7")).to_be_checked()
        card.get_by_test_id("decide-submit").click()
        expect(card.get_by_test_id("decide-error")).to_be_visible()
        expect(card.get_by_test_id("decide-note")).to_be_focused()
        card.get_by_test_id("decide-note").fill(NOTE)
        card.get_by_test_id("decide-reason").fill(TOLD)
        axe_clean(console, f"console with a report open ({language})")
        if language == "zh":
            assert _untranslated(console, {"Heart", "Link", "Mia", "Moderator", "Alice", "Liddell", "Rita",
                                           "Reporter"}) == []
        _shot(console, f"console-{language}-1280")
        card.get_by_test_id("decide-submit").click()
        expect(card).to_have_count(0)

        # The suspended person's page says why and until when, then sends them to sign in.
        dialog = page.get_by_test_id("restricted-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_test_id("restricted-dialog-title")).to_have_text(words["suspended"])
        expect(dialog.get_by_test_id("restricted-dialog-until")).to_contain_text(words["until"])
        expect(dialog.get_by_test_id("restricted-dialog-reason")).to_have_text(TOLD)
        expect(dialog.get_by_test_id("restricted-continue")).to_be_focused()
        _shot(page, f"restricted-app-{language}-1280")
        dialog.get_by_test_id("restricted-continue").click()
        expect(page).to_have_url(re.compile(re.escape(server.url) + r"/login"))
        panel = page.get_by_test_id("restricted")
        expect(panel.get_by_test_id("restricted-title")).to_have_text(words["suspended"])
        expect(panel.get_by_test_id("restricted-until")).to_contain_text(words["until"])
        expect(panel.get_by_test_id("restricted-reason")).to_have_text(TOLD)
        expect(page.get_by_test_id("appeal-username")).to_have_value(offender)
        expect(page.get_by_test_id("login-form")).to_be_hidden()
        if language == "zh":
            assert _untranslated(page, {"Heart", "Link"}) == [], "the sign-in page of a suspended person"
        _shot(page, f"sign-in-suspended-{language}-1280")
        page.get_by_test_id("appeal-password").fill(PASSWORD)
        page.get_by_test_id("appeal-text").fill(APOLOGY)
        page.get_by_test_id("appeal-submit").click()
        expect(page.get_by_test_id("appeal-sent")).to_contain_text(words["sent"])
        expect(page.get_by_test_id("appeal-form")).to_be_hidden()

        # Back on the sign-in page later, it says it all again, and that the appeal waits for a moderator
        # (no second one is offered); so does signing in.
        page.goto(server.url + "/login")
        expect(panel.get_by_test_id("restricted-title")).to_have_text(words["suspended"])
        expect(page.get_by_test_id("appeal-form")).to_be_hidden()
        expect(page.get_by_test_id("appeal-sent")).to_contain_text(words["waiting"])
        page.get_by_test_id("restricted-sign-in").click()
        expect(page.get_by_test_id("username")).to_be_focused()
        page.get_by_test_id("username").fill(offender)
        page.get_by_test_id("password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(panel.get_by_test_id("restricted-title")).to_have_text(words["suspended"])
        expect(panel.get_by_test_id("restricted-reason")).to_have_text(TOLD)
        expect(page.get_by_test_id("appeal-form")).to_be_hidden()
        expect(page.get_by_test_id("appeal-sent")).to_contain_text(words["waiting"])

        # The moderator sees the appeal (live) and restores the person.
        appeal = console.get_by_test_id("appeal").filter(
            has=console.get_by_test_id("appeal-name").get_by_text(f"@{offender}"))
        expect(appeal).to_have_count(1)
        expect(appeal.get_by_test_id("appeal-text")).to_have_text(APOLOGY)
        # What led to it is one link away: the person's whole audit history.
        record = appeal.get_by_test_id("appeal-log-link").get_attribute("href")
        assert record.endswith(f"/moderation/log?user={offender}")
        appeal.get_by_test_id("appeal-note").fill("A first time, and a sincere apology.")
        appeal.get_by_test_id("appeal-restore").click()
        expect(appeal).to_have_count(0)
        assert console.evaluate("window.__sameConsole === true")

        # Restored: they sign in again.
        page.get_by_test_id("restricted-sign-in").click()
        page.get_by_test_id("username").fill(offender)
        page.get_by_test_id("password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page).to_have_url(server.url + "/")
        expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")

        # The log holds every step, with the moderator's notes.
        console.get_by_test_id("nav-log_page").click()
        console.get_by_test_id("log-user").fill(offender)
        console.get_by_test_id("log-search").click()
        expect(console.get_by_test_id("log-entry")).to_have_count(2)
        expect(console.get_by_test_id("log-note").first).to_have_text("A first time, and a sincere apology.")
        expect(console.get_by_test_id("log-note").last).to_have_text(NOTE)
        expect(console.get_by_test_id("log-told")).to_contain_text(TOLD)  # what the person was told, apart
        if language == "zh":
            assert _untranslated(console, {"Heart", "Link"}) == [], "the log"
        assert report_id
        partner.disconnect()
        mod_tab.assert_clean()
        _clean_but(person_tab, 403)


# --- on a phone: the console, a warning, the log -----------------------------------------------------
def test_on_a_phone_a_moderator_warns_and_the_person_reads_it_live_and_after_every_load_until_acknowledged(
        server, open_page):
    mod_name, person = fresh_names("wp")
    reporter = f"rw{uuid.uuid4().hex[:8]}"
    _moderator(server, mod_name, "Moe Moderator")
    with server_log_on_failure(server):
        mod_tab = open_page(viewport=PHONE, has_touch=True, is_mobile=True)
        sign_in(mod_tab, server, mod_name)
        console = mod_tab.page
        console.goto(server.url + "/moderation")
        expect(console.get_by_test_id("console")).to_have_attribute("data-connection", "online")

        person_tab = open_page(viewport=DESKTOP)
        page, partner, token, room_id = link_with_socket_partner(server, person_tab, person, reporter, "Ray Reporter")
        type_and_send(page, "Send me your address or else.")
        _report(server, token, room_id, "Pushy, asked for my address.")

        card = _report_card(console, person)
        expect(card).to_have_count(1)
        _no_sideways_scroll(console, "the console at 360 px")
        # By keyboard alone: open the card, choose "Warn" and "every report about them", write, send.
        tab_to(console, card.get_by_test_id("report-open"))
        console.keyboard.press("Enter")
        expect(card.get_by_test_id("record-links")).to_have_text("1")
        tab_to(console, card.get_by_test_id("action-dismiss"))
        console.keyboard.press("ArrowRight")
        expect(card.get_by_test_id("action-warn")).to_be_checked()
        console.keyboard.press("Tab")
        expect(card.get_by_test_id("scope-report")).to_be_focused()
        console.keyboard.press("ArrowDown")
        expect(card.get_by_test_id("scope-person")).to_be_checked()
        console.keyboard.press("Tab")
        expect(card.get_by_test_id("decide-note")).to_be_focused()
        console.keyboard.type("Asked a stranger for their address: a first warning.")
        console.keyboard.press("Tab")
        console.keyboard.type(WARNING)
        _no_sideways_scroll(console, "the console at 360 px with a report open")
        axe_clean(console, "the console at 360 px")
        _shot(console, "console-en-360")
        console.keyboard.press("Tab")
        expect(card.get_by_test_id("decide-submit")).to_be_focused()
        console.keyboard.press("Enter")
        expect(card).to_have_count(0)

        # Live: the warning is on the person's page at once.
        warning = page.get_by_test_id("warning-dialog")
        expect(warning).to_be_visible()
        expect(warning.get_by_test_id("warning-reason")).to_have_text(WARNING)
        expect(warning.get_by_test_id("warning-acknowledge")).to_be_focused()
        _shot(page, "warning-en-1280")
        # Escape does not make it go away unread; and it is there again after a reload, with its date.
        page.keyboard.press("Escape")
        expect(warning).to_be_visible()
        page.reload()
        expect(warning).to_be_visible()
        expect(warning.get_by_test_id("warning-when")).to_be_visible()
        warning.get_by_test_id("warning-acknowledge").click()
        expect(warning).to_be_hidden()
        page.reload()
        expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")
        expect(warning).to_be_hidden()

        # The log on a phone: the warning, with the note, and nothing wider than the screen.
        console.get_by_test_id("nav-log_page").click()
        console.get_by_test_id("log-user").fill(person)
        console.get_by_test_id("log-search").click()
        expect(console.get_by_test_id("log-entry")).to_have_count(1)
        expect(console.get_by_test_id("log-note")).to_have_text("Asked a stranger for their address: a first warning.")
        _no_sideways_scroll(console, "the log at 360 px")
        axe_clean(console, "the log at 360 px")
        _shot(console, "log-en-360")
        partner.disconnect()
        mod_tab.assert_clean()
        person_tab.assert_clean()


# --- two consoles, and a moderator who no longer is ---------------------------------------------------
def test_a_moderator_is_told_what_another_console_decided_and_when_they_no_longer_moderate(server, open_page):
    mod_name, other_mod = fresh_names("mt")
    reporter, bob, carol, dave = (f"{name}{uuid.uuid4().hex[:6]}" for name in ("rt", "bt", "ct", "dt"))
    mod_id = _moderator(server, mod_name, "Mia Moderator")
    _moderator(server, other_mod, "Max Moderator")
    reporter_id = server.make_user(reporter)
    reported = {}
    for name in (bob, carol, dave):
        room_id = server.link(reporter_id, server.make_user(name))
        reported[name] = _report(server, server.token(reporter), room_id, f"Insults from {name}.")
        with server.app.app_context():
            links.leave(room_id, reporter_id)  # free to be linked with the next one
    with server_log_on_failure(server):
        watched = open_page(viewport=DESKTOP)
        console = sign_in(watched, server, mod_name)
        console.goto(server.url + "/moderation")
        expect(console.get_by_test_id("console")).to_have_attribute("data-connection", "online")

        # Mia opens the report about bob and starts her note; Max decides it in his console meanwhile.
        bobs = _report_card(console, bob)
        bobs.get_by_test_id("report-open").click()
        bobs.get_by_test_id("decide-note").fill("Looking at it")
        decided = requests.post(f"{server.url}/api/moderation/decisions", timeout=10,
                                headers={"Authorization": f"Bearer {server.token(other_mod)}"},
                                json={"action": "dismiss", "note": "Nothing wrong.", "report_ids": [reported[bob]]})
        assert decided.status_code == 200, decided.text
        expect(bobs).to_have_count(0)
        expect(console.get_by_test_id("reports-notice")).to_be_visible()
        expect(console.get_by_test_id("reports-notice")).to_contain_text("decided in another console")

        # Carol's, with the keyboard: the note says who hears it; after the decision the focus moves on.
        carols = _report_card(console, carol)
        carols.get_by_test_id("report-open").click()
        expect(carols.get_by_test_id("decide-form")).to_contain_text("Kept in the audit log.")
        carols.get_by_test_id("action-warn").check()
        expect(carols.get_by_test_id("decide-form")).to_contain_text("The person is told it too")
        carols.get_by_test_id("decide-note").fill("A rude word, once.")
        carols.get_by_test_id("decide-submit").focus()
        console.keyboard.press("Enter")
        expect(carols).to_have_count(0)
        expect(console.get_by_test_id("report-open").first).to_be_focused()

        # Mia is no longer a moderator (at the command line, where no message queue reaches): her next
        # decision is refused, and the page says why in words, not as an unknown address.
        with server.app.app_context():
            moderation.set_moderator(mod_id, False, moderation.CLI, "No longer a moderator.")
        not_found = []  # the 404s the page is answered from now on: each also logs a line in the console
        console.on("response", lambda response: response.status == 404 and not_found.append(response.url))
        daves = _report_card(console, dave)
        daves.get_by_test_id("report-open").click()
        daves.get_by_test_id("decide-note").fill("Dismissed.")
        daves.get_by_test_id("decide-submit").click()
        expect(daves.get_by_test_id("decide-error")).to_contain_text("You are no longer a moderator")
        def logged():
            return sum("status of 404" in problem for problem in watched.problems)

        for _ in range(200):  # the browser's console lines come a moment after the answers
            if logged() >= len(not_found):
                break
            console.wait_for_timeout(50)
        assert not_found and logged() == len(not_found)
        _clean_but(watched, 404)

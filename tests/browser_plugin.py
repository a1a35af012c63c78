"""Browser fixtures (a pytest plugin, loaded by conftest's `pytest_plugins`): Debian's Chromium
driven by Playwright, pages that record every console error, uncaught exception and
Content-Security-Policy violation, and the steps every browser test shares."""
import json
import os
import re
import uuid
from contextlib import contextmanager

import pytest
import requests
from playwright.sync_api import expect

from config import BASE_DIR

from support import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Deadlines for every expect() and page action: a busy machine is slow, not wrong.
expect.set_options(timeout=30_000)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Runs before any page script; a CSP violation is reported even when the page's own code never runs.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective}: ${event.blockedURI} (${event.sourceFile}:${event.lineNumber})`);
});
"""


def _chromium_or_skip():
    if os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"{CHROMIUM} is missing (install Debian's chromium package: make browser)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests must run in CI: {reason}")
    print(f"skipping browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright():
    """The session's one Playwright (a second sync_playwright() beside it would fail)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright):
    launched = playwright.chromium.launch(executable_path=_chromium_or_skip(), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


class WatchedPage:
    """A page in its own browser context (its own cookies), with what went wrong on it."""

    def __init__(self, context, page):
        self.context = context
        self.page = page
        self.problems = []
        page.on("console", lambda message: message.type == "error" and self.problems.append(
            f"console: {message.text}"))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def csp_violations(self):
        return self.page.evaluate("window.__cspViolations || []")

    def assert_clean(self, allowed=lambda problem: False):
        """No problem but the `allowed` ones. The page is read first: while it answers, console
        lines still on their way arrive, and are judged with the rest."""
        violations = [f"CSP: {violation}" for violation in self.csp_violations()]
        problems = [problem for problem in self.problems if not allowed(problem)] + violations
        assert not problems, "\n".join(problems)


class PageOpener:
    """Opens WatchedPages in a browser, each in its own context; closes them all at the end."""

    def __init__(self, launched, init_scripts=()):
        self._browser = launched
        self._init_scripts = init_scripts
        self._made = []

    def __call__(self, init_scripts=(), **context_options):
        context = self._browser.new_context(**context_options)
        context.set_default_timeout(30_000)  # a deadline: a busy machine is slow, not wrong
        for script in (_WATCH_CSP, *self._init_scripts, *init_scripts):
            context.add_init_script(script)
        watched = WatchedPage(context, context.new_page())
        self._made.append(watched)
        return watched

    def close(self):
        for watched in self._made:
            watched.context.close()


@pytest.fixture
def open_page(browser):
    """open_page(**context_options) -> WatchedPage, closed after the test."""
    opener = PageOpener(browser)
    yield opener
    opener.close()


# Chromium's fake camera and microphone, usable without a permission prompt.
FAKE_MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                   "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="session")
def media_browser(playwright):
    """Chromium with fake media devices."""
    launched = playwright.chromium.launch(executable_path=_chromium_or_skip(), args=CHROMIUM_ARGS + FAKE_MEDIA_ARGS)
    yield launched
    launched.close()


def sign_in(watched, server, username, password=PASSWORD):
    """Sign in through the login form and wait until the page's socket is online."""
    page = watched.page
    page.goto(server.url + "/login")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_test_id("app")).to_have_attribute("data-connection", "online")
    return page


@contextmanager
def server_log_on_failure(server):
    """A browser failure is often explained by the server: show the end of its log with it."""
    try:
        yield
    except Exception as error:
        raise AssertionError(f"{error}\n--- server log ---\n{server.log_path.read_text()[-3000:]}") from error


ROOM_URL = r"/rooms/[0-9a-f-]{36}$"


def link_pages(server, tabs, usernames):
    """Sign each tab in as its person; the first looks for a link, the second finds them.
    Returns the pages, both looking at their new room with the chat ready."""
    pages = [sign_in(tab, server, name) for tab, name in zip(tabs, usernames, strict=True)]
    for page in pages:  # a page in Chinese and one in English meet when both say they speak both
        for code in ("en", "zh"):
            page.get_by_test_id(f"language-{code}").check()
    pages[0].get_by_test_id("find-link").click()
    expect(pages[0].get_by_test_id("waiting")).to_be_visible()
    pages[1].get_by_test_id("find-link").click()
    for page in pages:
        expect(page).to_have_url(re.compile(re.escape(server.url) + ROOM_URL))
        expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
    assert pages[0].url == pages[1].url
    return pages


def bubble(page, text):
    """The message whose text is exactly `text`."""
    return page.get_by_test_id("message").filter(has=page.get_by_test_id("message-text").get_by_text(text, exact=True))


def type_and_send(page, text):
    """Type `text` into the composer and press its send button, as a person does."""
    page.get_by_test_id("composer-input").fill(text)
    page.get_by_test_id("composer-send").click()


def link_with_socket_partner(server, watched, me, partner, partner_name="Nina 🌸"):
    """`me` ("Alice Liddell") signs in in the browser; `partner` is a Socket.IO client; they
    match. Returns (page, partner client, partner token, room id), the page in the new room."""
    server.make_user(me, "Alice Liddell")
    server.make_user(partner, partner_name, joined_days_ago=30)  # here a while: may send links
    page = sign_in(watched, server, me)
    token = server.token(partner)
    other = server.connect(partner, token=token)
    # The partner speaks both of the page's languages, so a page in either meets them.
    assert other.ask("match:start", {"languages": ["en", "zh"]})["state"] == "waiting"
    page.get_by_test_id("find-link").click()
    room_id = other.wait_for("match:found")["room"]["id"]
    expect(page).to_have_url(re.compile(rf"/rooms/{room_id}$"))
    expect(page.get_by_test_id("chat")).to_have_attribute("data-chat-status", "ready")
    return page, other, token, room_id


def say(client, room_id, text=None, kind="text", **extra):
    """A Socket.IO client's message:send; returns the stored message."""
    ack = client.ask("message:send", {"room_id": room_id, "client_id": str(uuid.uuid4()), "kind": kind,
                                       "text": text, **extra})
    assert ack["ok"], ack
    return ack["message"]


def upload_as(server, token, room_id, kind, name, data, mime):
    """An upload with a bearer token; returns the attachment's id."""
    response = requests.post(f"{server.url}/api/rooms/{room_id}/attachments",
                             headers={"Authorization": f"Bearer {token}"},
                             data={"kind": kind}, files={"file": (name, data, mime)}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def say_with_upload(server, client, token, room_id, kind, name, data, mime):
    """A Socket.IO client's message:send carrying a file it uploads first; returns the stored message."""
    return say(client, room_id, kind=kind, attachment_id=upload_as(server, token, room_id, kind, name, data, mime))


def focused(page):
    """The data-testid of the focused element (the host, when the focus is inside a shadow root)."""
    return page.evaluate("() => document.activeElement?.dataset?.testid ?? document.activeElement?.localName")


def tab_to(page, target, backwards=False, limit=60):
    """Press Tab (Shift+Tab `backwards`) until `target`, a data-testid or a locator, has the focus,
    as a keyboard user does; nothing is pressed if it has it already."""
    def reached():
        if isinstance(target, str):
            return focused(page) == target
        return target.evaluate("(element) => element === document.activeElement")

    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if reached():
            return
        page.keyboard.press(key)
    if not reached():
        raise AssertionError(f"{key} never reached {target}; the focus is on {focused(page)}")


AXE = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"


def axe_clean(page, label):
    """axe-core (from npm) on the page as it is: no serious or critical violation."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")  # not a <script>: the CSP stays as it is
    checked, result = page.evaluate("""async () => {
      // label-content-name-mismatch is "experimental" in axe, off unless asked for: a control's name must
      // hold the words it shows (WCAG 2.5.3), so people who speak to their screen can name it.
      const rules = { "label-content-name-mismatch": { enabled: true } };
      const { passes, violations } = await axe.run(document, { rules });
      return [passes.length, violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary) }))];
    }""")
    assert checked > 10, f"{label}: axe checked almost nothing"
    assert result == [], f"{label}: " + json.dumps(result, ensure_ascii=False, indent=1)


def still(page, locator, frames=10):
    """Wait until `locator` has stayed in the same place for `frames` animation frames."""
    page.wait_for_function("""([element, frames]) => new Promise((resolve) => {
      let last = null, same = 0;
      const look = () => {
        const box = element.getBoundingClientRect();
        const here = `${box.x},${box.y},${box.width},${box.height}`;
        same = here === last ? same + 1 : 0;
        last = here;
        if (same >= frames) resolve(true); else requestAnimationFrame(look);
      };
      requestAnimationFrame(look);
    })""", arg=[locator.element_handle(), frames])

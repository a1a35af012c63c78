"""Browser fixtures: Debian's Chromium driven by Playwright, and pages that record
every console error, uncaught exception and Content-Security-Policy violation."""
import os
from contextlib import contextmanager

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Runs before any page script; a CSP violation is reported even when the page's own code never runs.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective}: ${event.blockedURI} (${event.sourceFile}:${event.lineNumber})`);
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


_driver = {"playwright": None, "users": 0}


@contextmanager
def shared_playwright():
    """The process's one Playwright. A second sync_playwright() beside a running one fails ("Sync
    API inside the asyncio loop"), and every test module that imports `browser` gets its own
    session fixture: they share the driver, which stops when the last of them is done."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if _driver["playwright"] is None:
        _driver["playwright"] = sync_api.sync_playwright().start()
    _driver["users"] += 1
    try:
        yield _driver["playwright"]
    finally:
        _driver["users"] -= 1
        if not _driver["users"]:
            _driver["playwright"].stop()
            _driver["playwright"] = None


@pytest.fixture(scope="session")
def browser():
    executable = _chromium_or_skip()
    with shared_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
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

    def assert_clean(self):
        problems = self.problems + [f"CSP: {violation}" for violation in self.csp_violations()]
        assert not problems, "\n".join(problems)


@pytest.fixture
def open_page(browser):
    """open_page(**context_options) -> WatchedPage, closed after the test."""
    made = []

    def open_(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.add_init_script(_WATCH_CSP)
        watched = WatchedPage(context, context.new_page())
        made.append(watched)
        return watched

    yield open_
    for watched in made:
        watched.context.close()

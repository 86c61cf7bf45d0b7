"""Real headless Chromium (Debian's package, driven by Playwright) for the web tests: a page that records
every request, blocks any that would leave 127.0.0.1, and collects script errors and CSP violations."""

import os
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Locator, Page, Route, expect

CHROMIUM = os.environ.get("ILOKG_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Without the background-networking flags Chromium calls Google's services at start.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
]


class GuardedPage:
    """A page whose every request is recorded; any request not to 127.0.0.1 is blocked and remembered."""

    def __init__(self, browser: Browser, width: int = 1400, height: int = 1000):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page: Page = self.context.new_page()
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # The content security policy allows only this server's own scripts; a page that breaks
        # it would lose part of itself in every browser.
        self.csp_violations: list[str] = []
        self.page.on("console", lambda m: self.csp_violations.append(m.text)
                     if m.type == "error" and "Content Security Policy" in m.text else None)

    def _route(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        if urlsplit(url).hostname != "127.0.0.1":
            self.outside.append(url)
            route.abort()
            return
        route.continue_()

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)

    def close(self) -> None:
        self.context.close()


def wait_for_pictures(scope: Page | Locator, count: int) -> None:
    """Wait until the `count` pictures in scope (a page, or a part of it) are all drawn (views.js marks each holder
    when it is done), and check that none failed."""
    holders = scope.locator(".picture-holder")
    expect(holders).to_have_count(count)
    unfinished = scope.locator(".picture-holder:not([data-state=drawn]):not([data-state=failed])")
    expect(unfinished).to_have_count(0, timeout=30_000)
    states = [holders.nth(i).get_attribute("data-state") for i in range(count)]
    assert states == ["drawn"] * count, [holders.nth(i).inner_text() for i in range(count)]

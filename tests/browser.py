"""What the browser tests share: Chromium (Debian's, never a downloaded one), a person's
browser at a given width that photographs each step and holds it to axe-core, and staff who are
already signed in to the admin."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from pathlib import Path
from playwright.sync_api import Browser, Page, sync_playwright

from tests.services import require_chromium

SCREENSHOTS = Path(__file__).parent / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
# The staff pages are used on desktops and on the front desk's smaller screens.
STAFF_WIDTHS = {"desktop": WIDTHS["desktop"], "laptop": {"width": 1024, "height": 768}}
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def browser() -> Browser:
    executable = require_chromium()
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Playwright's sync API keeps an event loop on this thread, which Django takes for an
        # async context and refuses the ORM in. The tests' own queries run between browser
        # calls, never inside the loop, so they are safe.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, settings, demo_clinic) -> str:
    settings.BOOKING_FORM_MIN_SECONDS = 0  # the browser fills the form faster than a person
    settings.BOOKING_SEARCH_RATE = settings.BOOKING_SUBMIT_RATE = settings.BOOKING_HOLD_RATE = "1000/m"
    settings.SITE_URL = live_server.url  # links in pages and messages point at the live server
    cache.clear()  # rate-limit counters
    yield live_server.url
    cache.clear()


class Visitor:
    """One person's browser at one width. `check` photographs the page they are on and runs
    axe-core on it; without JavaScript axe cannot run (its timers never fire), and the same
    pages are checked in the runs with it."""

    def __init__(self, browser: Browser, site: str, scenario: str, width: str, *, javascript: bool = True):
        self.site = site
        self.context = browser.new_context(viewport={**WIDTHS, **STAFF_WIDTHS}[width], locale="en-US", base_url=site,
                                           java_script_enabled=javascript)
        self.context.set_default_timeout(10_000)
        self.page: Page = self.context.new_page()
        # What Chromium reports of the Content-Security-Policy: a blocked style or script (one
        # without the response's nonce) is a page that looks or works other than it was built to.
        self.csp_violations: list[str] = []
        self.page.on("console", self._console)
        self.name = f"{scenario}-{width}"
        self.javascript = javascript
        self.steps = 0

    def _console(self, message) -> None:
        # axe-core, run by `check` through page.evaluate (a script with no address), adds inline
        # styles of its own, which the policy rightly blocks: those are not the page's.
        where = message.location.get("url")
        if "Content Security Policy" in message.text and where:
            self.csp_violations.append(f"{where}:{message.location.get('lineNumber')}: {message.text}")

    def check(self, step: str) -> None:
        self.steps += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{self.name}-{self.steps:02d}-{step}.png", full_page=True)
        assert not self.csp_violations, f"{step}: the Content-Security-Policy blocked:\n" + "\n".join(
            self.csp_violations)
        if not self.javascript:
            return
        violations = [v for v in Axe().run(self.page).response["violations"] if v["impact"] in SERIOUS]
        assert not violations, f"{step} ({self.page.url}):\n" + "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(node["html"] for node in v["nodes"])
            for v in violations)


@pytest.fixture
def visitor(browser, site):
    contexts = []

    def open_browser(scenario: str, width: str, **options) -> Visitor:
        person = Visitor(browser, site, scenario, width, **options)
        contexts.append(person.context)
        return person

    yield open_browser
    for context in contexts:
        context.close()




def sign_in(person: "Visitor", user) -> None:
    """Sign `user` in to the admin in this browser, as if through the login page."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    person.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie.value,
                                 "url": person.site}])

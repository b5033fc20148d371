"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

No browser is downloaded (``playwright install`` cannot reach its servers from here):
``make test`` installs Debian's ``chromium`` first (``make browser``), and these tests fail,
never skip, when it is missing. The live server is pytest-django's ``live_server`` (a thread
of the test process, on the test database); tests that need the pipeline start a real worker
and beat on that database (tests/processes.py). The demo's users and data come from
``manage.py demo``; with ``NOJACKAL_REQUIRE_OTP`` on (as here) the reviewer and the admin
sign in with a TOTP code, as in production.

Every page a test opens is watched: a console error (a CSP violation is one), a failed
request or a 4xx/5xx answer fails the test. Screenshots go to the run's folder
(tests/browser/output.py), printed at the end of the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.admin import otp_required
from tests.browser.output import run_folder
from tests.outreach.conftest import roles  # noqa: F401  (the groups, made again after a flush)

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium dials out (updates, sync, QUIC probes),
# and this closed network refuses those connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "nojackal-demo"  # manage.py demo's default (NOJACKAL_DEMO_PASSWORD)
DEMO_USERS = ("analyst", "reviewer", "admin")
VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def chromium(django_db_setup: None) -> Iterator[Any]:
    """Debian's Chromium under Playwright, one per test module (started after the test
    database is made: Django refuses database work beside Playwright's loop)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. Install it with "
            "`make browser` (apt-get install -y chromium, as root); `make test` does it first.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread; Django would then refuse
    # the plain sync database work the tests and fixtures do between two clicks.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def demo(roles: None, settings: Any) -> None:  # noqa: F811
    """``manage.py demo`` on the test database, with the second factor required of the
    reviewer and the admin (as production should run)."""
    settings.NOJACKAL_REQUIRE_OTP = True
    call_command("demo", cadence=10, stdout=open("/dev/null", "w"))  # noqa: SIM115


@dataclass
class Watched:
    """What went wrong on the pages of one browser context."""

    problems: list[str] = field(default_factory=list)

    def check(self, where: str) -> None:
        found, self.problems[:] = list(self.problems), []
        assert not found, f"{where}:\n" + "\n".join(found)


@dataclass
class Session:
    """One demo user signed in, in a browser context of their own."""

    username: str
    page: Any
    base: str
    watched: Watched
    shots: Callable[[Any, str], Path]

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path)  # returns once the page has loaded
        self.watched.check(f"{self.username} opening {path}")
        return response

    def shot(self, name: str) -> Path:
        return self.shots(self.page, f"{self.username}-{name}")


def _watch(page: Any, watched: Watched) -> None:
    def console(message: Any) -> None:
        if message.type == "error":
            watched.problems.append(f"console error on {page.url}: {message.text}")

    def failed(request: Any) -> None:
        watched.problems.append(f"request failed: {request.url} ({request.failure})")

    def response(answer: Any) -> None:
        if answer.status >= 400:
            watched.problems.append(f"HTTP {answer.status} for {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda exc: watched.problems.append(f"script error: {exc}"))
    page.on("requestfailed", failed)
    page.on("response", response)


def _totp(username: str) -> str:
    """A current code of the user's authenticator, set up as ``manage.py otp_setup`` does."""
    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    # A code is good once; a second sign-in within its 30 s may use it again here.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shots(page, name)``: a full-page screenshot of a step, numbered in the test's folder."""
    folder = run_folder() / re.sub(r"[^\w.-]+", "_", request.node.name)[:120]
    count = [0]

    def save(page: Any, name: str) -> Path:
        count[0] += 1
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{count[0]:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def sign_in(
    chromium: Any, live_server: Any, demo: None, shots: Any
) -> Iterator[Callable[[str], Session]]:
    """``sign_in(username)``: a fresh browser context signed in through the admin's login
    form (with the one-time code when the user needs one)."""
    contexts: list[Any] = []

    def _sign_in(username: str) -> Session:
        context = chromium.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        watched = Watched()
        _watch(page, watched)
        session = Session(username, page, live_server.url, watched, shots)
        session.open("/admin/login/?next=/admin/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        user = get_user_model().objects.get(username=username)
        if otp_required(user):
            page.fill("#id_otp_token", _totp(username))
        with page.expect_navigation():
            page.click("input[type=submit]")
        watched.check(f"{username} signing in")
        assert page.url.rstrip("/").endswith("/admin"), (
            f"{username} did not get in: {page.url}\n{page.inner_text('#content')}"
        )
        return session

    yield _sign_in
    for context in contexts:
        context.close()

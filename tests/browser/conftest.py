"""Browser tier: the real Chromium (Debian's /usr/bin/chromium) driven by Playwright.

`playwright install` cannot download a browser on the project's machines, so Playwright is
pointed at the system binary (`executable_path`). A missing Playwright or Chromium, or a
Chromium that does not start, fails the test: this tier is never skipped.

Screenshots are test artefacts, kept in var/artifacts/screenshots/ (a failed test leaves
`FAILED-<test>.png` there too).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.browser.fake_console_api import FakeConsoleApi, FakeSite

try:
    from playwright.async_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        ViewportSize,
        async_playwright,
    )
    from playwright.async_api import Error as PlaywrightError
except ImportError as exc:  # fail loudly: never skip
    pytest.fail(
        f"tests/browser needs the Python package playwright ({exc}); "
        "install the dev extras: .venv/bin/pip install -e '.[dev]'",
        pytrace=False,
    )

ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = ROOT / "gateway" / "console" / "static"
SCREENSHOTS_DIR = ROOT / "var" / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("LINE19_CHROMIUM", "/usr/bin/chromium"))
# The flags measured on the project's machines (shared/design/FIELD_NOTES.md, "Browser tests").
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
VIEWPORT: ViewportSize = {"width": 1440, "height": 1000}

Screenshot = Callable[[Page, str], Awaitable[Path]]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the test, so that `page` can tell a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS_DIR


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium binary; its absence fails the test (never a skip)."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is required at {CHROMIUM} and is not there; "
            "install it with: bash .ci/system-deps.sh (as root: apt-get install chromium)",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, launched by Playwright with the field-notes flags."""
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(
                executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS, timeout=30_000
            )
        except PlaywrightError as exc:
            pytest.fail(f"Chromium at {chromium} did not start under Playwright: {exc}")
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(
        viewport=VIEWPORT, locale="fr-FR", timezone_id="Africa/Casablanca"
    )
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught JavaScript errors and console errors of the page; a test asserts it is empty."""
    return []


@pytest.fixture
async def page(
    request: pytest.FixtureRequest,
    context: BrowserContext,
    page_errors: list[str],
    screenshots_dir: Path,
) -> AsyncIterator[Page]:
    tab = await context.new_page()
    tab.on("pageerror", lambda exc: page_errors.append(f"pageerror: {exc}"))

    def on_console(msg: ConsoleMessage) -> None:
        # An HTTP error answer is logged by Chromium itself ("Failed to load resource"); the
        # tests provoke some on purpose. Anything else the page logs as an error is a bug.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            page_errors.append(f"console.error: {msg.text}")

    tab.on("console", on_console)
    try:
        yield tab
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed and not tab.is_closed():
            await tab.screenshot(path=screenshots_dir / f"FAILED-{request.node.name}.png")
        await tab.close()


@pytest.fixture
def screenshot(screenshots_dir: Path) -> Screenshot:
    """Saves a full-page screenshot as var/artifacts/screenshots/<name>.png."""

    async def take(tab: Page, name: str) -> Path:
        path = screenshots_dir / f"{name}.png"
        await tab.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.fixture
async def site(aiohttp_server: Any) -> AsyncIterator[FakeSite]:
    """The pages served by the fake API of the page tests (tests/browser/fake_console_api.py)."""
    api = FakeConsoleApi(static_dir=STATIC_DIR)
    server: TestServer = await aiohttp_server(api.app())
    try:
        yield FakeSite(api, server)
    finally:
        api.close()  # lets the SSE handlers end before the server closes

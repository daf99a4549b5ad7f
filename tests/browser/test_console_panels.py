"""The operator console's room panels in the real Chromium, against a FAKE of the API.

`FakeConsoleApi` (tests/browser/fake_console_api.py) answers the room's waiting calls
(GET /api/v1/rooms/{room}/waiting) and callback list (GET /api/v1/callbacks?room=, POST
/api/v1/callbacks/{id}/attempts) from memory; it is not the gateway. Screenshots go to
var/artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.fake_console_api import (
    PASSWORD,
    USER,
    FakeSite,
    sample_callback,
)

pytestmark = pytest.mark.browser

RED = "rgb(255, 59, 48)"  # --red of console.css


async def open_console(page: Page, site: FakeSite) -> None:
    await page.goto(site.url("/login"))
    await page.fill("#username", USER["username"])
    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await page.wait_for_url(site.url("/console"))
    await expect(page.locator("#whoami")).to_contain_text(USER["display_name"])
    await site.api.wait_for_streams(1)
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")


async def test_console_shows_the_rooms_waiting_calls_and_follows_them(
    page: Page, site: FakeSite, screenshot: Screenshot, page_errors: list[str]
) -> None:
    site.api.waiting["rabat"] = [
        {"uniqueid": "1700000000.61", "waited_s": 16.4, "priority": "10"},
        {"uniqueid": "1700000000.62", "waited_s": 4.0, "priority": "5"},
    ]
    site.api.waiting["sale"] = [{"uniqueid": "1700000000.99", "waited_s": 30.0, "priority": "1"}]
    await open_console(page, site)

    panel = page.locator("#waiting")
    await expect(panel).to_be_visible()
    await expect(panel).to_contain_text("salle rabat")
    await expect(page.locator("#waiting-count")).to_have_text("2")
    await expect(panel.locator("[data-uniqueid]")).to_have_count(2)
    long_wait = panel.locator('[data-uniqueid="1700000000.61"]')
    await expect(long_wait.locator(".wait")).to_have_text("16 s")
    await expect(long_wait).to_have_attribute("data-alert", "true")
    await expect(long_wait).to_contain_text("priorité 10")
    assert await long_wait.locator(".wait").evaluate("n => getComputedStyle(n).color") == RED
    short_wait = panel.locator('[data-uniqueid="1700000000.62"]')
    await expect(short_wait.locator(".wait")).to_have_text("4 s")
    await expect(short_wait).to_have_attribute("data-alert", "false")
    await screenshot(page, "console-waiting")

    # polled every 3 s: one call was answered, the other waited on
    site.api.waiting["rabat"] = [{"uniqueid": "1700000000.61", "waited_s": 75.0, "priority": "10"}]
    await expect(page.locator("#waiting-count")).to_have_text("1")
    await expect(long_wait.locator(".wait")).to_have_text("01:15")
    site.api.waiting["rabat"] = []
    await expect(page.locator("#waiting-count")).to_have_text("0")
    await expect(panel).to_contain_text("no call waiting")
    assert set(site.api.waiting_fetches) == {"rabat"}  # the operator's room only

    # A failed read is shown in #error, and cleared when the reads work again.
    site.api.fail_waiting = (503, "queue-unavailable", "Asterisk does not answer")
    error = page.locator("#error")
    await expect(error).to_contain_text("Asterisk does not answer [queue-unavailable]")
    site.api.fail_waiting = None
    await expect(error).to_be_hidden()
    assert page_errors == []


async def test_console_lists_the_rooms_callbacks_and_records_each_attempt(
    page: Page, site: FakeSite, screenshot: Screenshot, page_errors: list[str]
) -> None:
    earlier = {"at": "2026-01-05T08:15:00+00:00", "operator": "op-rabat-2", "outcome": "busy"}
    site.api.callbacks["rabat"] = [
        sample_callback("cb-1", "+212612340001", "silent"),
        sample_callback("cb-2", "+212612340002", "abandoned", attempts=[earlier]),
    ]
    site.api.callbacks["sale"] = [
        sample_callback("cb-9", "+212612340009", "abandoned", room="sale")
    ]
    await open_console(page, site)

    panel = page.locator("#callbacks")
    await expect(panel).to_be_visible()
    await expect(page.locator("#callbacks-count")).to_have_text("2")
    first = panel.locator('[data-callback-id="cb-1"]')
    second = panel.locator('[data-callback-id="cb-2"]')
    await expect(first.locator(".cb-number")).to_have_text("+212612340001")
    await expect(first).to_contain_text("SILENT")
    await expect(first.locator(".flag-red")).to_have_count(1)
    await expect(second).to_contain_text("ABANDONED")
    await expect(second.locator(".cb-attempts li")).to_have_count(1)
    await expect(second.locator(".cb-attempts")).to_contain_text("op-rabat-2")
    await expect(first.locator("button[data-outcome]")).to_have_count(4)
    await screenshot(page, "console-callbacks")

    await first.locator('button[data-outcome="no_answer"]').click()
    await expect(first).to_have_attribute("data-attempts", "1")
    await expect(first.locator(".cb-attempts li")).to_contain_text(USER["endpoint"])
    await expect(first.locator(".cb-attempts li")).to_contain_text("no_answer")
    await expect(first.locator('button[data-outcome="reached"]')).to_be_enabled()

    site.api.fail_next_attempt = (409, "callback-cleared", "Another operator reached this caller")
    await second.locator('button[data-outcome="wrong_number"]').click()
    error = page.locator("#error")
    await expect(error).to_contain_text("Another operator reached this caller [callback-cleared]")
    await expect(second).to_have_attribute("data-attempts", "1")
    await expect(second.locator('button[data-outcome="reached"]')).to_be_enabled()
    await screenshot(page, "console-callback-error")

    await second.locator('button[data-outcome="reached"]').click()
    await expect(error).to_be_hidden()
    await expect(second).to_have_count(0)  # cleared: gone from the list
    await expect(page.locator("#callbacks-count")).to_have_text("1")
    await expect(first).to_be_visible()
    await screenshot(page, "console-callback-reached")

    assert site.api.callback_attempts == [
        ("cb-1", {"outcome": "no_answer"}),
        ("cb-2", {"outcome": "wrong_number"}),
        ("cb-2", {"outcome": "reached"}),
    ]
    assert set(site.api.callback_fetches) == {"rabat"}
    assert page_errors == []


async def test_a_callback_poll_does_not_replace_the_buttons_under_the_pointer(
    page: Page, site: FakeSite, page_errors: list[str]
) -> None:
    site.api.callbacks["rabat"] = [sample_callback("cb-1", "+212612340001", "abandoned")]
    await open_console(page, site)
    button = page.locator('[data-callback-id="cb-1"] button[data-outcome="busy"]')
    await expect(button).to_be_visible()
    await button.evaluate("node => { node.dataset.marker = 'same-node'; }")
    await button.hover()

    # The next poll (every 5 s) brings a second callback; the first one's data is unchanged.
    site.api.callbacks["rabat"].append(sample_callback("cb-2", "+212612340002", "silent"))
    await expect(page.locator('[data-callback-id="cb-2"]')).to_be_visible(timeout=8000)
    await expect(button).to_have_attribute("data-marker", "same-node")
    await expect(page.locator("#callbacks-list > li").first).to_have_attribute(
        "data-callback-id", "cb-1"
    )
    assert page_errors == []

"""The supervisor page in the real Chromium, against a FAKE of the API.

`FakeConsoleApi` (tests/browser/fake_console_api.py) answers GET /api/v1/supervisor/overview
and the SSE stream from memory; it is not the gateway. These tests prove the page: rooms,
operators and service level from the overview, the thresholds in red, the operator rows
kept live by `operator_state` events, the connection badge. Screenshots go to
var/artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.fake_console_api import PASSWORD, SUPERVISOR, FakeSite

pytestmark = pytest.mark.browser

RED = "rgb(255, 59, 48)"  # --red of console.css


async def open_supervisor(page: Page, site: FakeSite) -> None:
    """Signed in as a supervisor (the sign-in page sends them to /supervisor), stream open."""
    await page.goto(site.url("/supervisor"))
    await page.wait_for_url(site.url("/login"))
    await page.fill("#username", SUPERVISOR["username"])
    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await page.wait_for_url(site.url("/supervisor"))
    await expect(page.locator("#whoami")).to_contain_text(SUPERVISOR["display_name"])
    await site.api.wait_for_streams(1)
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    await expect(page.locator("#rooms [data-room]")).to_have_count(2)


async def color(locator: Locator) -> str:
    return str(await locator.evaluate("node => getComputedStyle(node).color"))


def since_pattern(seconds: int) -> re.Pattern[str]:
    """`mm:ss` for `seconds` ago, or up to 7 s later (the time the test itself takes)."""
    texts = (f"{m:02d}:{s:02d}" for m, s in (divmod(seconds + d, 60) for d in range(8)))
    return re.compile("^(?:" + "|".join(texts) + ")$")


async def test_supervisor_page_shows_rooms_operators_service_level_and_carriers(
    page: Page, site: FakeSite, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_supervisor(page, site)
    await expect(page.locator("#generated-at")).to_have_attribute("data-stale", "false")

    rabat = page.locator('#rooms [data-room="rabat"]')
    await expect(rabat).to_contain_text("Rabat")
    await expect(rabat.locator(".waiting")).to_have_text("2")
    await expect(rabat.locator(".longest")).to_have_text("12 s")
    await expect(rabat.locator(".longest")).to_have_attribute("data-alert", "false")
    assert await color(rabat.locator(".longest")) != RED
    await expect(rabat.locator('[data-state="in_call"]')).to_have_attribute("data-count", "2")
    await expect(rabat.locator('[data-state="ready"]')).to_have_attribute("data-count", "1")
    await expect(rabat.locator(".waiting-call")).to_have_count(2)
    sale = page.locator('#rooms [data-room="sale"]')
    await expect(sale.locator(".waiting")).to_have_text("0")
    await expect(sale.locator(".longest")).to_have_text("—")
    await expect(sale.locator('[data-state="paused"]')).to_have_attribute("data-count", "1")

    rows = page.locator("#operators [data-endpoint]")
    await expect(rows).to_have_count(4)
    busy = page.locator('#operators [data-endpoint="op-rabat-1"]')
    await expect(busy.locator(".state")).to_have_attribute("data-state", "in_call")
    await expect(busy.locator(".state")).to_contain_text("in call")
    await expect(busy.locator(".calls-taken")).to_have_text("4")
    await expect(busy.locator(".talk")).to_have_text("05:20")
    await expect(busy.locator(".since")).to_have_text(since_pattern(95))
    paused = page.locator('#operators [data-endpoint="op-sale-1"]')
    await expect(paused.locator(".state")).to_contain_text("break")
    await expect(paused.locator(".since")).to_have_text(since_pattern(300))
    ticking = await busy.locator(".since").inner_text()
    await expect(busy.locator(".since")).not_to_have_text(ticking, timeout=2500)  # every second

    sl = page.locator("#service-level")
    await expect(sl.locator(".sl15 .sl-value")).to_have_text("85 %")
    await expect(sl.locator(".sl15")).to_contain_text("cible 90 %")
    await expect(sl.locator(".sl15")).to_have_attribute("data-ok", "false")  # 85 < 90
    assert await color(sl.locator(".sl15 .sl-value")) == RED
    await expect(sl.locator(".sl20 .sl-value")).to_have_text("95 %")
    await expect(sl.locator(".sl20")).to_have_attribute("data-ok", "true")  # 95 >= 95
    assert await color(sl.locator(".sl20 .sl-value")) != RED
    await expect(sl.locator(".abandoned .sl-value")).to_have_text("1")
    await expect(sl.locator(".sl-calls .sl-value")).to_have_text("20")

    await expect(page.locator("#carriers tr[data-carrier]")).to_have_count(2)
    maroc = page.locator('#carriers [data-carrier="Maroc Telecom"]')
    await expect(maroc.locator(".calls")).to_have_text("12")
    await expect(maroc.locator(".caller-id")).to_have_text("100 %")
    await expect(maroc.locator(".cell")).to_have_text("50 %")
    await expect(maroc.locator(".pidf")).to_have_text("25 %")
    await expect(maroc.locator(".aml-delay")).to_have_text("14,2 s")
    orange = page.locator('#carriers [data-carrier="Orange Maroc"]')
    await expect(orange.locator(".caller-id")).to_have_text("87,5 %")
    await expect(orange.locator(".pidf")).to_have_text("—")
    await expect(orange.locator(".aml-delay")).to_have_text("—")
    await screenshot(page, "supervisor")
    assert page_errors == []


async def test_longest_wait_turns_red_at_15_s_and_service_level_red_under_target(
    page: Page, site: FakeSite, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_supervisor(page, site)
    rabat = page.locator('#rooms [data-room="rabat"]')
    sl = page.locator("#service-level")
    await expect(rabat.locator(".longest")).to_have_attribute("data-alert", "false")
    await expect(sl.locator(".sl20")).to_have_attribute("data-ok", "true")

    overview = site.api.overview
    overview["rooms"][0].update(waiting=3, longest_wait_s=15.0)
    overview["rooms"][0]["operators"].update(ready=0, in_call=3)
    overview["waiting"] = [
        {"uniqueid": "1700000000.51", "room": "rabat", "waited_s": 15.0, "priority": "5"},
        {"uniqueid": "1700000000.52", "room": "rabat", "waited_s": 5.5, "priority": "1"},
        {"uniqueid": "1700000000.53", "room": "rabat", "waited_s": 0.5, "priority": "1"},
    ]
    overview["service_level"].update(answered_15s_pct=92.0, answered_20s_pct=94.9, abandoned=2)

    # the next poll (every 2 s) brings it
    await expect(rabat.locator(".longest")).to_have_attribute("data-alert", "true")
    await expect(rabat.locator(".longest")).to_have_text("15 s")
    assert await color(rabat.locator(".longest")) == RED
    await expect(rabat.locator(".waiting")).to_have_text("3")
    await expect(rabat.locator('.room-state[data-state="ready"]')).to_contain_class("alert")
    longest_call = rabat.locator('.waiting-call[data-uniqueid="1700000000.51"] .wait')
    await expect(longest_call).to_contain_class("alert")
    await expect(sl.locator(".sl20 .sl-value")).to_have_text("94,9 %")
    await expect(sl.locator(".sl20")).to_have_attribute("data-ok", "false")
    assert await color(sl.locator(".sl20 .sl-value")) == RED
    await expect(sl.locator(".sl15")).to_have_attribute("data-ok", "true")
    assert await color(sl.locator(".sl15 .sl-value")) != RED
    await expect(sl.locator(".abandoned .sl-value")).to_have_text("2")
    await screenshot(page, "supervisor-alert")

    # No call in the window: no percentage, nothing in red, the carriers table says so.
    overview["service_level"].update(
        calls=0, answered_15s_pct=None, answered_20s_pct=None, abandoned=0
    )
    overview["carriers"] = []
    await expect(sl.locator(".sl15 .sl-value")).to_have_text("—")
    await expect(sl.locator(".sl15")).to_have_attribute("data-ok", "")
    await expect(sl.locator(".sl20")).to_have_attribute("data-ok", "")
    await expect(page.locator("#carriers")).to_contain_text("no calls")
    assert page_errors == []


async def test_operator_state_event_updates_the_row_at_once_and_a_stale_overview_does_not_undo_it(
    page: Page, site: FakeSite, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_supervisor(page, site)
    row = page.locator('#operators [data-endpoint="op-rabat-3"]')
    rabat = page.locator('#rooms [data-room="rabat"]')
    await expect(row.locator(".state")).to_have_attribute("data-state", "ready")

    # An overview request is out and answers slowly, with the state of when it was asked.
    site.api.hold_overview_fetches = True
    await site.api.wait_for_held_overview()
    fetches = site.api.overview_fetches

    site.api.push("operator_state", site.api.set_supervised_state("op-rabat-3", "ringing"))
    await expect(row.locator(".state")).to_have_attribute("data-state", "ringing")
    await expect(row.locator(".state")).to_contain_text("ringing")
    await expect(row.locator(".since")).to_have_text(since_pattern(0))
    await expect(rabat.locator('[data-state="ringing"]')).to_have_attribute("data-count", "1")
    await expect(rabat.locator('[data-state="ready"]')).to_have_attribute("data-count", "0")
    assert site.api.overview_fetches == fetches  # the event did it, not a poll
    await screenshot(page, "supervisor-operator-ringing")

    async with page.expect_response("**/api/v1/supervisor/overview") as answer:
        site.api.release_overview_fetches()
    stale = await (await answer.value).json()
    assert next(o for o in stale["operators"] if o["endpoint"] == "op-rabat-3")["state"] == "ready"
    await page.wait_for_timeout(300)  # time for the page to act on the stale answer, if it did
    await expect(row.locator(".state")).to_have_attribute("data-state", "ringing")
    await expect(rabat.locator('[data-state="ready"]')).to_have_attribute("data-count", "0")

    # A pause with its reason, and an operator the last overview did not list yet.
    site.api.push(
        "operator_state", site.api.set_supervised_state("op-rabat-3", "paused", "training")
    )
    await expect(row.locator(".state")).to_contain_text("training")
    site.api.push("operator_state", {"endpoint": "op-rabat-9", "room": "rabat",
                                     "state": "ready", "pause_reason": None,
                                     "since": "2026-01-05T08:00:00+00:00"})  # fmt: skip
    new_row = page.locator('#operators [data-endpoint="op-rabat-9"]')
    await expect(new_row.locator(".state")).to_have_attribute("data-state", "ready")
    await expect(new_row.locator(".calls-taken")).to_have_text("—")
    assert page_errors == []


async def test_supervisor_badge_says_reconnecting_and_a_failed_overview_is_shown_then_cleared(
    page: Page, site: FakeSite, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_supervisor(page, site)
    badge = page.locator("#conn")

    site.api.refuse_streams = True
    site.api.cut_streams()
    await expect(badge).to_have_attribute("data-conn", "reconnecting")
    await expect(badge).to_contain_text("reconnecting")
    site.api.fail_overview = (503, "overview-unavailable", "The statistics are being rebuilt")
    error = page.locator("#error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("The statistics are being rebuilt [overview-unavailable]")
    await screenshot(page, "supervisor-reconnecting")

    # While cut off an operator went unreachable: the reconnect re-reads the overview.
    site.api.set_supervised_state("op-rabat-2", "unreachable")
    site.api.fail_overview = None
    site.api.refuse_streams = False
    await expect(badge).to_have_attribute("data-conn", "open", timeout=15_000)
    await expect(error).to_be_hidden()
    row = page.locator('#operators [data-endpoint="op-rabat-2"]')
    await expect(row.locator(".state")).to_have_attribute("data-state", "unreachable")
    assert page_errors == []

"""The console's dispatch panel in the real Chromium, against a FAKE of the API.

`FakeConsoleApi` (tests/browser/fake_console_api.py) answers POST .../confirm, GET
.../recommendations and POST .../dispatch of an incident, and GET /api/v1/units, from memory;
it is not the gateway. Screenshots go to var/artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.fake_console_api import (
    PASSWORD,
    USER,
    FakeSite,
    sample_call,
    sample_candidate,
    sample_location,
)

pytestmark = pytest.mark.browser

INCIDENT = "inc-0001"
RABAT_AML = sample_location(11, "aml", 33.97150, -6.84980, 150.0)
RABAT_PIDF = sample_location(12, "pidf-lo", 33.97210, -6.85020, 30.0)


async def open_console_with_call(page: Page, site: FakeSite, location: Any = RABAT_AML) -> None:
    await page.goto(site.url("/login"))
    await page.fill("#username", USER["username"])
    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await page.wait_for_url(site.url("/console"))
    await site.api.wait_for_streams(1)
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    site.api.push("screen_pop", {"call": sample_call(best_location=location), "earlier_calls": []})
    await expect(page.locator("#pop")).to_be_visible()
    await expect(page.locator("#dispatch")).to_be_visible()


def rabat_candidates() -> list[dict[str, Any]]:
    return [
        sample_candidate("u-1", "RABAT-11", eta_s=250, distance_m=1240,
                         reason="nearest available, 1.2 km by road"),
        sample_candidate("u-4", "RABAT-22", vehicle="van", eta_s=420, distance_m=2600,
                         reason="second nearest, 2.6 km by road"),
        sample_candidate("u-2", "RABAT-12", vehicle="motorbike", eta_s=180, distance_m=900,
                         fix_age_s=900, stale=True, by_road=False,
                         reason="position 15 min old: straight line"),
    ]  # fmt: skip


async def test_confirm_lists_the_recommended_units_then_dispatch_shows_the_proposal(
    page: Page, site: FakeSite, screenshot: Screenshot, page_errors: list[str]
) -> None:
    site.api.incident_places[INCIDENT] = (33.9715, -6.8498)
    site.api.incident_status[INCIDENT] = "new"
    site.api.recommendations[INCIDENT] = rabat_candidates()[:2]
    await open_console_with_call(page, site)

    units = page.locator("#units [data-unit]")
    await expect(units).to_have_count(2)
    site.api.recommendations[INCIDENT] = rabat_candidates()  # a third unit became available
    await page.click("#btn-confirm")
    await expect(page.locator("#incident-status")).to_have_attribute("data-status", "confirmed")
    await expect(page.locator("#incident-status")).to_contain_text(USER["username"])
    assert site.api.confirms == [INCIDENT]
    await expect(units).to_have_count(3)  # read again after the confirm

    first = page.locator('#units [data-unit="u-1"]')
    await expect(first.locator(".unit-call-sign")).to_have_text("RABAT-11")
    await expect(first.locator(".unit-vehicle")).to_have_text("car")
    await expect(first.locator(".unit-eta")).to_contain_text("4 min")
    await expect(first.locator(".unit-distance")).to_contain_text("1,2 km")
    await expect(first.locator(".unit-reason")).to_have_text("nearest available, 1.2 km by road")
    await expect(first).to_have_attribute("data-stale", "false")
    stale = page.locator('#units [data-unit="u-2"]')
    await expect(stale).to_have_attribute("data-stale", "true")
    await expect(stale.locator(".unit-stale")).to_contain_text("STALE 15 min")
    await expect(stale.locator(".unit-distance")).to_contain_text("900 m")
    await expect(stale.locator(".unit-distance")).to_contain_text("straight line")
    await expect(page.locator("#units [data-unit] >> nth=1")).to_have_attribute("data-unit", "u-4")

    # the recommended units on the map, beside the caller's circle (places from /units)
    await expect(page.locator("#map .unit-marker")).to_have_count(3)
    await expect(page.locator('#map .unit-marker[data-unit="u-1"]')).to_contain_text("RABAT-11")
    await expect(page.locator("#map path.leaflet-interactive")).to_have_count(1)  # the circle
    await expect(page.locator("#map .leaflet-marker-icon:not(.unit-marker)")).to_have_count(1)
    map_box = await page.locator("#map").bounding_box()
    assert map_box is not None
    for index in range(3):
        box = await page.locator("#map .unit-marker").nth(index).bounding_box()
        assert box is not None
        assert map_box["x"] <= box["x"] <= map_box["x"] + map_box["width"]
        assert map_box["y"] <= box["y"] <= map_box["y"] + map_box["height"]
    await screenshot(page, "console-dispatch-recommended")

    await page.click("#btn-dispatch")
    assignment = page.locator("#assignment")
    await expect(assignment).to_be_visible()
    await expect(assignment).to_have_attribute("data-state", "proposed")
    await expect(assignment).to_have_attribute("data-unit", "u-1")
    await expect(assignment).to_contain_text(
        re_text("proposed to RABAT-11, waiting for acknowledgement until")
    )
    assert site.api.dispatches == [(INCIDENT, None)]  # no body
    # read again after the dispatch: the proposed unit is off the list
    await expect(page.locator('#units [data-unit="u-1"]')).to_have_count(0)
    await expect(units).to_have_count(2)
    await expect(page.locator("#map .unit-marker")).to_have_count(2)
    await expect(page.locator("#error")).to_be_hidden()
    await screenshot(page, "console-dispatch-proposed")

    # confirming again is refused: the gateway's error on the error line
    await page.click("#btn-confirm")
    await expect(page.locator("#error")).to_contain_text("[illegal-transition]")
    assert page_errors == []


def re_text(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text) + r" \d\d:\d\d:\d\d")


async def test_dispatch_errors_are_shown_and_a_call_without_a_location_says_so(
    page: Page, site: FakeSite, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_console_with_call(page, site, location=None)
    note = page.locator("#units-note")
    await expect(note).to_contain_text("no location yet")
    await expect(page.locator("#units [data-unit]")).to_have_count(0)
    await expect(page.locator("#error")).to_be_hidden()  # said in the panel, not an error
    await screenshot(page, "console-dispatch-no-location")

    # a fix arrives: the recommendations are read again
    site.api.incident_places[INCIDENT] = (33.9721, -6.8502)
    site.api.recommendations[INCIDENT] = rabat_candidates()[:1]
    site.api.push("location", {"call_id": "c-0001", "best_location": RABAT_PIDF})
    await expect(page.locator('#units [data-unit="u-1"]')).to_be_visible()
    await expect(note).to_be_hidden()
    await expect(page.locator("#map .unit-marker")).to_have_count(1)

    # not confirmed yet: the dispatch is refused
    await page.click("#btn-dispatch")
    error = page.locator("#error")
    await expect(error).to_contain_text(
        "confirm the incident before dispatching a unit [incident-not-confirmed]"
    )
    await expect(page.locator("#assignment")).to_be_hidden()
    await screenshot(page, "console-dispatch-not-confirmed")

    # confirmed, but no unit left
    site.api.recommendations[INCIDENT] = []
    await page.click("#btn-confirm")
    await expect(error).to_be_hidden()
    await expect(note).to_contain_text("no unit available")
    await expect(page.locator("#map .unit-marker")).to_have_count(0)
    await page.click("#btn-dispatch")
    await expect(error).to_contain_text("no available unit to propose [no-unit-available]")
    await expect(page.locator("#assignment")).to_be_hidden()
    await screenshot(page, "console-dispatch-no-unit")
    assert page_errors == []

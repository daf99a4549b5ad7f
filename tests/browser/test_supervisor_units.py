"""The supervisor page's units map and table in the real Chromium, against a FAKE of the API.

`FakeConsoleApi` (tests/browser/fake_console_api.py) answers GET /api/v1/units from memory; it
is not the gateway. Screenshots go to var/artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Screenshot
from tests.browser.fake_console_api import PASSWORD, SUPERVISOR, FakeSite

pytestmark = pytest.mark.browser

COLOURS = {  # the fill of each state's marker (pagekit.js UNIT_STATES)
    "available": "#2ea043",
    "proposed": "#ffb020",
    "dispatched": "#388bfd",
    "en_route": "#388bfd",
    "on_scene": "#ff3b30",
    "out_of_service": "#8b949e",
}


async def open_supervisor(page: Page, site: FakeSite) -> None:
    await page.goto(site.url("/login"))
    await page.fill("#username", SUPERVISOR["username"])
    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await page.wait_for_url(site.url("/supervisor"))
    await expect(page.locator("#units-section")).to_be_visible()


async def test_supervisor_shows_the_units_on_a_map_and_in_a_table_by_state(
    page: Page, site: FakeSite, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_supervisor(page, site)
    rows = page.locator("#units-table [data-unit]")
    await expect(rows).to_have_count(7)
    available = page.locator('#units-table [data-unit="u-1"]')
    await expect(available.locator(".call-sign")).to_have_text("RABAT-11")
    await expect(available.locator(".vehicle")).to_have_text("car")
    await expect(available.locator(".state")).to_have_attribute("data-state", "available")
    await expect(available.locator(".state")).to_contain_text("Disponible")
    await expect(available.locator(".fix-age")).to_contain_text("s")
    old = page.locator('#units-table [data-unit="u-6"] .fix-age')
    await expect(old).to_have_attribute("data-old", "true")
    await expect(page.locator('#units-table [data-unit="u-7"] .fix-age')).to_contain_text("no fix")

    # one marker per unit with a fix, on a map with no tiles and a scale
    markers = page.locator("#units-map .unit-marker")
    await expect(markers).to_have_count(6)
    await expect(page.locator("#units-map .leaflet-tile")).to_have_count(0)
    await expect(page.locator("#units-map .leaflet-control-scale")).to_be_visible()
    for unit in site.api.units:
        if unit["latitude"] is None:
            continue
        marker = page.locator(f'#units-map .unit-marker[data-unit="{unit["id"]}"]')
        await expect(marker).to_have_attribute("data-state", unit["state"])
        await expect(marker).to_have_class(re_class(unit))
        assert await marker.get_attribute("fill") == COLOURS[unit["state"]]
    map_box = await page.locator("#units-map").bounding_box()
    assert map_box is not None
    for index in range(6):
        box = await markers.nth(index).bounding_box()
        assert box is not None  # fitted: every unit in view
        assert map_box["x"] <= box["x"] <= map_box["x"] + map_box["width"]
        assert map_box["y"] <= box["y"] <= map_box["y"] + map_box["height"]
    await screenshot(page, "supervisor-units")

    # polled every 3 s: a unit becomes proposed, its marker turns amber
    polls = site.api.unit_fetches
    site.api.set_unit_state("u-1", "proposed")
    await expect(available.locator(".state")).to_have_attribute(
        "data-state", "proposed", timeout=8000
    )
    assert site.api.unit_fetches > polls
    marker = page.locator('#units-map .unit-marker[data-unit="u-1"]')
    await expect(marker).to_have_attribute("data-state", "proposed")
    await expect(marker).to_have_attribute("fill", COLOURS["proposed"])
    await expect(marker).not_to_have_class(re_class({"state": "available"}))
    await expect(markers).to_have_count(6)
    await screenshot(page, "supervisor-units-proposed")
    assert page_errors == []


def re_class(unit: dict[str, Any]) -> re.Pattern[str]:
    return re.compile(rf"(^|\s)unit-state-{unit['state']}(\s|$)")

"""The operator console pages in the real Chromium, against a FAKE of the console API.

`FakeConsoleApi` (tests/browser/fake_console_api.py) serves gateway/console/static/ and
answers the API contract of docs/console.md from memory; it is not the gateway. These tests
prove the page: sign-in, the state buttons, the screen-pop and its Leaflet map, live location
updates, the connection badge and the incident form. Screenshots of each page go to
var/artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.browser.conftest import STATIC_DIR, Screenshot
from tests.browser.fake_console_api import (
    PASSWORD,
    USER,
    FakeConsoleApi,
    sample_call,
    sample_location,
)

pytestmark = pytest.mark.browser

RABAT_AML = sample_location(11, "aml", 33.97150, -6.84980, 150.0)
RABAT_PIDF = sample_location(12, "pidf-lo", 33.97210, -6.85020, 30.0)


class Console:
    """The fake API and its base URL, as one test sees them."""

    def __init__(self, api: FakeConsoleApi, server: TestServer) -> None:
        self.api = api
        self.server = server

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


@pytest.fixture
async def console(aiohttp_server: Any) -> AsyncIterator[Console]:
    api = FakeConsoleApi(static_dir=STATIC_DIR)
    server: TestServer = await aiohttp_server(api.app())
    try:
        yield Console(api, server)
    finally:
        api.close()  # lets the SSE handlers end before the server closes


async def sign_in(page: Page, console: Console) -> None:
    await page.goto(console.url("/login"))
    await page.fill("#username", USER["username"])
    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await page.wait_for_url(console.url("/console"))
    await expect(page.locator("#whoami")).to_contain_text(USER["display_name"])


async def open_live_console(page: Page, console: Console) -> None:
    """Signed in, with the event stream open (the badge says live)."""
    await sign_in(page, console)
    await console.api.wait_for_streams(1)
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")


async def test_console_sends_a_signed_out_user_to_login_and_signs_in_with_the_right_password(
    page: Page, console: Console, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await page.goto(console.url("/console"))
    await page.wait_for_url(console.url("/login"))
    await screenshot(page, "login")

    await page.fill("#username", USER["username"])
    await page.fill("#password", "wrong")
    await page.click("#btn-signin")
    await expect(page.locator("#login-error")).to_be_visible()
    await expect(page.locator("#login-error")).to_contain_text("wrong username or password")
    await expect(page.locator("#password")).to_have_value("")
    await screenshot(page, "login-invalid-credentials")

    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await page.wait_for_url(console.url("/console"))
    await expect(page.locator("#whoami")).to_contain_text(USER["display_name"])
    await expect(page.locator("#state")).to_have_attribute("data-state", "logged_out")
    await expect(page.locator("#pop")).to_be_hidden()
    await screenshot(page, "console-idle")

    await page.click("#btn-signout")
    await page.wait_for_url(console.url("/login"))
    assert console.api.sessions == set()
    assert page_errors == []


async def test_login_page_says_so_when_sign_in_attempts_are_throttled(
    page: Page, console: Console, page_errors: list[str]
) -> None:
    console.api.failed_logins = 99
    await page.goto(console.url("/login"))
    await page.fill("#username", USER["username"])
    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await expect(page.locator("#login-error")).to_contain_text("too many attempts")
    assert page.url == console.url("/login")
    assert page_errors == []


async def test_state_buttons_post_the_operator_actions_and_show_the_state_answered(
    page: Page, console: Console, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_live_console(page, console)
    state = page.locator("#state")
    await expect(page.locator("#btn-ready")).to_be_disabled()  # not in the queue yet

    await page.click("#btn-login")
    await expect(state).to_have_attribute("data-state", "paused")
    await page.click("#btn-ready")
    await expect(state).to_have_attribute("data-state", "ready")
    await expect(state).to_contain_text("ready")
    await screenshot(page, "console-ready")

    await page.select_option("#pause-reason", "training")
    await page.click("#btn-pause")
    await expect(state).to_have_attribute("data-state", "paused")
    await expect(state).to_contain_text("training")

    await page.click("#btn-wrapup")
    await expect(state).to_have_attribute("data-state", "wrapup")

    console.api.fail_next_action = (409, "softphone-unreachable", "The softphone does not answer")
    await page.click("#btn-ready")
    await expect(page.locator("#error")).to_be_visible()
    await expect(page.locator("#error")).to_contain_text("The softphone does not answer")
    await expect(page.locator("#error")).to_contain_text("softphone-unreachable")
    await expect(state).to_have_attribute("data-state", "wrapup")
    await screenshot(page, "console-action-error")

    await page.click("#btn-logout")
    await expect(state).to_have_attribute("data-state", "logged_out")
    await expect(page.locator("#error")).to_be_hidden()
    await expect(page.locator("#btn-login")).to_be_enabled()
    await expect(page.locator("#btn-ready")).to_be_disabled()

    assert console.api.actions == [
        ("login", None),
        ("ready", None),
        ("pause", {"reason": "training"}),
        ("wrapup", None),
        ("ready", None),
        ("logout", None),
    ]
    assert page_errors == []


async def test_operator_state_event_updates_the_state_without_a_click(
    page: Page, console: Console, page_errors: list[str]
) -> None:
    await open_live_console(page, console)
    console.api.push("operator_state", console.api.set_operator_state("ringing"))
    await expect(page.locator("#state")).to_have_attribute("data-state", "ringing")
    console.api.push("operator_state", console.api.set_operator_state("in_call"))
    await expect(page.locator("#state")).to_have_attribute("data-state", "in_call")
    assert page_errors == []


async def test_screen_pop_shows_number_flags_and_location_circle_then_follows_the_call(
    page: Page, console: Console, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_live_console(page, console)
    earlier = [
        {"id": "c-0000", "received_at": "2026-01-05T08:01:00+00:00", "status": "abandoned",
         "operator": None},
        {"id": "c-000a", "received_at": "2026-01-05T08:04:00+00:00", "status": "completed",
         "operator": "op-rabat-2"},
    ]  # fmt: skip
    console.api.push("operator_state", console.api.set_operator_state("ringing"))
    console.api.push(
        "screen_pop", {"call": sample_call(best_location=RABAT_AML), "earlier_calls": earlier}
    )

    pop = page.locator("#pop")
    await expect(pop).to_be_visible()
    await expect(page.locator("#state")).to_have_attribute("data-state", "ringing")
    await expect(page.locator("#pop-number")).to_have_text("+212612345678")
    await expect(page.locator("#pop-flags")).to_contain_text("SILENT")
    await expect(page.locator("#pop-flags")).to_contain_text("REPEAT")
    await expect(page.locator("#pop-flags .flag-red")).to_have_count(2)
    await expect(page.locator("#pop-carrier")).to_contain_text("Maroc Telecom")
    await expect(page.locator("#pop-language")).to_have_text("ar")
    await expect(page.locator("#pop-priority")).to_contain_text("silent-caller")
    await expect(page.locator("#pop-earlier li")).to_have_count(2)
    await expect(page.locator("#pop-earlier")).to_contain_text("abandoned")
    await expect(page.locator("#pop-status")).to_contain_text("ringing")
    await expect(page.locator("#pop-location")).to_have_text("33.97150, -6.84980 ± 150 m (aml)")

    circle = page.locator("#map path.leaflet-interactive")
    await expect(circle).to_have_count(1)
    await expect(page.locator("#map .leaflet-marker-icon")).to_be_visible()
    await expect(page.locator("#map .leaflet-control-scale")).to_be_visible()
    await expect(page.locator("#map .leaflet-tile")).to_have_count(0)  # no tile server
    map_box = await page.locator("#map").bounding_box()
    circle_box = await circle.bounding_box()
    assert map_box is not None and circle_box is not None
    # fitted to the circle: the circle fills most of the map and lies inside it
    assert circle_box["height"] > 0.5 * map_box["height"]
    assert map_box["x"] <= circle_box["x"]
    assert circle_box["x"] + circle_box["width"] <= map_box["x"] + map_box["width"]
    await screenshot(page, "console-screen-pop")
    first_path = await circle.get_attribute("d")

    console.api.push("location", {"call_id": "another-call", "best_location": RABAT_PIDF})
    console.api.push("location", {"call_id": "c-0001", "best_location": RABAT_PIDF})
    await expect(page.locator("#pop-location")).to_have_text("33.97210, -6.85020 ± 30 m (pidf-lo)")
    await expect(page.locator("#pop-location-flash")).to_be_visible()
    await expect(page.locator("#pop-location-flash")).to_contain_text("location updated (pidf-lo)")
    await expect(circle).to_have_count(1)
    await expect(circle).not_to_have_attribute("d", first_path or "")
    await screenshot(page, "console-location-updated")

    console.api.push("call_update", {"call_id": "c-0001", "status": "answered",
                                     "operator": "op-rabat-1"})  # fmt: skip
    await expect(page.locator("#pop-status")).to_have_attribute("data-status", "answered")
    await expect(page.locator("#pop-status")).to_contain_text("ringing → answered")
    console.api.push("call_update", {"call_id": "c-0001", "status": "completed",
                                     "operator": "op-rabat-1"})  # fmt: skip
    await expect(page.locator("#pop-status")).to_contain_text("ringing → answered → completed")
    await screenshot(page, "console-call-completed")
    assert page_errors == []


async def test_screen_pop_without_a_fix_says_location_pending_until_one_arrives(
    page: Page, console: Console, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_live_console(page, console)
    console.api.push(
        "screen_pop",
        {"call": sample_call(best_location=None, silent=False, repeat_count_24h=0),
         "earlier_calls": []},
    )  # fmt: skip

    await expect(page.locator("#pop")).to_be_visible()
    await expect(page.locator("#pop-location")).to_have_text("location pending")
    await expect(page.locator("#pop-flags .flag")).to_have_count(0)
    await expect(page.locator("#map .leaflet-interactive")).to_have_count(0)
    await screenshot(page, "console-location-pending")

    console.api.push("location", {"call_id": "c-0001", "best_location": RABAT_AML})
    await expect(page.locator("#pop-location")).to_have_text("33.97150, -6.84980 ± 150 m (aml)")
    await expect(page.locator("#pop-location-flash")).to_contain_text("location updated (aml)")
    await expect(page.locator("#map path.leaflet-interactive")).to_have_count(1)
    assert page_errors == []


async def test_connection_badge_says_reconnecting_while_the_event_stream_is_cut(
    page: Page, console: Console, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_live_console(page, console)
    badge = page.locator("#conn")
    fetches_before = console.api.operator_fetches

    console.api.refuse_streams = True  # the gateway is restarting: new streams are refused
    console.api.cut_streams()
    await expect(badge).to_have_attribute("data-conn", "reconnecting")
    await expect(badge).to_contain_text("reconnecting")
    await screenshot(page, "console-reconnecting")

    # While the page was cut off the operator was put in a call: the page catches up by
    # re-fetching the state on reconnect, not from an event it missed.
    console.api.set_operator_state("in_call")
    console.api.refuse_streams = False
    await expect(badge).to_have_attribute("data-conn", "open", timeout=15_000)
    await expect(page.locator("#state")).to_have_attribute("data-state", "in_call")
    assert console.api.operator_fetches > fetches_before
    assert console.api.stream_connects >= 2

    console.api.push("operator_state", console.api.set_operator_state("wrapup"))
    await expect(page.locator("#state")).to_have_attribute("data-state", "wrapup")
    assert page_errors == []


async def test_a_slow_state_re_fetch_does_not_undo_a_newer_state_event(
    page: Page, console: Console, page_errors: list[str]
) -> None:
    await open_live_console(page, console)
    console.api.set_operator_state("ready")
    console.api.hold_operator_fetches = True
    connects = console.api.stream_connects
    console.api.cut_streams()  # the page reconnects by itself and re-fetches its state ...
    await console.api.wait_for_held_fetch()  # ... which answers "ready", but slowly
    await console.api.wait_for_streams(1)
    assert console.api.stream_connects == connects + 1

    console.api.push("operator_state", console.api.set_operator_state("ringing"))
    await expect(page.locator("#state")).to_have_attribute("data-state", "ringing")
    async with page.expect_response("**/api/v1/operators/me") as answer:
        console.api.release_operator_fetches()
    assert (await (await answer.value).json())["state"] == "ready"
    await page.wait_for_timeout(300)  # time for the page to act on the stale answer, if it did
    await expect(page.locator("#state")).to_have_attribute("data-state", "ringing")
    assert page_errors == []


async def test_incident_form_saves_category_priority_address_and_description_with_put(
    page: Page, console: Console, screenshot: Screenshot, page_errors: list[str]
) -> None:
    await open_live_console(page, console)
    console.api.push("screen_pop", {"call": sample_call(best_location=RABAT_AML),
                                    "earlier_calls": []})  # fmt: skip
    form = page.locator("#incident-form")
    await expect(form).to_be_visible()
    await expect(page.locator("#incident-priority")).to_have_value("10")

    await page.select_option("#incident-category", "domestic_violence")
    await page.fill("#incident-priority", "9")
    await page.fill("#incident-address", "12 rue Patrice Lumumba, Rabat")
    await page.fill("#incident-description", "Caller silent, sounds of a struggle.")
    await page.click("#btn-save-incident")
    await expect(page.locator("#incident-saved")).to_be_visible()
    await screenshot(page, "console-incident-saved")

    assert console.api.incident_puts == [
        (
            "inc-0001",
            {
                "category": "domestic_violence",
                "priority": 9,
                "address": "12 rue Patrice Lumumba, Rabat",
                "description": "Caller silent, sounds of a struggle.",
            },
        )
    ]
    assert page_errors == []

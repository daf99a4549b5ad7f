"""The console in real Chromium against the real gateway, Asterisk 22 and sipp softphones.

An operator signs in, logs in to the Rabat room and says ready; a call with a PIDF-LO rings
their softphone (which rings for 4 s before picking up), and the screen-pop shows the caller
and the location before the answer; the operator pauses, and the next call goes to another
operator. A screenshot of each step is kept (var/artifacts/screenshots/).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Page, expect

from gateway.asterisk.sandbox import Sandbox
from tests.browser.conftest import Screenshot
from tests.e2e.conftest import log_dir, make_gateway, operators, sandbox  # noqa: F401
from tests.e2e.harness import (
    PASSWORD,
    TRUNKS,
    Gateway,
    Sipp,
    add_user,
    call_api,
    caller_with,
    sign_in,
    wait_for,
)
from tests.e2e.test_location import BY_VALUE, SDP


def located_call(number: str, logs: Path, name: str) -> Sipp:
    body = (f"--b1\nContent-Type: application/sdp\n\n{SDP}\n\n--b1\n"
            "Content-Type: application/pidf+xml\nContent-ID: <loc@ims.example.ma>\n\n"
            f"{BY_VALUE}\n--b1--")  # fmt: skip
    return caller_with(TRUNKS["maroc-telecom"], number, 12000, logs, name,
                       headers=["Geolocation: <cid:loc@ims.example.ma>"],
                       body=("multipart/mixed;boundary=b1", body))  # fmt: skip


async def test_the_screen_pop_comes_before_the_answer_and_a_pause_sends_the_next_call_on(
    page: Page,
    screenshot: Screenshot,
    page_errors: list[str],
    sandbox: Sandbox,  # noqa: F811
    make_gateway: Callable[..., Gateway],  # noqa: F811
    operators: Callable[..., list[Sipp]],  # noqa: F811
    log_dir: Path,  # noqa: F811
) -> None:
    gateway = make_gateway("sqlite")
    add_user(gateway, "amina", "op-rabat-1")
    add_user(gateway, "youssef", "op-rabat-2")
    operators(["op-rabat-1", "op-rabat-2"], hold_ms=3000, ring_ms=4000, join=False)

    await page.goto(gateway.base_url + "/login")
    await screenshot(page, "real-01-login")
    await page.fill("#username", "amina")
    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await page.wait_for_url(gateway.base_url + "/console")
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    await page.click("#btn-login")
    await expect(page.locator("#state")).to_have_attribute("data-state", "paused")
    await page.click("#btn-ready")
    await expect(page.locator("#state")).to_have_attribute("data-state", "ready")
    await screenshot(page, "real-02-ready")

    first = await asyncio.to_thread(located_call, "0612340701", log_dir, "first")
    await expect(page.locator("#pop-number")).to_contain_text("0701", timeout=15000)
    await expect(page.locator("#pop-location")).to_contain_text("35", timeout=10000)
    popped_at = datetime.now(UTC)
    await screenshot(page, "real-03-screen-pop-while-ringing")
    calls = await asyncio.to_thread(
        wait_for, lambda: [c for c in gateway.call_from("+212612340701") if c["answered_at"]],
        30, 0.5, "the first call to be answered",
    )  # fmt: skip
    answered_at = datetime.fromisoformat(calls[0]["answered_at"])
    assert popped_at < answered_at, (popped_at, answered_at)
    assert calls[0]["operator"] == "op-rabat-1"
    assert await asyncio.to_thread(first.wait, 60) == 0, first.errors()

    _, token = await asyncio.to_thread(sign_in, gateway, "youssef")
    await asyncio.to_thread(call_api, gateway, "POST", "/api/v1/operators/me/login", token)
    _, ready = await asyncio.to_thread(
        call_api, gateway, "POST", "/api/v1/operators/me/ready", token
    )
    assert ready["state"] == "ready"
    await page.select_option("#pause-reason", "break")
    await page.click("#btn-pause")
    await expect(page.locator("#state")).to_have_attribute("data-state", "paused")
    await screenshot(page, "real-04-paused")

    second = await asyncio.to_thread(located_call, "0612340702", log_dir, "second")
    assert await asyncio.to_thread(second.wait, 60) == 0, second.errors()
    (call,) = await asyncio.to_thread(gateway.call_from, "+212612340702")
    assert call["operator"] == "op-rabat-2"
    await asyncio.sleep(0.5)
    assert "0702" not in (await page.locator("#pop-number").inner_text())
    assert page_errors == []


async def test_a_supervisor_signs_in_to_the_supervisor_page_with_the_live_operators(
    page: Page,
    screenshot: Screenshot,
    page_errors: list[str],
    sandbox: Sandbox,  # noqa: F811
    make_gateway: Callable[..., Gateway],  # noqa: F811
    operators: Callable[..., list[Sipp]],  # noqa: F811
) -> None:
    gateway = make_gateway("sqlite")
    add_user(gateway, "amina", "op-rabat-1")
    await asyncio.to_thread(add_user, gateway, "chef", None, "supervisor")
    operators(["op-rabat-1", "op-sale-1"], join=True)  # already in their rooms, ready
    await page.goto(gateway.base_url + "/login")
    await page.fill("#username", "chef")
    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await page.wait_for_url(gateway.base_url + "/supervisor")
    row = page.locator('#operators [data-endpoint="op-sale-1"] .state')
    await expect(row).to_have_attribute("data-state", "ready", timeout=10000)
    await expect(page.locator('#rooms [data-room="rabat"]')).to_be_visible()
    await screenshot(page, "real-05-supervisor")
    assert page_errors == []

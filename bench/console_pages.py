"""Screen-pop latency to the rendered page: AMI `AgentCalled` → the operator's console page
shows the call, with 50 operators' pages open in real Chromium.

    python -m bench.console_pages [--operators 50] [--rounds 100]

The gateway runs in this process (aiohttp on a local port, SQLite), with one call recorded
per operator; 50 signed-in console pages (one browser context each) hold their event
streams. Each round hands an `AgentCalled` message, as Asterisk sends it, to the gateway's
AMI handler for one operator and waits until that operator's page shows the caller's number
in `#pop-number` (Playwright's `wait_for_function`, polling on animation frames). Baseline
in the same run: a `ping` pushed through the same stream and shown by nothing — measured as
the round trip of an `evaluate()` on the same page (the harness's own latency).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from playwright.async_api import Page, async_playwright

from bench.served_app import PASSWORD, ready_operators, serve
from bench.stats import quantile_ms as _pct
from gateway.asterisk.ami_protocol import AmiMessage
from gateway.keys import INTAKE_KEY, OPERATORS_KEY
from gateway.services.intake import IntakeRequest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-extensions", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
        "--disable-backgrounding-occluded-windows"]  # fmt: skip


async def _open(browser: object, base: str, n: int) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page: Page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("#username", f"op{n}")
    await page.fill("#password", PASSWORD)
    await page.click("#btn-signin")
    await page.wait_for_url(f"{base}/console")
    await page.wait_for_selector('#conn[data-conn="open"]')
    return page


async def run(operators: int, rounds: int) -> dict[str, float]:
    served = await serve()
    app, base, _settings = served.app, served.base, served.settings
    await ready_operators(app, operators)
    ops = app[OPERATORS_KEY]
    pops: list[float] = []
    probes: list[float] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = [await _open(browser, base, n) for n in range(operators)]
        for r in range(rounds):
            target = r % operators
            number = f"0613{r:06d}"
            request = IntakeRequest(external_id=f"p.{r}", trunk="inwi", caller_raw=number)
            await app[INTAKE_KEY].take_call(request)
            page = pages[target]
            start = time.perf_counter()
            await page.evaluate("1")
            probes.append(time.perf_counter() - start)
            message = AmiMessage((("Event", "AgentCalled"), ("Queue", "rabat"),
                                  ("Interface", f"PJSIP/op-{target}"),
                                  ("Uniqueid", f"p.{r}")))  # fmt: skip
            start = time.perf_counter()
            await ops.on_ami_event(message)
            await page.wait_for_function(
                "n => (document.querySelector('#pop-number')||{}).textContent"
                "?.includes(n)", arg=number[-6:], polling="raf", timeout=10000,
            )  # fmt: skip
            pops.append(time.perf_counter() - start)
        await browser.close()
    await served.stop()
    return {"pop_p50_ms": _pct(pops, 0.5), "pop_p95_ms": _pct(pops, 0.95),
            "probe_p50_ms": _pct(probes, 0.5), "probe_p95_ms": _pct(probes, 0.95)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    f = asyncio.run(run(args.operators, args.rounds))
    print(
        f"{datetime.now(UTC):%Y-%m-%d} {args.operators} console pages open in Chromium, "
        f"{args.rounds} screen-pops"
    )
    print(
        f"  AgentCalled -> page shows the call: p50 {f['pop_p50_ms']:.1f} ms, p95 "
        f"{f['pop_p95_ms']:.1f} ms; baseline evaluate() round trip p50 "
        f"{f['probe_p50_ms']:.1f} ms, p95 {f['probe_p95_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()

"""Console benchmarks: screen-pop latency with 50 operators' streams open, and the supervisor
overview with 50 operators and 100 waiting calls.

    python -m bench.console [--operators 50] [--waiting 100] [--rounds 200]

Both run on the real application (aiohttp server on a local port, real HTTP clients, a
SQLite file database with one call per operator recorded by the real intake):

- **screen-pop**: 50 operators signed in, each with `GET /api/v1/events` open; for each
  round an AMI `AgentCalled` message (as Asterisk sends it) goes into the gateway's AMI
  handler for one operator, and the time until that operator's stream delivers the
  `screen_pop` frame is measured (p50, p95). Baseline in the same run: a `ping` event
  published to the same stream (the transport alone). Asterisk and the browser's rendering
  are not in the figure (docs/benchmarks.md says what is).
- **supervisor overview**: `GET /api/v1/supervisor/overview` with 50 operators' states and
  100 waiting calls, p50/p95, against `GET /healthz` in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench.served_app import PASSWORD, ready_operators, serve
from bench.stats import quantile_ms as _pct
from gateway.asterisk.ami_protocol import AmiMessage
from gateway.auth.http import USERS_KEY
from gateway.keys import INTAKE_KEY, LIVE_KEY, OPERATORS_KEY, OVERFLOW_KEY
from gateway.services.intake import IntakeRequest
from gateway.services.overflow import OverflowMonitor, Waiting


async def _stream_reader(
    response: aiohttp.ClientResponse, inbox: asyncio.Queue[tuple[str, float]]
) -> None:
    event = ""
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            await inbox.put((event, time.perf_counter()))


async def run(operators: int, waiting: int, rounds: int) -> dict[str, float]:
    served = await serve()
    app, base, settings = served.app, served.base, served.settings
    await ready_operators(app, operators)
    users, ops = app[USERS_KEY], app[OPERATORS_KEY]
    for n in range(operators):
        await app[INTAKE_KEY].take_call(IntakeRequest(external_id=f"b.{n}", trunk="inwi",
                                                      caller_raw=f"0612{n:06d}"))  # fmt: skip
    await users.add("chef", role="supervisor", password=PASSWORD)
    monitor = OverflowMonitor(settings, ops, None)  # type: ignore[arg-type]
    for n in range(waiting):
        monitor.waiting[f"w.{n}"] = Waiting(f"w.{n}", f"PJSIP/inwi-{n}", "rabat",
                                            time.monotonic() - n, "1")  # fmt: skip
    app[OVERFLOW_KEY] = monitor
    figures: dict[str, float] = {}
    async with aiohttp.ClientSession() as session:
        tokens = []
        for n in range(operators):
            async with session.post(
                f"{base}/api/v1/login", json={"username": f"op{n}", "password": PASSWORD}
            ) as r:
                tokens.append(r.cookies["l19_session"].value)
        session.cookie_jar.clear()
        inboxes: list[asyncio.Queue[tuple[str, float]]] = []
        readers = []
        for token in tokens:
            response = await session.get(f"{base}/api/v1/events",
                                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            inbox: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
            inboxes.append(inbox)
            readers.append(asyncio.create_task(_stream_reader(response, inbox)))
        await asyncio.sleep(0.5)
        for inbox in inboxes:
            while not inbox.empty():
                inbox.get_nowait()
        pops, pings = [], []
        for n in range(rounds):
            target = n % operators
            start = time.perf_counter()
            app[LIVE_KEY].publish(f"op-{target}", "ping", {"n": n})
            pings.append((await _next(inboxes[target], "ping")) - start)
            message = AmiMessage((("Event", "AgentCalled"), ("Queue", "rabat"),
                                  ("Interface", f"PJSIP/op-{target}"),
                                  ("Uniqueid", f"b.{target}")))  # fmt: skip
            start = time.perf_counter()
            await ops.on_ami_event(message)
            pops.append((await _next(inboxes[target], "screen_pop")) - start)
        figures |= {"pop_p50_ms": _pct(pops, 0.5), "pop_p95_ms": _pct(pops, 0.95),
                    "ping_p50_ms": _pct(pings, 0.5), "ping_p95_ms": _pct(pings, 0.95)}  # fmt: skip
        async with session.post(
            f"{base}/api/v1/login", json={"username": "chef", "password": PASSWORD}
        ) as r:
            chef = {"Authorization": f"Bearer {r.cookies['l19_session'].value}"}
        session.cookie_jar.clear()
        views, health = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            async with session.get(f"{base}/api/v1/supervisor/overview", headers=chef) as r:
                body: Any = await r.json()
            views.append(time.perf_counter() - start)
            start = time.perf_counter()
            async with session.get(f"{base}/healthz") as r:
                await r.read()
            health.append(time.perf_counter() - start)
        assert len(body["operators"]) == operators and len(body["waiting"]) == waiting, body
        figures |= {
            "overview_p50_ms": _pct(views, 0.5),
            "overview_p95_ms": _pct(views, 0.95),
            "health_p50_ms": _pct(health, 0.5),
            "health_p95_ms": _pct(health, 0.95),
        }
        for reader in readers:
            reader.cancel()
    await served.stop()
    return figures


async def _next(inbox: asyncio.Queue[tuple[str, float]], name: str) -> float:
    while True:
        event, at = await asyncio.wait_for(inbox.get(), 10)
        if event == name:
            return at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--waiting", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    f = asyncio.run(run(args.operators, args.waiting, args.rounds))
    print(
        f"{datetime.now(UTC):%Y-%m-%d} {args.operators} operators' streams, "
        f"{args.waiting} waiting calls, {args.rounds} rounds"
    )
    print(
        f"  screen-pop (AgentCalled -> screen_pop frame on the stream): p50 "
        f"{f['pop_p50_ms']:.2f} ms, p95 {f['pop_p95_ms']:.2f} ms; baseline ping p50 "
        f"{f['ping_p50_ms']:.2f} ms, p95 {f['ping_p95_ms']:.2f} ms; p95 ratio "
        f"x{f['pop_p95_ms'] / f['ping_p95_ms']:.1f}"
    )
    print(
        f"  supervisor overview: p50 {f['overview_p50_ms']:.2f} ms, p95 "
        f"{f['overview_p95_ms']:.2f} ms; baseline /healthz p50 {f['health_p50_ms']:.2f} ms, "
        f"p95 {f['health_p95_ms']:.2f} ms; p95 ratio "
        f"x{f['overview_p95_ms'] / f['health_p95_ms']:.1f}"
    )


if __name__ == "__main__":
    main()

"""Location benchmarks: AML POST -> best fix updated on the call (p50/p99), and parse cost.

    python -m bench.location [--posts 300] [--rounds 2000]

The AML figure is measured on the real application (aiohttp server on a local port, real
HTTP client), for SQLite and for a fresh PostgreSQL database, against a baseline in the
same run: `GET /healthz` (a request that also touches the database). Each POST carries a
new position for the same live call, positioned a second after the one before (so that
each becomes the best fix), and must come back `accepted` as the call's best fix.

Parse cost per payload and format (PIDF-LO circle, PIDF-LO polygon, AML SMS, AML HTTPS
form, P-Access-Network-Info) is a ratio against `json.loads` of a payload of the same size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bench.stats import quantile as _pct
from gateway.app import create_app
from gateway.keys import INTAKE_KEY
from gateway.location.aml import parse_aml_https, parse_aml_sms
from gateway.location.pani import parse_pani
from gateway.location.pidf_lo import parse_pidf_lo
from gateway.services.intake import IntakeRequest
from gateway.settings import Settings
from tests.conftest import create_pg_database, drop_pg_database

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "location"
TOKEN = "bench-token"


def _sms(lat: float, age_s: int = 0) -> str:
    top = (datetime.now(UTC) - timedelta(seconds=age_s)).strftime("%Y%m%d%H%M%S")
    body = f'A"ML=1;lt=+{lat:.5f};lg=-006.84971;rd=9;top={top};lc=68;pm=G;ml='
    digits = 2 if len(body) + 2 < 100 else 3
    return f"{body}{len(body) + digits}"


async def _aml_latency(database_url: str, posts: int) -> dict[str, float]:
    settings = Settings(database_url=database_url, agi_port=0, http_port=0, ami_enabled=False,
                        aml_tokens={"inwi": SecretStr(TOKEN)})  # fmt: skip
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    await app[INTAKE_KEY].take_call(
        IntakeRequest(external_id="bench.1", trunk="inwi", caller_raw="0612345678")
    )
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain",
               "X-AML-Sender": "0612345678"}  # fmt: skip
    aml: list[float] = []
    health: list[float] = []
    try:
        async with aiohttp.ClientSession() as session:
            for n in range(posts):
                start = time.perf_counter()
                async with session.get(f"{base}/healthz") as response:
                    await response.read()
                health.append(time.perf_counter() - start)
                start = time.perf_counter()
                url = f"{base}/api/v1/location/aml"
                async with session.post(
                    url, data=_sms(34.0 + n * 1e-5, posts - n), headers=headers
                ) as r:
                    body = await r.json()
                aml.append(time.perf_counter() - start)
                assert r.status == 202 and body["status"] == "accepted", body
                assert body["best_location_id"] == body["location_id"], body
    finally:
        await runner.cleanup()
    return {
        "aml_p50_ms": 1000 * statistics.median(aml), "aml_p99_ms": 1000 * _pct(aml, 0.99),
        "health_p50_ms": 1000 * statistics.median(health),
        "health_p99_ms": 1000 * _pct(health, 0.99),
    }  # fmt: skip


def _per_call_us(work: Callable[[], object], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        work()
    return 1e6 * (time.perf_counter() - start) / rounds


def parse_costs(rounds: int) -> dict[str, tuple[float, float]]:
    now = datetime.now(UTC)
    payloads: dict[str, tuple[str, Callable[[], object]]] = {}
    circle = (FIXTURES / "pidf_circle_confidence.xml").read_text()
    polygon = (FIXTURES / "pidf_polygon_poslist.xml").read_text()
    sms = _sms(34.0)
    form = {
        "location_latitude": "34.0",
        "location_longitude": "-6.8",
        "location_accuracy": "9",
        "location_source": "gps",
        "device_number": "0612345678",
    }
    pani = ["3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=604010835A1D8C01; network-provided"]
    payloads["pidf-lo circle"] = (circle, lambda: parse_pidf_lo(circle))
    payloads["pidf-lo polygon"] = (polygon, lambda: parse_pidf_lo(polygon))
    payloads["aml sms"] = (sms, lambda: parse_aml_sms(sms, received_at=now))
    payloads["aml https"] = (json.dumps(form), lambda: parse_aml_https(form, received_at=now))
    payloads["pani"] = (pani[0], lambda: parse_pani(pani))
    out = {}
    for name, (text, work) in payloads.items():
        same_size = json.dumps({"x": "a" * max(0, len(text) - 10)})
        baseline = _per_call_us(lambda s=same_size: json.loads(s), rounds)  # type: ignore[misc]
        cost = _per_call_us(work, rounds)
        out[name] = (cost, cost / baseline)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    print("parse cost per payload (us, ratio to json.loads of the same size):")
    for name, (cost, ratio) in parse_costs(args.rounds).items():
        print(f"  {name:16} {cost:8.1f} us  x{ratio:6.1f}")
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite+aiosqlite:///{folder}/bench.db"
        figures = {"sqlite": asyncio.run(_aml_latency(sqlite, args.posts))}
    pg = create_pg_database()
    try:
        figures["postgresql"] = asyncio.run(_aml_latency(pg, args.posts))
    finally:
        drop_pg_database(pg)
    print(f"AML POST -> best fix updated ({args.posts} posts, one live call):")
    for backend, f in figures.items():
        print(
            f"  {backend:10} p50 {f['aml_p50_ms']:.2f} ms, p99 {f['aml_p99_ms']:.2f} ms; "
            f"baseline GET /healthz p50 {f['health_p50_ms']:.2f} ms, p99 "
            f"{f['health_p99_ms']:.2f} ms; p99 ratio x{f['aml_p99_ms'] / f['health_p99_ms']:.1f}"
        )


if __name__ == "__main__":
    main()

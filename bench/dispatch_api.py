"""Incident confirmed → unit proposed, through the API: `POST /api/v1/incidents/{id}/dispatch`.

    python -m bench.dispatch_api [--units 10000] [--incidents 300]

The real application on a local port (SQLite file, or `--database-url` for PostgreSQL), a
fleet of on-duty units spread over Rabat, Salé and Témara (fixed seed), confirmed incidents;
each POST reads the available fleet, ranks it (dispatch_core.recommend) and reserves the
best unit with the conditional update. p50/p99 against `GET /healthz` in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime

import aiohttp

from bench.served_app import PASSWORD, serve
from bench.stats import quantile_ms as _pct
from dispatch_core.incidents import IncidentAction
from dispatch_core.units import VehicleClass
from gateway.auth.http import USERS_KEY
from gateway.keys import DATABASE_KEY, INTAKE_KEY
from gateway.persistence import unit_store
from gateway.persistence.unit_store import UnitIn
from gateway.services.incidents import IncidentService
from gateway.services.intake import IntakeRequest
from gateway.settings import Settings

CENTRE = (33.99, -6.84)


async def run(units: int, incidents: int, database_url: str | None) -> dict[str, float]:
    settings = None
    if database_url:
        settings = Settings(database_url=database_url, agi_port=0, http_port=0,
                            ami_enabled=False)  # fmt: skip
    served = await serve(settings)
    app, base = served.app, served.base
    rng = random.Random(19)
    fleet = [UnitIn(f"U-{n:05d}", rng.choice(list(VehicleClass)), "rabat", frozenset(),
                    CENTRE[0] + rng.uniform(-0.12, 0.12), CENTRE[1] + rng.uniform(-0.12, 0.12))
             for n in range(units)]  # fmt: skip
    now = datetime.now(UTC)
    await app[DATABASE_KEY].write(lambda conn: unit_store.upsert_units(conn, fleet, now,
                                                                        on_duty=True))  # fmt: skip
    await app[USERS_KEY].add("amina", role="operator", password=PASSWORD)
    ids = []
    moves = IncidentService(app[DATABASE_KEY])
    for n in range(incidents):
        call = await app[INTAKE_KEY].take_call(
            IntakeRequest(external_id=f"d.{n}", caller_raw=f"0612{n:06d}")
        )
        await moves.act(call.incident_id, IncidentAction.CONFIRM, by="amina", at=now)
        ids.append(call.incident_id)
    posts, health = [], []
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/api/v1/login", json={"username": "amina", "password": PASSWORD}
        ) as r:
            headers = {"Authorization": f"Bearer {r.cookies['l19_session'].value}"}
        session.cookie_jar.clear()
        for incident_id in ids:
            place = {"lat": CENTRE[0] + rng.uniform(-0.1, 0.1),
                     "lon": CENTRE[1] + rng.uniform(-0.1, 0.1)}  # fmt: skip
            start = time.perf_counter()
            async with session.post(
                f"{base}/api/v1/incidents/{incident_id}/dispatch", json=place, headers=headers
            ) as r:
                assert r.status == 201, await r.text()
            posts.append(time.perf_counter() - start)
            start = time.perf_counter()
            async with session.get(f"{base}/healthz") as r:
                await r.read()
            health.append(time.perf_counter() - start)
    await served.stop()
    return {"p50": _pct(posts, 0.5), "p99": _pct(posts, 0.99),
            "h50": _pct(health, 0.5), "h99": _pct(health, 0.99)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--incidents", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    f = asyncio.run(run(args.units, args.incidents, args.database_url))
    backend = "postgresql" if args.database_url else "sqlite"
    print(
        f"{datetime.now(UTC):%Y-%m-%d} {backend}: {args.units} units, {args.incidents} "
        f"confirmed incidents dispatched through the API"
    )
    print(
        f"  POST dispatch: p50 {f['p50']:.1f} ms, p99 {f['p99']:.1f} ms; baseline /healthz "
        f"p50 {f['h50']:.1f} ms, p99 {f['h99']:.1f} ms"
    )


if __name__ == "__main__":
    main()

"""Recommendation benchmark: the grid index against a scan of every unit, with moving units.

    python -m bench.recommendation [--units 10000] [--rounds 1000] [--updates 1000] [--seed 19]

10,000 units around Rabat, Salé and Témara (fixed seed; a mix of motorbikes and cars,
states and capabilities as on a busy evening, 5 % of trackers silent, so stale). Each round
stands for one second: 1,000 position reports are applied (`accept_position`, the `Unit`
replaced, `GridIndex.upsert`), then one incident at a random place gets `recommend` (top 5)
and, on the same data, `brute_force_recommend`; both answers must be equal. Printed: the
latency of each (p50, p99, max), their ratio, and the cost of one position update. Pure
Python in one process: no database, no network, no road graph (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bench.stats import quantile as _pct
from dispatch_core.recommend import brute_force_recommend, recommend
from dispatch_core.spatial import GridIndex
from dispatch_core.units import Unit, UnitFix, UnitState, VehicleClass, accept_position

CENTRES = ((34.01, -6.84), (34.04, -6.79), (33.92, -6.91))  # Rabat, Salé, Témara
SPREAD_DEG = 0.03  # one standard deviation, about 3 km
STATES = (
    [UnitState.AVAILABLE] * 12
    + [UnitState.EN_ROUTE, UnitState.ON_SCENE] * 2
    + [UnitState.DISPATCHED, UnitState.RETURNING, UnitState.OUT_OF_SERVICE, UnitState.PROPOSED]
)
START = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def _place(rng: random.Random) -> tuple[float, float]:
    lat, lon = rng.choice(CENTRES)
    return lat + rng.gauss(0, SPREAD_DEG), lon + rng.gauss(0, SPREAD_DEG)


def _fleet(rng: random.Random, count: int) -> dict[str, Unit]:
    units = {}
    for n in range(count):
        capabilities = frozenset(c for c in ("first_aid", "breathalyser") if rng.random() < 0.2)
        age = rng.uniform(0, 60)
        fix = UnitFix(*_place(rng), START - timedelta(seconds=age), rng.uniform(3, 30))
        vehicle = VehicleClass.MOTORBIKE if rng.random() < 0.4 else VehicleClass.CAR
        units[f"u{n}"] = Unit(f"u{n}", f"R-{n}", vehicle, "rabat", capabilities,
                              rng.choice(STATES), fix)  # fmt: skip
    return units


def _moves(
    rng: random.Random, units: dict[str, Unit], movers: list[str], count: int, now: datetime
) -> list[tuple[str, UnitFix]]:
    """`count` position reports: a unit a few tens of metres from where it was."""
    batch = []
    for unit_id in rng.choices(movers, k=count):
        fix = units[unit_id].position
        assert fix is not None
        lat, lon = fix.lat + rng.gauss(0, 0.0004), fix.lon + rng.gauss(0, 0.0004)
        batch.append((unit_id, UnitFix(lat, lon, now - timedelta(seconds=rng.uniform(0, 2)), 8)))
    return batch


def run(units_count: int, rounds: int, updates: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    units = _fleet(rng, units_count)
    index = GridIndex(cell_m=250)
    for unit in units.values():
        assert unit.position is not None
        index.upsert(unit.id, unit.position.lat, unit.position.lon)
    ids = sorted(units)
    movers = [u for u in ids if rng.random() >= 0.05]  # the rest are silent trackers: stale
    fast: list[float] = []
    slow: list[float] = []
    update_s = 0.0
    stale_seen = 0
    for n in range(rounds):
        now = START + timedelta(seconds=n + 1)
        batch = _moves(rng, units, movers, updates, now)
        start = time.perf_counter()
        for unit_id, new in batch:
            unit = units[unit_id]
            accepted = accept_position(unit.position, new, now)
            if isinstance(accepted, UnitFix):
                units[unit_id] = replace(unit, position=accepted)
                index.upsert(unit_id, accepted.lat, accepted.lon)
        update_s += time.perf_counter() - start
        lat, lon = _place(rng)
        start = time.perf_counter()
        found = recommend(lat, lon, units, index, now=now)
        fast.append(time.perf_counter() - start)
        start = time.perf_counter()
        expected = brute_force_recommend(lat, lon, units, now=now)
        slow.append(time.perf_counter() - start)
        if found != expected:
            raise AssertionError(f"round {n}: index {found} != scan {expected}")
        stale_seen += sum(c.stale for c in found)
    upsert_s = _upsert_only(rng, index, units, movers)
    return {
        "fast_p50": _pct(fast, 0.50), "fast_p99": _pct(fast, 0.99), "fast_max": max(fast),
        "slow_p50": _pct(slow, 0.50), "slow_p99": _pct(slow, 0.99), "slow_max": max(slow),
        "fast_mean": statistics.fmean(fast), "slow_mean": statistics.fmean(slow),
        "update_us": update_s / (rounds * updates) * 1e6, "upsert_us": upsert_s * 1e6,
        "available": sum(u.state is UnitState.AVAILABLE for u in units.values()),
        "stale_share": stale_seen / max(1, 5 * rounds),
    }  # fmt: skip


def _upsert_only(
    rng: random.Random, index: GridIndex, units: dict[str, Unit], movers: list[str]
) -> float:
    """Seconds per `GridIndex.upsert` alone, over 100,000 moves."""
    batch = _moves(rng, units, movers, 100_000, START)
    start = time.perf_counter()
    for unit_id, fix in batch:
        index.upsert(unit_id, fix.lat, fix.lon)
    return (time.perf_counter() - start) / len(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    r = run(args.units, args.rounds, args.updates, args.seed)
    ms = 1000.0
    print(f"{datetime.now(UTC):%Y-%m-%d} {args.units} units (Rabat, Salé, Témara; seed "
          f"{args.seed}, {r['available']:.0f} available), {args.rounds} rounds of "
          f"{args.updates} position updates then one recommendation (top 5)")  # fmt: skip
    print(f"  recommend (grid 250 m): p50 {r['fast_p50'] * ms:.3f} ms, p99 "
          f"{r['fast_p99'] * ms:.3f} ms, max {r['fast_max'] * ms:.3f} ms")  # fmt: skip
    print(f"  brute force (scan):     p50 {r['slow_p50'] * ms:.3f} ms, p99 "
          f"{r['slow_p99'] * ms:.3f} ms, max {r['slow_max'] * ms:.3f} ms")  # fmt: skip
    print(f"  brute force / grid: p50 x{r['slow_p50'] / r['fast_p50']:.1f}, p99 "
          f"x{r['slow_p99'] / r['fast_p99']:.1f}; top 5 equal in every round; "
          f"{r['stale_share']:.1%} of the proposed candidates stale")  # fmt: skip
    print(f"  position update: {r['update_us']:.2f} us per fix (accept_position, Unit "
          f"replaced, index upsert); index upsert alone {r['upsert_us']:.2f} us")  # fmt: skip
    met = r["fast_p99"] <= 0.001 and r["slow_p99"] / r["fast_p99"] >= 10
    print(f"  goal (p99 <= 1 ms and >= 10x faster than the scan): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()

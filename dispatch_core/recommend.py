"""Which units to propose for an incident, best first.

Rules (docs/dispatch.md): a candidate is an *available* unit with a known position, within
`max_radius_m` (great circle), with every required capability, not excluded (asked before
for this incident). Its ETA is the straight-line distance times a detour factor, at its
vehicle class's city speed; a fix older than `max_fix_age_s` is kept but flagged stale and
its ETA gets `stale_penalty_s` more. Ranked by (ETA, distance, unit id).

`recommend` reads the grid index outwards from the incident (250 m, then doubling) and stops
once it holds `limit` candidates that no unit farther out can beat: a unit beyond radius r
needs more than r at the fastest class's speed. `brute_force_recommend` scans every unit:
same rules, same answer; it is the reference for the tests and the benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from dispatch_core.location import distance_m
from dispatch_core.spatial import GridIndex
from dispatch_core.units import Unit, UnitState, VehicleClass

# Assumptions to be calibrated on the units' own tracks (en_route -> on_scene), not measured.
DEFAULT_SPEEDS_KMH: Mapping[VehicleClass, float] = MappingProxyType(
    {VehicleClass.MOTORBIKE: 35.0, VehicleClass.CAR: 28.0}
)
DETOUR_FACTOR = 1.3  # road distance over straight-line distance in a city
STALE_PENALTY_S = 120.0
FIRST_RADIUS_M = 250.0  # the first ring read; doubled until the top is sure

Score = tuple[float, float, str, float]  # (eta_s, distance_m, unit_id, fix_age_s): ranked


@dataclass(frozen=True)
class Candidate:
    unit_id: str
    vehicle: VehicleClass
    eta_s: float
    distance_m: float
    fix_age_s: float
    stale: bool
    reason: str  # "car, 2.1 km, ETA 4 min, fix 20 s old"
    by_road: bool = False  # eta_s is a road time (dispatch_core.roads.rerank)


@dataclass(frozen=True)
class _Rules:
    lat: float
    lon: float
    now: datetime
    max_radius_m: float
    max_fix_age_s: float
    stale_penalty_s: float
    m_per_s: Mapping[VehicleClass, float]  # straight-line metres per second (detour applied)
    required: frozenset[str]
    exclude: frozenset[str]

    def score(self, unit: Unit) -> Score | None:
        """The unit's ranking key, or None if it is not a candidate."""
        fix = unit.position
        if fix is None or unit.state is not UnitState.AVAILABLE or unit.id in self.exclude:
            return None
        if not self.required <= unit.capabilities:
            return None
        distance = distance_m(self.lat, self.lon, fix.lat, fix.lon)
        if distance > self.max_radius_m:
            return None
        eta = distance / self.m_per_s[unit.vehicle]
        age = max(0.0, (self.now - fix.at).total_seconds())
        if age > self.max_fix_age_s:
            eta += self.stale_penalty_s
        return eta, distance, unit.id, age

    def candidate(self, unit: Unit, score: Score) -> Candidate:
        eta, distance, _, age = score
        stale = age > self.max_fix_age_s
        reason = f"{unit.vehicle}, {distance / 1000:.1f} km, ETA {minutes(eta)}, fix {_age(age)}"
        if stale:
            reason += f" (stale: +{self.stale_penalty_s:.0f} s)"
        return Candidate(unit.id, unit.vehicle, eta, distance, age, stale, reason)


def minutes(seconds: float) -> str:
    """An ETA as a reason shows it: "<1 min", "4 min"."""
    return "<1 min" if seconds < 60 else f"{round(seconds / 60)} min"


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s old"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min old"
    return f"{seconds / 3600:.0f} h old"


def _rules(
    lat: float,
    lon: float,
    now: datetime,
    max_radius_m: float,
    max_fix_age_s: float,
    stale_penalty_s: float,
    speed_profiles: Mapping[VehicleClass, float],
    detour_factor: float,
    required: frozenset[str],
    exclude: frozenset[str],
    limit: int,
) -> _Rules:
    if limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    missing = [str(v) for v in VehicleClass if v not in speed_profiles]
    if missing:
        raise ValueError(f"no speed for {', '.join(missing)}")
    if not all(math.isfinite(s) and s > 0 for s in speed_profiles.values()):
        raise ValueError("speeds must be positive km/h")
    if not (math.isfinite(detour_factor) and detour_factor >= 1):
        raise ValueError("the detour factor is at least 1")
    m_per_s = {v: kmh / 3.6 / detour_factor for v, kmh in speed_profiles.items()}
    return _Rules(lat, lon, now, max_radius_m, max_fix_age_s, stale_penalty_s, m_per_s,
                  required, exclude)  # fmt: skip


def recommend(
    incident_lat: float,
    incident_lon: float,
    units: Mapping[str, Unit],
    index: GridIndex,
    *,
    now: datetime,
    max_radius_m: float = 15_000.0,
    max_fix_age_s: float = 120.0,
    stale_penalty_s: float = STALE_PENALTY_S,
    speed_profiles: Mapping[VehicleClass, float] = DEFAULT_SPEEDS_KMH,
    detour_factor: float = DETOUR_FACTOR,
    required_capabilities: frozenset[str] = frozenset(),
    exclude: frozenset[str] = frozenset(),
    limit: int = 5,
) -> list[Candidate]:
    """The best `limit` candidates, best first. `index` must hold every unit's position."""
    rules = _rules(incident_lat, incident_lon, now, max_radius_m, max_fix_age_s,
                   stale_penalty_s, speed_profiles, detour_factor, required_capabilities,
                   exclude, limit)  # fmt: skip
    fastest = max(rules.m_per_s.values())
    radius = min(FIRST_RADIUS_M, max_radius_m)
    seen: dict[str, Score | None] = {}  # each unit is scored once, whatever the rings
    scores: list[Score] = []
    while True:
        for unit_id, _, _ in index.near(incident_lat, incident_lon, radius):
            if unit_id not in seen:
                unit = units.get(unit_id)
                score = seen[unit_id] = None if unit is None else rules.score(unit)
                if score is not None:
                    scores.append(score)
        # A unit farther than `radius` cannot arrive sooner than this (1e-9: float rounding).
        sure = radius / fastest * (1 - 1e-9)
        if radius >= max_radius_m or sum(1 for s in scores if s[0] <= sure) >= limit:
            break
        radius = min(radius * 2, max_radius_m)
    scores.sort()
    return [rules.candidate(units[s[2]], s) for s in scores[:limit]]


def brute_force_recommend(
    incident_lat: float,
    incident_lon: float,
    units: Mapping[str, Unit],
    *,
    now: datetime,
    max_radius_m: float = 15_000.0,
    max_fix_age_s: float = 120.0,
    stale_penalty_s: float = STALE_PENALTY_S,
    speed_profiles: Mapping[VehicleClass, float] = DEFAULT_SPEEDS_KMH,
    detour_factor: float = DETOUR_FACTOR,
    required_capabilities: frozenset[str] = frozenset(),
    exclude: frozenset[str] = frozenset(),
    limit: int = 5,
) -> list[Candidate]:
    """`recommend`'s answer by scanning every unit (no index)."""
    rules = _rules(incident_lat, incident_lon, now, max_radius_m, max_fix_age_s,
                   stale_penalty_s, speed_profiles, detour_factor, required_capabilities,
                   exclude, limit)  # fmt: skip
    scores = sorted(s for unit in units.values() if (s := rules.score(unit)) is not None)
    return [rules.candidate(units[s[2]], s) for s in scores[:limit]]

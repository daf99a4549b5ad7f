"""Which units are proposed, in which order, and why (dispatch_core.recommend)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch_core.recommend import DEFAULT_SPEEDS_KMH, brute_force_recommend, recommend
from dispatch_core.spatial import M_PER_DEGREE_LAT, GridIndex
from dispatch_core.units import Unit, UnitFix, UnitState, VehicleClass

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
INCIDENT = (34.0209, -6.8416)  # Rabat, Bab El Had
CAR, BIKE = VehicleClass.CAR, VehicleClass.MOTORBIKE


def unit(
    uid: str,
    north_m: float,
    vehicle: VehicleClass = CAR,
    *,
    age_s: float = 20.0,
    state: UnitState = UnitState.AVAILABLE,
    capabilities: frozenset[str] = frozenset(),
) -> Unit:
    """A unit `north_m` metres due north of the incident, its fix `age_s` old."""
    fix = UnitFix(INCIDENT[0] + north_m / M_PER_DEGREE_LAT, INCIDENT[1],
                  NOW - timedelta(seconds=age_s), 10.0)  # fmt: skip
    return Unit(uid, uid.upper(), vehicle, "rabat", capabilities, state, fix)


def fleet(*units: Unit) -> tuple[dict[str, Unit], GridIndex]:
    index = GridIndex()
    for u in units:
        if u.position is not None:
            index.upsert(u.id, u.position.lat, u.position.lon)
    return {u.id: u for u in units}, index


def ids(units: dict[str, Unit], index: GridIndex, **options: Any) -> list[str]:
    found = recommend(*INCIDENT, units, index, now=NOW, **options)
    assert found == brute_force_recommend(*INCIDENT, units, now=NOW, **options)
    return [c.unit_id for c in found]


def test_candidates_are_ranked_by_eta_so_a_farther_motorbike_can_beat_a_car() -> None:
    units, index = fleet(unit("car", 2000, CAR), unit("bike", 2400, BIKE), unit("far", 5000))
    assert ids(units, index) == ["bike", "car", "far"]  # 35 km/h against 28 km/h


def test_the_eta_is_the_straight_line_with_the_detour_at_the_class_speed() -> None:
    units, index = fleet(unit("car", 2100, CAR))
    [candidate] = recommend(*INCIDENT, units, index, now=NOW)
    assert candidate.distance_m == pytest.approx(2100, abs=0.5)
    assert candidate.eta_s == pytest.approx(2100 * 1.3 / (DEFAULT_SPEEDS_KMH[CAR] / 3.6), abs=0.1)


def test_the_reason_tells_class_distance_eta_and_fix_age() -> None:
    units, index = fleet(unit("car", 2100, CAR), unit("bike", 300, BIKE, age_s=4))
    found = recommend(*INCIDENT, units, index, now=NOW)
    assert [c.reason for c in found] == [
        "motorbike, 0.3 km, ETA <1 min, fix 4 s old",
        "car, 2.1 km, ETA 6 min, fix 20 s old",
    ]


def test_a_stale_fix_is_kept_flagged_and_penalised_behind_a_fresh_one() -> None:
    units, index = fleet(unit("stale", 1000, age_s=600), unit("fresh", 1300, age_s=30))
    stale_first = ids(units, index, stale_penalty_s=0.0)
    found = recommend(*INCIDENT, units, index, now=NOW, stale_penalty_s=120.0)
    assert stale_first == ["stale", "fresh"]
    assert [c.unit_id for c in found] == ["fresh", "stale"]
    stale = found[1]
    assert stale.stale and not found[0].stale
    assert stale.eta_s == pytest.approx(1000 * 1.3 / (28 / 3.6) + 120.0, abs=0.1)
    assert stale.fix_age_s == 600
    assert stale.reason == "car, 1.0 km, ETA 5 min, fix 10 min old (stale: +120 s)"


def test_a_fix_just_at_the_maximum_age_is_not_stale() -> None:
    units, index = fleet(unit("u", 500, age_s=120))
    assert not recommend(*INCIDENT, units, index, now=NOW, max_fix_age_s=120)[0].stale


def test_only_units_with_every_required_capability_are_candidates() -> None:
    units, index = fleet(
        unit("plain", 200),
        unit("aid", 900, capabilities=frozenset({"first_aid"})),
        unit("both", 1500, capabilities=frozenset({"first_aid", "breathalyser"})),
    )
    assert ids(units, index, required_capabilities=frozenset({"first_aid"})) == ["aid", "both"]
    assert ids(units, index, required_capabilities=frozenset({"first_aid", "breathalyser"})) == [
        "both"
    ]


@pytest.mark.parametrize("state", [s for s in UnitState if s is not UnitState.AVAILABLE])
def test_a_unit_that_is_not_available_is_not_a_candidate(state: UnitState) -> None:
    units, index = fleet(unit("busy", 100, state=state), unit("free", 3000))
    assert ids(units, index) == ["free"]


def test_a_unit_without_a_position_or_beyond_the_radius_is_not_a_candidate() -> None:
    nowhere = Unit("nowhere", "X", CAR, "rabat", state=UnitState.AVAILABLE)
    units, index = fleet(nowhere, unit("far", 15_100), unit("edge", 14_900))
    assert ids(units, index) == ["edge"]
    assert ids(units, index, max_radius_m=10_000) == []


def test_units_asked_before_are_excluded_and_the_limit_is_kept() -> None:
    units, index = fleet(*(unit(f"u{n}", 100 * (n + 1)) for n in range(8)))
    assert ids(units, index) == ["u0", "u1", "u2", "u3", "u4"]
    assert ids(units, index, exclude=frozenset({"u0", "u2"}), limit=3) == ["u1", "u3", "u4"]


def test_a_motorbike_beyond_the_first_search_ring_still_beats_slower_cars_inside_it() -> None:
    cars = [unit(f"car{d}", d, CAR) for d in (900, 910, 920, 930, 990)]  # all within 1 km
    units, _ = fleet(*cars, unit("bike", 1200, BIKE))
    index = GridIndex(cell_m=100)  # fine cells: the 1 km ring does not reach the bike's cell
    for u in units.values():
        assert u.position is not None
        index.upsert(u.id, u.position.lat, u.position.lon)
    assert ids(units, index) == ["car900", "car910", "car920", "car930", "bike"]


def test_a_speed_profile_must_cover_every_class() -> None:
    units, index = fleet(unit("u", 100))
    with pytest.raises(ValueError, match="no speed for motorbike"):
        recommend(*INCIDENT, units, index, now=NOW, speed_profiles={CAR: 30.0})


def test_a_negative_limit_is_refused_and_zero_proposes_nobody() -> None:
    units, index = fleet(unit("u", 100))
    with pytest.raises(ValueError, match="limit must not be negative"):
        brute_force_recommend(*INCIDENT, units, now=NOW, limit=-1)
    assert ids(units, index, limit=0) == []


@pytest.mark.parametrize("seed", range(5))
def test_the_index_gives_the_same_ranking_as_a_scan_on_random_fleets(seed: int) -> None:
    rng = random.Random(seed)
    units = {}
    for n in range(rng.choice([50, 400, 2000])):
        fix = None
        if rng.random() > 0.05:
            fix = UnitFix(34.0 + rng.gauss(0, 0.05), -6.84 + rng.gauss(0, 0.05),
                          NOW - timedelta(seconds=rng.uniform(-30, 400)), 10.0)  # fmt: skip
        units[f"u{n}"] = Unit(
            f"u{n}", f"U{n}", rng.choice([CAR, BIKE]), "rabat",
            frozenset(c for c in ("first_aid", "k9") if rng.random() < 0.3),
            rng.choice([UnitState.AVAILABLE] * 3 + [UnitState.EN_ROUTE, UnitState.PROPOSED]),
            fix,
        )  # fmt: skip
    index = GridIndex(cell_m=rng.choice([200.0, 500.0, 2000.0]))
    for u in units.values():
        if u.position is not None:
            index.upsert(u.id, u.position.lat, u.position.lon)
    for _ in range(40):
        lat, lon = 34.0 + rng.gauss(0, 0.08), -6.84 + rng.gauss(0, 0.08)
        options: dict[str, Any] = {
            "now": NOW,
            "limit": rng.choice([1, 5, 12]),
            "required_capabilities": rng.choice([frozenset(), frozenset({"first_aid"})]),
            "max_radius_m": rng.choice([3000.0, 15000.0]),
            "exclude": frozenset(rng.sample(sorted(units), 3)),
        }
        expected = brute_force_recommend(lat, lon, units, **options)
        assert recommend(lat, lon, units, index, **options) == expected

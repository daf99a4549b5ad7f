"""Road times replace the straight-line ETA of the best few candidates (dispatch_core.roads)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from dispatch_core.location import EARTH_RADIUS_M
from dispatch_core.recommend import Candidate, recommend
from dispatch_core.roads import Edge, RoadGraph, rerank
from dispatch_core.spatial import M_PER_DEGREE_LAT, GridIndex
from dispatch_core.units import Unit, UnitFix, UnitState, VehicleClass

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
INCIDENT = (34.0209, -6.8416)


def at(north_m: float, east_m: float) -> tuple[float, float]:
    lat = INCIDENT[0] + north_m / M_PER_DEGREE_LAT
    east = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(INCIDENT[0]))))
    return lat, INCIDENT[1] + east


# Unit "a" is 300 m north across a river: its one bridge is 1.5 km east, and the short street
# from the incident to it is one-way (inc -> a). Unit "b" is 600 m south on a straight street.
# Unit "c" stands on an island of the map with no street to anywhere.
NODES = {
    "inc": at(0, 0),
    "a": at(300, 0),
    "bridge_n": at(300, 1500),
    "bridge_s": at(0, 1500),
    "b": at(-600, 0),
    "island": at(0, -800),
}
EDGES = [
    Edge("inc", "a", 300, 40),
    Edge("a", "bridge_n", 1500, 40),
    Edge("bridge_n", "bridge_s", 300, 40),
    Edge("bridge_s", "inc", 1500, 40),
    Edge("b", "inc", 600, 40),
]
KMH_40 = 40 / 3.6


def unit(uid: str, where: tuple[float, float], *, age_s: float = 10) -> Unit:
    fix = UnitFix(*where, NOW - timedelta(seconds=age_s), 5.0)
    return Unit(uid, uid, VehicleClass.CAR, "rabat", frozenset(), UnitState.AVAILABLE, fix)


def candidates(*units: Unit) -> tuple[list[Candidate], dict[str, Unit]]:
    index = GridIndex()
    for u in units:
        assert u.position is not None
        index.upsert(u.id, u.position.lat, u.position.lon)
    by_id = {u.id: u for u in units}
    return recommend(*INCIDENT, by_id, index, now=NOW), by_id


def test_the_road_time_reorders_the_top_candidates_and_is_told_in_the_reason() -> None:
    found, units = candidates(unit("a", NODES["a"]), unit("b", NODES["b"]),
                              unit("c", NODES["island"]), unit("d", at(0, 2000)))  # fmt: skip
    assert [c.unit_id for c in found] == ["a", "b", "c", "d"]
    graph = RoadGraph(NODES, EDGES)
    routed = rerank(found, graph, *INCIDENT, units, top=3)
    assert [c.unit_id for c in routed] == ["b", "a", "c", "d"]
    b, a, c, d = routed
    assert b.eta_s == pytest.approx(600 / KMH_40, abs=0.01)
    assert a.eta_s == pytest.approx(3300 / KMH_40, abs=0.01)  # the bridge, not the one-way
    assert b.reason == "car, 0.6 km, ETA 2 min, fix 10 s old; by road ETA <1 min"
    assert a.reason == "car, 0.3 km, ETA <1 min, fix 10 s old; by road ETA 5 min"
    assert (b.by_road, a.by_road, c.by_road) == (True, True, False)
    assert c.reason.endswith("; no road path") and c.eta_s == found[2].eta_s
    assert d == found[3]  # beyond `top`: untouched


def test_the_walk_in_legs_count_at_the_class_speed_and_a_stale_fix_keeps_its_penalty() -> None:
    found, units = candidates(unit("b", at(-700, 0), age_s=600))  # 100 m south of node b
    [routed] = rerank(found, RoadGraph(NODES, EDGES), *INCIDENT, units, stale_penalty_s=120)
    walk_in = 100 / (28 / 3.6)
    assert routed.stale and routed.eta_s == pytest.approx(600 / KMH_40 + walk_in + 120, abs=0.5)


def test_an_empty_graph_leaves_every_candidate_on_its_straight_line_eta() -> None:
    found, units = candidates(unit("a", NODES["a"]))
    [same] = rerank(found, RoadGraph({}, []), *INCIDENT, units)
    assert same.eta_s == found[0].eta_s and same.reason.endswith("; no road path")


def test_an_edge_to_an_unknown_node_or_with_no_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown node"):
        RoadGraph(NODES, [Edge("a", "nowhere", 10, 30)])
    with pytest.raises(ValueError, match="bad length or speed"):
        RoadGraph(NODES, [Edge("a", "b", 10, 0)])


def test_shortest_times_to_a_node_follow_the_one_way_streets() -> None:
    graph = RoadGraph(NODES, EDGES)
    times = graph.seconds_to("inc", {"a", "b", "island", "inc"})
    assert times == pytest.approx({"inc": 0.0, "a": 3300 / KMH_40, "b": 600 / KMH_40})

"""Road times for the best few candidates: a small road graph as plain data, and `rerank`.

The graph is loaded elsewhere (an adapter turns a GraphML export of the streets into nodes
and edges); here is only the pure part. Times run *to* the incident: Dijkstra from the
incident's nearest node over the reversed edges, so that one-way streets count, stopping
once every candidate's node is settled. A unit's road ETA is the straight walk-in legs
(unit -> its nearest node, the incident's node -> the incident, at its class's city speed)
plus the path's time; a stale fix keeps its penalty.

`nearest_node` scans every node: right for a district's graph of a few thousand nodes, not
for a whole city's (that would need the nodes in a `GridIndex`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from dispatch_core.location import distance_m
from dispatch_core.recommend import DEFAULT_SPEEDS_KMH, STALE_PENALTY_S, Candidate, minutes
from dispatch_core.units import Unit, VehicleClass


@dataclass(frozen=True)
class Edge:
    """A street segment that may be driven from `source` to `target`."""

    source: str
    target: str
    length_m: float
    speed_kmh: float  # what a unit can hold there with its siren on


class RoadGraph:
    def __init__(self, nodes: Mapping[str, tuple[float, float]], edges: Iterable[Edge]) -> None:
        self.nodes = dict(nodes)  # node id -> (lat, lon)
        self._into: dict[str, list[tuple[str, float]]] = {}  # target -> [(source, seconds)]
        for edge in edges:
            if edge.source not in self.nodes or edge.target not in self.nodes:
                raise ValueError(f"edge {edge.source}->{edge.target}: unknown node")
            if not (edge.length_m >= 0 and edge.speed_kmh > 0 and math.isfinite(edge.length_m)):
                raise ValueError(f"edge {edge.source}->{edge.target}: bad length or speed")
            seconds = edge.length_m / (edge.speed_kmh / 3.6)
            self._into.setdefault(edge.target, []).append((edge.source, seconds))

    def nearest_node(self, lat: float, lon: float) -> tuple[str, float] | None:
        """(node id, metres) of the node nearest to the point; None for an empty graph."""
        found = ((distance_m(lat, lon, n_lat, n_lon), node)
                 for node, (n_lat, n_lon) in self.nodes.items())  # fmt: skip
        best = min(found, default=None)
        return None if best is None else (best[1], best[0])

    def seconds_to(self, target: str, sources: Collection[str]) -> dict[str, float]:
        """The shortest driving time from each reachable source node to `target`."""
        left = set(sources)
        settled: dict[str, float] = {}
        heap: list[tuple[float, str]] = [(0.0, target)]
        while heap and left:
            seconds, node = heapq.heappop(heap)
            if node in settled:
                continue
            settled[node] = seconds
            left.discard(node)
            for previous, cost in self._into.get(node, ()):
                if previous not in settled:
                    heapq.heappush(heap, (seconds + cost, previous))
        return {node: settled[node] for node in sources if node in settled}


def rerank(
    candidates: Sequence[Candidate],
    graph: RoadGraph,
    incident_lat: float,
    incident_lon: float,
    units: Mapping[str, Unit],
    *,
    top: int = 3,
    speed_profiles: Mapping[VehicleClass, float] = DEFAULT_SPEEDS_KMH,
    stale_penalty_s: float = STALE_PENALTY_S,
) -> list[Candidate]:
    """The first `top` candidates with their road ETA, re-ordered among themselves, then the
    rest unchanged (a road time and a straight-line estimate are not compared). A candidate
    with no road path keeps its straight-line ETA and goes after those that have one."""
    head, tail = list(candidates[:top]), list(candidates[top:])
    goal = graph.nearest_node(incident_lat, incident_lon)
    starts: dict[str, tuple[str, float]] = {}
    for candidate in head:
        fix = units[candidate.unit_id].position
        start = None if fix is None else graph.nearest_node(fix.lat, fix.lon)
        if start is not None:
            starts[candidate.unit_id] = start
    times = {} if goal is None else graph.seconds_to(goal[0], {n for n, _ in starts.values()})
    routed: list[Candidate] = []
    for candidate in head:
        start = starts.get(candidate.unit_id)
        if goal is None or start is None or start[0] not in times:
            routed.append(replace(candidate, reason=f"{candidate.reason}; no road path"))
            continue
        m_per_s = speed_profiles[candidate.vehicle] / 3.6
        eta = times[start[0]] + (start[1] + goal[1]) / m_per_s
        eta += stale_penalty_s if candidate.stale else 0.0
        reason = f"{candidate.reason}; by road ETA {minutes(eta)}"
        routed.append(replace(candidate, eta_s=eta, by_road=True, reason=reason))
    routed.sort(key=lambda c: (not c.by_road, c.eta_s, c.distance_m, c.unit_id))
    return routed + tail

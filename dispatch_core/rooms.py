"""Command rooms' service areas, and the room a location belongs to.

A room's area is a circle (centre and radius) or a polygon (a list of (lat, lon) vertices).
A call goes to the room whose area holds its best location; where areas overlap (Rabat,
Salé and Témara touch), to the one whose centre is nearest; outside every area, to the
trunk's default room (`dispatch_core.calls.choose_room`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dispatch_core.location import distance_m


@dataclass(frozen=True)
class Area:
    latitude: float  # the centre (of a polygon: the mean of its vertices)
    longitude: float
    radius_m: float | None = None  # a circle
    polygon: tuple[tuple[float, float], ...] = ()  # or a polygon, (lat, lon) vertices

    @classmethod
    def of_polygon(cls, vertices: tuple[tuple[float, float], ...]) -> Area:
        if len(vertices) < 3:
            raise ValueError("a polygon has at least 3 vertices")
        lat = sum(v[0] for v in vertices) / len(vertices)
        lon = sum(v[1] for v in vertices) / len(vertices)
        return cls(lat, lon, None, vertices)

    def contains(self, latitude: float, longitude: float) -> bool:
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            return False
        if self.polygon:
            return _inside(self.polygon, latitude, longitude)
        radius = self.radius_m or 0.0
        return distance_m(self.latitude, self.longitude, latitude, longitude) <= radius


def _inside(vertices: tuple[tuple[float, float], ...], lat: float, lon: float) -> bool:
    """Ray casting on (lon, lat) as a plane: right for areas of a city's size."""
    inside = False
    j = len(vertices) - 1
    for i, (lat_i, lon_i) in enumerate(vertices):
        lat_j, lon_j = vertices[j]
        if (lat_i > lat) != (lat_j > lat):
            crossing = lon_i + (lat - lat_i) * (lon_j - lon_i) / (lat_j - lat_i)
            if lon < crossing:
                inside = not inside
        j = i
    return inside


def room_for(latitude: float, longitude: float, areas: dict[str, Area]) -> str | None:
    """The room whose area holds the point (nearest centre among several), or None."""
    holding = [(distance_m(a.latitude, a.longitude, latitude, longitude), room)
               for room, a in areas.items() if a.contains(latitude, longitude)]  # fmt: skip
    return min(holding)[1] if holding else None

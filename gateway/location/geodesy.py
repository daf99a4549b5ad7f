"""Great-circle distances and the "centre + covering radius" reduction of a vertex list.

Shapes other than circles are reduced to a centre and the radius of a circle around it
that holds every vertex. The centre is the mean of the vertices (longitudes unwrapped
around the first vertex, so a shape across the ±180° meridian keeps a sensible mean); the
radius is the largest haversine distance from that centre to a vertex. For the small
shapes a location server sends (metres to kilometres) this is within centimetres of any
more careful spherical construction, and it never understates the area.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS 84 positions (spherical Earth)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _unwrap(lon: float, reference: float) -> float:
    while lon - reference > 180:
        lon -= 360
    while lon - reference < -180:
        lon += 360
    return lon


def _wrap(lon: float) -> float:
    wrapped = (lon + 180) % 360 - 180
    return 180.0 if wrapped == -180 and lon > 0 else wrapped


def centre_and_radius(vertices: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """(lat, lon, radius_m) of the vertex mean and the farthest vertex from it."""
    if not vertices:
        raise ValueError("no vertices")
    first_lon = vertices[0][1]
    lons = [_unwrap(lon, first_lon) for _, lon in vertices]
    lat = sum(lat for lat, _ in vertices) / len(vertices)
    lon = _wrap(sum(lons) / len(lons))
    radius = max(haversine_m(lat, lon, v_lat, v_lon) for v_lat, v_lon in vertices)
    return lat, lon, radius

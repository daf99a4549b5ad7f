"""Street cameras near an incident, nearest first, for the operator's screen."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from dispatch_core.location import distance_m


@dataclass(frozen=True)
class Camera:
    id: str
    name: str  # where it looks, as the operators know it ("Bab El Had, towards the medina")
    lat: float
    lon: float
    stream_url: str  # opened by the console, never by the domain


@dataclass(frozen=True)
class NearbyCamera:
    camera: Camera
    distance_m: float


def nearest_cameras(
    lat: float, lon: float, cameras: Iterable[Camera], limit: int = 3, max_m: float = 1000.0
) -> list[NearbyCamera]:
    """At most `limit` cameras within `max_m` metres of the point, nearest first (ties: id)."""
    found = (NearbyCamera(camera, distance_m(lat, lon, camera.lat, camera.lon))
             for camera in cameras)  # fmt: skip
    near = (hit for hit in found if hit.distance_m <= max_m)
    return heapq.nsmallest(limit, near, key=lambda hit: (hit.distance_m, hit.camera.id))

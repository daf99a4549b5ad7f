"""The cameras shown beside an incident: the nearest few within a distance."""

from __future__ import annotations

from dispatch_core.cameras import Camera, nearest_cameras
from dispatch_core.spatial import M_PER_DEGREE_LAT

INCIDENT = (34.0209, -6.8416)


def camera(cid: str, north_m: float) -> Camera:
    return Camera(cid, f"cam {cid}", INCIDENT[0] + north_m / M_PER_DEGREE_LAT, INCIDENT[1],
                  f"rtsp://cams.example/{cid}")  # fmt: skip


def test_the_nearest_cameras_come_first_up_to_the_limit() -> None:
    cams = [camera("far", 900), camera("near", 50), camera("mid", -300), camera("mid2", 400)]
    found = nearest_cameras(*INCIDENT, cams)
    assert [hit.camera.id for hit in found] == ["near", "mid", "mid2"]
    assert [round(hit.distance_m) for hit in found] == [50, 300, 400]


def test_cameras_beyond_the_maximum_distance_are_left_out() -> None:
    found = nearest_cameras(*INCIDENT, [camera("in", 999), camera("out", 1001)], limit=5)
    assert [hit.camera.id for hit in found] == ["in"]
    assert nearest_cameras(*INCIDENT, [camera("in", 999)], max_m=500) == []


def test_cameras_at_the_same_place_are_ordered_by_id() -> None:
    found = nearest_cameras(*INCIDENT, [camera("b", 100), camera("a", 100)], limit=1)
    assert [hit.camera.id for hit in found] == ["a"]

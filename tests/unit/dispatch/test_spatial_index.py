"""The grid index finds exactly the units within a radius, near cell borders too."""

from __future__ import annotations

import math
import random

import pytest

from dispatch_core.location import EARTH_RADIUS_M, distance_m
from dispatch_core.spatial import M_PER_DEGREE_LAT, GridIndex

RABAT = (34.0209, -6.8416)


def brute_force(
    points: dict[str, tuple[float, float]], lat: float, lon: float, r: float
) -> set[str]:
    return {
        uid for uid, (u_lat, u_lon) in points.items() if distance_m(lat, lon, u_lat, u_lon) <= r
    }


def east_of(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """The point `metres` due east along the parallel (close enough to a great circle here)."""
    return lat, lon + math.degrees(metres / (EARTH_RADIUS_M * math.cos(math.radians(lat))))


def test_random_queries_match_a_scan_of_every_point() -> None:
    rng = random.Random(6)
    index = GridIndex(cell_m=500)
    points = {}
    for n in range(3000):
        points[f"u{n}"] = (RABAT[0] + rng.uniform(-0.15, 0.15), RABAT[1] + rng.uniform(-0.18, 0.18))
        index.upsert(f"u{n}", *points[f"u{n}"])
    for _ in range(300):
        lat, lon = RABAT[0] + rng.uniform(-0.15, 0.15), RABAT[1] + rng.uniform(-0.18, 0.18)
        radius = rng.choice([50.0, 400.0, 499.0, 500.0, 501.0, 1000.0, 3000.0, 15000.0])
        found = index.within(lat, lon, radius)
        assert len(found) == len(set(found))
        assert set(found) == brute_force(points, lat, lon, radius)


def test_queries_on_and_beside_cell_borders_match_a_scan() -> None:
    rng = random.Random(19)
    index = GridIndex(cell_m=500)
    row, col = index.cell(*RABAT)
    border_lats = [(row + k) * index.cell_lat_deg for k in range(-2, 3)]
    border_lons = [(col + k) * index.cell_lon_deg for k in range(-2, 3)]
    points = {}
    for n, (lat, lon) in enumerate((a, b) for a in border_lats for b in border_lons):
        for m, (d_lat, d_lon) in enumerate([(0, 0), (1e-9, 0), (-1e-9, 0), (0, 1e-9), (0, -1e-9)]):
            points[f"b{n}.{m}"] = (lat + d_lat, lon + d_lon)
    for n in range(500):
        points[f"r{n}"] = (rng.choice(border_lats) + rng.uniform(-0.002, 0.002),
                           rng.choice(border_lons) + rng.uniform(-0.002, 0.002))  # fmt: skip
    for uid, (lat, lon) in points.items():
        index.upsert(uid, lat, lon)
    for lat in border_lats:
        for lon in border_lons:
            for radius in (0.0, 1.0, 100.0, 250.0, 500.0, 700.0):
                assert set(index.within(lat, lon, radius)) == brute_force(points, lat, lon, radius)


def test_a_unit_just_across_a_cell_border_within_the_radius_is_found() -> None:
    index = GridIndex(cell_m=500)
    row, _ = index.cell(*RABAT)
    border = (row + 1) * index.cell_lat_deg
    query = (border - 1 / M_PER_DEGREE_LAT, RABAT[1])  # 1 m south of the border
    index.upsert("north", border + 1 / M_PER_DEGREE_LAT, RABAT[1])  # 1 m north of it
    assert index.cell(*query) != index.cell(border + 1 / M_PER_DEGREE_LAT, RABAT[1])
    assert index.within(*query, 3.0) == ["north"]
    assert index.within(*query, 1.5) == []


@pytest.mark.parametrize("lat", [27.15, 31.63, 35.78])  # Laâyoune, Marrakech, Tanger
def test_longitude_is_scaled_by_latitude(lat: float) -> None:
    index = GridIndex(cell_m=500, ref_lat=30.0)
    # The query sits where a box 1 km wide in latitude degrees would end just short of a cell
    # border: only a box widened by 1/cos(lat) reaches the next cell, where the unit is.
    unscaled = math.degrees(1000 / EARTH_RADIUS_M)
    lon = -1200 * index.cell_lon_deg - unscaled - 1e-6
    index.upsert("east-990", *east_of(lat, lon, 990))
    index.upsert("east-1010", *east_of(lat, lon, 1010))
    index.upsert("west-990", *east_of(lat, lon, -990))
    assert sorted(index.within(lat, lon, 1000)) == ["east-990", "west-990"]


def test_a_wide_query_over_a_sparse_grid_finds_exactly_the_units_within_it() -> None:
    index = GridIndex(cell_m=100)  # a 30 km box holds ~90,000 cells; 4 are occupied
    points = {"in": east_of(*RABAT, 14_000), "out": east_of(*RABAT, 16_000),
              "south": (RABAT[0] - 10_000 / M_PER_DEGREE_LAT, RABAT[1]), "here": RABAT}  # fmt: skip
    for uid, (lat, lon) in points.items():
        index.upsert(uid, lat, lon)
    assert sorted(index.within(*RABAT, 15_000)) == ["here", "in", "south"]
    assert sorted(index.within(*RABAT, 15_000)) == sorted(brute_force(points, *RABAT, 15_000))


def test_upsert_moves_a_unit_and_remove_forgets_it() -> None:
    index = GridIndex(cell_m=500)
    index.upsert("u1", *RABAT)
    index.upsert("u1", *east_of(*RABAT, 5000))
    assert len(index) == 1 and index.within(*RABAT, 1000) == []
    assert index.within(*east_of(*RABAT, 5000), 10) == ["u1"]
    index.remove("u1")
    index.remove("never-there")
    assert "u1" not in index and len(index) == 0
    assert index.within(*east_of(*RABAT, 5000), 10) == []
    assert index.position("u1") is None


@pytest.mark.parametrize(("lat", "lon"), [(math.nan, -6.8), (34.0, math.inf), (91.0, -6.8)])
def test_an_invalid_position_is_refused(lat: float, lon: float) -> None:
    with pytest.raises(ValueError, match="invalid position"):
        GridIndex().upsert("u1", lat, lon)


def test_a_cell_size_that_is_not_a_positive_length_is_refused() -> None:
    with pytest.raises(ValueError, match="cell_m"):
        GridIndex(cell_m=0)

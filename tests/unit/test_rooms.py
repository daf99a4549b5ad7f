"""A call goes to the room whose service area holds its location (dispatch_core.rooms)."""

from __future__ import annotations

import math

import pytest

from dispatch_core.rooms import Area, room_for
from gateway.settings import Settings

SQUARE = Area.of_polygon(((34.0, -6.9), (34.1, -6.9), (34.1, -6.7), (34.0, -6.7)))


def test_a_point_in_a_circle_or_a_polygon_is_held_by_it() -> None:
    circle = Area(34.02, -6.84, 5_000)
    assert circle.contains(34.03, -6.83) and not circle.contains(34.30, -6.50)
    assert SQUARE.contains(34.05, -6.80) and not SQUARE.contains(34.05, -6.60)
    assert not circle.contains(math.nan, -6.84)


def test_where_areas_overlap_the_nearest_centre_wins_and_outside_all_there_is_none() -> None:
    areas = Settings().room_areas()
    assert room_for(34.0209, -6.8416, areas) == "rabat"  # near the Rabat centre, in Salé's too
    assert room_for(34.0531, -6.7985, areas) == "sale"
    assert room_for(31.6258, -7.9891, areas) == "marrakech"
    assert room_for(30.42, -9.60, areas) is None  # Agadir: no room there, the trunk decides


def test_a_polygon_needs_three_vertices() -> None:
    with pytest.raises(ValueError, match="3 vertices"):
        Area.of_polygon(((34.0, -6.9), (34.1, -6.9)))

"""An in-memory grid of unit positions: which units are within a radius of a point.

The grid is uniform in degrees: a cell is `cell_m` metres tall, and as wide in degrees as
`cell_m` metres is at `ref_lat` (Morocco's middle by default). The cell width only matters
for speed; correctness comes from the query, which works out the bounding box of the disc
on the same sphere as `dispatch_core.location.distance_m`: dlat = r/R, and
dlon = asin(sin(r/R) / cos(lat)), the widest longitude the disc reaches at the query's own
latitude (wider than r/R for any latitude but the equator). Only the cells that overlap
that box are read, and each of their units is checked with the exact distance.

`upsert` and `remove` are O(1) (two dict operations). A query reads the cells of its box, or
the occupied cells when there are fewer of those (a wide radius over a sparse grid). The
antimeridian and the poles are not handled: the service area is Morocco.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from dispatch_core.location import EARTH_RADIUS_M, distance_m

M_PER_DEGREE_LAT = EARTH_RADIUS_M * math.pi / 180
_MARGIN_DEG = 1e-9  # ~0.1 mm: float rounding never drops a unit on the box's edge

Cell = tuple[int, int]


class GridIndex:
    """Unit id -> (lat, lon), bucketed by grid cell."""

    def __init__(self, cell_m: float = 250.0, ref_lat: float = 32.0) -> None:
        if not (math.isfinite(cell_m) and cell_m > 0):
            raise ValueError(f"cell_m must be a positive number of metres, not {cell_m}")
        if not -80 <= ref_lat <= 80:
            raise ValueError(f"ref_lat must lie within 80 degrees of the equator, not {ref_lat}")
        self.cell_m = cell_m
        self.cell_lat_deg = cell_m / M_PER_DEGREE_LAT
        self.cell_lon_deg = self.cell_lat_deg / math.cos(math.radians(ref_lat))
        self._cells: dict[Cell, dict[str, tuple[float, float]]] = {}
        self._cell_of: dict[str, Cell] = {}

    def __len__(self) -> int:
        return len(self._cell_of)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._cell_of

    def cell(self, lat: float, lon: float) -> Cell:
        return math.floor(lat / self.cell_lat_deg), math.floor(lon / self.cell_lon_deg)

    def position(self, unit_id: str) -> tuple[float, float] | None:
        cell = self._cell_of.get(unit_id)
        return None if cell is None else self._cells[cell][unit_id]

    def upsert(self, unit_id: str, lat: float, lon: float) -> None:
        """Put the unit at (lat, lon), wherever it was before."""
        if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
            raise ValueError(f"unit {unit_id}: invalid position ({lat}, {lon})")
        cell = self.cell(lat, lon)
        old = self._cell_of.get(unit_id)
        if old is not None and old != cell:
            self._drop(unit_id, old)
        self._cells.setdefault(cell, {})[unit_id] = (lat, lon)
        self._cell_of[unit_id] = cell

    def remove(self, unit_id: str) -> None:
        """Forget the unit (nothing happens if it was not there)."""
        old = self._cell_of.pop(unit_id, None)
        if old is not None:
            self._drop(unit_id, old)

    def _drop(self, unit_id: str, cell: Cell) -> None:
        bucket = self._cells[cell]
        del bucket[unit_id]
        if not bucket:
            del self._cells[cell]

    def near(self, lat: float, lon: float, radius_m: float) -> Iterator[tuple[str, float, float]]:
        """(id, lat, lon) of every unit in the cells the disc overlaps: a superset of `within`."""
        delta = radius_m / EARTH_RADIUS_M
        dlat = math.degrees(delta) + _MARGIN_DEG
        cos_lat = math.cos(math.radians(lat))
        if math.sin(delta) >= cos_lat:
            dlon = 180.0
        else:
            dlon = math.degrees(math.asin(math.sin(delta) / cos_lat)) + _MARGIN_DEG
        row0, col0 = self.cell(lat - dlat, lon - dlon)
        row1, col1 = self.cell(lat + dlat, lon + dlon)
        if (row1 - row0 + 1) * (col1 - col0 + 1) <= len(self._cells):
            boxed = (self._cells.get((row, col)) for row in range(row0, row1 + 1)
                     for col in range(col0, col1 + 1))  # fmt: skip
        else:  # a wide box over a sparse grid: fewer occupied cells than cells in the box
            boxed = (bucket for (row, col), bucket in self._cells.items()
                     if row0 <= row <= row1 and col0 <= col <= col1)  # fmt: skip
        for bucket in boxed:
            if bucket:
                for unit_id, (unit_lat, unit_lon) in bucket.items():
                    yield unit_id, unit_lat, unit_lon

    def within(self, lat: float, lon: float, radius_m: float) -> list[str]:
        """The ids of the units at most `radius_m` metres (great circle) from (lat, lon)."""
        return [
            unit_id
            for unit_id, unit_lat, unit_lon in self.near(lat, lon, radius_m)
            if distance_m(lat, lon, unit_lat, unit_lon) <= radius_m
        ]

"""The available fleet kept in memory for the recommendation: units and their spatial index.

Advisory, never authoritative: the database decides with its conditional update when a unit
is reserved (`unit_store.reserve_unit`), so a unit this cache still shows as available but
another process has just taken is simply lost at reservation and the next candidate is
tried. The cache is rebuilt from the database every `REFRESH_S` (other processes' changes,
units back to available), and corrected at once for what this process does (a reserved
unit leaves it; an accepted position moves its unit).
"""

from __future__ import annotations

import time
from dataclasses import replace

from dispatch_core.spatial import GridIndex
from dispatch_core.units import Unit, UnitFix
from gateway.persistence import unit_store
from gateway.persistence.db import Database

REFRESH_S = 2.0


class FleetCache:
    def __init__(self, database: Database) -> None:
        self._db = database
        self.units: dict[str, Unit] = {}
        self.index = GridIndex()
        self.loaded_at = 0.0  # monotonic; 0: never loaded

    @property
    def stale(self) -> bool:
        return time.monotonic() - self.loaded_at > REFRESH_S * 2.5

    async def refresh(self) -> None:
        async with self._db.engine.connect() as conn:
            units = await conn.run_sync(unit_store.available_units)
        index = GridIndex()
        for unit in units.values():
            if unit.position is not None:
                index.upsert(unit.id, unit.position.lat, unit.position.lon)
        self.units, self.index, self.loaded_at = units, index, time.monotonic()

    def taken(self, unit_id: str) -> None:
        """Reserved (by this process): no longer a candidate."""
        if self.units.pop(unit_id, None) is not None:
            self.index.remove(unit_id)

    def moved(self, unit_id: str, fix: UnitFix) -> None:
        """An accepted position of an available unit."""
        unit = self.units.get(unit_id)
        if unit is not None:
            self.units[unit_id] = replace(unit, position=fix)
            self.index.upsert(unit_id, fix.lat, fix.lon)

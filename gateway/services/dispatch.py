"""Which unit to send, and the proposal's answers, on the database (docs/dispatch.md).

`propose_nearest` reads the available units, ranks them with `dispatch_core.recommend`, and
tries to reserve each candidate in order, each attempt in its own transaction
(`unit_store.reserve_unit`: a conditional update). Another incident may take a unit between
the read and the reservation: the next candidate is tried, and when the whole list is gone
the units are read again without those. Two incidents never get the same unit.

The grid index is built from the table on each call (a few ms for thousands of units): a
long-lived index fed by position reports is left for later.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection

from dispatch_core.incidents import IllegalTransition, IncidentAction
from dispatch_core.recommend import Candidate, recommend
from dispatch_core.spatial import GridIndex
from dispatch_core.units import ACK_DEADLINE_S, Unit
from gateway.persistence import unit_store
from gateway.persistence.db import Database
from gateway.persistence.unit_store import Answer, Released
from gateway.services.fleet import FleetCache
from gateway.services.incidents import move
from gateway.services.live import LiveHub

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    call_sign: str


@dataclass(frozen=True)
class Proposed:
    incident_id: str
    assignment_id: str
    candidate: Candidate
    call_sign: str
    deadline: datetime


@dataclass(frozen=True)
class Reproposal:
    released: Released
    proposed: Proposed | None  # None: nobody left, or the incident has no known place


def _index(fleet: Mapping[str, Unit]) -> GridIndex:
    index = GridIndex()
    for unit in fleet.values():
        if unit.position is not None:
            index.upsert(unit.id, unit.position.lat, unit.position.lon)
    return index


class DispatchService:
    def __init__(
        self, database: Database, *, ack_deadline_s: float = ACK_DEADLINE_S, limit: int = 5,
        hub: LiveHub | None = None, fleet: FleetCache | None = None,
    ) -> None:  # fmt: skip
        self.database = database
        self.fleet = fleet  # the in-memory fleet and index; None: read them on each request
        self.hub = hub  # the units' feeds (topic unit:<id>): each proposal is pushed there
        self.ack_deadline_s = ack_deadline_s
        self.limit = limit

    async def _snapshot(
        self, incident_id: str
    ) -> tuple[dict[str, Unit], GridIndex, frozenset[str]]:
        if self.fleet is not None and self.fleet.stale:
            await self.fleet.refresh()
        async with self.database.engine.connect() as conn:
            asked = await conn.run_sync(unit_store.asked_units, incident_id)
            if self.fleet is not None:
                return self.fleet.units, self.fleet.index, asked
            fleet = await conn.run_sync(unit_store.available_units)
        return fleet, _index(fleet), asked

    async def recommendations(
        self, incident_id: str, lat: float, lon: float, now: datetime
    ) -> list[Ranked]:
        """The ranked candidates with their reasons, leaving out units already asked."""
        fleet, index, asked = await self._snapshot(incident_id)
        ranked = recommend(lat, lon, fleet, index, now=now, exclude=asked,
                           limit=self.limit)  # fmt: skip
        return [Ranked(c, fleet[c.unit_id].call_sign) for c in ranked]

    async def propose_nearest(
        self, incident_id: str, lat: float, lon: float, now: datetime
    ) -> Proposed | None:
        """Reserve the best candidate still available for the incident; None if none is."""
        deadline = now + timedelta(seconds=self.ack_deadline_s)
        lost: set[str] = set()
        while True:
            fleet, index, asked = await self._snapshot(incident_id)
            ranked = recommend(lat, lon, fleet, index, now=now,
                               exclude=asked | lost, limit=self.limit)  # fmt: skip
            if not ranked:
                return None
            for candidate in ranked:
                unit_id = candidate.unit_id
                reserve = partial(unit_store.reserve_unit, unit_id=unit_id,
                                  incident_id=incident_id, now=now, deadline=deadline)  # fmt: skip
                assignment_id = await self.database.write(reserve)
                unit = fleet[unit_id]
                if self.fleet is not None:
                    self.fleet.taken(unit_id)  # reserved by us, or by someone else
                if assignment_id is not None:
                    logger.info("incident %s: unit %s proposed (%s)", incident_id,
                                unit.call_sign, candidate.reason)  # fmt: skip
                    proposed = Proposed(incident_id, assignment_id, candidate, unit.call_sign,
                                        deadline)  # fmt: skip
                    self._push(proposed, lat, lon)
                    return proposed
                lost.add(unit_id)  # another incident took it: the next one

    def _push(self, proposed: Proposed, lat: float, lon: float) -> None:
        if self.hub is None:
            return
        self.hub.publish(f"unit:{proposed.candidate.unit_id}", "assignment", {
            "assignment_id": proposed.assignment_id, "incident_id": proposed.incident_id,
            "deadline_at": proposed.deadline.isoformat(), "latitude": lat, "longitude": lon,
            "eta_s": round(proposed.candidate.eta_s), "reason": proposed.candidate.reason,
        })  # fmt: skip

    async def acknowledge(self, assignment_id: str, by: str, now: datetime) -> Answer:
        """The crew accepted; the incident is dispatched in the same transaction (the
        first acknowledgement moves it, a second unit's finds it dispatched already)."""

        def unit(conn: Connection) -> Answer:
            answer = unit_store.acknowledge(conn, assignment_id, by, now)
            if answer.ok and answer.assignment is not None:
                incident_id = str(answer.assignment["incident_id"])
                with contextlib.suppress(IllegalTransition):
                    move(conn, incident_id, IncidentAction.DISPATCH, by=by, at=now)
            return answer

        return await self.database.write(unit)

    async def decline(self, assignment_id: str, by: str, reason: str, now: datetime) -> Answer:
        return await self.database.write(
            lambda conn: unit_store.decline(conn, assignment_id, by, reason, now)
        )

    async def expire_and_repropose(self, now: datetime) -> list[Reproposal]:
        """Release the proposals past their deadline, then ask the next unit for each incident
        (at its call's best location; never a unit already asked for it)."""
        released = await self.database.write(lambda conn: unit_store.expire_due(conn, now))
        outcome: list[Reproposal] = []
        for item in released:
            async with self.database.engine.connect() as conn:
                point = await conn.run_sync(unit_store.incident_point, item.incident_id)
            proposed = None
            if point is not None and point[1] is not None and point[2] is not None:
                proposed = await self.propose_nearest(item.incident_id, point[1], point[2], now)
            outcome.append(Reproposal(item, proposed))
        return outcome

"""Units and assignments (tables `units`, `assignments`): every decision is one conditional
statement, so two requests or two processes can never both win (docs/dispatch.md).

All functions take a synchronous `Connection` inside a transaction: call them through
`Database.write` (writes) or `conn.run_sync` (reads).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, or_, select, update

from dispatch_core.units import (
    IllegalUnitTransition,
    Rejection,
    Unit,
    UnitEvent,
    UnitFix,
    UnitState,
    VehicleClass,
    accept_position,
    unit_transition,
)
from gateway.persistence.call_store import calls, incidents, utc
from gateway.persistence.models import AssignmentRow, LocationRow, UnitRow

units = cast(Table, UnitRow.__table__)
assignments = cast(Table, AssignmentRow.__table__)
locations = cast(Table, LocationRow.__table__)

PROPOSED, ACKNOWLEDGED, DECLINED, EXPIRED = "proposed", "acknowledged", "declined", "expired"
NO_SUCH_UNIT = "no-such-unit"


@dataclass(frozen=True)
class UnitIn:
    """A unit as an import file describes it; `lat`/`lon` place a unit that has no fix yet."""

    call_sign: str
    vehicle: VehicleClass
    home_room: str
    capabilities: frozenset[str] = frozenset()
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class PositionResult:
    unit_id: str
    stored: bool
    reason: str | None = None  # a dispatch_core.units.Rejection value, or "no-such-unit"


@dataclass(frozen=True)
class Answer:
    """What became of an acknowledgement or a decline."""

    ok: bool
    code: str | None  # no-such-assignment | assignment-expired | assignment-not-proposed
    assignment: dict[str, Any] | None


@dataclass(frozen=True)
class Released:
    """A proposal that ran out: the unit is available again."""

    assignment_id: str
    incident_id: str
    unit_id: str


# --- Units: import, state, positions ----------------------------------------------------------


def upsert_units(
    conn: Connection, items: Iterable[UnitIn], now: datetime, *, on_duty: bool = False
) -> tuple[int, int]:
    """Insert new units (out of service, or available with `on_duty`) and update known ones
    by call sign; a position from the file only places a unit that has none. (inserted,
    updated)."""
    now = now.astimezone(UTC)
    batch = {item.call_sign: item for item in items}  # the last line of a call sign wins
    if not batch:
        return 0, 0
    known = {row.call_sign: row for row in conn.execute(
        select(units.c.id, units.c.call_sign, units.c.fix_at)
        .where(units.c.call_sign.in_(list(batch)))
    )}  # fmt: skip
    state = UnitState.AVAILABLE if on_duty else UnitState.OUT_OF_SERVICE
    new = [
        {"id": str(uuid.uuid4()), "call_sign": item.call_sign, "vehicle": item.vehicle.value,
         "home_room": item.home_room, "capabilities": sorted(item.capabilities),
         "state": state.value, "latitude": item.lat, "longitude": item.lon, "accuracy_m": None,
         "fix_at": now if item.lat is not None else None, "updated_at": now}
        for sign, item in batch.items() if sign not in known
    ]  # fmt: skip
    if new:
        conn.execute(units.insert(), new)
    for sign, row in known.items():
        item = batch[sign]
        values: dict[str, Any] = {
            "vehicle": item.vehicle.value,
            "home_room": item.home_room,
            "capabilities": sorted(item.capabilities),
            "updated_at": now,
        }
        if row.fix_at is None and item.lat is not None:
            values.update(latitude=item.lat, longitude=item.lon, fix_at=now)
        conn.execute(update(units).where(units.c.id == row.id).values(**values))
    if on_duty and known:
        conn.execute(
            update(units)
            .where(and_(units.c.id.in_([row.id for row in known.values()]),
                        units.c.state == UnitState.OUT_OF_SERVICE.value))
            .values(state=UnitState.AVAILABLE.value, updated_at=now)
        )  # fmt: skip
    return len(new), len(known)


def apply_event(conn: Connection, unit_id: str, event: UnitEvent, now: datetime) -> str | None:
    """Move the unit by `event` (dispatch_core.units.unit_transition), conditional on the state
    it was read in; the new state, or None (no such unit, illegal move, or lost a race)."""
    now = now.astimezone(UTC)
    current = conn.execute(select(units.c.state).where(units.c.id == unit_id)).scalar()
    if current is None:
        return None
    try:
        target = unit_transition(UnitState(current), event)
    except IllegalUnitTransition:
        return None
    result = conn.execute(
        update(units)
        .where(and_(units.c.id == unit_id, units.c.state == current))
        .values(state=target.value, updated_at=now)
    )
    return target.value if result.rowcount == 1 else None


def unit_id_of(conn: Connection, call_sign: str) -> str | None:
    return conn.execute(select(units.c.id).where(units.c.call_sign == call_sign)).scalar()


def _unit(row: Any) -> Unit:
    fix = None
    if row.latitude is not None and row.longitude is not None and row.fix_at is not None:
        fix = UnitFix(row.latitude, row.longitude, utc(row.fix_at), row.accuracy_m or 0.0)
    return Unit(row.id, row.call_sign, VehicleClass(row.vehicle), row.home_room,
                frozenset(row.capabilities or ()), UnitState(row.state), fix)  # fmt: skip


def get_unit(conn: Connection, unit_id: str) -> Unit | None:
    row = conn.execute(select(units).where(units.c.id == unit_id)).first()
    return None if row is None else _unit(row)


def available_units(conn: Connection) -> dict[str, Unit]:
    """Every available unit with a position: what `recommend` may choose from."""
    query = select(units).where(
        and_(units.c.state == UnitState.AVAILABLE.value, units.c.latitude.is_not(None))
    )
    return {row.id: _unit(row) for row in conn.execute(query)}


def record_position(conn: Connection, unit_id: str, fix: UnitFix, now: datetime) -> PositionResult:
    """Store `fix` if `accept_position` takes it; the update is also conditional on the stored
    fix being older, so two reports handled at once keep the out-of-order rule."""
    fix = replace(fix, at=fix.at.astimezone(UTC))
    now = now.astimezone(UTC)
    row = conn.execute(
        select(units.c.latitude, units.c.longitude, units.c.accuracy_m, units.c.fix_at)
        .where(units.c.id == unit_id)
    ).first()  # fmt: skip
    if row is None:
        return PositionResult(unit_id, False, NO_SUCH_UNIT)
    current = None
    if row.fix_at is not None and row.latitude is not None and row.longitude is not None:
        current = UnitFix(row.latitude, row.longitude, utc(row.fix_at), row.accuracy_m or 0.0)
    verdict = accept_position(current, fix, now)
    if isinstance(verdict, Rejection):
        return PositionResult(unit_id, False, verdict.value)
    result = conn.execute(
        update(units)
        .where(and_(units.c.id == unit_id, or_(units.c.fix_at.is_(None), units.c.fix_at < fix.at)))
        .values(latitude=fix.lat, longitude=fix.lon, accuracy_m=fix.accuracy_m, fix_at=fix.at,
                updated_at=now)
    )  # fmt: skip
    if result.rowcount != 1:
        return PositionResult(unit_id, False, Rejection.OUT_OF_ORDER.value)
    return PositionResult(unit_id, True)


# --- Incidents as dispatch sees them ----------------------------------------------------------


IncidentPoint = tuple[str, float | None, float | None]


def incident_point(conn: Connection, incident_id: str) -> IncidentPoint | None:
    """(status, lat, lon) of the incident, the place being its call's best location; None if
    there is no such incident."""
    row = conn.execute(
        select(incidents.c.status, locations.c.latitude, locations.c.longitude)
        .select_from(incidents.join(calls, calls.c.id == incidents.c.call_id)
                     .outerjoin(locations, locations.c.id == calls.c.best_location_id))
        .where(incidents.c.id == incident_id)
    ).first()  # fmt: skip
    return None if row is None else (row.status, row.latitude, row.longitude)


def asked_units(conn: Connection, incident_id: str) -> frozenset[str]:
    """The units already asked for this incident, whatever they answered: not asked again."""
    query = select(assignments.c.unit_id).where(assignments.c.incident_id == incident_id)
    return frozenset(conn.execute(query).scalars())


# --- Assignments: propose, acknowledge, decline, expire ---------------------------------------


def reserve_unit(
    conn: Connection, unit_id: str, incident_id: str, now: datetime, deadline: datetime
) -> str | None:
    """The atomic step of a proposal: the unit goes available -> proposed only if it still is
    available (row count 1), and the assignment is written in the same transaction. The
    assignment's id, or None when another incident took the unit first."""
    now, deadline = now.astimezone(UTC), deadline.astimezone(UTC)
    taken = conn.execute(
        update(units)
        .where(and_(units.c.id == unit_id, units.c.state == UnitState.AVAILABLE.value))
        .values(state=UnitState.PROPOSED.value, updated_at=now)
    )
    if taken.rowcount != 1:
        return None
    assignment_id = str(uuid.uuid4())
    conn.execute(assignments.insert().values(
        id=assignment_id, incident_id=incident_id, unit_id=unit_id, state=PROPOSED,
        proposed_at=now, deadline_at=deadline,
    ))  # fmt: skip
    return assignment_id


def get_assignment(conn: Connection, assignment_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(assignments).where(assignments.c.id == assignment_id)).first()
    return None if row is None else _assignment(row)


def _assignment(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for key in ("proposed_at", "deadline_at", "answered_at"):
        if data[key] is not None:
            data[key] = utc(data[key])
    return data


def live_assignments(conn: Connection) -> list[dict[str, Any]]:
    """Proposed or acknowledged assignments (a unit has at most one)."""
    query = select(assignments).where(assignments.c.state.in_([PROPOSED, ACKNOWLEDGED]))
    return [_assignment(row) for row in conn.execute(query)]


def _answer(
    conn: Connection, assignment_id: str, now: datetime, values: dict[str, Any],
    unit_state: UnitState, *, before_deadline: bool,
) -> Answer:  # fmt: skip
    now = now.astimezone(UTC)
    found = get_assignment(conn, assignment_id)
    if found is None:
        return Answer(False, "no-such-assignment", None)
    condition = and_(assignments.c.id == assignment_id, assignments.c.state == PROPOSED)
    if before_deadline:
        condition = and_(condition, assignments.c.deadline_at > now)
    result = conn.execute(update(assignments).where(condition).values(answered_at=now, **values))
    if result.rowcount != 1:
        late = found["state"] == PROPOSED or found["state"] == EXPIRED
        return Answer(False, "assignment-expired" if late else "assignment-not-proposed", found)
    conn.execute(
        update(units)
        .where(and_(units.c.id == found["unit_id"], units.c.state == UnitState.PROPOSED.value))
        .values(state=unit_state.value, updated_at=now)
    )
    return Answer(True, None, get_assignment(conn, assignment_id))


def acknowledge(conn: Connection, assignment_id: str, by: str, now: datetime) -> Answer:
    """The crew accepted: only a still-proposed assignment before its deadline; the unit
    becomes dispatched. An expiry committed first wins (the update sees 0 rows)."""
    return _answer(conn, assignment_id, now, {"state": ACKNOWLEDGED, "by": by[:64]},
                   UnitState.DISPATCHED, before_deadline=True)  # fmt: skip


def decline(conn: Connection, assignment_id: str, by: str, reason: str, now: datetime) -> Answer:
    """The crew said no: a still-proposed assignment is declined and the unit is available."""
    values = {"state": DECLINED, "by": by[:64], "reason": reason.strip()[:200]}
    return _answer(conn, assignment_id, now, values, UnitState.AVAILABLE, before_deadline=False)


def expire_due(conn: Connection, now: datetime) -> list[Released]:
    """Proposals past their deadline: expired, their units available again. Each one is
    conditional on still being proposed, so a concurrent acknowledgement wins or loses whole."""
    now = now.astimezone(UTC)
    due = list(conn.execute(
        select(assignments.c.id, assignments.c.incident_id, assignments.c.unit_id)
        .where(and_(assignments.c.state == PROPOSED, assignments.c.deadline_at <= now))
        .order_by(assignments.c.deadline_at, assignments.c.id)
    ))  # fmt: skip
    released: list[Released] = []
    expire = (
        update(assignments)
        .where(and_(assignments.c.id == bindparam("a_id"), assignments.c.state == PROPOSED))
        .values(state=EXPIRED, answered_at=now, reason="no acknowledgement before the deadline")
    )
    for row in due:
        if conn.execute(expire, {"a_id": row.id}).rowcount != 1:
            continue
        conn.execute(
            update(units)
            .where(and_(units.c.id == row.unit_id, units.c.state == UnitState.PROPOSED.value))
            .values(state=UnitState.AVAILABLE.value, updated_at=now)
        )
        released.append(Released(row.id, row.incident_id, row.unit_id))
    return released


def all_units(conn: Connection) -> list[dict[str, Any]]:
    """Every unit, for the supervisor's map: state, place and age of the fix."""
    rows = conn.execute(select(units).order_by(units.c.call_sign))
    return [{"id": r.id, "call_sign": r.call_sign, "vehicle": r.vehicle, "state": r.state,
             "home_room": r.home_room, "latitude": r.latitude, "longitude": r.longitude,
             "fix_at": utc(r.fix_at) if r.fix_at else None} for r in rows]  # fmt: skip

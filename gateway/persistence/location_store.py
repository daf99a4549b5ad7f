"""Writes and reads of the caller's fixes (table `locations`), in SQLAlchemy Core."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, desc, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.persistence.call_store import calls
from gateway.persistence.models import LocationRow

locations = cast(Table, LocationRow.__table__)


def insert_location(conn: Connection, values: dict[str, Any]) -> int | None:
    """The new row's id, or None when this payload was already recorded (its dedupe key)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(locations)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(locations.c.id)
    )
    row = conn.execute(statement).first()
    return None if row is None else int(row[0])


def accepted_fixes(conn: Connection, call_id: str) -> list[Any]:
    query = select(locations).where(
        and_(locations.c.call_id == call_id, locations.c.status == "accepted")
    )
    return list(conn.execute(query.order_by(locations.c.id)))


def set_best(conn: Connection, call_id: str, location_id: int | None) -> None:
    conn.execute(update(calls).where(calls.c.id == call_id).values(best_location_id=location_id))


def best_of(conn: Connection, call_id: str) -> int | None:
    value = conn.execute(select(calls.c.best_location_id).where(calls.c.id == call_id)).scalar()
    return None if value is None else int(value)


def call_for_number(conn: Connection, e164: str, since: datetime) -> Any:
    """The newest call from this number received since `since` (live or just ended)."""
    query = (
        select(calls.c.id, calls.c.received_at, calls.c.ended_at)
        .where(and_(calls.c.caller_e164 == e164, calls.c.received_at >= since))
        .order_by(desc(calls.c.received_at))
        .limit(1)
    )
    return conn.execute(query).first()


def call_locations(conn: Connection, call_id: str) -> list[Any]:
    query = select(locations).where(locations.c.call_id == call_id).order_by(locations.c.id)
    return list(conn.execute(query))

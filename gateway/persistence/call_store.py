"""The call path's writes, in SQLAlchemy Core over one connection.

Every intake and every queue fact passes through here, inside `Database.write(unit)`. The
statements are built once per dialect and executed with their parameters apart, so the
compiled cache skips the construction and compilation that the ORM repeated on every call
(8.5 ms of CPU per intake with the ORM, 3.5 ms with these, 1.25 ms in one transaction on the
SQLite writer thread; measured here, docs/decisions.md D6).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.persistence.models import (
    CallEventRow,
    CallLinkRow,
    CallRow,
    CursorRow,
    IncidentRow,
)

calls = cast(Table, CallRow.__table__)
links = cast(Table, CallLinkRow.__table__)
events = cast(Table, CallEventRow.__table__)
incidents = cast(Table, IncidentRow.__table__)
cursors = cast(Table, CursorRow.__table__)

CALL_COLUMNS = (
    calls.c.id,
    calls.c.external_id, calls.c.intake, calls.c.status, calls.c.room, calls.c.priority,
    calls.c.priority_reasons, calls.c.received_at, calls.c.answered_at, calls.c.ended_at,
)  # fmt: skip


def utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _insert_of(dialect: str) -> Callable[[Any], Any]:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@functools.cache
def _statements(dialect: str) -> dict[str, Any]:
    insert = _insert_of(dialect)
    return {
        "find_call": select(*CALL_COLUMNS).where(
            calls.c.source == _param("source"), calls.c.external_id == _param("external_id")
        ),
        "find_linked_call": select(*CALL_COLUMNS)
        .join(links, links.c.call_id == calls.c.id)
        .where(links.c.source == _param("source"), links.c.external_id == _param("external_id")),
        "call_by_id": select(*CALL_COLUMNS, calls.c.source, calls.c.language).where(
            calls.c.id == _param("call_id")
        ),
        "insert_link": insert(links)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(links.c.call_id),
        "insert_call": insert(calls)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(calls.c.id),
        "insert_event": insert(events)
        .on_conflict_do_nothing(index_elements=["call_id", "dedupe_key"])
        .returning(events.c.id),
        "insert_incident": insert(incidents)
        .on_conflict_do_nothing(index_elements=["call_id"])
        .returning(incidents.c.id),
        "incident_of": select(incidents.c.id).where(incidents.c.call_id == _param("call_id")),
        "counts": select(
            func.count(),
            func.coalesce(
                func.sum(case((calls.c.received_at >= _param("window_since"), 1), else_=0)), 0
            ),
        ).where(
            and_(
                calls.c.caller_e164 == _param("e164"),
                calls.c.received_at >= _param("day_since"),
                calls.c.external_id != _param("excluding"),
            )
        ),
    }


def _param(name: str) -> Any:
    return bindparam(name)


def _statement(conn: Connection, name: str) -> Any:
    return _statements(conn.dialect.name)[name]


def find_call(conn: Connection, source: str, external_id: str, *, linked: bool = True) -> Any:
    """The call with this telephony id: its own, or (`linked`) one given by `link_call`."""
    params = {"source": source, "external_id": external_id}
    row = conn.execute(_statement(conn, "find_call"), params).first()
    if row is None and linked:
        row = conn.execute(_statement(conn, "find_linked_call"), params).first()
    return row


def call_by_id(conn: Connection, call_id: str) -> Any:
    return conn.execute(_statement(conn, "call_by_id"), {"call_id": call_id}).first()


def link_call(conn: Connection, call_id: str, source: str, external_id: str) -> bool:
    """Know the call under another telephony id too; True if the link is new."""
    values = {"call_id": call_id, "source": source, "external_id": external_id,
              "created_at": datetime.now(UTC)}  # fmt: skip
    return conn.execute(_statement(conn, "insert_link"), values).first() is not None


def insert_call(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert unless a call with this (source, external_id) exists; True if inserted."""
    result = conn.execute(_statement(conn, "insert_call"), values)
    return result.first() is not None


def insert_incident(conn: Connection, values: dict[str, Any]) -> str:
    """The call's incident: the one inserted now, or the one that was there."""
    row = (conn.execute(_statement(conn, "insert_incident"), values)).first()
    if row is not None:
        return str(row[0])
    return incident_of(conn, values["call_id"])


def incident_of(conn: Connection, call_id: str) -> str:
    result = conn.execute(_statement(conn, "incident_of"), {"call_id": call_id})
    return str(result.scalar_one())


def add_event(conn: Connection, values: dict[str, Any]) -> bool:
    """Append to the timeline; False when this event (by its dedupe key) is already there."""
    return (conn.execute(_statement(conn, "insert_event"), values)).first() is not None


def count_calls_from(
    conn: Connection, e164: str, *, day_since: datetime, window_since: datetime,
    excluding: str,
) -> tuple[int, int]:  # fmt: skip
    """(calls in the day, calls in the repeat window) from this number, this call excluded."""
    params = {"e164": e164, "day_since": day_since, "window_since": window_since,
              "excluding": excluding}  # fmt: skip
    day, recent = (conn.execute(_statement(conn, "counts"), params)).one()
    return int(day), int(recent)


def update_call(conn: Connection, call_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(calls).where(calls.c.id == call_id).values(**values))


def read_cursor(conn: Connection, name: str) -> Any:
    query = select(cursors.c.position, cursors.c.fingerprint).where(cursors.c.name == name)
    return (conn.execute(query)).first()


def save_cursor(conn: Connection, name: str, position: int, fingerprint: str) -> None:
    now = datetime.now(UTC)
    statement = _insert_of(conn.dialect.name)(cursors).values(
        name=name, position=position, fingerprint=fingerprint, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"position": position, "fingerprint": fingerprint, "updated_at": now},
    )
    conn.execute(statement)


def update_incident_priority(conn: Connection, call_id: str, priority: int) -> None:
    conn.execute(
        update(incidents)
        .where(incidents.c.call_id == call_id)
        .values(priority=priority, updated_at=datetime.now(UTC))
    )

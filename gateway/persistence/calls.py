"""Repository of calls, their timeline and their draft incidents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.persistence.models import CallEventRow, CallRow, CursorRow, IncidentRow


def utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


async def find_call(session: AsyncSession, source: str, external_id: str) -> CallRow | None:
    query = select(CallRow).where(CallRow.source == source, CallRow.external_id == external_id)
    return (await session.execute(query)).scalar_one_or_none()


async def insert_call_once(session: AsyncSession, values: dict[str, Any]) -> CallRow:
    """Insert the call unless one with its (source, external_id) exists; return the stored one."""
    statement = (
        _insert(session, CallRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
    )
    await session.execute(statement)
    row = await find_call(session, values["source"], values["external_id"])
    assert row is not None
    return row


async def insert_incident_once(session: AsyncSession, values: dict[str, Any]) -> IncidentRow:
    statement = (
        _insert(session, IncidentRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["call_id"])
    )
    await session.execute(statement)
    query = select(IncidentRow).where(IncidentRow.call_id == values["call_id"])
    return (await session.execute(query)).scalar_one()


async def incident_for_call(session: AsyncSession, call_id: str) -> IncidentRow | None:
    query = select(IncidentRow).where(IncidentRow.call_id == call_id)
    return (await session.execute(query)).scalar_one_or_none()


async def add_event(
    session: AsyncSession,
    *,
    call_id: str,
    kind: str,
    at: datetime,
    source: str,
    dedupe_key: str,
    details: dict[str, Any],
) -> bool:
    """Append to the timeline; False when this event (by its dedupe key) is already there."""
    statement = (
        _insert(session, CallEventRow)
        .values(
            call_id=call_id, kind=kind, at=at, source=source, dedupe_key=dedupe_key, details=details
        )
        .on_conflict_do_nothing(index_elements=["call_id", "dedupe_key"])
    )
    result: Any = await session.execute(statement)
    return bool(result.rowcount)


async def count_calls_from(
    session: AsyncSession, e164: str, since: datetime, *, excluding: str | None = None
) -> int:
    query = select(func.count()).where(CallRow.caller_e164 == e164, CallRow.received_at >= since)
    if excluding is not None:
        query = query.where(CallRow.external_id != excluding)
    return int((await session.execute(query)).scalar_one())


async def update_call(session: AsyncSession, call_id: str, values: dict[str, Any]) -> None:
    await session.execute(update(CallRow).where(CallRow.id == call_id).values(**values))


def calls_page(limit: int, before: tuple[datetime, str] | None) -> Select[CallRow]:
    """Newest first, keyset-paginated on (received_at, id)."""
    query = select(CallRow).order_by(CallRow.received_at.desc(), CallRow.id.desc()).limit(limit)
    if before is not None:
        at, call_id = before
        query = query.where(
            (CallRow.received_at < at) | ((CallRow.received_at == at) & (CallRow.id < call_id))
        )
    return query


async def get_call(session: AsyncSession, call_id: str) -> CallRow | None:
    return await session.get(CallRow, call_id)


async def timeline(session: AsyncSession, call_id: str) -> list[CallEventRow]:
    query = (
        select(CallEventRow)
        .where(CallEventRow.call_id == call_id)
        .order_by(CallEventRow.at, CallEventRow.id)
    )
    return list((await session.execute(query)).scalars())


async def read_cursor(session: AsyncSession, name: str) -> CursorRow | None:
    return await session.get(CursorRow, name)


async def save_cursor(session: AsyncSession, name: str, position: int, fingerprint: str) -> None:
    now = datetime.now(UTC)
    statement = _insert(session, CursorRow).values(
        name=name, position=position, fingerprint=fingerprint, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"position": position, "fingerprint": fingerprint, "updated_at": now},
    )
    await session.execute(statement)

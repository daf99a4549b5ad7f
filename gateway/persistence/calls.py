"""Reads of calls, their timeline and their incidents, for the API (ORM, async).

The call path's writes are in `call_store.py`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.persistence.call_store import utc
from gateway.persistence.models import CallEventRow, CallRow, IncidentRow, LocationRow

__all__ = [
    "calls_page", "find_call", "get_call", "get_incident", "incident_for_call", "locations",
    "timeline", "utc",
]  # fmt: skip


async def find_call(session: AsyncSession, source: str, external_id: str) -> CallRow | None:
    query = select(CallRow).where(CallRow.source == source, CallRow.external_id == external_id)
    return (await session.execute(query)).scalar_one_or_none()


async def incident_for_call(session: AsyncSession, call_id: str) -> IncidentRow | None:
    query = select(IncidentRow).where(IncidentRow.call_id == call_id)
    return (await session.execute(query)).scalar_one_or_none()


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


async def locations(session: AsyncSession, call_id: str) -> list[LocationRow]:
    query = select(LocationRow).where(LocationRow.call_id == call_id).order_by(LocationRow.id)
    return list((await session.execute(query)).scalars())


async def get_incident(session: AsyncSession, incident_id: str) -> IncidentRow | None:
    return await session.get(IncidentRow, incident_id)

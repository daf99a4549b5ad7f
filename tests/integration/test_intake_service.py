"""The intake service on the real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from dispatch_core.calls import IntakeOutcome
from gateway.persistence.db import Database
from gateway.persistence.models import CallEventRow, CallRow, IncidentRow
from gateway.services.intake import IntakeRequest, IntakeService
from gateway.settings import Settings


def _request(uniqueid: str, caller: str | None = "0612345678", **kw: object) -> IntakeRequest:
    return IntakeRequest(
        external_id=uniqueid,
        linkedid=uniqueid,
        channel="PJSIP/maroc-telecom-00000001",
        trunk="maroc-telecom",
        carrier="Maroc Telecom",
        default_room="rabat",
        caller_raw=caller,
        **kw,  # type: ignore[arg-type]
    )


async def _count(database: Database, model: type) -> int:
    async with database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_intake_records_the_caller_the_trunk_and_a_draft_incident(database: Database) -> None:
    service = IntakeService(database, Settings())
    result = await service.take_call(_request("1700000000.1"))
    assert result.created and result.room == "rabat" and result.priority == 1
    async with database.sessions() as session:
        call = (await session.execute(select(CallRow))).scalar_one()
        incident = (await session.execute(select(IncidentRow))).scalar_one()
    assert call.caller_e164 == "+212612345678"
    assert call.caller_status == "valid" and call.caller_type == "mobile"
    assert call.carrier == "Maroc Telecom" and call.trunk == "maroc-telecom"
    assert incident.call_id == call.id and incident.status == "draft"
    assert result.incident_id == incident.id


async def test_a_replayed_intake_returns_the_first_decision_and_no_second_incident(
    database: Database,
) -> None:
    service = IntakeService(database, Settings())
    first = await service.take_call(_request("1700000000.2"))
    again = await service.take_call(_request("1700000000.2"))
    assert not again.created
    assert (again.call_id, again.incident_id, again.room) == (
        first.call_id,
        first.incident_id,
        first.room,
    )
    assert await _count(database, CallRow) == 1
    assert await _count(database, IncidentRow) == 1
    assert await _count(database, CallEventRow) == 1


async def test_concurrent_intakes_of_one_call_race_to_one_call_and_one_incident(
    database: Database,
) -> None:
    service = IntakeService(database, Settings())
    results = await asyncio.gather(
        *(service.take_call(_request("1700000000.3")) for _ in range(12))
    )
    assert len({r.incident_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert await _count(database, CallRow) == 1
    assert await _count(database, IncidentRow) == 1


async def test_a_repeat_caller_within_the_window_goes_ahead_and_is_counted(
    database: Database,
) -> None:
    service = IntakeService(database, Settings(repeat_window_minutes=10))
    now = datetime.now(UTC)
    await service.take_call(_request("1.1", received_at=now - timedelta(hours=3)))
    second = await service.take_call(_request("1.2", received_at=now - timedelta(minutes=2)))
    third = await service.take_call(_request("1.3", received_at=now))
    other = await service.take_call(_request("1.4", caller="0537000000", received_at=now))
    assert second.priority == 1  # the earlier call is outside the 10-minute window
    assert third.priority > second.priority and third.reasons == ("repeat-caller:1",)
    assert other.priority == 1
    async with database.sessions() as session:
        rows = await session.execute(select(CallRow.external_id, CallRow.repeat_count_24h))
        counts = {external_id: count for external_id, count in rows}
    assert counts == {"1.1": 0, "1.2": 1, "1.3": 2, "1.4": 0}


async def test_withheld_and_garbage_caller_ids_are_taken_in_like_any_other(
    database: Database,
) -> None:
    service = IntakeService(database, Settings())
    for n, raw in enumerate(["anonymous", "", None, "<script>\x00;DROP", "9" * 300]):
        result = await service.take_call(_request(f"2.{n}", caller=raw))
        assert result.created and result.room == "rabat"
    async with database.sessions() as session:
        statuses = (
            (await session.execute(select(CallRow.caller_status).order_by(CallRow.external_id)))
            .scalars()
            .all()
        )
    assert statuses[:3] == ["withheld", "withheld", "withheld"]
    assert set(statuses[3:]) == {"malformed"}


async def test_a_failed_open_call_keeps_the_room_and_priority_asterisk_used(
    database: Database,
) -> None:
    service = IntakeService(database, Settings())
    result = await service.take_call(
        _request("3.1", outcome=IntakeOutcome.FAILED_OPEN, room="sale", priority=0)
    )
    async with database.sessions() as session:
        call = (await session.execute(select(CallRow))).scalar_one()
        kinds = (await session.execute(select(CallEventRow.kind))).scalars().all()
    assert (result.room, result.priority) == ("sale", 0)
    assert call.intake == "failed_open" and kinds == ["failed_open"]


async def test_a_call_with_a_location_goes_to_the_room_whose_area_holds_it(
    database: Database,
) -> None:
    service = IntakeService(database, Settings())
    in_sale = await service.take_call(_request("1700000100.1", location=(34.0531, -6.7985)))
    nowhere = await service.take_call(_request("1700000100.2", location=(30.42, -9.60)))
    assert in_sale.room == "sale"  # the trunk's default room is rabat
    assert nowhere.room == "rabat"
    async with database.sessions() as session:
        events = (await session.execute(select(CallEventRow).order_by(CallEventRow.id))).scalars()
        room_by = [event.details["room_by"] for event in events if event.kind == "received"]
    assert room_by == ["location", "trunk"]

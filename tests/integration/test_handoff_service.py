"""Linking a Twilio call to the Asterisk channel Twilio dials (both real databases)."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch_core.calls import TimelineKind
from gateway.persistence import calls
from gateway.persistence.db import Database
from gateway.services.handoff import HandoffService
from gateway.services.intake import IntakeRequest, IntakeService
from gateway.services.timeline import TimelineService, TimelineUpdate
from gateway.settings import Settings

UNKNOWN = "00000000-0000-0000-0000-000000000000"


async def _call(database: Database, source: str, external_id: str) -> str:
    request = IntakeRequest(
        external_id=external_id, source=source, default_room="sale", caller_raw="0612345678"
    )
    return (await IntakeService(database, Settings()).take_call(request)).call_id


async def test_a_handed_off_channel_gets_the_twilio_calls_room_priority_and_incident(
    database: Database,
) -> None:
    call_id = await _call(database, "twilio", "CA" + "a" * 32)
    handoff = HandoffService(database)
    first = await handoff.link(call_id, "1700000000.7", "PJSIP/twilio-00000007")
    again = await handoff.link(call_id, "1700000000.7", "PJSIP/twilio-00000007")
    assert first is not None and again is not None
    assert (first.call_id, first.room, first.created) == (call_id, "sale", True)
    assert again.incident_id == first.incident_id and again.created is False


async def test_queue_events_of_the_linked_channel_land_on_the_twilio_call(
    database: Database,
) -> None:
    call_id = await _call(database, "twilio", "CA" + "b" * 32)
    await HandoffService(database).link(call_id, "1700000000.8", None)
    update = TimelineUpdate(
        "1700000000.8", TimelineKind.ANSWERED, datetime.now(UTC), "ami", "answered",
        call_fields={"operator": "op-sale-1"},
    )  # fmt: skip
    assert await TimelineService(database, "MA").apply(update)
    async with database.sessions() as session:
        rows = (await session.execute(calls.calls_page(10, None))).scalars().all()
    assert [(row.id, row.status, row.operator) for row in rows] == [
        (call_id, "answered", "op-sale-1")
    ]


async def test_a_hand_off_naming_no_twilio_call_gets_nothing(database: Database) -> None:
    asterisk_call = await _call(database, "asterisk", "1700000000.9")
    handoff = HandoffService(database)
    assert await handoff.link(UNKNOWN, "1700000000.10", None) is None
    assert await handoff.link(asterisk_call, "1700000000.11", None) is None
    assert await handoff.link("not-a-uuid'; drop table calls", "1700000000.12", None) is None

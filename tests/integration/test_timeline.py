"""Live AMI facts and queue_log replays meet in one timeline, without duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch_core.calls import TimelineKind
from gateway.persistence import calls as repo
from gateway.persistence.db import Database
from gateway.services.intake import IntakeRequest, IntakeService
from gateway.services.timeline import TimelineService, TimelineUpdate
from gateway.settings import Settings

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _update(
    kind: TimelineKind, seconds: int, source: str, key: str, **fields: object
) -> TimelineUpdate:
    return TimelineUpdate("9.1", kind, T0 + timedelta(seconds=seconds), source, key, {}, fields)


async def test_the_same_fact_from_ami_and_queue_log_is_recorded_once(database: Database) -> None:
    await IntakeService(database, Settings()).take_call(
        IntakeRequest(external_id="9.1", caller_raw="0612345678", received_at=T0)
    )
    timeline = TimelineService(database, "MA")
    applied = [
        await timeline.apply(_update(TimelineKind.QUEUED, 1, "ami", "queued", room="rabat")),
        await timeline.apply(_update(TimelineKind.OPERATOR_RINGING, 2, "ami", "ringing:a")),
        await timeline.apply(
            _update(
                TimelineKind.ANSWERED, 5, "ami", "answered", operator="op-rabat-1", hold_time_s=4.0
            )
        ),
        await timeline.apply(_update(TimelineKind.QUEUED, 1, "queue_log", "queued")),
        await timeline.apply(_update(TimelineKind.ANSWERED, 5, "queue_log", "answered")),
        await timeline.apply(_update(TimelineKind.COMPLETED, 35, "ami", "ended")),
        await timeline.apply(
            _update(TimelineKind.COMPLETED, 35, "queue_log", "ended", talk_time_s=30.0)
        ),
    ]
    assert applied == [True, True, True, False, False, True, False]
    async with database.sessions() as session:
        call = await repo.find_call(session, "asterisk", "9.1")
        assert call is not None
        kinds = [e.kind for e in await repo.timeline(session, call.id)]
    assert kinds == ["received", "queued", "operator_ringing", "answered", "completed"]
    assert call.status == "completed" and call.operator == "op-rabat-1"
    assert call.talk_time_s == 30.0  # computed from answered_at when AgentComplete is missing


async def test_queue_events_before_any_intake_record_the_call_as_observed(
    database: Database,
) -> None:
    timeline = TimelineService(database, "MA")
    await timeline.apply(
        TimelineUpdate(
            "8.1",
            TimelineKind.QUEUED,
            T0,
            "ami",
            "queued",
            {},
            {"room": "sale", "caller_raw": "0661234567"},
        )
    )
    result = await IntakeService(database, Settings()).take_call(
        IntakeRequest(
            external_id="8.1",
            trunk="orange",
            carrier="Orange",
            caller_raw="0661234567",
            room="sale",
            received_at=T0 - timedelta(seconds=1),
        )
    )
    async with database.sessions() as session:
        call = await repo.find_call(session, "asterisk", "8.1")
    assert call is not None and result.created
    assert (call.intake, call.status, call.trunk) == ("completed", "queued", "orange")


async def test_a_queue_log_event_of_the_second_the_call_arrived_in_sorts_after_its_reception(
    database: Database,
) -> None:
    received = T0 + timedelta(milliseconds=700)
    await IntakeService(database, Settings()).take_call(
        IntakeRequest(external_id="9.1", caller_raw="0612345678", received_at=received)
    )
    timeline = TimelineService(database, "MA")
    assert await timeline.apply(_update(TimelineKind.QUEUED, 0, "queue_log", "queued"))
    async with database.sessions() as session:
        call = await repo.find_call(session, "asterisk", "9.1")
        assert call is not None
        events = await repo.timeline(session, call.id)
    assert [event.kind for event in events] == ["received", "queued"]
    assert repo.utc(events[1].at) == received

"""A waiting call whose better location lies in another room moves there (both databases)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from dispatch_core.calls import TimelineKind
from dispatch_core.location import BestFixChanged, Fix, FixSource
from gateway.asterisk.ami_protocol import AmiMessage
from gateway.persistence import calls as repo
from gateway.persistence.db import Database
from gateway.services.intake import IntakeRequest, IntakeService
from gateway.services.live import LiveHub
from gateway.services.operators import OperatorService, facts_of
from gateway.services.overflow import OverflowMonitor
from gateway.services.timeline import TimelineService, TimelineUpdate
from gateway.settings import Settings


class AcceptingAmi:
    connected = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    async def send_action(self, name: str, fields: dict[str, str]) -> AmiMessage:
        self.sent.append((name, fields))
        return AmiMessage((("Response", "Success"),))


def _ready(operators: OperatorService, room: str) -> None:
    member = AmiMessage((("Event", "QueueMember"), ("Queue", room),
                         ("Location", f"PJSIP/op-{room}-1"), ("Status", "1")))  # fmt: skip
    operators._set(f"op-{room}-1", facts_of(member))


async def test_an_aml_fix_in_sale_moves_a_call_waiting_in_rabat(database: Database) -> None:
    settings = Settings()
    call = await IntakeService(database, settings).take_call(
        IntakeRequest(external_id="8.1", default_room="rabat", caller_raw="0612345678")
    )
    operators = OperatorService(database, LiveHub())
    _ready(operators, "sale")
    monitor = OverflowMonitor(settings, operators, TimelineService(database, "MA"), database)
    ami = AcceptingAmi()
    monitor.attach(ami)  # type: ignore[arg-type]
    monitor.on_ami_event(AmiMessage((("Event", "QueueCallerJoin"), ("Uniqueid", "8.1"),
                                     ("Queue", "rabat"), ("Channel", "PJSIP/inwi-1"))))  # fmt: skip
    now = datetime.now(UTC)
    fix = Fix(FixSource.AML, 34.0531, -6.7985, 10, 68, now, now)
    monitor.on_domain_event(BestFixChanged(call.call_id, call.incident_id, 1, None, fix))
    await asyncio.gather(*monitor._tasks)
    assert ami.sent == [("QueueWithdrawCaller", {"Queue": "rabat", "Caller": "PJSIP/inwi-1",
                                                 "WithdrawInfo": "sale"})]  # fmt: skip
    async with database.sessions() as session:
        events = await repo.timeline(session, call.call_id)
        row = await repo.get_call(session, call.call_id)
    moved = [event for event in events if event.kind == "rerouted"]
    assert moved and moved[0].details["why"] == "location"
    assert row is not None and row.room == "sale"
    await operators.wait_written()


async def test_a_better_fix_in_the_same_room_or_a_room_nobody_is_ready_in_moves_nothing(
    database: Database,
) -> None:
    settings = Settings()
    call = await IntakeService(database, settings).take_call(
        IntakeRequest(external_id="8.2", default_room="rabat", caller_raw="0612345679")
    )
    operators = OperatorService(database, LiveHub())
    monitor = OverflowMonitor(settings, operators, TimelineService(database, "MA"), database)
    ami = AcceptingAmi()
    monitor.attach(ami)  # type: ignore[arg-type]
    monitor.on_ami_event(AmiMessage((("Event", "QueueCallerJoin"), ("Uniqueid", "8.2"),
                                     ("Queue", "rabat"), ("Channel", "PJSIP/inwi-2"))))  # fmt: skip
    now = datetime.now(UTC)
    for lat, lon in ((34.0209, -6.8416), (34.0531, -6.7985)):  # Rabat itself; Salé, nobody
        fix = Fix(FixSource.AML, lat, lon, 10, 68, now, now)
        monitor.on_domain_event(BestFixChanged(call.call_id, call.incident_id, 1, None, fix))
    await asyncio.gather(*monitor._tasks)
    assert ami.sent == []


async def test_the_compliance_the_overflow_uses_is_read_from_the_last_hours_calls(
    database: Database,
) -> None:
    settings = Settings()
    intake = IntakeService(database, settings)
    timeline = TimelineService(database, "MA")
    start = datetime.now(UTC)
    for n, after in enumerate((5, 30)):  # one answered in 5 s, one in 30 s
        await intake.take_call(IntakeRequest(external_id=f"9.{n}", caller_raw="0612000000",
                                             received_at=start))  # fmt: skip
        await timeline.apply(
            TimelineUpdate(
                f"9.{n}", TimelineKind.ANSWERED, start + timedelta(seconds=after), "ami", "answered"
            )
        )
    monitor = OverflowMonitor(settings, OperatorService(database, LiveHub()), timeline, database)
    await monitor.refresh_compliance()
    assert monitor.compliance_15s_pct == 50.0 and monitor.threshold_s() == 5.0

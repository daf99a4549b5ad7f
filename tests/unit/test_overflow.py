"""Which waiting calls overflow, and when (the monitor's decision, without Asterisk)."""

from __future__ import annotations

from gateway.asterisk.ami_protocol import AmiMessage
from gateway.services.live import LiveHub
from gateway.services.operators import OperatorService, facts_of
from gateway.services.overflow import OverflowMonitor
from gateway.settings import Settings


def event(name: str, **fields: str) -> AmiMessage:
    return AmiMessage((("Event", name), *fields.items()))


def monitor(ready_in: str | None = None) -> OverflowMonitor:
    operators = OperatorService(database=None, hub=LiveHub())  # type: ignore[arg-type]
    if ready_in:
        member = event("QueueMember", Queue=ready_in, Location="PJSIP/op-1", Status="1",
                       Paused="0", InCall="0")  # fmt: skip
        operators._set("op-1", facts_of(member))
    return OverflowMonitor(Settings(overflow_after_s=10), operators, None)  # type: ignore[arg-type]


def join(watch: OverflowMonitor, uniqueid: str, queue: str) -> None:
    watch.on_ami_event(event("QueueCallerJoin", Uniqueid=uniqueid, Queue=queue,
                             Channel=f"PJSIP/inwi-{uniqueid}"))  # fmt: skip
    watch.waiting[uniqueid].since = 0.0


def test_a_call_waiting_past_the_threshold_with_nobody_ready_moves_to_the_backup_room() -> None:
    watch = monitor(ready_in="sale")
    join(watch, "1.1", "rabat")
    assert watch.due(9.9) == []
    ((call, backup),) = watch.due(10.0)
    assert (call.uniqueid, backup) == ("1.1", "sale")


def test_no_call_moves_to_a_backup_room_where_nobody_is_ready_either() -> None:
    watch = monitor()
    join(watch, "1.0", "rabat")
    assert watch.due(60.0) == []


def test_a_room_with_an_operator_ready_keeps_its_calls() -> None:
    watch = monitor(ready_in="rabat")
    join(watch, "1.2", "rabat")
    assert watch.due(60.0) == []


def test_a_call_that_left_or_was_moved_once_is_not_moved_again() -> None:
    watch = monitor()
    join(watch, "1.3", "rabat")
    join(watch, "1.4", "rabat")
    watch.on_ami_event(event("QueueCallerLeave", Uniqueid="1.3", Queue="rabat"))
    watch.waiting["1.4"].moved = True
    assert watch.due(60.0) == []


def test_only_the_withdrawal_we_made_hides_the_abandon_that_app_queue_reports() -> None:
    watch = monitor()
    watch._withdrawn.add("1.5")
    assert watch.withdrawn("1.5") is True
    assert watch.withdrawn("1.5") is False
    assert watch.withdrawn("1.6") is False


def test_a_room_behind_nenas_target_gives_up_sooner_but_never_under_three_seconds() -> None:
    watch = monitor(ready_in="sale")
    join(watch, "1.7", "rabat")
    assert watch.threshold_s() == 10 and watch.due(6.0) == []
    watch.compliance_15s_pct = 82.0  # the last hour is under 90 % within 15 s
    assert watch.threshold_s() == 5
    assert [call.uniqueid for call, _ in watch.due(6.0)] == ["1.7"]
    watch.compliance_15s_pct = 95.0
    assert watch.threshold_s() == 10

"""An operator's state is derived from what app_queue reports of their membership."""

from __future__ import annotations

import pytest

from dispatch_core.operators import (
    DeviceStatus,
    MemberFacts,
    OperatorState,
    member_state,
    parse_status,
)


def member(status: DeviceStatus = DeviceStatus.NOT_INUSE, paused: bool = False,
           reason: str = "", in_call: bool = False) -> MemberFacts:  # fmt: skip
    return MemberFacts("rabat", "PJSIP/op-rabat-1", status, paused, reason, in_call)


@pytest.mark.parametrize(
    ("facts", "state"),
    [
        (None, OperatorState.LOGGED_OUT),
        (member(), OperatorState.READY),
        (member(paused=True, reason="break"), OperatorState.PAUSED),
        (member(paused=True, reason="wrapup"), OperatorState.WRAPUP),
        (member(DeviceStatus.RINGING), OperatorState.RINGING),
        (member(DeviceStatus.INUSE), OperatorState.IN_CALL),
        (member(in_call=True, paused=True, reason="wrapup"), OperatorState.IN_CALL),
        (member(DeviceStatus.UNAVAILABLE), OperatorState.UNREACHABLE),
        (member(DeviceStatus.UNAVAILABLE, paused=True), OperatorState.UNREACHABLE),
    ],
)
def test_the_state_follows_the_membership_asterisk_reports(
    facts: MemberFacts | None, state: OperatorState
) -> None:
    assert member_state(facts) is state


def test_an_unknown_or_garbled_device_status_counts_as_unknown() -> None:
    assert parse_status("6") is DeviceStatus.RINGING
    assert parse_status("42") is DeviceStatus.UNKNOWN
    assert parse_status("x") is DeviceStatus.UNKNOWN
    assert parse_status(None) is DeviceStatus.UNKNOWN

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dispatch_core.calls import (
    BASE_PRIORITY,
    CallStatus,
    TimelineKind,
    choose_room,
    decide_priority,
    next_status,
)

FORBIDDEN = {
    "aiohttp",
    "sqlalchemy",
    "asterisk",
    "twilio",
    "asyncio",
    "socket",
    "gateway",
    "requests",
    "urllib",
    "http",
    "sqlite3",
    "asyncpg",
    "aiosqlite",
}


def test_dispatch_core_imports_no_io_or_framework_module() -> None:
    root = Path(__file__).parents[2] / "dispatch_core"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_a_late_ringing_event_does_not_reopen_an_answered_call() -> None:
    assert next_status(CallStatus.ANSWERED, TimelineKind.OPERATOR_RINGING) is CallStatus.ANSWERED


def test_nothing_reopens_a_finished_call() -> None:
    for kind in TimelineKind:
        assert next_status(CallStatus.COMPLETED, kind) is CallStatus.COMPLETED
        assert next_status(CallStatus.ABANDONED, kind) is CallStatus.ABANDONED


def test_an_operator_who_does_not_pick_up_puts_the_call_back_in_the_queue() -> None:
    assert next_status(CallStatus.RINGING, TimelineKind.RING_NO_ANSWER) is CallStatus.QUEUED
    assert next_status(CallStatus.ANSWERED, TimelineKind.RING_NO_ANSWER) is CallStatus.ANSWERED


@pytest.mark.parametrize(
    ("current", "event", "expected"),
    [
        (CallStatus.RECEIVED, TimelineKind.QUEUED, CallStatus.QUEUED),
        (CallStatus.QUEUED, TimelineKind.OPERATOR_RINGING, CallStatus.RINGING),
        (CallStatus.RINGING, TimelineKind.ANSWERED, CallStatus.ANSWERED),
        (CallStatus.QUEUED, TimelineKind.ANSWERED, CallStatus.ANSWERED),
        (CallStatus.ANSWERED, TimelineKind.COMPLETED, CallStatus.COMPLETED),
        (CallStatus.QUEUED, TimelineKind.ABANDONED, CallStatus.ABANDONED),
        (CallStatus.QUEUED, TimelineKind.RECEIVED, CallStatus.QUEUED),
    ],
)
def test_call_status_moves_forward(
    current: CallStatus, event: TimelineKind, expected: CallStatus
) -> None:
    assert next_status(current, event) is expected


def test_a_repeat_caller_goes_ahead_of_a_first_time_caller_and_says_why() -> None:
    first = decide_priority(recent_calls_from_number=0)
    repeat = decide_priority(recent_calls_from_number=2)
    assert first.priority == BASE_PRIORITY and first.reasons == ()
    assert repeat.priority > first.priority
    assert repeat.reasons == ("repeat-caller:2",)


def test_a_silent_caller_goes_first() -> None:
    silent = decide_priority(recent_calls_from_number=0, silent=True)
    assert silent.priority > decide_priority(recent_calls_from_number=3).priority
    assert "silent-caller" in silent.reasons


def test_an_unknown_room_from_the_dialplan_falls_back_instead_of_refusing_the_call() -> None:
    rooms = frozenset({"rabat", "sale"})
    assert choose_room("sale", rooms, "rabat") == "sale"
    assert choose_room("atlantis", rooms, "rabat") == "rabat"
    assert choose_room(None, rooms, "rabat") == "rabat"

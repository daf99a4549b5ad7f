"""Calls to 19: their states, their timeline and the rules that order them."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CallStatus(enum.StrEnum):
    """Where a call stands. The order of the members is the order of progress."""

    RECEIVED = "received"
    QUEUED = "queued"
    RINGING = "ringing"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    COMPLETED = "completed"


class IntakeOutcome(enum.StrEnum):
    """How the call entered our records."""

    COMPLETED = "completed"  # the FastAGI intake ran to the end
    FAILED_OPEN = "failed_open"  # Asterisk queued it without us; recorded afterwards
    OBSERVED = "observed"  # first seen through queue events, before any intake record


class TimelineKind(enum.StrEnum):
    RECEIVED = "received"
    FAILED_OPEN = "failed_open"
    IVR_COMPLETED = "ivr_completed"
    HANDED_OFF = "handed_off"  # a Twilio call reached Asterisk (one more telephony id)
    OVERFLOWED = "overflowed"  # moved to the backup room's queue, its priority kept
    REROUTED = "rerouted"  # moved to the room whose area holds a newer, better location
    QUEUED = "queued"
    OPERATOR_RINGING = "operator_ringing"
    RING_NO_ANSWER = "ring_no_answer"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    COMPLETED = "completed"


# A timeline event moves the call to this status ...
_STATUS_OF: dict[TimelineKind, CallStatus] = {
    TimelineKind.RECEIVED: CallStatus.RECEIVED,
    TimelineKind.FAILED_OPEN: CallStatus.RECEIVED,
    TimelineKind.IVR_COMPLETED: CallStatus.RECEIVED,
    TimelineKind.HANDED_OFF: CallStatus.RECEIVED,
    TimelineKind.OVERFLOWED: CallStatus.QUEUED,
    TimelineKind.REROUTED: CallStatus.QUEUED,
    TimelineKind.QUEUED: CallStatus.QUEUED,
    TimelineKind.OPERATOR_RINGING: CallStatus.RINGING,
    TimelineKind.RING_NO_ANSWER: CallStatus.QUEUED,
    TimelineKind.ANSWERED: CallStatus.ANSWERED,
    TimelineKind.ABANDONED: CallStatus.ABANDONED,
    TimelineKind.COMPLETED: CallStatus.COMPLETED,
}
_RANK = {status: rank for rank, status in enumerate(CallStatus)}
_FINAL = frozenset({CallStatus.ABANDONED, CallStatus.COMPLETED})


def next_status(current: CallStatus, event: TimelineKind) -> CallStatus:
    """The status after `event`, never moving a call backwards.

    Events reach us twice and out of order (live AMI events, then the queue_log replay), so a
    late "ringing" must not reopen an answered call, and nothing reopens a finished one.
    The one step back allowed is ringing -> queued when an operator did not pick up.
    """
    target = _STATUS_OF[event]
    if current in _FINAL:
        return current
    if event is TimelineKind.RING_NO_ANSWER:
        return CallStatus.QUEUED if current is CallStatus.RINGING else current
    return target if _RANK[target] > _RANK[current] else current


@dataclass(frozen=True)
class PriorityDecision:
    """The queue priority (higher is answered first) and why it was chosen."""

    priority: int
    reasons: tuple[str, ...]


BASE_PRIORITY = 1
REPEAT_CALL_PRIORITY = 5
SILENT_CALL_PRIORITY = 10


def decide_priority(*, recent_calls_from_number: int, silent: bool = False) -> PriorityDecision:
    """Priority rules of the emergency line.

    - a caller who could not speak goes first;
    - a caller ringing again within the repeat window goes ahead of first-time callers
      (a repeat call to 19 is more often a worsening emergency than a nuisance);
    - everybody else waits in arrival order. No rule ever refuses a call.
    """
    reasons: list[str] = []
    priority = BASE_PRIORITY
    if recent_calls_from_number > 0:
        priority = max(priority, REPEAT_CALL_PRIORITY)
        reasons.append(f"repeat-caller:{recent_calls_from_number}")
    if silent:
        priority = max(priority, SILENT_CALL_PRIORITY)
        reasons.append("silent-caller")
    return PriorityDecision(priority=priority, reasons=tuple(reasons))


def choose_room(default_room: str | None, known_rooms: frozenset[str], fallback_room: str) -> str:
    """The command room whose queue takes the call.

    Without a location yet, the trunk's default room; a room Asterisk named that we do not
    know falls back to the configured room rather than refusing the call.
    """
    if default_room and default_room in known_rooms:
        return default_room
    return fallback_room


def raise_priority(
    current: PriorityDecision, *, silent: bool, extra_reasons: tuple[str, ...] = ()
) -> PriorityDecision:
    """What the IVR learnt can only move a caller ahead, never back."""
    decision = decide_priority(recent_calls_from_number=0, silent=silent)
    reasons = tuple(dict.fromkeys(current.reasons + decision.reasons + extra_reasons))
    return PriorityDecision(max(current.priority, decision.priority), reasons)

"""The Twilio channel's facts on the call record and in its timeline.

The call itself is taken in by `IntakeService.take_call` (source "twilio", external id the
CallSid). What follows is written here, through gateway/persistence/call_store.py, because
`TimelineService` keys its calls by Asterisk uniqueid under source "asterisk": the IVR's
outcome (priority and reasons on the call and its incident, an `ivr` timeline entry), the
hand-off (`queued`) and Twilio's status callbacks. Every entry has a dedupe key: a replayed
request never writes twice, and the first IVR outcome recorded stands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from dispatch_core.calls import CallStatus, PriorityDecision, TimelineKind, next_status
from gateway.persistence import call_store as store
from gateway.persistence.db import Database
from gateway.services.ivr import outcome_columns
from gateway.twilio.schemas import TwilioCallStatus
from ivr.flow import Outcome

logger = logging.getLogger(__name__)

SOURCE = "twilio"

# Twilio's status of the caller's leg. The end of the call moves it on; the others are only
# noted (kind `twilio_<status>`): "in-progress" means Twilio answered with our TwiML, not
# that an operator did.
_KIND_OF_STATUS = {
    TwilioCallStatus.COMPLETED: TimelineKind.COMPLETED,
    TwilioCallStatus.BUSY: TimelineKind.ABANDONED,
    TwilioCallStatus.NO_ANSWER: TimelineKind.ABANDONED,
    TwilioCallStatus.CANCELED: TimelineKind.ABANDONED,
    TwilioCallStatus.FAILED: TimelineKind.ABANDONED,
}
FINAL_STATUSES = frozenset(_KIND_OF_STATUS)
_ENDS = frozenset({TimelineKind.COMPLETED, TimelineKind.ABANDONED})


@dataclass(frozen=True)
class Fact:
    """One timeline entry for the Twilio call `call_sid`."""

    call_sid: str
    kind: str
    dedupe_key: str
    at: datetime
    details: dict[str, Any]


def _add(conn: Connection, fact: Fact) -> tuple[Any, bool] | None:
    """(the call, whether the entry is new), or None when there is no such call."""
    call = store.find_call(conn, SOURCE, fact.call_sid)
    if call is None:
        return None
    inserted = store.add_event(conn, {
        "call_id": call.id, "kind": fact.kind, "at": fact.at, "source": SOURCE,
        "dedupe_key": fact.dedupe_key, "details": fact.details,
    })  # fmt: skip
    return call, inserted


def _move(conn: Connection, call: Any, kind: TimelineKind, at: datetime, **values: Any) -> None:
    status = next_status(CallStatus(call.status), kind)
    if status.value != call.status:
        values["status"] = status.value
    if kind in _ENDS and call.ended_at is None:
        values["ended_at"] = at
    if values:
        store.update_call(conn, call.id, {**values, "updated_at": datetime.now(UTC)})


async def record_fact(database: Database, fact: Fact) -> bool | None:
    """Note a fact; False when already known, None when the call is unknown."""
    added = await database.write(lambda conn: _add(conn, fact))
    return None if added is None else added[1]


async def record_status(
    database: Database, call_sid: str, status: TwilioCallStatus, duration_s: int | None,
    at: datetime,
) -> bool | None:  # fmt: skip
    """A status callback in the timeline; None when the call is unknown."""
    kind = _KIND_OF_STATUS.get(status)
    fact = Fact(
        call_sid,
        kind.value if kind else f"twilio_{status.value.replace('-', '_')}",
        f"twilio-status:{status.value}",
        at,
        {"status": status.value, "duration_s": duration_s},
    )

    def unit(conn: Connection) -> bool | None:
        added = _add(conn, fact)
        if added is None:
            return None
        call, inserted = added
        if inserted and kind is not None:
            _move(conn, call, kind, at)
        return inserted

    return await database.write(unit)


@dataclass(frozen=True)
class IvrResult:
    call_sid: str
    outcome: Outcome
    priority: int
    reasons: tuple[str, ...]
    room: str
    via: str  # sip | enqueue
    at: datetime


def _ivr_details(result: IvrResult) -> dict[str, Any]:
    outcome = result.outcome
    return {
        "language": outcome.language.value,
        "language_chosen": outcome.language_chosen,
        "silent": outcome.silent,
        "no_input": outcome.no_input,
        "keys": outcome.keys,
        "elapsed_s": outcome.elapsed_s,
        "priority": result.priority,
        "reasons": list(result.reasons),
    }


async def record_ivr(database: Database, result: IvrResult) -> bool | None:
    """The IVR's outcome and the hand-off, once: False when already recorded (a replay),
    None when the call is unknown (its intake failed)."""
    ivr = Fact(
        result.call_sid, TimelineKind.IVR_COMPLETED.value, "ivr", result.at, _ivr_details(result)
    )
    queued = Fact(
        result.call_sid, TimelineKind.QUEUED.value, "queued", result.at,
        {"via": result.via, "room": result.room, "priority": result.priority},
    )  # fmt: skip

    def unit(conn: Connection) -> bool | None:
        added = _add(conn, ivr)
        if added is None or not added[1]:
            return None if added is None else False
        call = added[0]
        _add(conn, queued)
        decision = PriorityDecision(result.priority, result.reasons)
        outcome_columns(conn, call.id, decision, result.outcome)
        _move(conn, call, TimelineKind.QUEUED, result.at)
        return True

    return await database.write(unit)

"""The call's timeline, fed by live AMI events and by the queue_log replay.

Both sources describe the same facts, so each timeline entry carries a dedupe key and the
call's status only ever moves forward (`dispatch_core.calls.next_status`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dispatch_core.calls import CallStatus, IntakeOutcome, TimelineKind, next_status
from gateway.callers.numbers import describe_caller
from gateway.persistence import calls as repo
from gateway.persistence.db import Database
from gateway.persistence.models import CallRow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimelineUpdate:
    """One fact about a call, keyed by the caller channel's Asterisk uniqueid."""

    external_id: str
    kind: TimelineKind
    at: datetime
    source: str  # ami | queue_log
    dedupe_key: str
    details: dict[str, Any] = field(default_factory=dict)
    # Facts to copy on the call when they are known (operator, times, room, caller …).
    call_fields: dict[str, Any] = field(default_factory=dict)
    # Apply only to a call we already know, and only in one of these states (for facts such
    # as a Hangup that every channel emits, the operators' legs included).
    only_known: bool = False
    if_status: frozenset[CallStatus] | None = None


_FIELD_NAMES = frozenset(
    {"operator", "hold_time_s", "talk_time_s", "wait_time_s", "room", "linkedid", "channel"}
)


class TimelineService:
    def __init__(self, database: Database, default_region: str) -> None:
        self._db = database
        self._region = default_region

    async def apply(self, update: TimelineUpdate) -> bool:
        """Record the update; False when it was already known."""
        async with self._db.sessions() as session, session.begin():
            call = await repo.find_call(session, "asterisk", update.external_id)
            if call is None:
                if update.only_known:
                    return False
                call = await self._observed_call(session, update)
            if update.if_status is not None and CallStatus(call.status) not in update.if_status:
                return False
            inserted = await repo.add_event(
                session,
                call_id=call.id,
                kind=update.kind.value,
                at=update.at,
                source=update.source,
                dedupe_key=update.dedupe_key,
                details=update.details,
            )
            if not inserted:
                return False
            changes = self._changes(call, update)
            if changes:
                await repo.update_call(session, call.id, changes)
        logger.info(
            "call %s: %s (%s)",
            update.external_id,
            update.kind.value,
            update.source,
            extra={"call_id": call.id},
        )
        return True

    def _changes(self, call: CallRow, update: TimelineUpdate) -> dict[str, Any]:
        changes: dict[str, Any] = {
            k: v for k, v in update.call_fields.items() if k in _FIELD_NAMES and v is not None
        }
        status = next_status(CallStatus(call.status), update.kind)
        if status.value != call.status:
            changes["status"] = status.value
        if update.kind is TimelineKind.ANSWERED and call.answered_at is None:
            changes["answered_at"] = update.at
        if update.kind in (TimelineKind.ABANDONED, TimelineKind.COMPLETED) and not call.ended_at:
            changes["ended_at"] = update.at
            if call.answered_at is not None and "talk_time_s" not in changes:
                answered = repo.utc(call.answered_at)
                changes["talk_time_s"] = max(0.0, (update.at - answered).total_seconds())
        if changes:
            changes["updated_at"] = datetime.now(UTC)
        return changes

    async def _observed_call(self, session: Any, update: TimelineUpdate) -> CallRow:
        """A queue event for a call we never took in (the intake failed): record it anyway."""
        caller = describe_caller(update.call_fields.get("caller_raw"), self._region)
        now = datetime.now(UTC)
        return await repo.insert_call_once(
            session,
            {
                "id": str(uuid.uuid4()),
                "source": "asterisk",
                "external_id": update.external_id,
                "linkedid": update.call_fields.get("linkedid"),
                "channel": update.call_fields.get("channel"),
                "caller_raw": caller.raw,
                "caller_status": caller.status,
                "caller_e164": caller.e164,
                "caller_type": caller.number_type,
                "caller_carrier": caller.carrier,
                "caller_region": caller.region,
                "caller_country": caller.country,
                "caller_foreign": caller.foreign,
                "room": update.call_fields.get("room"),
                "status": CallStatus.RECEIVED.value,
                "intake": IntakeOutcome.OBSERVED.value,
                "received_at": update.at,
                "updated_at": now,
                "priority_reasons": [],
            },
        )

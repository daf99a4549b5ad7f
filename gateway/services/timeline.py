"""The call's timeline, fed by live AMI events and by the queue_log replay.

Both sources describe the same facts, so each timeline entry carries a dedupe key and the
call's status only ever moves forward (`dispatch_core.calls.next_status`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from dispatch_core.calls import CallStatus, IntakeOutcome, TimelineKind, next_status
from gateway.callers.numbers import CallerNumber, describe_caller
from gateway.persistence import call_store as store
from gateway.persistence import callback_store
from gateway.persistence.db import Database
from gateway.services.intake import caller_columns

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


_FIELD_NAMES = frozenset(
    {"operator", "hold_time_s", "talk_time_s", "wait_time_s", "room", "linkedid", "channel"}
)


def _not_before_reception(update: TimelineUpdate, received_at: datetime) -> TimelineUpdate:
    """queue_log times are whole seconds: an event of the second the call arrived in would
    sort before the call's reception. It happened after it: say so."""
    if update.source == "queue_log" and update.at < received_at <= update.at + timedelta(seconds=1):
        return replace(update, at=received_at)
    return update


class TimelineService:
    def __init__(self, database: Database, default_region: str) -> None:
        self._db = database
        self._region = default_region

    async def apply(self, update: TimelineUpdate) -> bool:
        """Record the update; False when it was already known (or does not apply)."""
        caller = describe_caller(update.call_fields.get("caller_raw"), self._region)
        applied = await self._db.write(lambda conn: self._apply(conn, update, caller))
        if applied:
            logger.info("call %s: %s (%s)", update.external_id, update.kind.value, update.source)
        return applied

    def _apply(self, conn: Connection, update: TimelineUpdate, caller: CallerNumber) -> bool:
        call = store.find_call(conn, "asterisk", update.external_id)
        if call is None:
            store.insert_call(conn, self._observed_values(update, caller))
            call = store.find_call(conn, "asterisk", update.external_id)
            assert call is not None
        update = _not_before_reception(update, store.utc(call.received_at))
        inserted = store.add_event(conn, {
            "call_id": call.id, "kind": update.kind.value, "at": update.at,
            "source": update.source, "dedupe_key": update.dedupe_key,
            "details": update.details,
        })  # fmt: skip
        if not inserted:
            return False
        if update.kind is TimelineKind.ABANDONED:
            callback_store.add_callback(conn, call.id, "abandoned", update.at)
        changes = self._changes(call, update)
        if changes:
            store.update_call(conn, call.id, changes)
        return True

    def _changes(self, call: Any, update: TimelineUpdate) -> dict[str, Any]:
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
                answered = store.utc(call.answered_at)
                changes["talk_time_s"] = max(0.0, (update.at - answered).total_seconds())
        if changes:
            changes["updated_at"] = datetime.now(UTC)
        return changes

    @staticmethod
    def _observed_values(update: TimelineUpdate, caller: CallerNumber) -> dict[str, Any]:
        """A queue event for a call we never took in (the intake failed): record it anyway."""
        return {
            "id": str(uuid.uuid4()),
            "source": "asterisk",
            "external_id": update.external_id,
            "linkedid": update.call_fields.get("linkedid"),
            "channel": update.call_fields.get("channel"),
            **caller_columns(caller),
            "room": update.call_fields.get("room"),
            "priority": 0,
            "priority_reasons": [],
            "repeat_count_24h": 0,
            "status": CallStatus.RECEIVED.value,
            "intake": IntakeOutcome.OBSERVED.value,
            "received_at": update.at,
            "updated_at": datetime.now(UTC),
        }

"""Taking a call in: caller metadata, priority, room, the call record and its draft incident.

Used by the FastAGI intake (live) and by the reconciler for calls that went through the
dialplan's fail-open path while we were away. Idempotent by the telephony id: a replayed or
retried intake returns what the first one decided and never creates a second incident.
One transaction, a handful of precompiled statements (gateway/persistence/call_store.py).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from dispatch_core.calls import (
    CallStatus,
    IntakeOutcome,
    PriorityDecision,
    TimelineKind,
    choose_room,
    decide_priority,
)
from dispatch_core.incidents import IncidentStatus
from dispatch_core.rooms import room_for
from gateway.callers.numbers import CallerNumber, describe_caller, repeat_key
from gateway.persistence import call_store as store
from gateway.persistence import callback_store
from gateway.persistence.db import Database
from gateway.settings import Settings

logger = logging.getLogger(__name__)

MAX_TEXT = 128


@dataclass(frozen=True)
class IntakeRequest:
    external_id: str
    source: str = "asterisk"
    linkedid: str | None = None
    channel: str | None = None
    trunk: str | None = None
    carrier: str | None = None
    default_room: str | None = None
    caller_raw: str | None = None
    caller_name: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    outcome: IntakeOutcome = IntakeOutcome.COMPLETED
    room: str | None = None  # when the room was already decided (fail-open: the dialplan's)
    priority: int | None = None
    location: tuple[float, float] | None = None  # (lat, lon) the INVITE carried, if any


@dataclass(frozen=True)
class IntakeResult:
    call_id: str
    incident_id: str
    room: str
    priority: int
    reasons: tuple[str, ...]
    created: bool
    caller: CallerNumber | None = None  # set by a fresh intake (not on a replay)


def _clip(value: str | None) -> str | None:
    return None if value is None else value[:MAX_TEXT]


def _event_source(request: IntakeRequest) -> str:
    """Where the first timeline entry came from: the AGI, the queue_log replay, or Twilio."""
    if request.source != "asterisk":
        return request.source
    return "queue_log" if request.outcome is IntakeOutcome.FAILED_OPEN else "agi"


def caller_columns(caller: CallerNumber) -> dict[str, Any]:
    return {
        "caller_raw": _clip(caller.raw),
        "caller_status": caller.status,
        "caller_e164": caller.e164,
        "caller_type": caller.number_type,
        "caller_carrier": caller.carrier,
        "caller_region": caller.region,
        "caller_country": caller.country,
        "caller_foreign": caller.foreign,
    }


class IntakeService:
    def __init__(self, database: Database, settings: Settings) -> None:
        self._db = database
        self._settings = settings
        self._areas = settings.room_areas()

    async def take_call(self, request: IntakeRequest) -> IntakeResult:
        caller = describe_caller(request.caller_raw, self._settings.default_region)
        result = await self._db.write(lambda conn: self._record(conn, request, caller))
        if result.created:
            logger.info(
                "call %s recorded: trunk=%s caller=%s room=%s priority=%s intake=%s",
                request.external_id, request.trunk, caller.status, result.room,
                result.priority, request.outcome.value,
            )  # fmt: skip
        return result

    def _record(
        self, conn: Connection, request: IntakeRequest, caller: CallerNumber
    ) -> IntakeResult:
        """One transaction (runs on the database's writer, see Database.write)."""
        existing = store.find_call(conn, request.source, request.external_id, linked=False)
        if existing is not None and existing.intake != IntakeOutcome.OBSERVED.value:
            return self._replayed(conn, existing)
        day_count, recent_count = self._recent_counts(conn, caller, request)
        decision = decide_priority(recent_calls_from_number=recent_count)
        priority = decision.priority if request.priority is None else request.priority
        by_location = None if request.room else self._room_by_location(request)
        room = (
            request.room
            or by_location
            or choose_room(
                request.default_room, self._settings.room_ids, self._settings.fallback_room
            )
        )
        values = self._call_values(request, caller, room, priority, decision, day_count)
        if existing is None:
            if not store.insert_call(conn, values):  # a concurrent intake won
                raced = store.find_call(conn, request.source, request.external_id, linked=False)
                assert raced is not None
                return self._replayed(conn, raced)
            call_id = values["id"]
        else:  # queue events came first: fill in what only the intake knows
            call_id = existing.id
            del values["id"], values["status"]
            values["received_at"] = min(store.utc(existing.received_at), values["received_at"])
            store.update_call(conn, call_id, values)
        room_by = "location" if by_location else "trunk"
        incident_id = self._timeline_and_incident(conn, call_id, request, room, priority, room_by)
        if caller.e164:  # the number called again: its callbacks are done
            callback_store.clear_for_number(conn, caller.e164, call_id, request.received_at)
        return IntakeResult(
            call_id, incident_id, room, priority, decision.reasons, created=True, caller=caller
        )

    def _room_by_location(self, request: IntakeRequest) -> str | None:
        """The room whose service area holds the caller's location (dispatch_core.rooms)."""
        if request.location is None:
            return None
        return room_for(*request.location, self._areas)

    def _replayed(self, conn: Connection, call: Any) -> IntakeResult:
        incident_id = store.incident_of(conn, call.id)
        reasons = tuple(call.priority_reasons or ())
        return IntakeResult(call.id, incident_id, call.room, call.priority, reasons, False)

    def _recent_counts(
        self, conn: Connection, caller: CallerNumber, request: IntakeRequest
    ) -> tuple[int, int]:
        key = repeat_key(caller)
        if key is None:
            return 0, 0
        now = request.received_at
        window = timedelta(minutes=self._settings.repeat_window_minutes)
        day, recent = store.count_calls_from(
            conn, key, day_since=now - timedelta(hours=24), window_since=now - window,
            excluding=request.external_id,
        )  # fmt: skip
        return day, recent if window else 0

    def _call_values(
        self, request: IntakeRequest, caller: CallerNumber, room: str, priority: int,
        decision: PriorityDecision, day_count: int,
    ) -> dict[str, Any]:  # fmt: skip
        return {
            "id": str(uuid.uuid4()),
            "source": request.source,
            "external_id": request.external_id,
            "linkedid": _clip(request.linkedid),
            "channel": _clip(request.channel),
            "trunk": _clip(request.trunk),
            "carrier": _clip(request.carrier),
            "caller_name": _clip(request.caller_name),
            **caller_columns(caller),
            "repeat_count_24h": day_count,
            "room": room,
            "priority": priority,
            "priority_reasons": list(decision.reasons),
            "status": CallStatus.RECEIVED.value,
            "intake": request.outcome.value,
            "received_at": request.received_at,
            "updated_at": datetime.now(UTC),
        }

    def _timeline_and_incident(
        self, conn: Connection, call_id: str, request: IntakeRequest, room: str,
        priority: int, room_by: str,
    ) -> str:  # fmt: skip
        failed_open = request.outcome is IntakeOutcome.FAILED_OPEN
        kind = TimelineKind.FAILED_OPEN if failed_open else TimelineKind.RECEIVED
        store.add_event(conn, {
            "call_id": call_id, "kind": kind.value, "at": request.received_at,
            "source": _event_source(request), "dedupe_key": kind.value,
            "details": {"trunk": request.trunk, "room": room, "priority": priority,
                        "room_by": room_by},
        })  # fmt: skip
        now = datetime.now(UTC)
        return store.insert_incident(conn, {
            "id": str(uuid.uuid4()), "call_id": call_id, "status": IncidentStatus.DRAFT.value,
            "priority": priority, "room": room, "created_at": now, "updated_at": now,
        })  # fmt: skip

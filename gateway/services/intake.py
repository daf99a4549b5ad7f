"""Taking a call in: caller metadata, priority, room, the call record and its draft incident.

Used by the FastAGI intake (live) and by the reconciler for calls that went through the
dialplan's fail-open path while we were away. Idempotent by the telephony id: a replayed or
retried intake returns what the first one decided and never creates a second incident.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dispatch_core.calls import (
    CallStatus,
    IntakeOutcome,
    TimelineKind,
    choose_room,
    decide_priority,
)
from dispatch_core.incidents import IncidentStatus
from gateway.callers.numbers import CallerNumber, describe_caller, repeat_key
from gateway.persistence import calls as repo
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


@dataclass(frozen=True)
class IntakeResult:
    call_id: str
    incident_id: str
    room: str
    priority: int
    reasons: tuple[str, ...]
    created: bool


def _clip(value: str | None) -> str | None:
    return None if value is None else value[:MAX_TEXT]


class IntakeService:
    def __init__(self, database: Database, settings: Settings) -> None:
        self._db = database
        self._settings = settings

    async def _recent_counts(self, caller: CallerNumber, request: IntakeRequest) -> tuple[int, int]:
        key = repeat_key(caller)
        if key is None:
            return 0, 0
        now = request.received_at
        window = timedelta(minutes=self._settings.repeat_window_minutes)
        async with self._db.sessions() as session:
            day = await repo.count_calls_from(
                session, key, now - timedelta(hours=24), excluding=request.external_id
            )
            recent = 0
            if day and window:
                recent = await repo.count_calls_from(
                    session, key, now - window, excluding=request.external_id
                )
        return day, recent

    async def take_call(self, request: IntakeRequest) -> IntakeResult:
        caller = describe_caller(request.caller_raw, self._settings.default_region)
        day_count, recent_count = await self._recent_counts(caller, request)
        decision = decide_priority(recent_calls_from_number=recent_count)
        priority = decision.priority if request.priority is None else request.priority
        room = request.room or choose_room(
            request.default_room, self._settings.room_ids, self._settings.fallback_room
        )
        now = datetime.now(UTC)
        values = {
            "id": str(uuid.uuid4()),
            "source": request.source,
            "external_id": request.external_id,
            "linkedid": _clip(request.linkedid),
            "channel": _clip(request.channel),
            "trunk": _clip(request.trunk),
            "carrier": _clip(request.carrier),
            "caller_raw": _clip(caller.raw),
            "caller_name": _clip(request.caller_name),
            "caller_status": caller.status,
            "caller_e164": caller.e164,
            "caller_type": caller.number_type,
            "caller_carrier": caller.carrier,
            "caller_region": caller.region,
            "caller_country": caller.country,
            "caller_foreign": caller.foreign,
            "repeat_count_24h": day_count,
            "room": room,
            "priority": priority,
            "priority_reasons": list(decision.reasons),
            "status": CallStatus.RECEIVED.value,
            "intake": request.outcome.value,
            "received_at": request.received_at,
            "updated_at": now,
        }
        async with self._db.sessions() as session, session.begin():
            call = await repo.insert_call_once(session, values)
            created = call.id == values["id"]
            if not created and call.intake == IntakeOutcome.OBSERVED.value:
                # Queue events came first; fill in what only the intake knows.
                enrich = {k: v for k, v in values.items() if k not in {"id", "status"}}
                enrich["received_at"] = min(repo.utc(call.received_at), request.received_at)
                await repo.update_call(session, call.id, enrich)
                created = True
            kind = (
                TimelineKind.FAILED_OPEN
                if request.outcome is IntakeOutcome.FAILED_OPEN
                else TimelineKind.RECEIVED
            )
            await repo.add_event(
                session,
                call_id=call.id,
                kind=kind.value,
                at=request.received_at,
                source="agi" if request.outcome is IntakeOutcome.COMPLETED else "queue_log",
                dedupe_key=kind.value,
                details={"trunk": request.trunk, "room": room, "priority": priority},
            )
            incident = await repo.insert_incident_once(
                session,
                {
                    "id": str(uuid.uuid4()),
                    "call_id": call.id,
                    "status": IncidentStatus.DRAFT.value,
                    "priority": priority,
                    "room": room,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        if created:
            logger.info(
                "call %s recorded: trunk=%s caller=%s room=%s priority=%s intake=%s",
                request.external_id,
                request.trunk,
                caller.status,
                room,
                priority,
                request.outcome.value,
            )
        return IntakeResult(
            call_id=call.id,
            incident_id=incident.id,
            room=room if created else (call.room or room),
            priority=priority if created else call.priority,
            reasons=decision.reasons if created else tuple(call.priority_reasons or ()),
            created=created,
        )

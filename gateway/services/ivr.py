"""What the IVR learnt, recorded on the call: language, silent caller, and the priority it
raises. Shared by the FastAGI and the Twilio channels."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from dispatch_core.calls import (
    CallStatus,
    PriorityDecision,
    TimelineKind,
    next_status,
    raise_priority,
)
from gateway.persistence import call_store as store
from gateway.persistence import callback_store
from gateway.persistence.db import Database
from ivr.flow import Outcome

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IvrResult:
    priority: int
    reasons: tuple[str, ...]


class UnknownCall(LookupError):
    pass


class IvrService:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def record_outcome(self, source: str, external_id: str, outcome: Outcome) -> IvrResult:
        result = await self._db.write(lambda conn: self._record(conn, source, external_id, outcome))
        logger.info(
            "call %s: IVR language=%s silent=%s no_input=%s priority=%d",
            external_id, outcome.language.value, outcome.silent, outcome.no_input,
            result.priority,
        )  # fmt: skip
        return result

    async def record_hangup(self, source: str, external_id: str) -> None:
        """The caller hung up during the IVR: the call ends there, abandoned."""
        await self._db.write(lambda conn: self._hangup(conn, source, external_id))
        logger.info("call %s: the caller hung up during the IVR", external_id)

    def _hangup(self, conn: Connection, source: str, external_id: str) -> None:
        call = store.find_call(conn, source, external_id)
        if call is None:
            return
        now = datetime.now(UTC)
        inserted = store.add_event(conn, {
            "call_id": call.id, "kind": TimelineKind.ABANDONED.value, "at": now,
            "source": source, "dedupe_key": "ended", "details": {"during": "ivr"},
        })  # fmt: skip
        status = next_status(CallStatus(call.status), TimelineKind.ABANDONED)
        if inserted and status.value != call.status:
            store.update_call(conn, call.id, {"status": status.value, "ended_at": now,
                                              "updated_at": now})  # fmt: skip

    def _record(
        self, conn: Connection, source: str, external_id: str, outcome: Outcome
    ) -> IvrResult:
        call = store.find_call(conn, source, external_id)
        if call is None:
            raise UnknownCall(f"no {source} call {external_id}")
        current = PriorityDecision(call.priority, tuple(call.priority_reasons or ()))
        decision = raise_priority(
            current, silent=outcome.silent, extra_reasons=outcome.priority_reasons
        )
        details = {
            "language": outcome.language.value, "language_chosen": outcome.language_chosen,
            "silent": outcome.silent, "no_input": outcome.no_input, "keys": outcome.keys,
            "elapsed_s": round(outcome.elapsed_s, 2), "priority": decision.priority,
        }  # fmt: skip
        if store.add_event(conn, {
            "call_id": call.id, "kind": TimelineKind.IVR_COMPLETED.value,
            "at": datetime.now(UTC), "source": source, "dedupe_key": "ivr",
            "details": details,
        }):  # fmt: skip
            outcome_columns(conn, call.id, decision, outcome)
        return IvrResult(decision.priority, decision.reasons)


def outcome_columns(
    conn: Connection, call_id: str, decision: PriorityDecision, outcome: Outcome
) -> None:
    """What the IVR learnt, on the call and its incident (both channels: FastAGI, Twilio)."""
    store.update_call(conn, call_id, {
        "language": outcome.language.value, "silent": outcome.silent,
        "no_input": outcome.no_input, "priority": decision.priority,
        "priority_reasons": list(decision.reasons), "updated_at": datetime.now(UTC),
    })  # fmt: skip
    store.update_incident_priority(conn, call_id, decision.priority)
    if outcome.silent:  # a caller who could not speak is called back if the call breaks
        callback_store.add_callback(conn, call_id, "silent", datetime.now(UTC))

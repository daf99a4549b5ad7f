"""Incident transitions on the database: the domain's rules (dispatch_core.incidents), one
conditional update per move, and the move on the call's timeline with who and when.

The update names the status it starts from, so two operators (or an operator and a unit's
acknowledgement) moving one incident at once cannot both succeed: the second gets a
conflict and re-reads. The timeline entry (`incident_<new status>`) is written in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from dispatch_core.incidents import (
    IllegalTransition,
    IncidentAction,
    IncidentOutcome,
    IncidentState,
    IncidentStatus,
    transition,
)
from gateway.persistence import call_store
from gateway.persistence.db import Database

incidents = call_store.incidents


class IncidentConflict(Exception):
    """The incident moved meanwhile, or does not exist: `code` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Moved:
    incident_id: str
    status: IncidentStatus
    previous: IncidentStatus


def move(
    conn: Connection, incident_id: str, action: IncidentAction, *, by: str, at: datetime,
    outcome: IncidentOutcome | None = None, reason: str | None = None,
) -> Moved:  # fmt: skip
    """One transition inside the caller's transaction (IllegalTransition, IncidentConflict)."""
    row = conn.execute(
        select(incidents.c.status, incidents.c.call_id).where(incidents.c.id == incident_id)
    ).first()
    if row is None:
        raise IncidentConflict("no-such-incident", f"no incident {incident_id}")
    current = IncidentStatus(row.status)
    new, record = transition(IncidentState(incident_id, current), action, by=by, at=at,
                             outcome=outcome, reason=reason)  # fmt: skip
    done = conn.execute(
        update(incidents)
        .where(incidents.c.id == incident_id, incidents.c.status == current.value)
        .values(status=new.status.value, updated_at=at, updated_by=by[:64])
    ).rowcount
    if done != 1:
        raise IncidentConflict("incident-moved", "the incident changed meanwhile: read it again")
    call_store.add_event(conn, {
        "call_id": row.call_id, "kind": f"incident_{new.status.value}", "at": at,
        "source": "gateway", "dedupe_key": f"incident:{new.status.value}:{at.isoformat()}",
        "details": {"by": by, "action": action.value, "from": current.value,
                    "to": new.status.value, "outcome": outcome.value if outcome else None,
                    "reason": record.reason},
    })  # fmt: skip
    return Moved(incident_id, new.status, current)


class IncidentService:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def act(self, incident_id: str, action: IncidentAction, **kwargs: Any) -> Moved:
        return await self._db.write(lambda conn: move(conn, incident_id, action, **kwargs))


__all__ = ["IllegalTransition", "IncidentConflict", "IncidentService", "Moved", "move"]

"""The callback list's writes and reads (tables `callbacks`, `callback_attempts`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.persistence.call_store import calls
from gateway.persistence.models import CallbackAttemptRow, CallbackRow

callbacks = cast(Table, CallbackRow.__table__)
attempts = cast(Table, CallbackAttemptRow.__table__)
OUTCOMES = frozenset({"reached", "no_answer", "busy", "wrong_number"})


def add_callback(conn: Connection, call_id: str, reason: str, at: datetime) -> bool:
    """Put the call's number on the list (once per call); False without a number to call."""
    row = conn.execute(
        select(calls.c.caller_e164, calls.c.room).where(calls.c.id == call_id)
    ).first()
    if row is None or not row.caller_e164:
        return False
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(callbacks).values(
        id=str(uuid.uuid4()), call_id=call_id, number=row.caller_e164, room=row.room,
        reason=reason, created_at=at,
    ).on_conflict_do_nothing(index_elements=["call_id"])  # fmt: skip
    return bool(conn.execute(statement).rowcount)


def clear_for_number(conn: Connection, e164: str, by_call_id: str, at: datetime) -> int:
    """The same number called again: its open callbacks are done."""
    statement = (
        update(callbacks)
        .where(
            and_(
                callbacks.c.number == e164,
                callbacks.c.cleared_at.is_(None),
                callbacks.c.call_id != by_call_id,
            )
        )
        .values(cleared_at=at, cleared_by=by_call_id)
    )
    return int(conn.execute(statement).rowcount)


def add_attempt(
    conn: Connection, callback_id: str, operator: str, outcome: str, at: datetime
) -> bool:
    """Record an attempt; `reached` clears the callback. False for an unknown callback."""
    exists = conn.execute(select(callbacks.c.id).where(callbacks.c.id == callback_id)).first()
    if exists is None:
        return False
    conn.execute(attempts.insert().values(callback_id=callback_id, operator=operator,
                                          outcome=outcome, at=at))  # fmt: skip
    if outcome == "reached":
        conn.execute(
            update(callbacks)
            .where(and_(callbacks.c.id == callback_id, callbacks.c.cleared_at.is_(None)))
            .values(cleared_at=at, cleared_by=f"reached:{operator}"[:64])
        )
    return True


def open_callbacks(conn: Connection, room: str | None) -> list[dict[str, Any]]:
    query = select(callbacks).where(callbacks.c.cleared_at.is_(None))
    if room is not None:
        query = query.where(callbacks.c.room == room)
    rows = list(conn.execute(query.order_by(callbacks.c.created_at)))
    ids = [row.id for row in rows]
    tried: dict[str, list[dict[str, Any]]] = {callback_id: [] for callback_id in ids}
    if ids:
        for attempt in conn.execute(
            select(attempts).where(attempts.c.callback_id.in_(ids)).order_by(attempts.c.id)
        ):
            tried[attempt.callback_id].append(
                {"at": attempt.at, "operator": attempt.operator, "outcome": attempt.outcome}
            )
    return [{"id": row.id, "number": row.number, "reason": row.reason, "call_id": row.call_id,
             "room": row.room, "created_at": row.created_at, "attempts": tried[row.id]}
            for row in rows]  # fmt: skip

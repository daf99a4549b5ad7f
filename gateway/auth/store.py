"""The accounts' and sessions' statements, in SQLAlchemy Core.

Writes are sync units for `Database.write(unit)` (one transaction each); reads are
statements the service runs on an AsyncSession.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Select, Table, delete, select, update

from gateway.auth.model import Account, Role, User
from gateway.persistence.call_store import utc
from gateway.persistence.models import SessionRow, UserRow

users = cast(Table, UserRow.__table__)
sessions = cast(Table, SessionRow.__table__)

USER_COLUMNS = (
    users.c.id, users.c.username, users.c.display_name, users.c.role, users.c.endpoint,
    users.c.room,
)  # fmt: skip


def user_of(row: Row[Any]) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        endpoint=row.endpoint,
        room=row.room,
    )


def account_of(row: Row[Any]) -> Account:
    return Account(user_of(row), row.disabled, utc(row.created_at), utc(row.updated_at))


def user_by_name(username: str) -> Select[Any]:
    """The user, its hash and whether it is disabled."""
    return select(*USER_COLUMNS, users.c.password_hash, users.c.disabled).where(
        users.c.username == username
    )


def all_accounts() -> Select[Any]:
    columns = (*USER_COLUMNS, users.c.disabled, users.c.created_at, users.c.updated_at)
    return select(*columns).order_by(users.c.username)


def session_with_user(session_id: str) -> Select[Any]:
    return (
        select(
            *USER_COLUMNS,
            users.c.disabled,
            sessions.c.expires_at,
            sessions.c.last_seen_at,
            sessions.c.revoked,
        )
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.id == session_id)
    )


def username_taken(conn: Connection, username: str) -> bool:
    found = conn.execute(select(users.c.id).where(users.c.username == username)).first()
    return found is not None


def insert_user(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(users.insert().values(**values))


def update_user(conn: Connection, username: str, values: dict[str, Any]) -> str | None:
    """Update the user's row; its id, or None when there is no such user."""
    found = conn.execute(select(users.c.id).where(users.c.username == username)).first()
    if found is None:
        return None
    conn.execute(update(users).where(users.c.id == found.id).values(**values))
    return cast(str, found.id)


def set_hash(conn: Connection, user_id: str, password_hash: str, now: datetime) -> None:
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, updated_at=now)
    )


def revoke_user_sessions(conn: Connection, user_id: str) -> int:
    result = conn.execute(
        update(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.revoked.is_(False))
        .values(revoked=True)
    )
    return result.rowcount


def insert_session(conn: Connection, values: dict[str, Any], purge_before: datetime) -> None:
    """Insert a session, and forget the user's sessions that ended before `purge_before`."""
    conn.execute(
        delete(sessions).where(
            sessions.c.user_id == values["user_id"], sessions.c.expires_at < purge_before
        )
    )
    conn.execute(sessions.insert().values(**values))


def touch_session(conn: Connection, session_id: str, now: datetime) -> None:
    conn.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now))


def revoke_session(conn: Connection, session_id: str) -> bool:
    result = conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.revoked.is_(False))
        .values(revoked=True)
    )
    return result.rowcount > 0

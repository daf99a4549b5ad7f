"""`UserService`: accounts, password checks and login sessions over the database.

A session is a random token (`secrets.token_urlsafe(32)`) handed to the browser; the
database keeps only its SHA-256, so a copy of the database opens no session.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from gateway.auth import store
from gateway.auth.model import (
    Account,
    InvalidAccount,
    NoSuchUser,
    Role,
    SessionLookup,
    User,
    UserExists,
    check_fields,
    check_role,
    check_username,
    normalise_username,
)
from gateway.auth.passwords import check_policy, hash_password, needs_rehash, verify_password
from gateway.persistence.call_store import utc
from gateway.persistence.db import Database

__all__ = [
    "Account", "InvalidAccount", "NoSuchUser", "Role", "SessionLookup", "User", "UserExists",
    "UserService", "session_id",
]  # fmt: skip

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
KEEP_ENDED = timedelta(days=1)  # ended sessions still answer "session-expired" this long
MAX_TOKEN = 256


def _now() -> datetime:
    return datetime.now(UTC)


def session_id(token: str) -> str:
    """What the database stores for a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown: the same work either way."""
    return hash_password(secrets.token_urlsafe(16))


class UserService:
    def __init__(self, database: Database, *, clock: Callable[[], datetime] = _now) -> None:
        self.database = database
        self.clock = clock

    # Accounts

    async def add(
        self,
        username: str,
        *,
        role: Role | str,
        password: str,
        display_name: str | None = None,
        endpoint: str | None = None,
        room: str | None = None,
    ) -> User:
        """Create an account; UserExists, InvalidAccount or PasswordPolicyError if not."""
        name = check_username(username)
        checked_role = check_role(role)
        shown = check_fields(name, display_name, endpoint, room)
        check_policy(password, username=name)
        password_hash = await asyncio.to_thread(hash_password, password)
        now = self.clock()
        user = User(str(uuid.uuid4()), name, shown, checked_role, endpoint, room)
        values = user.to_json() | {
            "password_hash": password_hash, "disabled": False, "created_at": now,
            "updated_at": now,
        }  # fmt: skip

        def unit(conn: Connection) -> None:
            if store.username_taken(conn, name):
                raise UserExists(f"user {name!r} exists")
            store.insert_user(conn, values)

        try:
            await self.database.write(unit)
        except IntegrityError as exc:  # the same name added at the same moment
            raise UserExists(f"user {name!r} exists") from exc
        return user

    async def set_password(self, username: str, password: str) -> None:
        """Change the password and end the user's sessions."""
        name = normalise_username(username)
        check_policy(password, username=name)
        password_hash = await asyncio.to_thread(hash_password, password)
        values = {"password_hash": password_hash, "updated_at": self.clock()}
        await self._update(name, values, end_sessions=True)

    async def disable(self, username: str) -> None:
        """The user can no longer sign in; its sessions end now."""
        values = {"disabled": True, "updated_at": self.clock()}
        await self._update(normalise_username(username), values, end_sessions=True)

    async def enable(self, username: str) -> None:
        values = {"disabled": False, "updated_at": self.clock()}
        await self._update(normalise_username(username), values, end_sessions=False)

    async def _update(self, name: str, values: dict[str, object], *, end_sessions: bool) -> None:
        def unit(conn: Connection) -> None:
            user_id = store.update_user(conn, name, values)
            if user_id is None:
                raise NoSuchUser(f"no user {name!r}")
            if end_sessions:
                store.revoke_user_sessions(conn, user_id)

        await self.database.write(unit)

    async def list(self) -> builtins.list[Account]:
        async with self.database.sessions() as session:
            rows = (await session.execute(store.all_accounts())).all()
        return [store.account_of(row) for row in rows]

    async def get(self, username: str) -> User | None:
        async with self.database.sessions() as session:
            query = store.user_by_name(normalise_username(username))
            row = (await session.execute(query)).first()
        return None if row is None else store.user_of(row)

    async def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password is right and the account enabled; None otherwise.

        An unknown username costs one scrypt too, so the answer's delay does not tell
        whether the account exists."""
        async with self.database.sessions() as session:
            query = store.user_by_name(normalise_username(username)[:64])
            row = (await session.execute(query)).first()
        encoded = row.password_hash if row is not None else await asyncio.to_thread(_dummy_hash)
        matches = await asyncio.to_thread(verify_password, password, encoded)
        if row is None or row.disabled or not matches:
            return None
        user = store.user_of(row)
        if needs_rehash(encoded):  # parameters raised since: store today's
            fresh = await asyncio.to_thread(hash_password, password)
            now = self.clock()
            await self.database.write(lambda c: store.set_hash(c, user.id, fresh, now))
        return user

    # Sessions

    async def create_session(self, user: User, ttl: timedelta) -> str:
        """A new session for `user`, valid for `ttl`; returns its token (shown once)."""
        if ttl <= timedelta(0):
            raise ValueError("a session lives for a positive time")
        token = secrets.token_urlsafe(32)
        now = self.clock()
        values = {
            "id": session_id(token), "user_id": user.id, "created_at": now,
            "expires_at": now + ttl, "last_seen_at": now, "revoked": False,
        }  # fmt: skip
        await self.database.write(lambda c: store.insert_session(c, values, now - KEEP_ENDED))
        return token

    async def lookup_session(self, token: str) -> SessionLookup:
        """The session's user, or why there is none (see SessionLookup)."""
        if not token or len(token) > MAX_TOKEN:
            return SessionLookup(None)
        sid = session_id(token)
        async with self.database.sessions() as session:
            row = (await session.execute(store.session_with_user(sid))).first()
        if row is None:
            return SessionLookup(None)
        now = self.clock()
        if row.revoked or row.disabled or utc(row.expires_at) <= now:
            return SessionLookup(None, ended=True)
        if now - utc(row.last_seen_at) >= TOUCH_EVERY:
            await self.database.write(lambda c: store.touch_session(c, sid, now))
        return SessionLookup(store.user_of(row))

    async def session_user(self, token: str) -> User | None:
        """The user of a live session; None if expired, revoked, disabled or unknown."""
        return (await self.lookup_session(token)).user

    async def revoke(self, token: str) -> bool:
        """End the session; False if there was no live one under this token."""
        if not token or len(token) > MAX_TOKEN:
            return False
        sid = session_id(token)
        return await self.database.write(lambda c: store.revoke_session(c, sid))

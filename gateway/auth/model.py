"""Accounts as the rest of the gateway sees them: roles, users, and the rules on their fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    OPERATOR = "operator"  # answers calls at a position
    SUPERVISOR = "supervisor"  # watches a room, its queue and its operators
    ADMIN = "admin"  # manages accounts and the gateway


@dataclass(frozen=True)
class User:
    """A signed-in (or signing-in) account; never carries its password hash."""

    id: str
    username: str
    display_name: str
    role: Role
    endpoint: str | None  # the operator's softphone: its PJSIP endpoint name (op-rabat-1)
    room: str | None  # the operator's home room (rabat)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": str(self.role),
            "endpoint": self.endpoint,
            "room": self.room,
        }


@dataclass(frozen=True)
class Account:
    """A user as the administrator lists it."""

    user: User
    disabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SessionLookup:
    """What a session token names: a user, or none; `ended` when it named a session that
    expired, was revoked, or whose account was disabled (not an unknown token)."""

    user: User | None
    ended: bool = False


class AccountError(ValueError):
    """A change to an account that cannot be made; the message is safe to show."""


class InvalidAccount(AccountError):
    pass


class UserExists(AccountError):
    pass


class NoSuchUser(AccountError):
    pass


USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ROOM = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def normalise_username(username: str) -> str:
    """Usernames are compared without case and surrounding spaces."""
    return username.strip().lower()


def check_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME.fullmatch(name):
        raise InvalidAccount(
            f"invalid username {username[:64]!r}: 2 to 64 of a-z 0-9 . _ -, "
            "starting with a letter or a digit"
        )
    return name


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidAccount(f"invalid role {role[:32]!r}: one of {known}") from None


def check_fields(
    username: str, display_name: str | None, endpoint: str | None, room: str | None
) -> str:
    """Check the optional fields of a new account; returns the display name to store."""
    name = (display_name or "").strip() or username
    if len(name) > 128:
        raise InvalidAccount("a display name has at most 128 characters")
    if endpoint is not None and not ENDPOINT.fullmatch(endpoint):
        raise InvalidAccount(f"invalid endpoint {endpoint[:64]!r}: a PJSIP endpoint name")
    if room is not None and not ROOM.fullmatch(room):
        raise InvalidAccount(f"invalid room {room[:32]!r}: a room id such as rabat")
    return name

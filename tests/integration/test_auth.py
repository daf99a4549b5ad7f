"""Accounts, sessions, the sign-in routes and `line19 users`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from gateway.app import create_app
from gateway.auth import store
from gateway.auth.cli import users as users_cli
from gateway.auth.http import (
    SESSION_COOKIE,
    THROTTLE_KEY,
    USERS_KEY,
    auth_middleware,
    current_user,
    require_user,
    setup_auth,
)
from gateway.auth.passwords import PasswordPolicyError, verify_password
from gateway.auth.throttle import LoginThrottle
from gateway.auth.users import (
    InvalidAccount,
    NoSuchUser,
    Role,
    UserExists,
    UserService,
    session_id,
)
from gateway.keys import DATABASE_KEY
from gateway.persistence.call_store import utc
from gateway.persistence.db import Database, open_database
from gateway.settings import Settings

Client = TestClient[web.Request, web.Application]
PASSWORD = "tour-hassan-1195"
T0 = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: float | datetime) -> None:
        self.now = start

    def __call__(self) -> Any:
        return self.now


@pytest.fixture
def service(database: Database) -> UserService:
    return UserService(database, clock=Clock(T0))


def _advance(service: UserService, delta: timedelta) -> None:
    clock = service.clock
    assert isinstance(clock, Clock)
    clock.now += delta


async def _last_seen(database: Database, token: str) -> datetime:
    async with database.sessions() as session:
        sessions = store.sessions
        query = select(sessions.c.last_seen_at).where(sessions.c.id == session_id(token))
        return utc((await session.execute(query)).scalar_one())


async def test_a_user_signs_in_with_its_password_only(service: UserService) -> None:
    added = await service.add(
        " Amina.Bennani ", role="operator", password=PASSWORD, endpoint="op-rabat-1", room="rabat"
    )
    assert added.username == added.display_name == "amina.bennani"
    assert (added.role, added.endpoint, added.room) == (Role.OPERATOR, "op-rabat-1", "rabat")
    assert await service.authenticate("AMINA.bennani", PASSWORD) == added
    assert await service.authenticate("amina.bennani", PASSWORD + "x") is None
    assert await service.authenticate("nobody", PASSWORD) is None
    [account] = await service.list()
    assert account.user == added and not account.disabled


async def test_an_unknown_or_disabled_user_costs_one_password_check_too(
    service: UserService, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    def counting(password: str, encoded: str) -> bool:
        checked.append(encoded.split("$")[0])
        return verify_password(password, encoded)

    monkeypatch.setattr("gateway.auth.users.verify_password", counting)
    await service.add("amina", role="operator", password=PASSWORD)
    await service.disable("amina")
    assert await service.authenticate("nobody", PASSWORD) is None
    assert await service.authenticate("amina", PASSWORD) is None
    assert checked == ["scrypt", "scrypt"]


async def test_a_hash_with_old_parameters_is_replaced_at_sign_in(
    service: UserService, database: Database
) -> None:
    user = await service.add("amina", role="operator", password=PASSWORD)
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=1024, r=8, p=1, dklen=32)
    salt_b64, key_b64 = (base64.b64encode(value).decode() for value in (salt, key))
    old = f"scrypt$1024$8$1${salt_b64}${key_b64}"
    await database.write(lambda conn: conn.execute(update(store.users).values(password_hash=old)))
    assert await service.authenticate("amina", PASSWORD) == user
    async with database.sessions() as session:
        stored = (await session.execute(select(store.users.c.password_hash))).scalar_one()
    assert stored.startswith("scrypt$16384$8$1$") and verify_password(PASSWORD, stored)


async def test_an_account_is_refused_for_a_taken_username_a_bad_role_or_a_weak_password(
    service: UserService,
) -> None:
    await service.add("amina", role="operator", password=PASSWORD)
    with pytest.raises(UserExists):
        await service.add("AMINA", role="supervisor", password=PASSWORD)
    with pytest.raises(InvalidAccount, match="role"):
        await service.add("youssef", role="chief", password=PASSWORD)
    with pytest.raises(PasswordPolicyError):
        await service.add("youssef", role="operator", password="0612345678")
    with pytest.raises(NoSuchUser):
        await service.disable("youssef")
    assert [a.user.username for a in await service.list()] == ["amina"]


async def test_a_disabled_user_cannot_sign_in_and_its_sessions_end(service: UserService) -> None:
    user = await service.add("amina", role="operator", password=PASSWORD)
    token = await service.create_session(user, timedelta(hours=12))
    await service.disable("amina")
    assert await service.authenticate("amina", PASSWORD) is None
    lookup = await service.lookup_session(token)
    assert lookup.user is None and lookup.ended
    await service.enable("amina")
    assert await service.authenticate("amina", PASSWORD) == user
    assert await service.session_user(token) is None  # revoked for good


async def test_a_session_ends_when_it_expires_or_is_revoked(service: UserService) -> None:
    user = await service.add("amina", role="operator", password=PASSWORD)
    expiring = await service.create_session(user, timedelta(hours=12))
    revoked = await service.create_session(user, timedelta(hours=12))
    assert await service.session_user(expiring) == user
    assert await service.revoke(revoked) is True
    assert await service.revoke(revoked) is False
    assert (await service.lookup_session(revoked)).ended
    _advance(service, timedelta(hours=12))
    assert (await service.lookup_session(expiring)).ended
    unknown = await service.lookup_session("not-a-token")
    assert unknown.user is None and not unknown.ended


async def test_the_database_keeps_the_tokens_hash_and_last_seen_once_a_minute(
    service: UserService, database: Database
) -> None:
    user = await service.add("amina", role="operator", password=PASSWORD)
    token = await service.create_session(user, timedelta(hours=12))
    async with database.sessions() as session:
        [row] = (await session.execute(select(store.sessions))).all()
    assert row.id == session_id(token) and token not in map(str, row)
    _advance(service, timedelta(seconds=59))
    assert await service.session_user(token) == user
    assert await _last_seen(database, token) == T0
    _advance(service, timedelta(seconds=2))
    assert await service.session_user(token) == user
    assert await _last_seen(database, token) == T0 + timedelta(seconds=61)


async def test_a_new_password_replaces_the_old_and_ends_the_sessions(service: UserService) -> None:
    user = await service.add("amina", role="operator", password=PASSWORD)
    token = await service.create_session(user, timedelta(hours=12))
    await service.set_password("amina", "bab-el-had-2026")
    assert await service.authenticate("amina", PASSWORD) is None
    assert await service.authenticate("amina", "bab-el-had-2026") == user
    assert await service.session_user(token) is None


# HTTP


async def _supervisors_only(request: web.Request) -> web.Response:
    return web.json_response({"hello": require_user(request, "supervisor").username})


async def _whoever(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response({"username": user.username if user else None})


@pytest.fixture
async def client(
    database_url: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    app = create_app(Settings(database_url=database_url, agi_port=0, ami_enabled=False))
    app.middlewares.append(auth_middleware)
    setup_auth(app)
    app.router.add_get("/test/supervisors", _supervisors_only)
    app.router.add_get("/test/whoever", _whoever)
    client = await aiohttp_client(app)
    for name, role in (("amina", "operator"), ("karim", "supervisor"), ("salma", "admin")):
        await client.app[USERS_KEY].add(name, role=role, password=PASSWORD)
    return client


async def _login(client: Client, username: str, password: str = PASSWORD) -> Any:
    return await client.post("/api/v1/login", json={"username": username, "password": password})


async def _error(response: Any, status: int) -> str:
    assert response.status == status
    body = await response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return str(body["error"]["code"])


async def _get(client: Client, path: str, token: str) -> Any:
    """GET with `Authorization: Bearer`, the cookie jar emptied (the token alone counts)."""
    client.session.cookie_jar.clear()
    return await client.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_login_sets_a_strict_http_only_cookie_that_me_answers_to(client: Client) -> None:
    response = await _login(client, "Amina")
    assert response.status == 200
    assert (await response.json())["user"]["username"] == "amina"
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    assert (cookie["path"], cookie["max-age"]) == ("/", str(12 * 3600))
    me = await client.get("/api/v1/me")  # the client's cookie jar sends it back
    assert me.status == 200
    assert (await me.json())["user"]["role"] == "operator"
    assert (await _get(client, "/api/v1/me", cookie.value)).status == 200
    assert await (await _get(client, "/test/whoever", cookie.value)).json() == {"username": "amina"}


async def test_me_without_a_valid_session_is_401_not_authenticated(client: Client) -> None:
    assert await _error(await client.get("/api/v1/me"), 401) == "not-authenticated"
    forged = await _get(client, "/api/v1/me", "forged")
    assert await _error(forged, 401) == "not-authenticated"
    assert (await _get(client, "/api/v1/calls", "forged")).status == 200  # not refused
    assert await (await client.get("/test/whoever")).json() == {"username": None}


async def test_sessions_that_cannot_be_read_are_503_not_401(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(token: str) -> None:
        raise OperationalError("SELECT", {}, OSError("connection refused"))

    monkeypatch.setattr(client.app[USERS_KEY], "lookup_session", down)
    assert await _error(await _get(client, "/api/v1/me", "any"), 503) == "auth-unavailable"


async def test_a_wrong_password_and_an_unknown_user_get_the_same_401(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.auth.http")
    wrong = await _login(client, "amina", "not-the-password")
    unknown = await _login(client, "nobody", "not-the-password")
    assert await _error(wrong, 401) == await _error(unknown, 401) == "invalid-credentials"
    assert (await wrong.json())["error"]["message"] == (await unknown.json())["error"]["message"]
    assert SESSION_COOKIE not in wrong.cookies
    logged = [r.getMessage() for r in caplog.records if "login failed" in r.getMessage()]
    assert len(logged) == 2 and "'amina'" in logged[0] and "127.0.0.1" in logged[0]
    assert "not-the-password" not in caplog.text


async def test_a_form_login_works_and_a_bad_body_is_400(client: Client) -> None:
    form = await client.post("/api/v1/login", data={"username": "karim", "password": PASSWORD})
    assert form.status == 200
    missing = await client.post("/api/v1/login", json={"username": "karim"})
    assert await _error(missing, 400) == "invalid-body"
    text = await client.post("/api/v1/login", data=b"{", headers={"Content-Type": "text/plain"})
    assert await _error(text, 400) == "invalid-body"


async def test_an_expired_session_is_401_session_expired(client: Client) -> None:
    token = (await _login(client, "amina")).cookies[SESSION_COOKIE].value
    past = datetime.now(UTC) - timedelta(seconds=1)
    await client.app[DATABASE_KEY].write(
        lambda conn: conn.execute(update(store.sessions).values(expires_at=past))
    )
    me = await _get(client, "/api/v1/me", token)
    assert await _error(me, 401) == "session-expired"


async def test_logout_ends_the_session_and_expires_the_cookie(client: Client) -> None:
    token = (await _login(client, "amina")).cookies[SESSION_COOKIE].value
    out = await client.post("/api/v1/logout")
    assert out.status == 204
    assert out.cookies[SESSION_COOKIE]["max-age"] == "0"
    me = await _get(client, "/api/v1/me", token)
    assert await _error(me, 401) == "session-expired"


@pytest.mark.parametrize(("username", "status"), [("amina", 403), ("karim", 200), ("salma", 403)])
async def test_a_route_for_supervisors_forbids_the_other_roles(
    client: Client, username: str, status: int
) -> None:
    token = (await _login(client, username)).cookies[SESSION_COOKIE].value
    response = await _get(client, "/test/supervisors", token)
    if status == 403:
        assert await _error(response, 403) == "forbidden"
    else:
        assert (await response.json()) == {"hello": "karim"}


async def test_five_failures_lock_the_username_for_a_minute(client: Client) -> None:
    clock = Clock(1000.0)
    client.app[THROTTLE_KEY].clock = clock
    for _ in range(5):
        assert await _error(await _login(client, "amina", "guess-guess"), 401) == (
            "invalid-credentials"
        )
    locked = await _login(client, "amina")  # the right password too
    assert await _error(locked, 429) == "too-many-attempts"
    assert (await locked.json())["error"]["details"] == {"retry_after_s": 60}
    assert (await _login(client, "karim")).status == 200  # other users are not locked
    clock.now += 61
    assert (await _login(client, "amina")).status == 200


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = Clock(0.0)
    throttle = LoginThrottle(clock=clock)
    for _ in range(4):
        assert not throttle.failed("amina")
    clock.now += 301
    assert not throttle.failed("amina")
    assert throttle.retry_after("amina") is None


# CLI


def _cli(url: str, *args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(users_cli, [*args, "--database-url", url], input=stdin)


def _authenticate(url: str, username: str, password: str) -> Any:
    async def main() -> Any:
        database = open_database(url)
        try:
            return await UserService(database).authenticate(username, password)
        finally:
            await database.close()

    return asyncio.run(main())


def test_the_cli_adds_lists_changes_and_disables_accounts(database_url: str) -> None:
    add = ["add", "amina", "--role", "operator", "--endpoint", "op-rabat-1", "--room", "rabat"]
    added = _cli(database_url, *add, "--password-stdin", stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert _authenticate(database_url, "amina", PASSWORD) is not None
    again = _cli(database_url, *add, "--password-stdin", stdin=PASSWORD + "\n")
    assert again.exit_code == 1 and "exists" in again.output
    changed = _cli(database_url, "passwd", "amina", stdin="bab-el-had-2026\n" * 2)
    assert changed.exit_code == 0, changed.output
    assert _authenticate(database_url, "amina", "bab-el-had-2026") is not None
    assert _cli(database_url, "disable", "amina").exit_code == 0
    listed = _cli(database_url, "list", "--json")
    [row] = [json.loads(line) for line in listed.output.splitlines()]
    assert (row["username"], row["endpoint"], row["room"], row["disabled"]) == (
        "amina", "op-rabat-1", "rabat", True,
    )  # fmt: skip
    assert "scrypt" not in listed.output and "password" not in listed.output
    assert "amina" in _cli(database_url, "list").output


def test_the_cli_refuses_a_weak_password_or_an_unknown_room_with_exit_2(database_url: str) -> None:
    weak = _cli(database_url, "add", "amina", "--role", "operator", "--password-stdin",
                stdin="0612345678\n")  # fmt: skip
    assert weak.exit_code == 2 and "digits only" in weak.output
    room = _cli(database_url, "add", "amina", "--role", "operator", "--room", "casablanca",
                "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert room.exit_code == 2 and "unknown room" in room.output
    assert _cli(database_url, "list", "--json").output == ""

"""Sign-in over HTTP: the session cookie, `auth_middleware`, `require_user` and the routes
`POST /api/v1/login`, `POST /api/v1/logout`, `GET /api/v1/me` (docs/auth.md).

`auth_middleware` only says who is calling (`request[USER_KEY]`, a User or None); a handler
that needs someone calls `require_user(request, *roles)`, which raises the API's errors.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.exc import SQLAlchemyError

from gateway.auth.model import Role, User, normalise_username
from gateway.auth.throttle import LoginThrottle
from gateway.auth.users import UserService
from gateway.http.errors import ApiError
from gateway.keys import DATABASE_KEY, SETTINGS_KEY
from gateway.settings import Settings

logger = logging.getLogger(__name__)

SESSION_COOKIE = "l19_session"
DEFAULT_TTL_HOURS = 12.0  # one shift

USERS_KEY = web.AppKey("users", UserService)
THROTTLE_KEY = web.AppKey("login_throttle", LoginThrottle)
USER_KEY = web.RequestKey[User | None]("user")
# Why there is no user: "none" (no or unknown token), "ended" (expired, revoked, disabled),
# "unavailable" (the database did not answer).
SESSION_STATE_KEY = web.RequestKey("session_state", str)

auth_routes = web.RouteTableDef()


def session_ttl(settings: Settings) -> timedelta:
    return timedelta(hours=float(getattr(settings, "session_ttl_hours", DEFAULT_TTL_HOURS)))


def session_token(request: web.Request) -> str | None:
    """The session cookie, else `Authorization: Bearer <token>` (scripts, tests)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the session to `request[USER_KEY]`; never refuses a request by itself."""
    user: User | None = None
    state = "none"
    token = session_token(request)
    if token is not None:
        try:
            lookup = await request.app[USERS_KEY].lookup_session(token)
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("session lookup failed: %s", exc)
            state = "unavailable"
        else:
            user, state = lookup.user, "ended" if lookup.ended else "none"
    request[USER_KEY] = user
    request[SESSION_STATE_KEY] = state
    return await handler(request)


def current_user(request: web.Request) -> User | None:
    """The signed-in user or None, refusing nothing (a page that redirects to /login)."""
    return request.get(USER_KEY)


def require_user(request: web.Request, *roles: Role | str) -> User:
    """The signed-in user, whose role is one of `roles` (any role when none is given).

    401 `not-authenticated` without a session, 401 `session-expired` when the session
    ended, 403 `forbidden` for another role, 503 `auth-unavailable` if it could not be read.
    Roles do not nest: pass every role allowed."""
    if USER_KEY not in request:
        raise RuntimeError("auth_middleware is not installed on this application")
    user = request[USER_KEY]
    if user is None:
        state = request[SESSION_STATE_KEY]
        if state == "ended":
            raise ApiError("the session has ended; sign in again", status=401,
                           code="session-expired")  # fmt: skip
        if state == "unavailable":
            raise ApiError("sessions cannot be checked now", status=503, code="auth-unavailable")
        raise ApiError("sign in first", status=401, code="not-authenticated")
    if roles and user.role not in roles:
        raise ApiError(
            "your role does not allow this",
            status=403,
            code="forbidden",
            details={"role": str(user.role), "allowed": sorted(str(role) for role in roles)},
        )
    return user


async def _credentials(request: web.Request) -> tuple[str, str]:
    body: Any
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError("the body is not JSON", code="invalid-body") from exc
    elif request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        body = dict(await request.post())
    else:
        raise ApiError("send JSON or a form", code="invalid-body")
    username = body.get("username") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError("username and password are required", code="invalid-body")
    if not username.strip() or not password:
        raise ApiError("username and password are required", code="invalid-body")
    return username, password


@auth_routes.post("/api/v1/login")
async def login(request: web.Request) -> web.Response:
    username, password = await _credentials(request)
    key = normalise_username(username)[:64]
    throttle = request.app[THROTTLE_KEY]
    wait = throttle.retry_after(key)
    if wait is not None:
        logger.warning("login for %r from %s refused: locked out", key, request.remote)
        raise ApiError(
            "too many failed sign-ins for this user; try again later",
            status=429,
            code="too-many-attempts",
            details={"retry_after_s": math.ceil(wait)},
        )
    users = request.app[USERS_KEY]
    user = await users.authenticate(username, password)
    if user is None:
        locked = throttle.failed(key)
        logger.warning("login failed for %r from %s%s", key, request.remote,
                       " (now locked out)" if locked else "")  # fmt: skip
        raise ApiError("wrong username or password", status=401, code="invalid-credentials")
    throttle.succeeded(key)
    ttl = session_ttl(request.app[SETTINGS_KEY])
    token = await users.create_session(user, ttl)
    logger.info("login %s (%s) from %s", user.username, user.role, request.remote)
    response = web.json_response({"user": user.to_json()}, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    return response


@auth_routes.post("/api/v1/logout")
async def logout(request: web.Request) -> web.Response:
    """End the session named by the cookie (or bearer token), if any; always 204."""
    token = session_token(request)
    if token is not None and await request.app[USERS_KEY].revoke(token):
        logger.info("logout from %s", request.remote)
    response = web.Response(status=204)
    response.del_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=request.secure
    )
    return response


@auth_routes.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    user = require_user(request)
    return web.json_response({"user": user.to_json()}, headers={"Cache-Control": "no-store"})


async def auth_ctx(app: web.Application) -> AsyncIterator[None]:
    """Create the UserService; must run after the context that opens the database."""
    if DATABASE_KEY not in app:
        raise RuntimeError("auth_ctx runs before the database is opened: append it after")
    app[USERS_KEY] = UserService(app[DATABASE_KEY])
    yield


def setup_auth(app: web.Application) -> None:
    """Routes, throttle and `auth_ctx` (appended to cleanup_ctx: call this after the
    database's context is added). `auth_middleware` is installed by the caller."""
    app.add_routes(auth_routes)
    app[THROTTLE_KEY] = LoginThrottle()
    app.cleanup_ctx.append(auth_ctx)

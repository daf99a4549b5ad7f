"""The operator console over HTTP: the pages, the operator's state requests, the live stream.

- `GET /login`, `GET /console`, `/static/…`: the pages (`gateway/console/static/`);
- `GET /api/v1/operators/me` (signed in, with a softphone): the state Asterisk reports;
- `POST /api/v1/operators/me/{login,ready,pause,wrapup,logout}`: carried to Asterisk (AMI),
  answered with the new state;
- `GET /api/v1/operators` (supervisor, admin): every operator's state;
- `GET /api/v1/events` (signed in): Server-Sent Events `operator_state`, `screen_pop`,
  `location`, `call_update` (docs/operators.md).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.auth.http import current_user, require_user
from gateway.auth.model import User
from gateway.http.errors import ApiError
from gateway.keys import LIVE_KEY, OPERATORS_KEY, SETTINGS_KEY
from gateway.services.live import SUPERVISORS
from gateway.services.operators import OperatorError

STATIC = Path(__file__).resolve().parents[1] / "console" / "static"
OPERATOR_ROLES = ("operator", "supervisor", "admin")
SUPERVISOR_ROLES = ("supervisor", "admin")
PAUSE_REASONS = frozenset({"break", "training", "technical", "other"})
HEARTBEAT_S = 15.0

console_routes = web.RouteTableDef()


async def _user(request: web.Request, *roles: str) -> User:
    return require_user(request, *roles)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, default=str), status=status,
                        content_type="application/json")  # fmt: skip


async def _endpoint(request: web.Request) -> tuple[str, str | None]:
    user = await _user(request, *OPERATOR_ROLES)
    if not user.endpoint:
        raise ApiError("this account has no softphone endpoint", status=409, code="no-endpoint")
    return str(user.endpoint), user.room


@console_routes.get("/login")
async def login_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "login.html")


@console_routes.get("/console")
async def console_page(request: web.Request) -> web.StreamResponse:
    if current_user(request) is None:
        raise web.HTTPFound("/login")
    return web.FileResponse(STATIC / "console.html")


@console_routes.get("/api/v1/operators/me")
async def my_state(request: web.Request) -> web.Response:
    endpoint, _ = await _endpoint(request)
    return _json(request.app[OPERATORS_KEY].view(endpoint).as_json())


@console_routes.post("/api/v1/operators/me/{action}")
async def my_action(request: web.Request) -> web.Response:
    endpoint, room = await _endpoint(request)
    operators = request.app[OPERATORS_KEY]
    action = request.match_info["action"]
    try:
        if action == "login":
            room = room or request.app[SETTINGS_KEY].fallback_room
            view = await operators.login(endpoint, room)
        elif action == "ready":
            view = await operators.ready(endpoint)
        elif action == "pause":
            view = await operators.pause(endpoint, await _pause_reason(request))
        elif action == "wrapup":
            view = await operators.wrapup(endpoint)
        elif action == "logout":
            view = await operators.logout(endpoint)
        else:
            raise ApiError(f"no action {action[:20]!r}", status=404, code="no-such-action")
    except OperatorError as exc:
        raise ApiError(str(exc), status=503, code="asterisk-refused") from exc
    return _json(view.as_json())


async def _pause_reason(request: web.Request) -> str:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError as exc:
        raise ApiError("the body must be JSON", code="invalid-body") from exc
    reason = body.get("reason") if isinstance(body, dict) else None
    if reason not in PAUSE_REASONS:
        raise ApiError("a pause needs a reason", code="invalid-pause-reason",
                       details={"allowed": sorted(PAUSE_REASONS)})  # fmt: skip
    return str(reason)


@console_routes.get("/api/v1/operators")
async def all_operators(request: web.Request) -> web.Response:
    await _user(request, *SUPERVISOR_ROLES)
    return _json({"items": [view.as_json() for view in request.app[OPERATORS_KEY].views()]})


@console_routes.get("/api/v1/events")
async def events(request: web.Request) -> web.StreamResponse:
    user = await _user(request, *OPERATOR_ROLES)
    topics = [str(user.endpoint)] if user.endpoint else []
    if user.role in SUPERVISOR_ROLES:
        topics.append(SUPERVISORS)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
    })  # fmt: skip
    await response.prepare(request)
    hub = request.app[LIVE_KEY]
    queue = hub.open(*topics)
    try:
        await response.write(b"retry: 1000\n\n")
        if user.endpoint:
            state = request.app[OPERATORS_KEY].view(str(user.endpoint)).as_json()
            await response.write(f"event: operator_state\ndata: {json.dumps(state)}\n\n".encode())
        while True:
            try:
                frame = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
            except TimeoutError:
                frame = ": keep-alive\n\n"
            await response.write(frame.encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.close(queue, *topics)
    return response


def add_console(app: web.Application) -> None:
    app.add_routes(console_routes)
    if STATIC.is_dir():
        app.router.add_static("/static/", STATIC, follow_symlinks=False)

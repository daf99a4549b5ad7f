"""Supervision and the callback list over HTTP.

- `GET /supervisor`: the supervisor's page (supervisor, admin);
- `GET /api/v1/supervisor/overview[?room=rabat]`: rooms, waiting calls, operators with
  their figures, service level, carriers' health, central or for one room
  (gateway/services/supervision.py);
- `GET /api/v1/rooms/{room}/waiting`: the calls waiting in a room (operators);
- `GET /api/v1/callbacks?room=…`: the open callback list, with the attempts so far;
- `GET /api/v1/reports/intervention-times?days=7[&format=svg]`: arrival → answer →
  dispatch → on scene per room and day (supervisor, admin);
- `POST /api/v1/callbacks/{id}/attempts` `{"outcome": "reached|no_answer|busy|wrong_number"}`:
  an attempt, recorded with the operator; `reached` takes the caller off the list.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway.auth.http import current_user, require_user
from gateway.http.console_routes import OPERATOR_ROLES, STATIC, SUPERVISOR_ROLES
from gateway.http.errors import ApiError, NotFound
from gateway.keys import DATABASE_KEY, OPERATORS_KEY, OVERFLOW_KEY, SETTINGS_KEY
from gateway.persistence import callback_store
from gateway.services import reports
from gateway.services.supervision import overview

supervisor_routes = web.RouteTableDef()


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, default=str), status=status,
                        content_type="application/json")  # fmt: skip


@supervisor_routes.get("/supervisor")
async def supervisor_page(request: web.Request) -> web.StreamResponse:
    if current_user(request) is None:
        raise web.HTTPFound("/login")
    require_user(request, *SUPERVISOR_ROLES)
    return web.FileResponse(STATIC / "supervisor.html")


@supervisor_routes.get("/api/v1/supervisor/overview")
async def supervisor_overview(request: web.Request) -> web.Response:
    require_user(request, *SUPERVISOR_ROLES)
    app = request.app
    room = request.query.get("room") or None
    if room is not None and room not in app[SETTINGS_KEY].room_ids:
        raise NotFound("no such room", code="no-such-room", details={"room": room[:32]})
    data = await overview(app[DATABASE_KEY], app[SETTINGS_KEY], app[OPERATORS_KEY],
                          app.get(OVERFLOW_KEY), room)  # fmt: skip
    return _json(data)


@supervisor_routes.get("/api/v1/rooms/{room}/waiting")
async def room_waiting(request: web.Request) -> web.Response:
    require_user(request, *OPERATOR_ROLES)
    room = request.match_info["room"]
    monitor = request.app.get(OVERFLOW_KEY)
    items = [] if monitor is None else [
        {"uniqueid": w.uniqueid, "priority": w.priority, "waited_s": round(w.waited_s(), 1)}
        for w in monitor.waiting.values() if w.queue == room
    ]  # fmt: skip
    return _json({"items": sorted(items, key=lambda item: -item["waited_s"])})


@supervisor_routes.get("/api/v1/callbacks")
async def list_callbacks(request: web.Request) -> web.Response:
    require_user(request, *OPERATOR_ROLES)
    room = request.query.get("room") or None
    async with request.app[DATABASE_KEY].engine.connect() as conn:
        items = await conn.run_sync(callback_store.open_callbacks, room)
    return _json({"items": items})


@supervisor_routes.post("/api/v1/callbacks/{callback_id}/attempts")
async def add_attempt(request: web.Request) -> web.Response:
    user = require_user(request, *OPERATOR_ROLES)
    try:
        body = await request.json()
    except ValueError as exc:
        raise ApiError("the body must be JSON", code="invalid-body") from exc
    outcome = body.get("outcome") if isinstance(body, dict) else None
    if outcome not in callback_store.OUTCOMES:
        raise ApiError("unknown outcome", code="invalid-outcome",
                       details={"allowed": sorted(callback_store.OUTCOMES)})  # fmt: skip
    callback_id = request.match_info["callback_id"][:36]
    operator = user.endpoint or user.username
    now = datetime.now(UTC)
    database = request.app[DATABASE_KEY]
    found = await database.write(
        lambda conn: callback_store.add_attempt(conn, callback_id, operator, outcome, now)
    )
    if not found:
        raise NotFound("no such callback", code="no-such-callback", details={"id": callback_id})
    async with database.engine.connect() as conn:
        items = await conn.run_sync(callback_store.open_callbacks, None)
    item = next((i for i in items if i["id"] == callback_id), None)
    return _json(item or {"id": callback_id, "cleared": True, "attempts": []}, status=201)


@supervisor_routes.get("/api/v1/reports/intervention-times")
async def intervention_times(request: web.Request) -> web.Response:
    """Per room and day: calls, and the median / p90 seconds of answer, dispatch, on scene
    (gateway/services/reports.py); `format=svg` for the chart."""
    require_user(request, *SUPERVISOR_ROLES)
    try:
        days = int(request.query.get("days", "7"))
    except ValueError as exc:
        raise ApiError("days must be a whole number", code="invalid-query") from exc
    if not 1 <= days <= 366:
        raise ApiError("days must be 1 to 366", code="invalid-query")
    since = reports.since_days(datetime.now(UTC), days)
    async with request.app[DATABASE_KEY].engine.connect() as conn:
        table = await conn.run_sync(reports.read, since)
    if request.query.get("format") == "svg":
        return web.Response(text=reports.svg(table), content_type="image/svg+xml")
    return _json({"since": since, "items": table})

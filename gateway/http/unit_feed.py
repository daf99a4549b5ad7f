"""`GET /api/v1/units/{id}/feed`: a unit's terminal, over WebSocket.

Server → terminal (JSON): `{"type": "assignment", "assignment_id", "incident_id",
"latitude", "longitude", "eta_s", "reason", "deadline_at"}` when the unit is proposed; the
answer to each of the terminal's messages as `{"type": "result", "ok", …}`.
Terminal → server: `{"type": "ack", "assignment_id"}`, `{"type": "decline",
"assignment_id", "reason"}`, `{"type": "status", "event": "en_route|on_scene|clear|…",
"incident_id"?}` — the same rules as the HTTP routes (unit_routes, incident_routes).
A malformed message gets `{"type": "result", "ok": false, "error": …}`; the feed stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from dispatch_core.incidents import IllegalTransition, IncidentAction
from dispatch_core.units import UnitEvent
from gateway.auth.http import require_user
from gateway.http.console_routes import OPERATOR_ROLES
from gateway.keys import DATABASE_KEY, FLEET_KEY, LIVE_KEY
from gateway.persistence import unit_store
from gateway.services.dispatch import DispatchService
from gateway.services.incidents import IncidentConflict, move

unit_feed_routes = web.RouteTableDef()
MAX_MESSAGE = 4096


def _frame_to_json(frame: str) -> dict[str, Any] | None:
    """The hub's `event: …\\ndata: …` frame as one JSON message (None for a comment)."""
    name, data = None, None
    for line in frame.splitlines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
    if name is None or not isinstance(data, dict):
        return None
    return {"type": name, **data}


async def _handle(request: web.Request, unit_id: str, by: str, text: str) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except ValueError:
        return {"type": "result", "ok": False, "error": "not JSON"}
    if not isinstance(message, dict):
        return {"type": "result", "ok": False, "error": "not a JSON object"}
    kind, now = message.get("type"), datetime.now(UTC)
    app = request.app
    service = DispatchService(app[DATABASE_KEY], hub=app[LIVE_KEY], fleet=app[FLEET_KEY])
    assignment_id = str(message.get("assignment_id", ""))[:36]
    if kind == "ack":
        answer = await service.acknowledge(assignment_id, by, now)
        return {"type": "result", "ok": answer.ok, "error": answer.code, "for": "ack"}
    if kind == "decline":
        reason = message.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            return {"type": "result", "ok": False, "error": "a decline needs a reason"}
        answer = await service.decline(assignment_id, by, reason, now)
        return {"type": "result", "ok": answer.ok, "error": answer.code, "for": "decline"}
    if kind == "status":
        return await _status(request, unit_id, by, message, now)
    return {"type": "result", "ok": False, "error": f"unknown type {str(kind)[:20]!r}"}


async def _status(
    request: web.Request, unit_id: str, by: str, message: dict[str, Any], now: datetime
) -> dict[str, Any]:
    try:
        event = UnitEvent(str(message.get("event")))
    except ValueError:
        return {"type": "result", "ok": False, "error": "unknown unit event"}
    incident_id = message.get("incident_id")

    def unit(conn: Any) -> str | None:
        state = unit_store.apply_event(conn, unit_id, event, now)
        if state and event is UnitEvent.ON_SCENE and isinstance(incident_id, str):
            with contextlib.suppress(IllegalTransition, IncidentConflict):
                move(conn, incident_id[:36], IncidentAction.ARRIVE, by=by, at=now)
        return state

    state = await request.app[DATABASE_KEY].write(unit)
    return {"type": "result", "ok": state is not None, "state": state, "for": "status",
            "error": None if state else f"cannot go {event.value} now"}  # fmt: skip


@unit_feed_routes.get("/api/v1/units/{unit_id}/feed")
async def unit_feed(request: web.Request) -> web.WebSocketResponse:
    user = require_user(request, *OPERATOR_ROLES)
    unit_id = request.match_info["unit_id"][:36]
    socket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
    await socket.prepare(request)
    hub = request.app[LIVE_KEY]
    topic = f"unit:{unit_id}"
    queue = hub.open(topic)

    async def forward() -> None:
        while True:
            message = _frame_to_json(await queue.get())
            if message is not None:
                await socket.send_json(message)

    pushing = asyncio.create_task(forward())
    try:
        async for received in socket:
            if received.type is WSMsgType.TEXT:
                await socket.send_json(await _handle(request, unit_id, user.username,
                                                     received.data))  # fmt: skip
    finally:
        pushing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pushing
        hub.close(queue, topic)
    return socket

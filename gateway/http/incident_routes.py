"""Incident lifecycle and unit status over HTTP (docs/dispatch.md).

- `POST /api/v1/incidents/{id}/confirm`: the operator confirms the draft (before dispatch);
- `POST /api/v1/incidents/{id}/close` `{"outcome": "founded|unfounded|hoax|duplicate|
  no_trace|other", "reason"?}` (from on scene); `POST /api/v1/incidents/{id}/cancel`
  `{"reason"}`;
- `POST /api/v1/units/{id}/status` `{"event": "en_route|on_scene|clear|on_duty|off_duty",
  "incident_id"?}`: from the unit's terminal (or its dispatcher); `on_scene` with an
  `incident_id` also moves the incident on scene.

Each answers the new state; an illegal move is 409 `illegal-transition` with the reason.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from dispatch_core.incidents import IllegalTransition, IncidentAction, IncidentOutcome
from dispatch_core.units import UnitEvent
from gateway.auth.http import require_user
from gateway.http.console_routes import OPERATOR_ROLES
from gateway.http.errors import ApiError, NotFound
from gateway.keys import DATABASE_KEY
from gateway.persistence import unit_store
from gateway.services.incidents import IncidentConflict, move

incident_routes = web.RouteTableDef()
UNIT_EVENTS = {e.value: e for e in (UnitEvent.EN_ROUTE, UnitEvent.ON_SCENE, UnitEvent.CLEAR,
                                    UnitEvent.ON_DUTY, UnitEvent.OFF_DUTY)}  # fmt: skip


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise ApiError("the body must be JSON", code="invalid-body") from exc
    if not isinstance(body, dict):
        raise ApiError("the body must be a JSON object", code="invalid-body")
    return body


async def _act(request: web.Request, action: IncidentAction, **kwargs: Any) -> web.Response:
    user = require_user(request, *OPERATOR_ROLES)
    incident_id = request.match_info["incident_id"][:36]
    now = datetime.now(UTC)
    try:
        moved = await request.app[DATABASE_KEY].write(
            lambda conn: move(conn, incident_id, action, by=user.username, at=now, **kwargs)
        )
    except IllegalTransition as exc:
        raise ApiError(str(exc), status=409, code="illegal-transition") from exc
    except IncidentConflict as exc:
        if exc.code == "no-such-incident":
            raise NotFound(str(exc), code=exc.code, details={"id": incident_id}) from exc
        raise ApiError(str(exc), status=409, code=exc.code) from exc
    body = {
        "incident_id": incident_id,
        "status": moved.status.value,
        "previous": moved.previous.value,
        "by": user.username,
        "at": now.isoformat(),
    }
    return web.json_response(body)


@incident_routes.post("/api/v1/incidents/{incident_id}/confirm")
async def confirm(request: web.Request) -> web.Response:
    return await _act(request, IncidentAction.CONFIRM)


@incident_routes.post("/api/v1/incidents/{incident_id}/close")
async def close(request: web.Request) -> web.Response:
    body = await _body(request)
    allowed = [o.value for o in IncidentOutcome]
    if body.get("outcome") not in allowed:
        raise ApiError("a close needs an outcome", code="invalid-outcome",
                       details={"allowed": allowed})  # fmt: skip
    outcome = IncidentOutcome(str(body["outcome"]))
    reason = body.get("reason") if isinstance(body.get("reason"), str) else None
    return await _act(request, IncidentAction.CLOSE, outcome=outcome, reason=reason)


@incident_routes.post("/api/v1/incidents/{incident_id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    reason = (await _body(request)).get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError('a cancel needs {"reason": …}', code="invalid-body")
    return await _act(request, IncidentAction.CANCEL, reason=reason)


@incident_routes.post("/api/v1/units/{unit_id}/status")
async def unit_status(request: web.Request) -> web.Response:
    user = require_user(request, *OPERATOR_ROLES)
    body = await _body(request)
    event = UNIT_EVENTS.get(str(body.get("event")))
    if event is None:
        raise ApiError("unknown unit event", code="invalid-event",
                       details={"allowed": sorted(UNIT_EVENTS)})  # fmt: skip
    unit_id = request.match_info["unit_id"][:36]
    incident_id = body.get("incident_id")
    now = datetime.now(UTC)

    def unit(conn: Any) -> tuple[str | None, str | None]:
        state = unit_store.apply_event(conn, unit_id, event, now)
        moved = None
        if state and event is UnitEvent.ON_SCENE and isinstance(incident_id, str):
            try:
                moved = move(conn, incident_id[:36], IncidentAction.ARRIVE,
                             by=user.username, at=now).status.value  # fmt: skip
            except (IllegalTransition, IncidentConflict):
                moved = None  # the unit is there whatever the incident's record says
        return state, moved

    state, incident_status = await request.app[DATABASE_KEY].write(unit)
    if state is None:
        raise ApiError(f"unit {unit_id} cannot go {event.value} now", status=409,
                       code="illegal-transition", details={"unit_id": unit_id})  # fmt: skip
    return web.Response(text=json.dumps({"unit_id": unit_id, "state": state,
                                         "incident_status": incident_status}),
                        content_type="application/json")  # fmt: skip

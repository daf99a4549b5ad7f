"""Units and dispatch over HTTP (docs/dispatch.md, "Units over HTTP").

- `POST /api/v1/units/{id}/position` `{"lat", "lon", "at", "accuracy_m"}`: a tracker's report
  (supervisor or admin: the AVL relay signs in as one); 202 stored, 422 with the rejection's
  code (`time-in-future`, `not-newer-than-current`, `coordinates-not-finite` …);
- `POST /api/v1/units/positions` `[{"unit_id", "lat", "lon", "at", "accuracy_m"}, …]`: a
  batch in one transaction, 202 with each report's outcome;
- `GET /api/v1/incidents/{id}/recommendations[?lat=&lon=]`: ranked candidates with reasons;
- `POST /api/v1/incidents/{id}/dispatch` `[{"lat", "lon"}]`: propose the nearest available
  unit, 201 with the assignment, 409 `no-unit-available`;
- `POST /api/v1/assignments/{id}/acknowledge`, `…/decline` `{"reason"}`: the crew's answer.

Without `lat`/`lon` the incident's place is its call's best location.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from dispatch_core.incidents import IncidentStatus
from dispatch_core.units import UnitFix
from gateway.auth.http import require_user
from gateway.http.errors import ApiError, NotFound
from gateway.keys import DATABASE_KEY, FLEET_KEY, LIVE_KEY
from gateway.persistence import calls as repo
from gateway.persistence import unit_store
from gateway.persistence.unit_store import Answer
from gateway.services.dispatch import DispatchService, Proposed

unit_routes = web.RouteTableDef()

OPERATOR_ROLES = ("operator", "supervisor", "admin")
POSITION_ROLES = ("supervisor", "admin")  # the AVL relay's account, or a supervisor by hand
MAX_BATCH = 500


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, default=_default), status=status,
                        content_type="application/json")  # fmt: skip


async def _body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError as exc:
        raise ApiError("the body is not JSON", code="invalid-body") from exc


def _number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number")
    return float(value)


def _fix(body: Any) -> UnitFix:
    """A report's fields, type-checked (ValueError); the domain judges the values."""
    if not isinstance(body, dict):
        raise ValueError('expected {"lat", "lon", "at", "accuracy_m"}')
    at = body.get("at")
    if not isinstance(at, str):
        raise ValueError("at must be an ISO 8601 time with its offset")
    parsed = datetime.fromisoformat(at.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("at must carry its offset (Z or +01:00)")
    return UnitFix(_number(body, "lat"), _number(body, "lon"), parsed,
                   _number(body, "accuracy_m"))  # fmt: skip


def _service(request: web.Request) -> DispatchService:
    app = request.app
    return DispatchService(app[DATABASE_KEY], hub=app[LIVE_KEY], fleet=app[FLEET_KEY])


@unit_routes.post("/api/v1/units/{unit_id}/position")
async def post_position(request: web.Request) -> web.Response:
    require_user(request, *POSITION_ROLES)
    unit_id = request.match_info["unit_id"][:36]
    try:
        fix = _fix(await _body(request))
    except ValueError as exc:
        raise ApiError(str(exc), code="invalid-body") from exc
    now = datetime.now(UTC)
    result = await request.app[DATABASE_KEY].write(
        lambda conn: unit_store.record_position(conn, unit_id, fix, now)
    )
    if result.reason == unit_store.NO_SUCH_UNIT:
        raise NotFound("no such unit", code=unit_store.NO_SUCH_UNIT, details={"id": unit_id})
    if not result.stored:
        raise ApiError(f"position not accepted: {result.reason}", status=422,
                       code=str(result.reason), details={"unit_id": unit_id})  # fmt: skip
    request.app[FLEET_KEY].moved(unit_id, fix)
    return _json({"unit_id": unit_id, "accepted": True, "at": fix.at}, status=202)


@unit_routes.post("/api/v1/units/positions")
async def post_positions(request: web.Request) -> web.Response:
    require_user(request, *POSITION_ROLES)
    body = await _body(request)
    if not isinstance(body, list) or len(body) > MAX_BATCH:
        raise ApiError(f"expected a list of at most {MAX_BATCH} reports", code="invalid-body")
    now = datetime.now(UTC)
    reports: list[tuple[int, str, UnitFix]] = []
    results: list[dict[str, Any] | None] = [None] * len(body)
    for i, item in enumerate(body):
        unit_id = item.get("unit_id") if isinstance(item, dict) else None
        try:
            if not isinstance(unit_id, str) or not unit_id:
                raise ValueError("unit_id is required")
            reports.append((i, unit_id[:36], _fix(item)))
        except ValueError as exc:
            results[i] = {"unit_id": unit_id, "accepted": False, "reason": "invalid-report",
                          "message": str(exc)}  # fmt: skip

    def record(conn: Any) -> list[tuple[int, unit_store.PositionResult]]:
        return [(i, unit_store.record_position(conn, u, fix, now)) for i, u, fix in reports]

    fixes = {i: fix for i, _, fix in reports}
    for i, outcome in await request.app[DATABASE_KEY].write(record):
        results[i] = {"unit_id": outcome.unit_id, "accepted": outcome.stored,
                      "reason": outcome.reason}  # fmt: skip
        if outcome.stored:
            request.app[FLEET_KEY].moved(outcome.unit_id, fixes[i])
    return _json({"results": results}, status=202)


async def _place(request: web.Request, incident_id: str, body: Any) -> tuple[float, float]:
    """The incident's place: `lat`/`lon` given (body or query), else its call's best fix."""
    async with request.app[DATABASE_KEY].engine.connect() as conn:
        point = await conn.run_sync(unit_store.incident_point, incident_id)
    if point is None:
        raise NotFound("no such incident", code="no-such-incident", details={"id": incident_id})
    if point[0] == "closed":
        raise ApiError("the incident is closed", status=409, code="incident-closed",
                       details={"id": incident_id})  # fmt: skip
    given = body if isinstance(body, dict) and "lat" in body else None
    if given is None and "lat" in request.query:
        given = dict(request.query)
    if given is not None:
        try:
            lat, lon = float(given["lat"]), float(given["lon"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError("lat and lon must be numbers", code="invalid-body") from exc
        if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
            raise ApiError("lat and lon are out of range", code="invalid-body")
        return lat, lon
    if point[1] is None or point[2] is None:
        raise ApiError("the incident has no location yet: send lat and lon", status=422,
                       code="no-incident-location", details={"id": incident_id})  # fmt: skip
    return point[1], point[2]


def _candidate(candidate: Any, call_sign: str) -> dict[str, Any]:
    data = asdict(candidate)
    data["vehicle"] = str(candidate.vehicle)
    data["call_sign"] = call_sign
    return data


@unit_routes.get("/api/v1/units")
async def list_units(request: web.Request) -> web.Response:
    """Every unit with its state and last fix (the supervisor's map)."""
    require_user(request, *OPERATOR_ROLES)
    async with request.app[DATABASE_KEY].engine.connect() as conn:
        items = await conn.run_sync(unit_store.all_units)
    return _json({"items": items})


@unit_routes.get("/api/v1/incidents/{incident_id}/recommendations")
async def get_recommendations(request: web.Request) -> web.Response:
    require_user(request, *OPERATOR_ROLES)
    incident_id = request.match_info["incident_id"][:36]
    lat, lon = await _place(request, incident_id, None)
    ranked = await _service(request).recommendations(incident_id, lat, lon, datetime.now(UTC))
    items = [_candidate(r.candidate, r.call_sign) for r in ranked]
    return _json({"incident_id": incident_id, "lat": lat, "lon": lon, "candidates": items})


def _proposed(proposed: Proposed) -> dict[str, Any]:
    return {"assignment_id": proposed.assignment_id, "incident_id": proposed.incident_id,
            "unit_id": proposed.candidate.unit_id, "call_sign": proposed.call_sign,
            "state": unit_store.PROPOSED, "deadline_at": proposed.deadline,
            "candidate": _candidate(proposed.candidate, proposed.call_sign)}  # fmt: skip


@unit_routes.post("/api/v1/incidents/{incident_id}/dispatch")
async def post_dispatch(request: web.Request) -> web.Response:
    user = require_user(request, *OPERATOR_ROLES)
    incident_id = request.match_info["incident_id"][:36]
    body = await _body(request) if request.can_read_body else None
    lat, lon = await _place(request, incident_id, body)
    async with request.app[DATABASE_KEY].sessions() as session:
        incident = await repo.get_incident(session, incident_id)
    dispatchable = (IncidentStatus.CONFIRMED.value, IncidentStatus.DISPATCHED.value)
    if incident is not None and incident.status not in dispatchable:  # (another unit: ok)
        raise ApiError("confirm the incident before dispatching a unit", status=409,
                       code="incident-not-confirmed",
                       details={"incident_id": incident_id, "status": incident.status})  # fmt: skip
    proposed = await _service(request).propose_nearest(incident_id, lat, lon, datetime.now(UTC))
    if proposed is None:
        raise ApiError("no available unit to propose", status=409, code="no-unit-available",
                       details={"incident_id": incident_id, "by": user.username})  # fmt: skip
    return _json(_proposed(proposed), status=201)


def _answered(answer: Answer, assignment_id: str) -> web.Response:
    if answer.code == "no-such-assignment":
        raise NotFound("no such assignment", code=answer.code, details={"id": assignment_id})
    if not answer.ok:
        state = None if answer.assignment is None else answer.assignment["state"]
        raise ApiError(
            "the assignment is no longer waiting for an answer",
            status=409,
            code=str(answer.code),
            details={"id": assignment_id, "state": state},
        )
    return _json({"assignment": answer.assignment})


@unit_routes.post("/api/v1/assignments/{assignment_id}/acknowledge")
async def post_acknowledge(request: web.Request) -> web.Response:
    user = require_user(request, *OPERATOR_ROLES)
    assignment_id = request.match_info["assignment_id"][:36]
    answer = await _service(request).acknowledge(assignment_id, user.username, datetime.now(UTC))
    return _answered(answer, assignment_id)


@unit_routes.post("/api/v1/assignments/{assignment_id}/decline")
async def post_decline(request: web.Request) -> web.Response:
    user = require_user(request, *OPERATOR_ROLES)
    assignment_id = request.match_info["assignment_id"][:36]
    body = await _body(request)
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError('a decline needs {"reason": …}', code="invalid-body")
    answer = await _service(request).decline(assignment_id, user.username, reason,
                                             datetime.now(UTC))  # fmt: skip
    return _answered(answer, assignment_id)

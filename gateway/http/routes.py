"""HTTP API v1: calls, incidents and health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import select, update

from gateway.auth.http import require_user
from gateway.http.errors import ApiError, NotFound
from gateway.http.mapping import call_out, decode_cursor, encode_cursor, locations_out
from gateway.http.schemas import (
    CallPage,
    HealthOut,
    IncidentFormIn,
    IncidentOut,
    ListCallsQuery,
)
from gateway.keys import AMI_KEY, DATABASE_KEY
from gateway.persistence import calls as repo
from gateway.persistence import camera_store
from gateway.persistence.calls import utc
from gateway.persistence.models import IncidentRow

routes = web.RouteTableDef()


def _json(model: CallPage | HealthOut | object, status: int = 200) -> web.Response:
    assert hasattr(model, "model_dump_json")
    return web.Response(
        text=model.model_dump_json(), status=status, content_type="application/json"
    )


@routes.get("/api/v1/calls")
async def list_calls(request: web.Request) -> web.Response:
    try:
        query = ListCallsQuery.model_validate(dict(request.query))
    except ValidationError as exc:
        raise ApiError(
            "invalid query parameters",
            code="invalid-query",
            details={"errors": exc.errors(include_url=False, include_context=False)},
        ) from exc
    before = decode_cursor(query.cursor) if query.cursor else None
    database = request.app[DATABASE_KEY]
    async with database.sessions() as session:
        rows = list((await session.execute(repo.calls_page(query.limit + 1, before))).scalars())
        page = rows[: query.limit]
        ids = [row.id for row in page]
        found = await session.execute(
            select(IncidentRow.call_id, IncidentRow.id).where(IncidentRow.call_id.in_(ids))
        )
        incidents = {call_id: incident_id for call_id, incident_id in found}
    next_cursor = encode_cursor(page[-1]) if len(rows) > query.limit else None
    return _json(
        CallPage(items=[call_out(r, incidents.get(r.id)) for r in page], next_cursor=next_cursor)
    )


@routes.get("/api/v1/calls/{call_id}")
async def get_call(request: web.Request) -> web.Response:
    call_id = request.match_info["call_id"]
    if len(call_id) > 64:
        raise NotFound("no such call", code="no-such-call", details={"id": call_id[:64]})
    async with request.app[DATABASE_KEY].sessions() as session:
        row = await repo.get_call(session, call_id)
        if row is None:
            raise NotFound("no such call", code="no-such-call", details={"id": call_id})
        incident = await repo.incident_for_call(session, call_id)
        events = await repo.timeline(session, call_id)
        fixes = await repo.locations(session, call_id)
    out = call_out(row, incident.id if incident else None, events)
    out.locations, out.best_location = locations_out(fixes, row.best_location_id)
    return _json(out)


@routes.get("/api/v1/incidents/{incident_id}")
async def get_incident(request: web.Request) -> web.Response:
    incident_id = request.match_info["incident_id"]
    async with request.app[DATABASE_KEY].sessions() as session:
        incident = await repo.get_incident(session, incident_id[:64])
        if incident is None:
            details = {"id": incident_id[:64]}
            raise NotFound("no such incident", code="no-such-incident", details=details)
        call = await repo.get_call(session, incident.call_id)
        fixes = await repo.locations(session, incident.call_id)
    every, best = locations_out(fixes, call.best_location_id if call else None)
    out = _incident_out(incident, every, best)
    if best is not None and best.latitude is not None and best.longitude is not None:
        async with request.app[DATABASE_KEY].engine.connect() as conn:
            out.cameras = await conn.run_sync(camera_store.near, best.latitude, best.longitude)
    return _json(out)


def _incident_out(incident: IncidentRow, every: list[Any], best: Any) -> IncidentOut:
    return IncidentOut(
        id=incident.id, call_id=incident.call_id, status=incident.status,
        priority=incident.priority, room=incident.room, category=incident.category,
        address=incident.address, description=incident.description,
        updated_by=incident.updated_by, created_at=utc(incident.created_at),
        updated_at=utc(incident.updated_at), locations=every, best_location=best,
    )  # fmt: skip


@routes.put("/api/v1/incidents/{incident_id}")
async def save_incident_form(request: web.Request) -> web.Response:
    """The operator's incident form, saved on the (draft) incident."""
    user = require_user(request, "operator", "supervisor", "admin")
    try:
        form = IncidentFormIn.model_validate(await request.json())
    except (ValueError, ValidationError) as exc:
        raise ApiError("the incident form is not valid", code="invalid-body",
                       details={"reason": str(exc)[:400]}) from exc  # fmt: skip
    incident_id = request.match_info["incident_id"][:64]
    changes: dict[str, Any] = {
        k: v for k, v in form.model_dump(mode="json").items() if v is not None
    }
    changes |= {"updated_by": user.username, "updated_at": datetime.now(UTC)}
    statement = update(IncidentRow).where(IncidentRow.id == incident_id).values(**changes)
    database = request.app[DATABASE_KEY]
    updated = await database.write(lambda conn: conn.execute(statement).rowcount)
    if not updated:
        raise NotFound("no such incident", code="no-such-incident", details={"id": incident_id})
    async with database.sessions() as session:
        incident = await repo.get_incident(session, incident_id)
        assert incident is not None
        call = await repo.get_call(session, incident.call_id)
        fixes = await repo.locations(session, incident.call_id)
    every, best = locations_out(fixes, call.best_location_id if call else None)
    return _json(_incident_out(incident, every, best))


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    database_up = await request.app[DATABASE_KEY].ping()
    ami = request.app.get(AMI_KEY)
    ami_up = None if ami is None else ami.connected
    healthy = database_up and ami_up is not False
    body = HealthOut(status="ok" if healthy else "degraded", database=database_up, ami=ami_up)
    return _json(body, status=200 if healthy else 503)

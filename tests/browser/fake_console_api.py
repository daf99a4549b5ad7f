"""A FAKE of the gateway's console API, for the page tests of tests/browser only.

It is not the gateway: it serves the static console pages and answers the contract of
docs/console.md (sign-in, the operator's state, the SSE event stream, the incident form, the
room's waiting calls and callbacks, the supervisor overview) from memory, so that the pages can
be proved in the real Chromium before, and apart from, the real backend. The end-to-end browser
test against `gateway.app.create_app` is a separate test.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

SESSION_COOKIE = "line19_session"
PASSWORD = "correct horse battery"
USER: dict[str, Any] = {
    "id": 7,
    "username": "op-rabat-1",
    "display_name": "Salma Idrissi",
    "role": "operator",
    "endpoint": "op-rabat-1",
    "room": "rabat",
}
SUPERVISOR: dict[str, Any] = {
    "id": 9,
    "username": "sup-rabat",
    "display_name": "Karim Bennani",
    "role": "supervisor",
    "endpoint": None,
    "room": "rabat",
}
USERS = {user["username"]: user for user in (USER, SUPERVISOR)}
SUPERVISOR_ROLES = ("supervisor", "admin")
CALLBACK_OUTCOMES = ("reached", "no_answer", "busy", "wrong_number")
MAX_FAILED_LOGINS = 3
HEARTBEAT_S = 0.25
WAIT_S = 10.0  # how long the test waits for the page to reach the fake


def _error(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> web.Response:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return web.json_response(body, status=status)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()


@dataclass
class FakeConsoleApi:
    """In-memory stand-in for the backend; the test drives it and reads what the page sent."""

    static_dir: Path
    sessions: set[str] = field(default_factory=set)
    session_users: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> user
    failed_logins: int = 0
    operator: dict[str, Any] = field(
        default_factory=lambda: {
            "endpoint": USER["endpoint"],
            "room": USER["room"],
            "state": "logged_out",
            "pause_reason": None,
            "since": _now(),
        }
    )
    actions: list[tuple[str, Any]] = field(default_factory=list)  # (action, JSON body)
    incident_puts: list[tuple[str, Any]] = field(default_factory=list)  # (incident id, body)
    operator_fetches: int = 0
    stream_connects: int = 0
    refuse_streams: bool = False  # answer 503 to /api/v1/events (the stream stays down)
    fail_next_action: tuple[int, str, str] | None = None  # (status, code, message)
    # While set, GET /api/v1/operators/me answers the state of the moment it was asked, but
    # only once `release_operator_fetches` is called: a slow answer overtaken by an event.
    hold_operator_fetches: bool = False
    held_fetches: int = 0
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _fetch_held: asyncio.Event = field(default_factory=asyncio.Event)
    # The room's waiting calls (GET /api/v1/rooms/{room}/waiting), by room.
    waiting: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    waiting_fetches: list[str] = field(default_factory=list)  # the rooms asked for
    fail_waiting: tuple[int, str, str] | None = None  # while set: (status, code, message)
    # The callback list (GET /api/v1/callbacks?room=), by room; a "reached" attempt clears one.
    callbacks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    callback_fetches: list[str] = field(default_factory=list)  # the rooms asked for
    callback_attempts: list[tuple[str, Any]] = field(default_factory=list)  # (id, JSON body)
    fail_next_attempt: tuple[int, str, str] | None = None  # (status, code, message)
    # GET /api/v1/supervisor/overview answers this, with `generated_at` set to the moment.
    overview: dict[str, Any] = field(default_factory=lambda: sample_overview())
    overview_fetches: int = 0
    fail_overview: tuple[int, str, str] | None = None  # while set: (status, code, message)
    # Like hold_operator_fetches, for the overview: answered as of the moment it was asked.
    hold_overview_fetches: bool = False
    _overview_release: asyncio.Event = field(default_factory=asyncio.Event)
    _overview_held: asyncio.Event = field(default_factory=asyncio.Event)
    # The units (GET /api/v1/units), the supervisor's map.
    units: list[dict[str, Any]] = field(default_factory=lambda: sample_units())
    unit_fetches: int = 0
    # Incidents and dispatch: incident id -> status ("new", "confirmed", "dispatched"); its
    # place (lat, lon), absent = 422 no-incident-location; its ranked candidates.
    incident_status: dict[str, str] = field(default_factory=dict)
    incident_places: dict[str, tuple[float, float]] = field(default_factory=dict)
    recommendations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    recommendation_fetches: list[str] = field(default_factory=list)  # incident ids asked for
    confirms: list[str] = field(default_factory=list)
    dispatches: list[tuple[str, Any]] = field(default_factory=list)  # (incident id, body)
    _streams: list[asyncio.Queue[tuple[str, Any] | None]] = field(default_factory=list)
    _stream_changed: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.root)
        app.router.add_get("/login", self.login_page)
        app.router.add_get("/console", self.console_page)
        app.router.add_get("/supervisor", self.supervisor_page)
        app.router.add_static("/static", self.static_dir)
        app.router.add_post("/api/v1/login", self.login)
        app.router.add_post("/api/v1/logout", self.logout)
        app.router.add_get("/api/v1/me", self.me)
        app.router.add_get("/api/v1/operators/me", self.operator_me)
        app.router.add_post("/api/v1/operators/me/{action}", self.operator_action)
        app.router.add_get("/api/v1/events", self.events)
        app.router.add_put("/api/v1/incidents/{incident_id}", self.put_incident)
        app.router.add_get("/api/v1/rooms/{room}/waiting", self.room_waiting)
        app.router.add_get("/api/v1/callbacks", self.list_callbacks)
        app.router.add_post("/api/v1/callbacks/{callback_id}/attempts", self.callback_attempt)
        app.router.add_get("/api/v1/supervisor/overview", self.supervisor_overview)
        app.router.add_get("/api/v1/units", self.list_units)
        app.router.add_post("/api/v1/incidents/{incident_id}/confirm", self.confirm_incident)
        app.router.add_get(
            "/api/v1/incidents/{incident_id}/recommendations", self.get_recommendations
        )
        app.router.add_post("/api/v1/incidents/{incident_id}/dispatch", self.dispatch)
        return app

    # ------------------------------------------------------------------ what the test drives

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    async def wait_for_streams(self, count: int = 1) -> None:
        async with asyncio.timeout(WAIT_S):
            while len(self._streams) < count:
                self._stream_changed.clear()
                await self._stream_changed.wait()

    def push(self, event: str, data: Any) -> None:
        """Sends one named SSE event to every open stream."""
        for queue in self._streams:
            queue.put_nowait((event, data))

    def cut_streams(self) -> None:
        """Ends every open stream, as a gateway restart or a dropped proxy would."""
        for queue in self._streams:
            queue.put_nowait(None)

    def close(self) -> None:
        """Lets every handler end before the test server closes."""
        self.release_operator_fetches()
        self.release_overview_fetches()
        self.refuse_streams = True
        self.cut_streams()

    # ------------------------------------------------------------------ pages

    async def root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/console")

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self.static_dir / "login.html")

    async def console_page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self.static_dir / "console.html")

    async def supervisor_page(self, request: web.Request) -> web.StreamResponse:
        # As the gateway is to do it: signed out to /login, an operator 403.
        user = self._user(request)
        if user is None:
            raise web.HTTPFound("/login")
        if user["role"] not in SUPERVISOR_ROLES:
            return _error(403, "forbidden", "Supervisors only")
        return web.FileResponse(self.static_dir / "supervisor.html")

    # ------------------------------------------------------------------ session

    def _signed_in(self, request: web.Request) -> bool:
        return request.cookies.get(SESSION_COOKIE) in self.sessions

    def _user(self, request: web.Request) -> dict[str, Any] | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        return self.session_users.get(token) if token in self.sessions else None

    def _unauthenticated(self) -> web.Response:
        return _error(401, "not-authenticated", "Sign in first")

    async def login(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.failed_logins >= MAX_FAILED_LOGINS:
            return _error(429, "too-many-attempts", "Too many failed sign-ins; wait a minute")
        user = USERS.get(body.get("username"))
        if user is None or body.get("password") != PASSWORD:
            self.failed_logins += 1
            return _error(401, "invalid-credentials", "Wrong username or password")
        token = secrets.token_urlsafe(16)
        self.sessions.add(token)
        self.session_users[token] = user
        response = web.json_response({"user": user})
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    async def logout(self, request: web.Request) -> web.Response:
        self.sessions.discard(request.cookies.get(SESSION_COOKIE, ""))
        self.session_users.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        response = web.json_response({})
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    async def me(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthenticated()
        return web.json_response({"user": user})

    # ------------------------------------------------------------------ operator state

    async def operator_me(self, request: web.Request) -> web.Response:
        if not self._signed_in(request):
            return self._unauthenticated()
        self.operator_fetches += 1
        answer = dict(self.operator)
        if self.hold_operator_fetches:
            self.held_fetches += 1
            self._fetch_held.set()
            await self._release.wait()
        return web.json_response(answer)

    async def wait_for_held_fetch(self) -> None:
        async with asyncio.timeout(WAIT_S):
            await self._fetch_held.wait()

    def release_operator_fetches(self) -> None:
        self.hold_operator_fetches = False
        self._release.set()

    async def operator_action(self, request: web.Request) -> web.Response:
        if not self._signed_in(request):
            return self._unauthenticated()
        action = request.match_info["action"]
        body = await request.json() if request.can_read_body else None
        self.actions.append((action, body))
        if self.fail_next_action is not None:
            status, code, message = self.fail_next_action
            self.fail_next_action = None
            return _error(status, code, message, {"endpoint": USER["endpoint"]})
        # The gateway puts a newly logged-in operator into the queue paused until "ready".
        new_state = {
            "login": ("paused", None),
            "ready": ("ready", None),
            "pause": ("paused", (body or {}).get("reason")),
            "wrapup": ("wrapup", None),
            "logout": ("logged_out", None),
        }.get(action)
        if new_state is None:
            return _error(404, "no-such-action", f"No operator action {action!r}")
        self.set_operator_state(*new_state)
        return web.json_response(self.operator)

    def set_operator_state(self, state: str, pause_reason: str | None = None) -> dict[str, Any]:
        self.operator = {**self.operator, "state": state, "pause_reason": pause_reason}
        self.operator["since"] = _now()
        return self.operator

    # ------------------------------------------------------------------ live events (SSE)

    async def events(self, request: web.Request) -> web.StreamResponse:
        if not self._signed_in(request):
            return self._unauthenticated()
        if self.refuse_streams:
            return _error(503, "events-unavailable", "The event stream is restarting")
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()
        self._streams.append(queue)
        self.stream_connects += 1
        self._stream_changed.set()
        try:
            await response.write(b"retry: 300\n\n")
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")  # also notices a gone client
                    continue
                if item is None:
                    break
                event, data = item
                await response.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
        except ConnectionResetError:
            pass
        finally:
            self._streams.remove(queue)
            self._stream_changed.set()
        return response

    # ------------------------------------------------------------------ incidents

    async def put_incident(self, request: web.Request) -> web.Response:
        if not self._signed_in(request):
            return self._unauthenticated()
        incident_id = request.match_info["incident_id"]
        body = await request.json()
        self.incident_puts.append((incident_id, body))
        return web.json_response({"id": incident_id, "status": "confirmed", **body})

    # ------------------------------------------------------------------ the room's panels

    async def room_waiting(self, request: web.Request) -> web.Response:
        if not self._signed_in(request):
            return self._unauthenticated()
        room = request.match_info["room"]
        self.waiting_fetches.append(room)
        if self.fail_waiting is not None:
            return _error(*self.fail_waiting, {"room": room})
        return web.json_response({"items": self.waiting.get(room, [])})

    async def list_callbacks(self, request: web.Request) -> web.Response:
        if not self._signed_in(request):
            return self._unauthenticated()
        room = request.query.get("room", "")
        self.callback_fetches.append(room)
        return web.json_response({"items": self.callbacks.get(room, [])})

    async def callback_attempt(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthenticated()
        callback_id = request.match_info["callback_id"]
        body = await request.json()
        self.callback_attempts.append((callback_id, body))
        if self.fail_next_attempt is not None:
            status, code, message = self.fail_next_attempt
            self.fail_next_attempt = None
            return _error(status, code, message, {"callback_id": callback_id})
        outcome = body.get("outcome") if isinstance(body, dict) else None
        if outcome not in CALLBACK_OUTCOMES:
            return _error(422, "invalid-outcome", "Unknown outcome",
                          {"allowed": list(CALLBACK_OUTCOMES)})  # fmt: skip
        for items in self.callbacks.values():
            for item in items:
                if item["id"] == callback_id:
                    attempt = {"at": _now(), "operator": user["endpoint"] or user["username"],
                               "outcome": outcome}  # fmt: skip
                    if outcome == "reached":  # cleared: gone from the list, as the gateway says
                        items.remove(item)
                        cleared = {"id": callback_id, "cleared": True, "attempts": []}
                        return web.json_response(cleared, status=201)
                    updated = {**item, "attempts": [*item["attempts"], attempt]}
                    items[items.index(item)] = updated
                    return web.json_response(updated, status=201)
        return _error(404, "no-such-callback", f"No callback {callback_id!r}")

    # ------------------------------------------------------------------ supervisor

    async def supervisor_overview(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthenticated()
        if user["role"] not in SUPERVISOR_ROLES:
            return _error(403, "forbidden", "Supervisors only")
        self.overview_fetches += 1
        if self.fail_overview is not None:
            return _error(*self.fail_overview)
        answer = json.loads(json.dumps({**self.overview, "generated_at": _now()}))
        if self.hold_overview_fetches:
            self._overview_held.set()
            await self._overview_release.wait()
        return web.json_response(answer)

    async def wait_for_held_overview(self) -> None:
        async with asyncio.timeout(WAIT_S):
            await self._overview_held.wait()

    def release_overview_fetches(self) -> None:
        self.hold_overview_fetches = False
        self._overview_held.clear()
        self._overview_release.set()
        self._overview_release = asyncio.Event()

    def set_supervised_state(
        self, endpoint: str, state: str, pause_reason: str | None = None
    ) -> dict[str, Any]:
        """Changes an operator's state in the overview (row and room counts); returns the
        `operator_state` event the gateway would send."""
        row = next(op for op in self.overview["operators"] if op["endpoint"] == endpoint)
        counts = next(r for r in self.overview["rooms"] if r["id"] == row["room"])["operators"]
        if row["state"] in counts:
            counts[row["state"]] -= 1
        if state in counts:
            counts[state] += 1
        row.update(state=state, pause_reason=pause_reason, since=_now())
        return {key: row[key] for key in ("endpoint", "room", "state", "pause_reason", "since")}

    # ------------------------------------------------------------------ units and dispatch

    async def list_units(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return self._unauthenticated()
        self.unit_fetches += 1
        return web.json_response({"items": self.units})

    async def confirm_incident(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthenticated()
        incident_id = request.match_info["incident_id"]
        self.confirms.append(incident_id)
        previous = self.incident_status.get(incident_id, "new")
        if previous != "new":
            return _error(
                409,
                "illegal-transition",
                f"The incident is already {previous}",
                {"id": incident_id, "status": previous},
            )
        self.incident_status[incident_id] = "confirmed"
        return web.json_response(
            {"incident_id": incident_id, "status": "confirmed", "previous": previous,
             "by": user["username"], "at": _now()}
        )  # fmt: skip

    def _place_error(self, incident_id: str) -> web.Response | None:
        if incident_id not in self.incident_places:
            return _error(
                422,
                "no-incident-location",
                "the incident has no location yet: send lat and lon",
                {"id": incident_id},
            )
        return None

    async def get_recommendations(self, request: web.Request) -> web.Response:
        if self._user(request) is None:
            return self._unauthenticated()
        incident_id = request.match_info["incident_id"]
        self.recommendation_fetches.append(incident_id)
        error = self._place_error(incident_id)
        if error is not None:
            return error
        lat, lon = self.incident_places[incident_id]
        candidates = self.recommendations.get(incident_id, [])
        return web.json_response(
            {"incident_id": incident_id, "lat": lat, "lon": lon, "candidates": candidates}
        )

    async def dispatch(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            return self._unauthenticated()
        incident_id = request.match_info["incident_id"]
        body = await request.json() if request.can_read_body else None
        self.dispatches.append((incident_id, body))
        error = self._place_error(incident_id)
        if error is not None:
            return error
        status = self.incident_status.get(incident_id, "new")
        if status not in ("confirmed", "dispatched"):
            return _error(
                409,
                "incident-not-confirmed",
                "confirm the incident before dispatching a unit",
                {"incident_id": incident_id, "status": status},
            )
        candidates = self.recommendations.get(incident_id, [])
        if not candidates:
            return _error(
                409,
                "no-unit-available",
                "no available unit to propose",
                {"incident_id": incident_id, "by": user["username"]},
            )
        best = candidates.pop(0)  # proposed: no longer available, off the next list
        self.incident_status[incident_id] = "dispatched"
        for unit in self.units:
            if unit["id"] == best["unit_id"]:
                unit["state"] = "proposed"
        deadline = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()
        return web.json_response(
            {"assignment_id": f"as-{len(self.dispatches)}", "incident_id": incident_id,
             "unit_id": best["unit_id"], "call_sign": best["call_sign"], "state": "proposed",
             "deadline_at": deadline, "candidate": best},
            status=201,
        )  # fmt: skip

    def set_unit_state(self, unit_id: str, state: str) -> None:
        next(unit for unit in self.units if unit["id"] == unit_id)["state"] = state


def sample_units() -> list[dict[str, Any]]:
    """GET /api/v1/units: six units around Rabat, one in each state, one without a fix."""
    rows = [
        ("u-1", "RABAT-11", "car", "available", 33.9760, -6.8450, 20),
        ("u-2", "RABAT-12", "motorbike", "proposed", 33.9650, -6.8600, 45),
        ("u-3", "RABAT-21", "car", "dispatched", 33.9900, -6.8300, 30),
        ("u-4", "RABAT-22", "van", "en_route", 33.9550, -6.8700, 10),
        ("u-5", "RABAT-31", "car", "on_scene", 33.9715, -6.8498, 90),
        ("u-6", "RABAT-32", "car", "out_of_service", 34.0000, -6.8200, 4000),
        ("u-7", "SALE-01", "car", "out_of_service", None, None, None),
    ]
    return [
        {"id": uid, "call_sign": sign, "vehicle": vehicle, "state": state, "home_room": "rabat",
         "latitude": lat, "longitude": lon, "fix_at": _ago(age) if age is not None else None}
        for uid, sign, vehicle, state, lat, lon, age in rows
    ]  # fmt: skip


def sample_candidate(
    unit_id: str,
    call_sign: str,
    *,
    vehicle: str = "car",
    eta_s: float = 240.0,
    distance_m: float = 1800.0,
    fix_age_s: float = 20.0,
    stale: bool = False,
    reason: str = "nearest available, 1.8 km by road",
    by_road: bool = True,
) -> dict[str, Any]:
    """A candidate of GET /api/v1/incidents/{id}/recommendations."""
    return {
        "unit_id": unit_id,
        "call_sign": call_sign,
        "vehicle": vehicle,
        "eta_s": eta_s,
        "distance_m": distance_m,
        "fix_age_s": fix_age_s,
        "stale": stale,
        "reason": reason,
        "by_road": by_road,
    }


def sample_call(
    call_id: str = "c-0001",
    *,
    best_location: dict[str, Any] | None = None,
    silent: bool = True,
    repeat_count_24h: int = 2,
    incident_id: str | None = "inc-0001",
) -> dict[str, Any]:
    """A call in the shape of GET /api/v1/calls/{id} (gateway/http/schemas.py CallOut)."""
    reasons = []
    if repeat_count_24h:
        reasons.append(f"repeat-caller:{repeat_count_24h}")
    if silent:
        reasons.append("silent-caller")
    return {
        "id": call_id,
        "source": "asterisk",
        "external_id": "1700000000.42",
        "linkedid": "1700000000.42",
        "channel": "PJSIP/carrier-iam-00000042",
        "trunk": "carrier-iam",
        "carrier": "Maroc Telecom",
        "caller": {
            "raw": "0612345678",
            "name": None,
            "status": "valid",
            "e164": "+212612345678",
            "number_type": "mobile",
            "carrier": "Maroc Telecom",
            "region": "MA",
            "country": "MA",
            "foreign": False,
            "repeat_count_24h": repeat_count_24h,
        },
        "room": "rabat",
        "language": "ar",
        "silent": silent,
        "no_input": False,
        "priority": 10 if silent else 5,
        "priority_reasons": reasons,
        "status": "ringing",
        "intake": "completed",
        "operator": None,
        "hold_time_s": None,
        "talk_time_s": None,
        "wait_time_s": 4.2,
        "incident_id": incident_id,
        "received_at": _now(),
        "answered_at": None,
        "ended_at": None,
        "timeline": None,
        "locations": [best_location] if best_location else [],
        "best_location": best_location,
    }


def sample_location(
    location_id: int, source: str, latitude: float, longitude: float, radius_m: float
) -> dict[str, Any]:
    """A fix in the shape of LocationOut."""
    return {
        "id": location_id,
        "source": source,
        "status": "accepted",
        "reason": None,
        "latitude": latitude,
        "longitude": longitude,
        "radius_m": radius_m,
        "confidence_pct": 68.0,
        "method": "GPS" if source == "aml" else "Cell",
        "civic": None,
        "details": {},
        "fixed_at": _now(),
        "received_at": _now(),
        "raw": "",
    }


def sample_overview() -> dict[str, Any]:
    """GET /api/v1/supervisor/overview: Rabat with two calls waiting, Salé quiet."""
    operators = [
        {"endpoint": "op-rabat-1", "room": "rabat", "state": "in_call", "pause_reason": None,
         "since": _ago(95), "calls_taken": 4, "talk_s": 320.0, "pause_s": 60.0, "wrapup_s": 30.0},
        {"endpoint": "op-rabat-2", "room": "rabat", "state": "in_call", "pause_reason": None,
         "since": _ago(40), "calls_taken": 6, "talk_s": 610.0, "pause_s": 0.0, "wrapup_s": 45.0},
        {"endpoint": "op-rabat-3", "room": "rabat", "state": "ready", "pause_reason": None,
         "since": _ago(12), "calls_taken": 2, "talk_s": 140.0, "pause_s": 900.0,
         "wrapup_s": 20.0},
        {"endpoint": "op-sale-1", "room": "sale", "state": "paused", "pause_reason": "break",
         "since": _ago(300), "calls_taken": 3, "talk_s": 200.0, "pause_s": 300.0,
         "wrapup_s": 15.0},
    ]  # fmt: skip
    return {
        "generated_at": _now(),
        "rooms": [
            {"id": "rabat", "name": "Rabat", "backup": "sale", "waiting": 2,
             "longest_wait_s": 12.5,
             "operators": {"ready": 1, "paused": 0, "ringing": 0, "in_call": 2, "wrapup": 0,
                           "unreachable": 0}},
            {"id": "sale", "name": "Salé", "backup": "rabat", "waiting": 0,
             "longest_wait_s": None,
             "operators": {"ready": 0, "paused": 1, "ringing": 0, "in_call": 0, "wrapup": 0,
                           "unreachable": 0}},
        ],
        "waiting": [
            {"uniqueid": "1700000000.51", "room": "rabat", "waited_s": 12.5, "priority": "5"},
            {"uniqueid": "1700000000.52", "room": "rabat", "waited_s": 3.0, "priority": "1"},
        ],
        "operators": operators,
        "service_level": {"window_s": 3600, "calls": 20, "answered_15s_pct": 85.0,
                          "answered_20s_pct": 95.0, "abandoned": 1, "target_15s_pct": 90,
                          "target_20s_pct": 95},
        "carriers": [
            {"carrier": "Maroc Telecom", "calls": 12, "with_caller_id_pct": 100.0,
             "with_cell_pct": 50.0, "with_pidf_pct": 25.0, "aml_median_delay_s": 14.2},
            {"carrier": "Orange Maroc", "calls": 8, "with_caller_id_pct": 87.5,
             "with_cell_pct": 0.0, "with_pidf_pct": None, "aml_median_delay_s": None},
        ],
    }  # fmt: skip


def sample_callback(
    callback_id: str,
    number: str,
    reason: str,
    *,
    room: str = "rabat",
    attempts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An item of GET /api/v1/callbacks."""
    return {
        "id": callback_id,
        "number": number,
        "reason": reason,
        "call_id": f"c-{callback_id}",
        "room": room,
        "created_at": _ago(600),
        "attempts": attempts or [],
    }


class FakeSite:
    """The fake API and the test server that serves it, as one test sees them."""

    def __init__(self, api: FakeConsoleApi, server: TestServer) -> None:
        self.api = api
        self.server = server

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

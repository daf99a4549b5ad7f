"""A FAKE of the gateway's console API, for tests/browser/test_console_static.py only.

It is not the gateway: it serves the static console pages and answers the contract of
docs/console.md (sign-in, the operator's state, the SSE event stream, the incident form) from
memory, so that the page can be proved in the real Chromium before, and apart from, the real
backend. The end-to-end browser test against `gateway.app.create_app` is a separate test.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

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


@dataclass
class FakeConsoleApi:
    """In-memory stand-in for the backend; the test drives it and reads what the page sent."""

    static_dir: Path
    sessions: set[str] = field(default_factory=set)
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
    _streams: list[asyncio.Queue[tuple[str, Any] | None]] = field(default_factory=list)
    _stream_changed: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.root)
        app.router.add_get("/login", self.login_page)
        app.router.add_get("/console", self.console_page)
        app.router.add_static("/static", self.static_dir)
        app.router.add_post("/api/v1/login", self.login)
        app.router.add_post("/api/v1/logout", self.logout)
        app.router.add_get("/api/v1/me", self.me)
        app.router.add_get("/api/v1/operators/me", self.operator_me)
        app.router.add_post("/api/v1/operators/me/{action}", self.operator_action)
        app.router.add_get("/api/v1/events", self.events)
        app.router.add_put("/api/v1/incidents/{incident_id}", self.put_incident)
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
        self.refuse_streams = True
        self.cut_streams()

    # ------------------------------------------------------------------ pages

    async def root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/console")

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self.static_dir / "login.html")

    async def console_page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self.static_dir / "console.html")

    # ------------------------------------------------------------------ session

    def _signed_in(self, request: web.Request) -> bool:
        return request.cookies.get(SESSION_COOKIE) in self.sessions

    def _unauthenticated(self) -> web.Response:
        return _error(401, "not-authenticated", "Sign in first")

    async def login(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.failed_logins >= MAX_FAILED_LOGINS:
            return _error(429, "too-many-attempts", "Too many failed sign-ins; wait a minute")
        if body.get("username") != USER["username"] or body.get("password") != PASSWORD:
            self.failed_logins += 1
            return _error(401, "invalid-credentials", "Wrong username or password")
        token = secrets.token_urlsafe(16)
        self.sessions.add(token)
        response = web.json_response({"user": USER})
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    async def logout(self, request: web.Request) -> web.Response:
        self.sessions.discard(request.cookies.get(SESSION_COOKIE, ""))
        response = web.json_response({})
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    async def me(self, request: web.Request) -> web.Response:
        if not self._signed_in(request):
            return self._unauthenticated()
        return web.json_response({"user": USER})

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

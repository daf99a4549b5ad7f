"""Operators' softphones in the rooms' queues: what Asterisk says of them, and the console's
requests (log in, ready, pause, wrap-up, log out) carried to Asterisk over AMI.

The state is app_queue's: kept from the member events of the AMI stream, re-read with
QueueStatus whenever AMI (re)connects and after each request (`dispatch_core.operators`).
While a softphone rings (AgentCalled), its console gets the screen-pop: the call, its
locations and the caller's earlier calls; a better fix later moves the pin live.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import desc, insert, select

from dispatch_core.location import BestFixChanged
from dispatch_core.operators import (
    WRAPUP_REASON,
    MemberFacts,
    OperatorState,
    member_state,
    parse_status,
)
from gateway.asterisk.ami_client import AmiClient, AmiError
from gateway.asterisk.ami_protocol import AmiMessage
from gateway.http.mapping import call_out, locations_out
from gateway.persistence import call_store
from gateway.persistence import calls as repo
from gateway.persistence.db import Database
from gateway.persistence.models import CallRow, OperatorEventRow
from gateway.services.live import SUPERVISORS, LiveHub

logger = logging.getLogger(__name__)

INTERFACE_PREFIX = "PJSIP/"
MEMBER_EVENTS = frozenset(
    {"queuememberadded", "queuememberstatus", "queuememberpause", "queuememberpaused"}
)


class OperatorError(Exception):
    """Asterisk refused or could not be asked (AMI down): the message says which."""


@dataclass(frozen=True)
class OperatorView:
    endpoint: str
    room: str | None
    state: OperatorState
    pause_reason: str | None
    since: datetime

    def as_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "room": self.room, "state": self.state.value,
                "pause_reason": self.pause_reason, "since": self.since.isoformat()}  # fmt: skip


def endpoint_of(interface: str | None) -> str | None:
    if not interface or not interface.startswith(INTERFACE_PREFIX):
        return None
    return interface[len(INTERFACE_PREFIX) :]


def facts_of(message: AmiMessage) -> MemberFacts:
    interface = message.get("Interface") or message.get("Location") or ""
    return MemberFacts(
        queue=message.get("Queue") or "", interface=interface,
        status=parse_status(message.get("Status")), paused=message.get("Paused") == "1",
        paused_reason=message.get("PausedReason") or "", in_call=message.get("InCall") == "1",
    )  # fmt: skip


class OperatorService:
    def __init__(self, database: Database, hub: LiveHub) -> None:
        self._db = database
        self._hub = hub
        self._ami: AmiClient | None = None
        self._members: dict[str, MemberFacts] = {}
        self._views: dict[str, OperatorView] = {}
        self._on_screen: dict[str, str] = {}  # call id -> endpoint showing it
        self._writes: set[asyncio.Task[Any]] = set()

    def attach(self, ami: AmiClient) -> None:
        self._ami = ami

    def view(self, endpoint: str) -> OperatorView:
        return self._views.get(endpoint) or OperatorView(
            endpoint, None, OperatorState.LOGGED_OUT, None, datetime.now(UTC)
        )

    def views(self) -> list[OperatorView]:
        return sorted(self._views.values(), key=lambda view: view.endpoint)

    # --- what Asterisk says

    async def resync(self, member: str | None = None) -> None:
        """Re-read the members (all, or one interface) from Asterisk with QueueStatus."""
        fields = {} if member is None else {"Member": member}
        events = await self._action_list("QueueStatus", fields, "QueueStatusComplete")
        seen: dict[str, MemberFacts] = {}
        for event in events:
            if (event.name or "").lower() == "queuemember":
                facts = facts_of(event)
                endpoint = endpoint_of(facts.interface)
                if endpoint is not None:
                    seen[endpoint] = facts
        scope = set(self._members) | set(seen) if member is None else {endpoint_of(member)}
        for endpoint in scope:
            if endpoint is not None:
                self._set(endpoint, seen.get(endpoint))
        logger.info("operators resynchronised from Asterisk: %d members", len(seen))

    async def on_ami_event(self, message: AmiMessage) -> None:
        name = (message.name or "").lower()
        endpoint = endpoint_of(message.get("Interface") or message.get("Location"))
        if endpoint is None:
            return
        if name in MEMBER_EVENTS:
            self._set(endpoint, facts_of(message))
        elif name == "queuememberremoved":
            self._set(endpoint, None)
        elif name == "agentcalled":
            await self._screen_pop(endpoint, message.get("Uniqueid") or "")
        elif name in ("agentconnect", "agentcomplete", "agentringnoanswer"):
            status = {"agentconnect": "answered", "agentcomplete": "completed",
                      "agentringnoanswer": "not_answered"}[name]  # fmt: skip
            self._hub.publish(endpoint, "call_update", {
                "uniqueid": message.get("Uniqueid"), "status": status, "operator": endpoint,
            })  # fmt: skip

    def on_domain_event(self, event: object) -> None:
        if isinstance(event, BestFixChanged) and event.call_id in self._on_screen:
            endpoint = self._on_screen[event.call_id]
            fix = event.fix
            self._hub.publish(endpoint, "location", {"call_id": event.call_id, "best_location": {
                "id": event.fix_id, "source": fix.source.value, "latitude": fix.latitude,
                "longitude": fix.longitude, "radius_m": fix.radius_m,
                "confidence_pct": fix.confidence_pct, "received_at": fix.received_at,
            }})  # fmt: skip

    def _set(self, endpoint: str, facts: MemberFacts | None) -> None:
        if facts is None:
            self._members.pop(endpoint, None)
        else:
            self._members[endpoint] = facts
        state = member_state(facts)
        reason = facts.paused_reason if facts and state is OperatorState.PAUSED else None
        before = self._views.get(endpoint)
        if before and (before.state, before.pause_reason) == (state, reason):
            return
        room = facts.queue if facts else None
        view = OperatorView(endpoint, room, state, reason, datetime.now(UTC))
        self._views[endpoint] = view
        self._hub.publish(endpoint, "operator_state", view.as_json())
        self._hub.publish(SUPERVISORS, "operator_state", view.as_json())
        self._record(view)

    def _record(self, view: OperatorView) -> None:
        """Keep the change for the figures (pause, wrap-up time), off the event's path."""
        if self._db is None:
            return
        values = {"endpoint": view.endpoint, "room": view.room, "kind": view.state.value,
                  "reason": view.pause_reason, "at": view.since}  # fmt: skip
        statement = insert(OperatorEventRow).values(**values)
        task = asyncio.create_task(self._db.write(lambda conn: conn.execute(statement)))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def wait_written(self) -> None:
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    # --- what the console asks

    async def login(self, endpoint: str, room: str) -> OperatorView:
        """Into the room's queue, paused until the operator says ready."""
        await self._action("QueueAdd", {
            "Queue": room, "Interface": INTERFACE_PREFIX + endpoint, "MemberName": endpoint,
            "StateInterface": INTERFACE_PREFIX + endpoint, "Paused": "true",
            "Reason": "logged-in",
        }, allowed_error="Unable to add interface: Already there")  # fmt: skip
        return await self._after(endpoint)

    async def ready(self, endpoint: str) -> OperatorView:
        return await self._pause(endpoint, False, "")

    async def pause(self, endpoint: str, reason: str) -> OperatorView:
        return await self._pause(endpoint, True, reason)

    async def wrapup(self, endpoint: str) -> OperatorView:
        return await self._pause(endpoint, True, WRAPUP_REASON)

    async def logout(self, endpoint: str) -> OperatorView:
        facts = self._members.get(endpoint)
        if facts is not None:
            await self._action("QueueRemove", {
                "Queue": facts.queue, "Interface": INTERFACE_PREFIX + endpoint,
            })  # fmt: skip
        return await self._after(endpoint)

    async def _pause(self, endpoint: str, paused: bool, reason: str) -> OperatorView:
        if endpoint not in self._members:
            raise OperatorError("not logged in to a room: log in first")
        fields = {"Interface": INTERFACE_PREFIX + endpoint, "Paused": str(paused).lower()}
        if reason:
            fields["Reason"] = reason
        await self._action("QueuePause", fields)
        return await self._after(endpoint)

    async def _after(self, endpoint: str) -> OperatorView:
        await self.resync(INTERFACE_PREFIX + endpoint)
        return self.view(endpoint)

    async def _action(
        self, name: str, fields: dict[str, str], allowed_error: str | None = None
    ) -> None:
        if self._ami is None:
            raise OperatorError("AMI is not configured")
        try:
            answer = await self._ami.send_action(name, fields)
        except AmiError as exc:
            raise OperatorError(f"Asterisk could not be asked ({name}): {exc}") from exc
        if (answer.get("Response") or "").lower() != "success":
            message = answer.get("Message") or "refused"
            if message != allowed_error:
                raise OperatorError(f"Asterisk refused {name}: {message}")

    async def _action_list(
        self, name: str, fields: dict[str, str], complete: str
    ) -> list[AmiMessage]:
        if self._ami is None:
            raise OperatorError("AMI is not configured")
        try:
            return await self._ami.send_list_action(name, fields, complete)
        except AmiError as exc:
            raise OperatorError(f"Asterisk could not be asked ({name}): {exc}") from exc

    # --- the screen-pop

    async def _screen_pop(self, endpoint: str, uniqueid: str) -> None:
        pop = await self.screen_pop_of(uniqueid)
        if pop is None:
            logger.warning("screen-pop for %s: no call %s recorded", endpoint, uniqueid)
            return
        self._on_screen[pop["call"]["id"]] = endpoint
        self._hub.publish(endpoint, "screen_pop", pop)

    async def screen_pop_of(self, uniqueid: str) -> dict[str, Any] | None:
        async with self._db.engine.connect() as conn:  # its own id, or a linked one (Twilio)
            row = await conn.run_sync(call_store.find_call, "asterisk", uniqueid)
        if row is None:
            return None
        async with self._db.sessions() as session:
            call = await repo.get_call(session, row.id)
            if call is None:
                return None
            incident = await repo.incident_for_call(session, call.id)
            fixes = await repo.locations(session, call.id)
            earlier = await self._earlier(session, call)
        out = call_out(call, incident.id if incident else None)
        out.locations, out.best_location = locations_out(fixes, call.best_location_id)
        return {"call": out.model_dump(mode="json"), "earlier_calls": earlier}

    @staticmethod
    async def _earlier(session: Any, call: CallRow) -> list[dict[str, Any]]:
        if not call.caller_e164:
            return []
        since = call_store.utc(call.received_at) - timedelta(hours=24)
        query = (
            select(CallRow.id, CallRow.received_at, CallRow.status, CallRow.operator)
            .where(
                CallRow.caller_e164 == call.caller_e164,
                CallRow.id != call.id,
                CallRow.received_at >= since,
            )
            .order_by(desc(CallRow.received_at))
            .limit(10)
        )
        rows = (await session.execute(query)).all()
        return [{"id": r.id, "received_at": call_store.utc(r.received_at).isoformat(),
                 "status": r.status, "operator": r.operator} for r in rows]  # fmt: skip

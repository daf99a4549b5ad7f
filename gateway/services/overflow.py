"""Overflow: a call about to miss the answer-time target moves to the backup room's queue.

NENA's call answering standard asks 90 % of calls answered within 15 s and 95 % within 20 s.
A call waiting in a room where no operator is ready will not be answered there in time: once
its wait passes `overflow_after_s` (10 s by default), and if the backup room has an operator
ready (else the move would only restart the wait), the gateway withdraws it from that
queue with AMI `QueueWithdrawCaller` (WithdrawInfo = the backup room); Queue() returns with
QUEUESTATUS=WITHDRAW and the dialplan queues it in the backup room with the same
QUEUE_PRIO (asterisk_configs/extensions.conf). A room that gets an operator ready again
keeps its calls. Each move is on the call's timeline (`overflowed`). See docs/overflow.md.

The same withdrawal moves a waiting call whose best location, arriving late (an AML ~20 s
after the call started), lies in another room's area with an operator ready (`rerouted`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from dispatch_core.calls import TimelineKind
from dispatch_core.location import BestFixChanged
from dispatch_core.operators import OperatorState
from dispatch_core.rooms import room_for
from gateway.asterisk.ami_client import AmiClient, AmiError
from gateway.asterisk.ami_protocol import AmiMessage
from gateway.persistence import call_store
from gateway.persistence.call_store import calls
from gateway.persistence.db import Database
from gateway.services.operators import OperatorService
from gateway.services.timeline import TimelineService, TimelineUpdate
from gateway.settings import Settings

logger = logging.getLogger(__name__)

TICK_S = 0.5
COMPLIANCE_EVERY_S = 30.0
TARGET_15S_PCT = 90.0
MIN_AFTER_S = 3.0


@dataclass
class Waiting:
    uniqueid: str
    channel: str
    queue: str
    since: float  # monotonic
    priority: str
    moved: bool = False

    def waited_s(self) -> float:
        return time.monotonic() - self.since


def _telephony_ids(conn: Connection, call_id: str) -> list[str]:
    """The Asterisk uniqueids of a call: its own, and those linked to it (a Twilio hand-off)."""
    own = conn.execute(select(calls.c.external_id).where(
        calls.c.id == call_id, calls.c.source == "asterisk")).scalars().all()  # fmt: skip
    linked = conn.execute(select(call_store.links.c.external_id).where(
        call_store.links.c.call_id == call_id)).scalars().all()  # fmt: skip
    return [*own, *linked]


class OverflowMonitor:
    def __init__(
        self, settings: Settings, operators: OperatorService, timeline: TimelineService,
        database: Database | None = None,
    ) -> None:  # fmt: skip
        self._database = database
        self._areas = settings.room_areas()
        self._tasks: set[asyncio.Task[None]] = set()
        self._after = settings.overflow_after_s
        self.compliance_15s_pct: float | None = None  # the last hour's, refreshed every 30 s
        self._backup = {room.id: room.backup for room in settings.rooms if room.backup}
        self._operators = operators
        self._timeline = timeline
        self._ami: AmiClient | None = None
        self.waiting: dict[str, Waiting] = {}
        # Withdrawn by us: app_queue reports the withdrawal as QueueCallerAbandon on AMI
        # (queue_log says WITHDRAW), which is not the caller abandoning.
        self._withdrawn: set[str] = set()

    def withdrawn(self, uniqueid: str) -> bool:
        """True once for a call this monitor withdrew: its next "abandon" is the move."""
        if uniqueid in self._withdrawn:
            self._withdrawn.discard(uniqueid)
            return True
        return False

    def attach(self, ami: AmiClient) -> None:
        self._ami = ami

    def on_ami_event(self, message: AmiMessage) -> None:
        name = (message.name or "").lower()
        uniqueid = message.get("Uniqueid") or ""
        if name == "queuecallerjoin" and uniqueid:
            self.waiting[uniqueid] = Waiting(
                uniqueid, message.get("Channel") or "", message.get("Queue") or "",
                time.monotonic(), message.get("Priority") or "",
            )  # fmt: skip
        elif name in ("queuecallerleave", "queuecallerabandon"):
            self.waiting.pop(uniqueid, None)

    def threshold_s(self) -> float:
        """`overflow_after_s`, halved (not under 3 s) while the last hour's share of calls
        answered within 15 s is under NENA's 90 %: a room already behind gives up sooner."""
        pct = self.compliance_15s_pct
        if pct is None or pct >= TARGET_15S_PCT:
            return self._after
        return max(MIN_AFTER_S, self._after / 2)

    async def refresh_compliance(self) -> None:
        from gateway.services.supervision import WINDOW, service_level  # (imports this module)

        if self._database is None:
            return
        since = datetime.now(UTC) - WINDOW
        query = select(calls.c.status, calls.c.received_at, calls.c.answered_at).where(
            calls.c.received_at >= since
        )
        async with self._database.engine.connect() as conn:
            rows = list(await conn.execute(query))
        self.compliance_15s_pct = service_level(rows)["answered_15s_pct"]

    def due(self, now: float) -> list[tuple[Waiting, str]]:
        """The calls to move now, with their backup room."""
        ready = self._ready_rooms()
        after = self.threshold_s()
        moves = []
        for call in self.waiting.values():
            backup = self._backup.get(call.queue)
            if call.moved or backup is None or now - call.since < after:
                continue
            # Only from a room with nobody ready to one with somebody ready: a move to
            # another empty room would only restart the caller's wait and announcements.
            if call.queue not in ready and backup in ready:
                moves.append((call, backup))
        return moves

    async def run(self) -> None:
        checked = 0.0
        while True:
            await asyncio.sleep(TICK_S)
            if time.monotonic() - checked >= COMPLIANCE_EVERY_S:
                checked = time.monotonic()
                try:
                    await self.refresh_compliance()
                except Exception:  # the figure is advice: overflow goes on without it
                    logger.exception("answer-time compliance not refreshed")
            for call, backup in self.due(time.monotonic()):
                await self._move(call, backup)

    # --- a better location while the call waits: the room whose area holds it

    def on_domain_event(self, event: object) -> None:
        if isinstance(event, BestFixChanged) and self._database is not None:
            task = asyncio.create_task(self._reroute(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _reroute(self, event: BestFixChanged) -> None:
        room = room_for(event.fix.latitude, event.fix.longitude, self._areas)
        if room is None or self._database is None:
            return
        async with self._database.engine.connect() as conn:
            ids = await conn.run_sync(_telephony_ids, event.call_id)
        ready = self._ready_rooms()
        for uniqueid in ids:
            call = self.waiting.get(uniqueid)
            if call is None or call.moved or call.queue == room or room not in ready:
                continue
            await self._move(call, room, TimelineKind.REROUTED, "location")

    def _ready_rooms(self) -> set[str | None]:
        return {view.room for view in self._operators.views()
                if view.state is OperatorState.READY}  # fmt: skip

    async def _move(
        self,
        call: Waiting,
        backup: str,
        kind: TimelineKind = TimelineKind.OVERFLOWED,
        why: str = "no operator ready",
    ) -> None:
        if self._ami is None or not self._ami.connected:
            return
        call.moved = True  # once: the withdrawn call leaves, a new join comes from the backup
        fields = {"Queue": call.queue, "Caller": call.channel, "WithdrawInfo": backup}
        self._withdrawn.add(call.uniqueid)  # its AMI "abandon" may come before the answer
        try:
            answer = await self._ami.send_action("QueueWithdrawCaller", fields)
        except AmiError as exc:
            self._withdrawn.discard(call.uniqueid)
            logger.warning("call %s: overflow to %s failed: %s", call.uniqueid, backup, exc)
            return
        if (answer.get("Response") or "").lower() != "success":
            self._withdrawn.discard(call.uniqueid)
            logger.warning("call %s: overflow refused: %s", call.uniqueid, answer.get("Message"))
            return
        waited = round(time.monotonic() - call.since, 1)
        logger.info("call %s: overflow %s -> %s after %.1f s", call.uniqueid, call.queue,
                    backup, waited)  # fmt: skip
        await self._timeline.apply(TimelineUpdate(
            call.uniqueid, kind, datetime.now(UTC), "ami", f"{kind.value}:{call.queue}",
            {"from": call.queue, "to": backup, "waited_s": waited, "priority": call.priority,
             "why": why}, {"room": backup},
        ))  # fmt: skip

"""Overflow: a call about to miss the answer-time target moves to the backup room's queue.

NENA's call answering standard asks 90 % of calls answered within 15 s and 95 % within 20 s.
A call waiting in a room where no operator is ready will not be answered there in time: once
its wait passes `overflow_after_s` (10 s by default), and if the backup room has an operator
ready (else the move would only restart the wait), the gateway withdraws it from that
queue with AMI `QueueWithdrawCaller` (WithdrawInfo = the backup room); Queue() returns with
QUEUESTATUS=WITHDRAW and the dialplan queues it in the backup room with the same
QUEUE_PRIO (asterisk_configs/extensions.conf). A room that gets an operator ready again
keeps its calls. Each move is on the call's timeline (`overflowed`). See docs/overflow.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from dispatch_core.calls import TimelineKind
from dispatch_core.operators import OperatorState
from gateway.asterisk.ami_client import AmiClient, AmiError
from gateway.asterisk.ami_protocol import AmiMessage
from gateway.services.operators import OperatorService
from gateway.services.timeline import TimelineService, TimelineUpdate
from gateway.settings import Settings

logger = logging.getLogger(__name__)

TICK_S = 0.5


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


class OverflowMonitor:
    def __init__(
        self, settings: Settings, operators: OperatorService, timeline: TimelineService
    ) -> None:
        self._after = settings.overflow_after_s
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

    def due(self, now: float) -> list[tuple[Waiting, str]]:
        """The calls to move now, with their backup room."""
        ready = {view.room for view in self._operators.views()
                 if view.state is OperatorState.READY}  # fmt: skip
        moves = []
        for call in self.waiting.values():
            backup = self._backup.get(call.queue)
            if call.moved or backup is None or now - call.since < self._after:
                continue
            # Only from a room with nobody ready to one with somebody ready: a move to
            # another empty room would only restart the caller's wait and announcements.
            if call.queue not in ready and backup in ready:
                moves.append((call, backup))
        return moves

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            for call, backup in self.due(time.monotonic()):
                await self._move(call, backup)

    async def _move(self, call: Waiting, backup: str) -> None:
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
            call.uniqueid, TimelineKind.OVERFLOWED, datetime.now(UTC), "ami",
            f"overflow:{call.queue}", {"from": call.queue, "to": backup, "waited_s": waited,
                                       "priority": call.priority}, {"room": backup},
        ))  # fmt: skip

"""Follows Asterisk's queue_log: the record of every queued call, even while we were down.

Calls that the dialplan queued without us (the fail-open path) are recorded from the
L19FAILOPEN lines, and every queue fact (entered, answered, abandoned, completed) is replayed
into the timeline. The read position is kept in the database and advanced only after the
lines were applied, so a crash replays lines (harmless: updates are deduplicated) but never
skips one. A rotated or truncated file is read again from its start.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from gateway.asterisk import events
from gateway.asterisk.queue_log import QueueLogError, parse_line
from gateway.persistence import call_store as store
from gateway.persistence.db import Database
from gateway.services.intake import IntakeService
from gateway.services.timeline import TimelineService

logger = logging.getLogger(__name__)

CURSOR = "queue_log"
MAX_READ = 1 << 20


class QueueLogFollower:
    def __init__(
        self,
        path: Path,
        database: Database,
        intake: IntakeService,
        timeline: TimelineService,
        poll_s: float,
    ) -> None:
        self._path = path
        self._db = database
        self._intake = intake
        self._timeline = timeline
        self._poll = poll_s
        self.lines_applied = 0

    async def run(self) -> None:
        logger.info("following queue_log %s", self._path)
        while True:
            try:
                while await self.poll_once():
                    pass
            except Exception:
                logger.exception("queue_log %s: poll failed; retrying", self._path)
            await asyncio.sleep(self._poll)

    async def poll_once(self) -> int:
        """Apply the complete lines written since the last poll; return how many."""
        try:
            stat = await asyncio.to_thread(os.stat, self._path)
        except FileNotFoundError:
            return 0
        fingerprint = f"{stat.st_dev}:{stat.st_ino}"
        cursor = await self._db.write(lambda conn: store.read_cursor(conn, CURSOR))
        position = 0
        if cursor is not None and cursor.fingerprint == fingerprint:
            position = cursor.position
        if position > stat.st_size:
            logger.warning("queue_log %s shrank: reading it again from the start", self._path)
            position = 0
        if position == stat.st_size:
            if cursor is None or cursor.fingerprint != fingerprint:
                await self._save(position, fingerprint)
            return 0
        chunk = await asyncio.to_thread(self._read, position)
        end = chunk.rfind(b"\n")
        if end < 0:
            return 0
        # split on "\n" only: str.splitlines() also splits on U+2028 and friends, which a
        # caller name in an L19FAILOPEN line could carry.
        lines = chunk[:end].decode("utf-8", errors="replace").split("\n")
        for line in lines:
            await self._apply(line)
        await self._save(position + end + 1, fingerprint)
        self.lines_applied += len(lines)
        return len(lines)

    def _read(self, position: int) -> bytes:
        with open(self._path, "rb") as handle:
            handle.seek(position)
            return handle.read(MAX_READ)

    async def _save(self, position: int, fingerprint: str) -> None:
        await self._db.write(lambda conn: store.save_cursor(conn, CURSOR, position, fingerprint))

    async def _apply(self, line: str) -> None:
        if not line.strip():
            return
        try:
            entry = parse_line(line)
            request = events.failopen_intake(entry)
            update = None if request is not None else events.from_queue_log(entry)
        except QueueLogError as exc:
            logger.warning("queue_log line skipped (%s): %.200r", exc, line)
            return
        if request is not None:
            result = await self._intake.take_call(request)
            if result.created:
                logger.warning(
                    "call %s went through the fail-open path; recorded from queue_log", entry.callid
                )
            return
        if update is not None:
            await self._timeline.apply(update)

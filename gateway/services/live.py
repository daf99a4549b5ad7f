"""Live updates for the pages: named events fanned out to the open streams of a topic.

A topic is an operator's endpoint (their screen-pops, their state) or "supervisors". Each
open page holds a bounded queue; a page too slow to drain it loses the oldest events (it
re-reads the state when it reconnects), never blocks the publisher.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any

logger = logging.getLogger(__name__)

SUPERVISORS = "supervisors"
QUEUE_SIZE = 256


class LiveHub:
    def __init__(self) -> None:
        self._streams: defaultdict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    def open(self, *topics: str) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        for topic in topics:
            self._streams[topic].add(queue)
        return queue

    def close(self, queue: asyncio.Queue[str], *topics: str) -> None:
        for topic in topics:
            self._streams[topic].discard(queue)

    def listeners(self, topic: str) -> int:
        return len(self._streams.get(topic, ()))

    def publish(self, topic: str, name: str, data: Any) -> None:
        """Send `event: name` with `data` (JSON) to every stream open on `topic`."""
        frame = f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"
        for queue in list(self._streams.get(topic, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(frame)

"""In-process fan-out of domain events (a new best fix, …) to whoever subscribed.

Published after the transaction that made the change has committed. The console and the
webhooks subscribe here; a subscriber that fails is logged and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Subscriber = Callable[[object], None]


class DomainEvents:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.published = 0

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, event: object) -> None:
        self.published += 1
        logger.info("event %s", event)
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                logger.exception("subscriber %r failed on %s", subscriber, type(event).__name__)

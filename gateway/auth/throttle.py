"""A login throttle, in memory: after `limit` failures for one username within `window_s`,
that username is refused for `lockout_s`, right password or not.

Per username rather than per address: operators share the command room's NAT address, and
a password guesser changes addresses more easily than targets. The cost is that anyone can
lock an account for a minute; the lockout is kept short for that reason (docs/auth.md).
One process only: each gateway process counts its own failures.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_NAMES = 10_000  # usernames followed at once; beyond, the stalest are forgotten


@dataclass
class _Failures:
    times: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        *,
        limit: int = 5,
        window_s: float = 300.0,
        lockout_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.clock = clock
        self._names: dict[str, _Failures] = {}

    def retry_after(self, username: str) -> float | None:
        """Seconds until `username` may try again, or None if it may now."""
        entry = self._names.get(username)
        if entry is None:
            return None
        left = entry.locked_until - self.clock()
        return left if left > 0 else None

    def failed(self, username: str) -> bool:
        """Count a failure; True if it locks the username."""
        now = self.clock()
        entry = self._names.pop(username, None) or _Failures()
        self._names[username] = entry  # re-inserted: the dict stays ordered by last failure
        self._forget_old(entry.times, now)
        entry.times.append(now)
        if len(entry.times) < self.limit:
            self._bound()
            return False
        entry.times.clear()
        entry.locked_until = now + self.lockout_s
        return True

    def succeeded(self, username: str) -> None:
        self._names.pop(username, None)

    def _forget_old(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.window_s:
            times.popleft()

    def _bound(self) -> None:
        while len(self._names) > MAX_NAMES:  # drop the stalest: the first in the dict
            del self._names[next(iter(self._names))]

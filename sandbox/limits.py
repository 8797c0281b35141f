"""Sliding-window rate limits and a concurrency cap, with windows shortened by the time scale."""

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class SlidingWindow:
    """At most `limit` events in any `window` seconds."""

    limit: int
    window: float
    _events: deque[float] = field(default_factory=deque)

    def _trim(self, now: float) -> None:
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()

    def try_acquire(self, now: float) -> bool:
        self._trim(now)
        if len(self._events) >= self.limit:
            return False
        self._events.append(now)
        return True

    def remaining(self, now: float) -> int:
        self._trim(now)
        return max(0, self.limit - len(self._events))

    def retry_after(self, now: float) -> float:
        self._trim(now)
        return max(0.0, self._events[0] + self.window - now) if self._events else 0.0


class LimitSet:
    """Named windows checked together: a call passes only if every window admits it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self.clock = clock  # tests of the limits themselves hold it still or move it by hand
        self.windows: dict[str, SlidingWindow] = {}
        self.rejected: dict[str, int] = {}

    def add(self, name: str, limit: int, window: float) -> None:
        self.windows[name] = SlidingWindow(limit, window)
        self.rejected[name] = 0

    def acquire(self, names: list[str]) -> str | None:
        """Take one slot in each named window; on refusal return the window that refused."""
        now = self.clock()
        with self._lock:
            for name in names:
                if self.windows[name].remaining(now) == 0:
                    self.rejected[name] += 1
                    return name
            for name in names:
                self.windows[name].try_acquire(now)
        return None

    def remaining(self, name: str) -> int:
        with self._lock:
            return self.windows[name].remaining(self.clock())


class ConcurrencyCap:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight = 0
        self._lock = threading.Lock()
        self.rejected = 0

    def enter(self) -> bool:
        with self._lock:
            if self._in_flight >= self.limit:
                self.rejected += 1
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

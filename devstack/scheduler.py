"""Plays EventBridge Scheduler for the template's ScheduleV2 events: fires each on its rate."""

import logging
import threading
from collections.abc import Callable
from typing import Any

from devstack.topology import ScheduleSpec

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Any]


class Scheduler:
    """One timer thread per schedule; the period is the rate times time_scale."""

    def __init__(self, schedules: list[ScheduleSpec], invoke: Invoke, time_scale: float = 1.0) -> None:
        self.schedules = {s.name: s for s in schedules}
        self._invoke = invoke
        self._time_scale = time_scale
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.fired: dict[str, int] = dict.fromkeys(self.schedules, 0)

    def period(self, name: str) -> float:
        return self.schedules[name].period_seconds * self._time_scale

    def fire(self, name: str) -> Any:
        """Run one schedule now, as its timer would."""
        spec = self.schedules[name]
        self.fired[name] += 1
        return self._invoke(spec.function, dict(spec.payload))

    def start(self) -> None:
        for name in self.schedules:
            thread = threading.Thread(target=self._run, args=(name,), name=f"schedule-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self, name: str) -> None:
        while not self._stop.wait(self.period(name)):
            try:
                self.fire(name)
            except Exception:
                logger.exception("schedule %s failed", name)

"""Plays EventBridge Scheduler for the template's ScheduleV2 events: fires each on its rate."""

import logging
from collections.abc import Callable
from typing import Any

from devstack.threads import BackgroundThreads
from devstack.topology import ScheduleSpec

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Any]


class Scheduler:
    """One timer thread per schedule; the period is the rate times time_scale."""

    def __init__(self, schedules: list[ScheduleSpec], invoke: Invoke, time_scale: float = 1.0) -> None:
        self.schedules = {s.name: s for s in schedules}
        self._invoke = invoke
        self._time_scale = time_scale
        self._threads = BackgroundThreads()
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
            self._threads.start(f"schedule-{name}", self._run, name)

    def stop(self) -> None:
        self._threads.stop()

    def _run(self, name: str) -> None:
        while not self._threads.stopping.wait(self.period(name)):
            try:
                self.fire(name)
            except Exception:
                logger.exception("schedule %s failed", name)

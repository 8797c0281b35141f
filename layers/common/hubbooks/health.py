"""Readiness of what every function depends on: the table and the sync queue."""

import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from hubbooks import __version__
from hubbooks.config import Settings

Status = Literal["ok", "degraded"]


class DependencyCheck(BaseModel):
    name: str
    ok: bool
    detail: str


class HealthReport(BaseModel):
    status: Status
    version: str
    checks: list[DependencyCheck]


def _check(name: str, probe: Any, **kwargs: Any) -> DependencyCheck:
    try:
        probe(**kwargs)
    except Exception as exc:
        return DependencyCheck(name=name, ok=False, detail=type(exc).__name__)
    return DependencyCheck(name=name, ok=True, detail="reachable")


def check_health(settings: Settings, dynamodb: Any, sqs: Any) -> HealthReport:
    """Probe the table and the queue with the cheapest read each offers."""
    checks = [
        _check("table", dynamodb.describe_table, TableName=settings.table_name),
        _check(
            "sync_queue",
            sqs.get_queue_attributes,
            QueueUrl=settings.sync_queue_url,
            AttributeNames=["ApproximateNumberOfMessages"],
        ),
    ]
    status: Status = "ok" if all(c.ok for c in checks) else "degraded"
    return HealthReport(status=status, version=__version__, checks=checks)


class CachedHealth:
    """The last report, kept for `seconds` per execution environment: a flood of anonymous /health calls
    costs at most one pair of control-plane reads per period, not one per call."""

    def __init__(self, seconds: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds, self._clock = seconds, clock
        self._report: HealthReport | None = None
        self._at = 0.0

    def report(self, settings: Settings, dynamodb: Any, sqs: Any) -> HealthReport:
        if self._report is None or self._clock() - self._at > self._seconds:
            self._report, self._at = check_health(settings, dynamodb, sqs), self._clock()
        return self._report

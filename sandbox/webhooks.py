"""Outbound webhook delivery: batching, signing, retries with backoff, and injected delivery faults."""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import requests

from sandbox.clock import ScaledTime, now_ms
from sandbox.faults import FaultPlan

logger = logging.getLogger(__name__)

# Builds the body and headers of one delivery attempt of a batch (attempt numbers start at 0).
Render = Callable[[list[dict[str, Any]], int, str], tuple[bytes, dict[str, str]]]


@dataclass
class DeliveryRecord:
    batch: int
    attempt: int
    events: int
    status: int | None
    error: str | None
    at_ms: int


@dataclass(order=True)
class _Due:
    due: float
    order: int
    batch: int
    attempt: int
    events: list[dict[str, Any]]


class WebhookDispatcher:
    """Delivers events in batches of at most `max_batch` to one URL, retrying failed batches."""

    def __init__(
        self,
        *,
        render: Render,
        faults: FaultPlan,
        time_scale: ScaledTime,
        retry_delays: list[float],
        max_batch: int = 100,
        batch_window: float = 0.02,
        timeout: float = 5.0,
    ) -> None:
        self.url: str | None = None
        self.enabled = True
        self._render = render
        self._faults = faults
        self._time = time_scale
        self._retry_delays = retry_delays
        self._max_batch = max_batch
        self._batch_window = batch_window
        self._timeout = timeout
        self._pending: list[dict[str, Any]] = []
        self._held: list[dict[str, Any]] = []  # reordered events, sent after the next batch
        self._due: list[_Due] = []
        self._order = itertools.count()
        self._batches = itertools.count(1)
        self._cv = threading.Condition()
        self._sending = 0
        self._stop = False
        self.deliveries: list[DeliveryRecord] = []
        self.dropped = 0
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def emit(self, events: list[dict[str, Any]]) -> None:
        """Queue events for delivery; lost at once when webhooks are off or no URL is set."""
        if not events:
            return
        with self._cv:
            if not self.enabled or not self.url:
                self.dropped += len(events)
                return
            for event in events:
                fault = self._faults.pick("webhook", "POST", str(event.get("subscriptionType") or event.get("type")))
                if fault is None:
                    self._pending.append(event)
                elif fault.kind == "drop":
                    self.dropped += 1
                elif fault.kind == "duplicate":
                    self._pending.extend([event, dict(event)])
                elif fault.kind == "delay":
                    self._schedule([event], attempt=0, after=fault.delay_ms / 1000)
                elif fault.kind == "reorder":
                    self._held.append(event)
            self._cv.notify()

    def _schedule(self, events: list[dict[str, Any]], attempt: int, after: float, batch: int = 0) -> None:
        due = _Due(time.monotonic() + after, next(self._order), batch or next(self._batches), attempt, events)
        heapq.heappush(self._due, due)

    def clear(self) -> None:
        """Forget everything not yet delivered (a reset of the sandbox)."""
        with self._cv:
            self._pending, self._held, self._due = [], [], []
            self.deliveries.clear()
            self.dropped = 0

    def idle(self) -> bool:
        with self._cv:
            return not (self._pending or self._held or self._due or self._sending)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
        self._thread.join(timeout=5)

    def _next_work(self) -> _Due | None:
        """The next delivery, counted as sending under the same lock it was taken with, so `idle()` never sees
        a delivery that has left the queue but is not yet on its way."""
        with self._cv:
            while not self._stop:
                now = time.monotonic()
                if self._due and self._due[0].due <= now:
                    self._sending += 1
                    return heapq.heappop(self._due)
                if self._pending:
                    self._cv.wait(self._batch_window)  # let a burst gather into one batch
                    batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                    if self._held and not self._pending:
                        self._schedule(self._held, attempt=0, after=0)
                        self._held = []
                    self._sending += 1
                    return _Due(now, next(self._order), next(self._batches), 0, batch)
                if self._held:
                    self._schedule(self._held, attempt=0, after=self._batch_window)
                    self._held = []
                self._cv.wait(min(0.1, self._due[0].due - now) if self._due else 0.1)
            return None

    def _run(self) -> None:
        while True:
            work = self._next_work()
            if work is None:
                return
            try:
                self._deliver(work)
            finally:
                with self._cv:
                    self._sending -= 1

    def _deliver(self, work: _Due) -> None:
        url = self.url
        if not url or not work.events:
            return
        body, headers = self._render(work.events, work.attempt, url)
        status: int | None = None
        error: str | None = None
        try:
            response = self._session.post(url, data=body, headers=headers, timeout=self._timeout)
            status = response.status_code
        except requests.RequestException as exc:
            error = type(exc).__name__
        self.deliveries.append(DeliveryRecord(work.batch, work.attempt, len(work.events), status, error, now_ms()))
        if status is not None and 200 <= status < 300:
            return
        if work.attempt < len(self._retry_delays):
            delay = self._time.seconds(self._retry_delays[work.attempt])
            with self._cv:
                self._schedule(work.events, work.attempt + 1, delay, batch=work.batch)
                self._cv.notify()
        else:
            logger.warning("webhook batch %s abandoned after %d attempts", work.batch, work.attempt + 1)

    def report(self) -> dict[str, Any]:
        with self._cv:
            return {
                "url": self.url,
                "enabled": self.enabled,
                "pending": len(self._pending) + len(self._held) + sum(len(d.events) for d in self._due),
                "dropped": self.dropped,
                "deliveries": [asdict(d) for d in self.deliveries[-500:]],
            }

"""Faults injected on purpose: API answers (429, 5xx, resets, slowness, calls held until released,
applied-but-500) and webhooks."""

import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

HTTP_KINDS = ("429", "500", "503", "reset", "slow", "hold", "applied_500")
HOLD_LIMIT_MS = 30_000  # a held call goes on by itself after this, so a test that forgets cannot hang
WEBHOOK_KINDS = ("drop", "duplicate", "delay", "reorder")
Category = Literal["http", "webhook"]


_DEFAULT_DELAY_MS = {"slow": 500, "delay": 500, "hold": HOLD_LIMIT_MS}


class FaultSpecError(ValueError):
    """A fault request the sandbox cannot honour."""


@dataclass
class FaultRule:
    """Applies to the next `count` matching calls or deliveries, or to each with probability `rate`."""

    kind: str
    count: int | None = None
    rate: float | None = None
    method: str | None = None
    path: str | None = None
    delay_ms: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> "FaultRule":
        kind = str(spec.get("kind", ""))
        if kind not in HTTP_KINDS + WEBHOOK_KINDS:
            raise FaultSpecError(f"unknown fault kind {kind!r}; use one of {HTTP_KINDS + WEBHOOK_KINDS}")
        count, rate = spec.get("count"), spec.get("rate")
        if (count is None) == (rate is None):
            raise FaultSpecError("give exactly one of count (next N) or rate (0..1)")
        if rate is not None and not 0 <= float(rate) <= 1:
            raise FaultSpecError("rate must be between 0 and 1")
        path = spec.get("path")
        return cls(
            kind=kind,
            count=None if count is None else int(count),
            rate=None if rate is None else float(rate),
            method=str(spec["method"]).upper() if spec.get("method") else None,
            path=path,
            delay_ms=int(spec.get("delay_ms", _DEFAULT_DELAY_MS.get(kind, 0))),
            _pattern=re.compile(path) if path else None,
        )

    @property
    def category(self) -> Category:
        return "http" if self.kind in HTTP_KINDS else "webhook"

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method.upper():
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "rate": self.rate,
            "method": self.method,
            "path": self.path,
            "delay_ms": self.delay_ms,
        }


class FaultPlan:
    """The active fault rules of one emulator, with a seeded generator so runs are reproducible."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - reproducible fault injection, not security
        self.injected: Counter[str] = Counter()
        self._held: list[threading.Event] = []

    def hold(self, limit_ms: int) -> None:
        """Keep the calling request waiting until `release` (or `limit_ms` passes)."""
        released = threading.Event()
        with self._lock:
            self._held.append(released)
        try:
            released.wait(limit_ms / 1000)
        finally:
            with self._lock:
                self._held.remove(released)

    def holding(self) -> int:
        with self._lock:
            return len(self._held)

    def release(self) -> int:
        """Let every held request go on; answers how many were held."""
        with self._lock:
            for released in self._held:
                released.set()
            return len(self._held)

    def add(self, spec: dict[str, Any]) -> FaultRule:
        rule = FaultRule.parse(spec)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self, seed: int | None = None) -> None:
        with self._lock:
            self._rules.clear()
            self.injected.clear()
            if seed is not None:
                self._random.seed(seed)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def pick(self, category: Category, method: str = "", path: str = "") -> FaultRule | None:
        """The fault to apply to this call or delivery, if any (consuming one of a counted rule)."""
        with self._lock:
            for rule in self._rules:
                if rule.category != category or not rule.matches(method, path):
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                    self.injected[rule.kind] += 1
                    return rule
                if rule.rate is not None and self._random.random() < rule.rate:
                    self.injected[rule.kind] += 1
                    return rule
        return None
